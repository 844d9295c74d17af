package campaign

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the package below the network and the payment rails
// (the layering of docs/ARCHITECTURE.md): keys, CIDs, IPLD, the shares package and the standard
// library only.
func TestImports(t *testing.T) {
	allowed := []string{
		"github.com/ipfs/go-cid",
		"github.com/ipld/go-ipld-prime/",
		"github.com/libp2p/go-libp2p/core/crypto",
		"github.com/libp2p/go-libp2p/core/peer",
		"github.com/multiformats/go-multihash",
		"github.com/shardcast/shardcast/shares",
	}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if std := !strings.Contains(strings.Split(imp, "/")[0], "."); std {
			if strings.HasPrefix(imp, "net") || imp == "os" || imp == "os/exec" {
				t.Errorf("imports %s", imp)
			}
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || imp == a || strings.HasPrefix(imp, a+"/") || strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a)
		}
		if !ok {
			t.Errorf("imports %s, want only the standard library and %v", imp, allowed)
		}
	}
}
