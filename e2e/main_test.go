// Package e2e runs real shardcast daemons on loopback and drives them with
// the CLI and HTTP, as users and other programs would.
package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardcast/shardcast/internal/testnet"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shardcast-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, err = testnet.Binary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// randomFile writes n pseudo-random bytes (seeded, so failures reproduce)
// into a file in a test temp dir.
func randomFile(t *testing.T, seed uint64, n int) (string, []byte) {
	t.Helper()
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	data := make([]byte, n)
	r.Read(data)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("random-%d", seed))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func mustEqualFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d added", path, len(got), len(want))
	}
}
