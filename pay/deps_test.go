package pay_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps pay below the market and the node (docs/ARCHITECTURE.md): the
// standard library, money and internal/sqlwriter (SQLite), nothing that
// reaches the
// network, HTTP, libp2p or campaigns. paytest may add only pay.
func TestImports(t *testing.T) {
	for dir, allowed := range map[string]map[string]bool{
		".":       {"github.com/shardcast/shardcast/internal/sqlwriter": true, "github.com/shardcast/shardcast/money": true},
		"paytest": {"github.com/shardcast/shardcast/pay": true},
	} {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			if std := !strings.Contains(strings.Split(imp, "/")[0], "."); std {
				if strings.HasPrefix(imp, "net") || imp == "os/exec" {
					t.Errorf("%s imports %s", pkg.ImportPath, imp)
				}
				continue
			}
			if !allowed[imp] {
				t.Errorf("%s imports %s, want only the standard library and %v", pkg.ImportPath, imp, allowed)
			}
		}
	}
}
