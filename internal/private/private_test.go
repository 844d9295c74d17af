package private

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNarrow(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dir       bool
		mode, out os.FileMode
	}{
		{"file 0644", false, 0o644, 0o600},
		{"file 0666", false, 0o666, 0o600},
		{"file 0600", false, 0o600, 0o600},
		{"file 0400 is not widened", false, 0o400, 0o400},
		{"dir 0755", true, 0o755, 0o700},
		{"dir 0700", true, 0o700, 0o700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x")
			if tc.dir {
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := Narrow(p, p+".absent"); err != nil {
				t.Fatal(err)
			}
			if got := mode(t, p); got != tc.out {
				t.Errorf("got %v, want %v", got, tc.out)
			}
		})
	}
}

func TestSQLite(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	if err := SQLite(fresh); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, fresh); got != 0o600 {
		t.Errorf("new database: got %v, want 0600", got)
	}
	// An older repo's files, readable by all, are narrowed; their contents
	// stay.
	old := filepath.Join(dir, "old.db")
	for _, p := range []string{old, old + "-wal", old + "-shm"} {
		if err := os.WriteFile(p, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := SQLite(old); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{old, old + "-wal", old + "-shm"} {
		if got := mode(t, p); got != 0o600 {
			t.Errorf("%s: got %v, want 0600", filepath.Base(p), got)
		}
		if raw, _ := os.ReadFile(p); string(raw) != "data" {
			t.Errorf("%s: contents changed to %q", filepath.Base(p), raw)
		}
	}
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}
