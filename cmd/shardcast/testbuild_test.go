package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestReleaseBinaryReadsNoTestHooks builds the command as it is released
// and as the end-to-end tests build it (tag shardcasttest), and checks
// that only the second holds the names of the failure-injection
// variables: a released daemon cannot be made to crash or cheat through
// its environment.
func TestReleaseBinaryReadsNoTestHooks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	names := []string{"SHARDCAST_CRASH_POINT", "SHARDCAST_TEST_CHEAT"}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		tags []string
		want bool
	}{
		{"release", nil, false},
		{"shardcasttest", []string{"-tags", "shardcasttest"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			args := append(append([]string{"build"}, tc.tags...), "-o", out, ".")
			cmd := exec.Command("go", args...)
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("go %v: %v", args, err)
			}
			bin, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				if got := bytes.Contains(bin, []byte(name)); got != tc.want {
					t.Errorf("%s build holds %s: got %v, want %v", tc.name, name, got, tc.want)
				}
			}
		})
	}
}
