// Package archtest guards the layering of docs/ARCHITECTURE.md: dependencies point
// downward only, and the packages that hold keys and bytes know nothing of
// the network, HTTP or payment rails.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/shardcast/shardcast/"

// transitive maps a package to import path prefixes it must not depend on,
// directly or through others; direct lists what it must not import itself
// (its dependencies, boxo's among them, may use net/http internally).
var transitive = map[string][]string{
	"content":  {"github.com/libp2p/go-libp2p/p2p/", mod + "pay", mod + "market", mod + "node", mod + "httpapi", mod + "campaign", mod + "catalog"},
	"seal":     {"net/http", "github.com/libp2p/", "github.com/ipfs/", mod},
	"shares":   {"net/http", "github.com/libp2p/", "github.com/ipfs/", mod + "seal", mod + "pay", mod + "content"},
	"campaign": {"net/http", "github.com/libp2p/go-libp2p/p2p/", mod + "pay", mod + "market", mod + "node", mod + "httpapi", mod + "content", mod + "catalog"},
	"pay":      {"net/http", "github.com/libp2p/", "github.com/ipfs/", mod + "campaign", mod + "market", mod + "node"},
	"catalog":  {mod + "pay", mod + "market", mod + "node", mod + "httpapi", mod + "content"},
	"market":   {mod + "node", mod + "httpapi", mod + "content", mod + "catalog"},
	"httpapi":  {mod + "node"},
	// flow sees the parts through its own interfaces: it never reaches
	// for the block store, the pool, the transport or the HTTP side.
	"flow":     {mod + "node", mod + "httpapi", mod + "content", mod + "pool", mod + "xfer", "github.com/ipfs/boxo/"},
	"keystore": {"net/http", "github.com/libp2p/go-libp2p/p2p/", mod + "pay", mod + "market", mod + "node", mod + "httpapi", mod + "catalog", mod + "content", mod + "flow"},
	"web":      {mod, "github.com/"},
}

var direct = map[string][]string{
	"content": {"net/http", "github.com/libp2p/"},
	"catalog": {"net/http"},
	"market":  {"net/http"},
	"flow":    {"net/http", "github.com/libp2p/go-libp2p/p2p/"},
}

func list(t *testing.T, args ...string) ([]string, bool) {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && (strings.Contains(string(ee.Stderr), "cannot find") || strings.Contains(string(ee.Stderr), "no Go files")) {
			return nil, false // a package not written yet has nothing to check
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out)), true
}

func matches(dep, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(dep, prefix)
	}
	return dep == prefix || strings.HasPrefix(dep, prefix+"/")
}

func TestLayering(t *testing.T) {
	for pkg, bad := range transitive {
		deps, ok := list(t, "-deps", mod+pkg)
		if !ok {
			continue
		}
		for _, dep := range deps {
			if matches(dep, mod+pkg) {
				continue
			}
			for _, b := range bad {
				if matches(dep, b) {
					t.Errorf("%s depends on %s, which the layering forbids", pkg, dep)
				}
			}
		}
	}
	for pkg, bad := range direct {
		imports, ok := list(t, "-f", `{{join .Imports " "}}`, mod+pkg)
		if !ok {
			continue
		}
		for _, imp := range imports {
			for _, b := range bad {
				if matches(imp, b) {
					t.Errorf("%s imports %s, which the layering forbids", pkg, imp)
				}
			}
		}
	}
}
