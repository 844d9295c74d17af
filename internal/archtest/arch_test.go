// Package archtest holds the layering of docs/ARCHITECTURE.md, every rule
// in one table: dependencies point downward only; the packages that hold
// keys, shares and bytes know nothing of the network, HTTP or payment
// rails; workflows (flow) sit below the wiring (node), which only the
// program and its tests import; internal/ holds leaf helpers.
//
// A rule that names a package not written yet has nothing to check, and
// every package of the module must be named by some rule, so a new package
// gets its place in the layering when it is written.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/shardcast/shardcast/"

// internal is every internal/ helper. A package may import them when its
// rule allows internal; that leaves out the test harnesses, which no
// package imports outside its tests (their own rules below).
const internal = mod + "internal/"

// A rule is what one package may depend on, and why. Paths are import
// paths: one ending in "/" means the packages under it; any other means
// the package and the packages under it. The standard library is always
// allowed unless named in not.
type rule struct {
	pkg    string   // module-relative; "x/..." for x and every package under it
	except []string // module-relative packages under pkg that have rules of their own

	may    []string // when set, the only packages outside the standard library it may import itself
	inside []string // when set, the only packages of this module it may import itself
	not    []string // packages it must not import itself (the standard library's included)
	never  []string // packages it must not depend on through any path

	importedBy []string // when set, the only packages that may import it (tests included)
	testOnly   bool     // only tests import it

	why string
}

// Lists that several rules share.
var (
	noNet     = []string{"net", "os/exec"}                           // pure code: no sockets, no programs
	hostParts = []string{mod + "node", mod + "httpapi", mod + "cmd"} // the wiring and what sits on it
)

var rules = []rule{
	// The bottom: bytes, keys and amounts.
	{pkg: "money", may: []string{}, never: []string{mod}, not: []string{"net", "os", "os/exec"},
		why: "currencies, exponents, amounts: plain values that every layer may use, so it may use none"},
	{pkg: "shares", may: []string{"filippo.io/edwards25519", "github.com/gtank/ristretto255"}, not: noNet,
		why: "key shares are arithmetic: the group and the standard library, nothing that stores, sends or sells"},
	{pkg: "seal", never: []string{"net/http", "github.com/libp2p/", "github.com/ipfs/", mod},
		why: "encryption knows files and keys, never where they come from or go"},
	{pkg: "content", not: []string{"net/http", "github.com/libp2p/"},
		never: append([]string{"github.com/libp2p/go-libp2p/p2p/", mod + "pay", mod + "market", mod + "campaign", mod + "catalog", mod + "pool", mod + "flow"}, hostParts...),
		why:   "blocks and UnixFS files: the exchange below it is an interface; it knows no campaign or payment"},
	{pkg: "xfer", never: []string{mod + "pay", mod + "market", mod + "campaign", mod + "catalog", mod + "content", mod + "pool", mod + "flow", mod + "node", mod + "httpapi"},
		why: "a block protocol between peers: blocks in, blocks out, nothing about what they hold"},
	{pkg: "campaign", not: []string{"net", "os", "os/exec"},
		may: []string{"github.com/ipfs/go-cid", "github.com/ipld/go-ipld-prime/", "github.com/libp2p/go-libp2p/core/crypto", "github.com/libp2p/go-libp2p/core/peer",
			"github.com/multiformats/go-multihash", mod + "shares", mod + "money"},
		never: []string{"net/http", "github.com/libp2p/go-libp2p/p2p/", mod + "pay", mod + "market", mod + "content", mod + "catalog", mod + "pool", mod + "flow", mod + "node", mod + "httpapi"},
		why:   "manifests, states and the rules of terms are data: the rails' abilities reach it as plain values, not as pay"},
	{pkg: "pay", not: noNet, may: []string{"modernc.org/sqlite", internal, mod + "money"},
		never: []string{"net/http", "github.com/libp2p/", "github.com/ipfs/", mod + "campaign", mod + "market", mod + "flow", mod + "node"},
		why:   "the rails behind one interface and the test rail: money moves without knowing what it buys"},
	{pkg: "pay/lightning", may: []string{mod + "pay", mod + "money", internal},
		never: []string{"github.com/libp2p/", "github.com/ipfs/", mod + "campaign", mod + "market", mod + "flow", mod + "node"},
		why:   "a rail: speaks to the node's own LND over HTTP, and to nothing of shardcast above pay"},
	{pkg: "pay/paytest", may: []string{mod + "pay", mod + "money"},
		why: "the conformance suite every rail passes, written against pay alone"},
	{pkg: "keystore", inside: []string{mod + "seal", mod + "shares", internal},
		never: []string{"net/http", "github.com/libp2p/go-libp2p/p2p/", "github.com/ipfs/boxo/", mod + "market", mod + "pay", mod + "flow", mod + "node", mod + "httpapi"},
		why:   "the repo's secret files: what is kept and where, not why; nothing that could send a secret"},

	// The parts that talk to peers.
	{pkg: "pool", not: []string{"net/http", "os/exec"},
		may: []string{"filippo.io/age", "github.com/ipfs/go-cid", "github.com/multiformats/go-multihash", "github.com/libp2p/go-libp2p/core/", "github.com/libp2p/go-libp2p-pubsub",
			mod + "campaign", mod + "seal", mod + "shares", mod + "money", internal},
		never: []string{mod + "pay", mod + "market", mod + "content", mod + "catalog", mod + "flow", mod + "node", mod + "httpapi"},
		why:   "share pools: gossip, verify, store, unlock; above shares, campaign and seal, below what knows of payments or content"},
	{pkg: "catalog", not: []string{"net/http"},
		never: []string{mod + "pay", mod + "market", mod + "content", mod + "pool", mod + "flow", mod + "node", mod + "httpapi"},
		why:   "the campaigns a node knows: verified records in, records out; what they lead to is flow's business"},
	{pkg: "market", not: []string{"net/http"},
		may: []string{"filippo.io/age", "github.com/ipfs/go-cid", "github.com/libp2p/go-libp2p/core/", "modernc.org/sqlite", "golang.org/x/crypto/chacha20poly1305",
			mod + "campaign", mod + "pay", mod + "seal", mod + "shares", mod + "money", mod + "keystore", internal},
		never: []string{mod + "content", mod + "catalog", mod + "pool", mod + "flow", mod + "node", mod + "httpapi"},
		why:   "the sale protocol and its ledger: it reports what happened through market.Events and lets flow drive the pool and the catalog"},

	{pkg: "custody", not: []string{"net/http", "os/exec"},
		may: []string{"filippo.io/age", "github.com/libp2p/go-libp2p/core/",
			mod + "shares", mod + "seal", mod + "campaign", mod + "money", internal},
		never: []string{"github.com/libp2p/go-libp2p/p2p/", mod + "pay", mod + "market", mod + "content", mod + "catalog", mod + "pool", mod + "flow", mod + "node", mod + "httpapi"},
		why:   "custodians: deals, acceptances, releases and proofs, the custodian's store and the custody protocol; above shares, seal and campaign, below the workflows that decide when to deal and release"},

	// Workflows, HTTP and the wiring.
	{pkg: "flow", not: []string{"github.com/libp2p/go-libp2p/p2p/"},
		inside: []string{mod + "market", mod + "pool", mod + "catalog", mod + "campaign", mod + "content", mod + "seal", mod + "shares", mod + "keystore", mod + "pay", mod + "money", internal},
		never:  append([]string{"github.com/libp2p/go-libp2p/config", "github.com/libp2p/go-libp2p-kad-dht", "github.com/ipfs/boxo/bitswap", mod + "web"}, hostParts...),
		why:    "the workflows that cross parts, written against small interfaces of them; building a host and serving HTTP are node's"},
	{pkg: "web", never: []string{mod, "github.com/"},
		why: "the UI's files: the standard library's embed, nothing else"},
	{pkg: "httpapi", never: []string{mod + "node", mod + "cmd"},
		why: "routes, guards and rendering over a Backend interface; the node implements it, the API never reaches for it"},
	{pkg: "node", never: []string{mod + "cmd", mod + "e2e"},
		importedBy: []string{mod + "cmd/shardcast", mod + "cmd/shardcast/internal/demo", mod + "e2e"},
		why:        "the wiring: builds the parts, connects them and closes them; only the program (and its demo and end-to-end tests) starts one"},
	{pkg: "cmd/shardcast/...",
		why: "the program: the CLI, the daemon through node, and the demo, a part of the program"},

	// internal/: leaf helpers and test harnesses.
	{pkg: "internal/...", except: []string{"internal/testnet", "internal/regtest", "internal/childtest", "internal/p2ptest", "internal/archtest"},
		inside: []string{internal}, not: []string{"os/exec"},
		why: "leaf helpers: they import nothing above them (no campaign, pay, market, pool, catalog, flow, httpapi or node) and run no programs"},
	{pkg: "internal/atomicfile", may: []string{},
		why: "the one atomic file write: the standard library only, so every layer may use it"},
	{pkg: "internal/testnet", testOnly: true, inside: []string{internal},
		why: "a test harness: runs the built binary as a user would; only tests use it"},
	{pkg: "internal/regtest", testOnly: true, inside: []string{internal},
		why: "a test harness: runs btcd and LND; only tests use it"},
	{pkg: "internal/childtest", testOnly: true, inside: []string{},
		why: "a test harness: runs the test binary as a child that crash tests kill; only tests use it"},
	{pkg: "internal/p2ptest", testOnly: true, inside: []string{},
		why: "a test harness: libp2p hosts on loopback; only tests use it"},
	{pkg: "internal/archtest",
		why: "this test"},

	// Outside the product.
	{pkg: "e2e", never: []string{mod},
		why: "end-to-end tests of real daemons: the package itself holds nothing"},
	{pkg: "bench/...", never: []string{mod + "node", mod + "flow", mod + "httpapi"},
		why: "benchmark programs measure one part alone"},
}

type pkgInfo struct {
	path        string
	imports     []string // its own non-test imports
	deps        []string // everything it depends on, non-test
	testImports []string // its tests' imports
}

// load lists every package of the module in one go list run.
func load(t *testing.T) []pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}`,
		mod+"...").Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, msg)
	}
	var pkgs []pkgInfo
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			t.Fatalf("go list printed %q", line)
		}
		pkgs = append(pkgs, pkgInfo{path: f[0], imports: strings.Fields(f[1]), deps: strings.Fields(f[2]), testImports: strings.Fields(f[3])})
	}
	return pkgs
}

// matches reports whether the import path dep is named by pattern.
func matches(dep, pattern string) bool {
	if strings.HasSuffix(pattern, "/") {
		return strings.HasPrefix(dep, pattern)
	}
	return dep == pattern || strings.HasPrefix(dep, pattern+"/")
}

func anyMatch(dep string, patterns []string) bool {
	for _, p := range patterns {
		if matches(dep, p) {
			return true
		}
	}
	return false
}

// covers reports whether the rule speaks of the package path.
func (r rule) covers(path string) bool {
	for _, e := range r.except {
		if path == mod+e {
			return false
		}
	}
	if p, ok := strings.CutSuffix(r.pkg, "/..."); ok {
		return matches(path, mod+p)
	}
	return path == mod+r.pkg
}

func standard(path string) bool {
	return !strings.Contains(strings.Split(path, "/")[0], ".")
}

func TestLayering(t *testing.T) {
	pkgs := load(t)
	for _, r := range rules {
		for _, p := range pkgs {
			if !r.covers(p.path) {
				continue
			}
			for _, imp := range p.imports {
				if anyMatch(imp, r.not) {
					t.Errorf("%s imports %s: %s", p.path, imp, r.why)
				}
				if r.may != nil && !standard(imp) && !anyMatch(imp, r.may) && !matches(imp, p.path) {
					t.Errorf("%s imports %s, outside what it may import: %s", p.path, imp, r.why)
				}
				if r.inside != nil && matches(imp, strings.TrimSuffix(mod, "/")) && !anyMatch(imp, r.inside) && !matches(imp, p.path) {
					t.Errorf("%s imports %s, outside the module's packages it may import: %s", p.path, imp, r.why)
				}
			}
			for _, dep := range p.deps {
				if !matches(dep, p.path) && anyMatch(dep, r.never) {
					t.Errorf("%s depends on %s: %s", p.path, dep, r.why)
				}
			}
		}
		for _, p := range pkgs {
			if r.covers(p.path) {
				continue
			}
			for _, imp := range p.imports {
				if !r.covers(imp) {
					continue
				}
				if r.testOnly {
					t.Errorf("%s imports %s outside its tests: %s", p.path, imp, r.why)
				}
				if r.importedBy != nil && !anyMatch(p.path, r.importedBy) {
					t.Errorf("%s imports %s: %s", p.path, imp, r.why)
				}
			}
			for _, imp := range p.testImports {
				if r.covers(imp) && r.importedBy != nil && !anyMatch(p.path, r.importedBy) {
					t.Errorf("tests of %s import %s: %s", p.path, imp, r.why)
				}
			}
		}
	}
}

// TestEveryPackageHasARule keeps the table whole: a new package must say
// where it stands.
func TestEveryPackageHasARule(t *testing.T) {
	for _, p := range load(t) {
		named := false
		for _, r := range rules {
			named = named || r.covers(p.path)
		}
		if !named {
			t.Errorf("%s has no rule in internal/archtest: give it one, with its reason", p.path)
		}
	}
}

// TestMatches pins the path patterns the rules are written in.
func TestMatches(t *testing.T) {
	for _, c := range []struct {
		dep, pattern string
		want         bool
	}{
		{mod + "pay", mod + "pay", true},
		{mod + "pay/lightning", mod + "pay", true},
		{mod + "payments", mod + "pay", false},
		{"github.com/libp2p/go-libp2p/core/peer", "github.com/libp2p/go-libp2p/core/", true},
		{"github.com/libp2p/go-libp2p/core", "github.com/libp2p/go-libp2p/core/", false},
		{mod + "internal/repo", internal, true},
		{mod + "cmd/shardcast/internal/demo", internal, false},
	} {
		if got := matches(c.dep, c.pattern); got != c.want {
			t.Errorf("matches(%q, %q) = %v, want %v", c.dep, c.pattern, got, c.want)
		}
	}
	harnesses := rule{pkg: "internal/...", except: []string{"internal/testnet"}}
	for _, c := range []struct {
		r    rule
		path string
		want bool
	}{
		{rule{pkg: "internal/..."}, mod + "internal/repo", true},
		{rule{pkg: "internal/..."}, mod + "cmd/shardcast/internal/demo", false},
		{rule{pkg: "cmd/shardcast/..."}, mod + "cmd/shardcast", true},
		{rule{pkg: "pay"}, mod + "pay/lightning", false},
		{harnesses, mod + "internal/testnet", false},
		{harnesses, mod + "internal/repo", true},
	} {
		if got := c.r.covers(c.path); got != c.want {
			t.Errorf("rule %q covers %q = %v, want %v", c.r.pkg, c.path, got, c.want)
		}
	}
}
