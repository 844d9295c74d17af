package shares_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports keeps the package at the bottom of the layering: the
// standard library and the group implementation, nothing that knows of
// the network, storage or payments.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"filippo.io/edwards25519":       true,
		"filippo.io/edwards25519/field": true,
		"github.com/gtank/ristretto255": true,
	}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if std := !strings.Contains(strings.Split(imp, "/")[0], "."); std {
			if strings.HasPrefix(imp, "net") || imp == "os/exec" {
				t.Errorf("imports %s", imp)
			}
			continue
		}
		if !allowed[imp] {
			t.Errorf("imports %s, want only the standard library and %v", imp, allowed)
		}
	}
}
