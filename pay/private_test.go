package pay

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestTestRailFilesPrivate: the test rail's store and its WAL files hold
// money and are readable by the owner alone, also when an older version
// left them 0644.
func TestTestRailFilesPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "testrail.db")
	files := []string{path, path + "-wal", path + "-shm"}
	check := func(when string) {
		t.Helper()
		for _, p := range files {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if got := st.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", when, filepath.Base(p), got)
			}
		}
	}
	r, err := OpenTestRail(path, keyFrom(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Balance(context.Background(), "USD"); err != nil {
		t.Fatal(err)
	}
	check("new store")
	r.Close()
	for _, p := range files {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if r, err = OpenTestRail(path, keyFrom(1), nil); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	check("reopened store")
}
