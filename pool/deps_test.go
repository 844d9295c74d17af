package pool

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the pool where docs/ARCHITECTURE.md puts it: above shares,
// campaign and seal, beside the network, below everything that knows of
// payments, content or the node.
func TestImports(t *testing.T) {
	allowed := []string{
		"filippo.io/age",
		"github.com/ipfs/go-cid",
		"github.com/multiformats/go-multihash",
		"github.com/libp2p/go-libp2p/core/",
		"github.com/libp2p/go-libp2p-pubsub",
		"github.com/shardcast/shardcast/campaign",
		"github.com/shardcast/shardcast/internal/atomicfile",
		"github.com/shardcast/shardcast/internal/syncloop",
		"github.com/shardcast/shardcast/seal",
		"github.com/shardcast/shardcast/shares",
	}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if std := !strings.Contains(strings.Split(imp, "/")[0], "."); std {
			if strings.HasPrefix(imp, "net/http") || imp == "os/exec" {
				t.Errorf("imports %s", imp)
			}
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || imp == a || strings.HasPrefix(imp, strings.TrimSuffix(a, "/")+"/")
		}
		if !ok {
			t.Errorf("imports %s, want only the standard library and %v", imp, allowed)
		}
	}
}
