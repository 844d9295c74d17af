// Package regtest starts private Lightning networks for tests: one btcd
// node on Bitcoin's regtest chain and two LND nodes, alice and bob, on
// loopback, with one channel from alice to bob funded and ready for
// payments (10,000,000 sat, all on alice's side). It is test support:
// only tests import it, and it uses the standard library only.
//
// The network is what scripts/regtest/start.sh starts, from the pinned
// btcd and lnd that scripts/regtest/build.sh builds into the tools cache
// ($SHARDCAST_TOOLS/bin; by default shardcast-tools/bin in
// $XDG_CACHE_HOME or ~/.cache).
// Starting one takes seconds (docs/BENCHMARKS.md); stopping one is a
// SIGKILL: it is thrown away.
//
// # What to use
//
// Start gives a test its own network, stopped at the test's cleanup.
// Shared gives every test of a process the same network, started by the
// first caller; a package that uses it stops it after its tests by
// calling Main from its TestMain:
//
//	func TestMain(m *testing.M) { regtest.Main(m) }
//
// Network.Mine mines blocks and waits until both nodes have seen them.
// Tests that share a network must not assume balances at their start:
// measure before and after.
//
// # What is promised
//
//   - When btcd or lnd is not built (or curl, jq, xxd, base64 or bash is
//     missing), Start and Shared skip the test, or fail it with a
//     one-line reason when SHARDCAST_REQUIRE_TOOLS is set (to anything
//     but 0), as scripts/test.sh sets it.
//   - Each network listens on 8 consecutive loopback ports of its own, in
//     an 8-aligned slot of 20000–31999 (below Linux's ephemeral ports),
//     checked free before use; a network that loses a port to another
//     process anyway is started again elsewhere (up to 3 attempts). So
//     packages tested in parallel, each with its own network, coexist.
//   - Nothing here sleeps: start.sh waits for each step with a deadline,
//     and Mine waits on LND's block subscription.
//   - The daemons stop even if the test process dies without cleaning
//     up (a panic, a test timeout, SIGKILL): a watcher process holds a
//     pipe from the test process and, when it closes, kills the daemons
//     and removes the network's directory.
package regtest
