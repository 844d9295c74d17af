// Package demo runs a small shardcast network on loopback, in one process,
// and plays every payment model end to end on it: the command behind
// `shardcast demo` (see the README).
//
// Run starts six nodes (a creator, four buyers and a bystander that never
// pays), each with its own repo under Options.Dir, libp2p on 127.0.0.1, its
// HTTP API and web UI on 127.0.0.1 and its gateway (/ipfs/, /watch/) on
// another port, all connected to the creator. The
// creator publishes the project's sample video (sample.webm, made by
// scripts/make-sample-video.sh and embedded here) three times:
//
//   - open: plaintext, with suggested donations;
//   - pay: encrypted, 2.50 USD per buyer;
//   - shards: 12 shares at 1.00 USD, the first 4 at 0.50 (early bird);
//     once all 12 are sold the key is public and everyone can watch.
//
// The buyers then donate, buy and buy shares, one event a line on
// Options.Out, paced so that the story fits in Options.Duration. All money
// is the test rail's: nothing real is ever spent.
//
// Run checks every outcome itself — the paying buyers and no one else read
// the pay film byte for byte; after the unlock every node, the bystander
// included, reads the shards film byte for byte; the creator's ledger holds
// the donations and the sales — and returns them in a Report, with an error
// when any check fails. The network then stays up, so its players can be
// opened in a browser, until the context is cancelled or Duration ends.
//
// The demo is for people and for smoke tests; it is not a harness for
// other tests (see internal/testnet) and its output is not a stable format.
package demo
