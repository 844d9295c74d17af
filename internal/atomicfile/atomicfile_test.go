package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardcast/shardcast/internal/childtest"
)

// leftovers lists the temporary files in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), TempSuffix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteFilePerm(t *testing.T) {
	for _, perm := range []fs.FileMode{0o600, 0o640, 0o644} {
		path := filepath.Join(t.TempDir(), "f")
		if err := WriteFile(path, []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != perm {
			t.Errorf("WriteFile with %v: got mode %v, want %v", perm, got, perm)
		}
	}
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	for _, data := range []string{"first, longer content\n", "second\n", ""} {
		if err := WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Errorf("after writing %q: got %q, %v", data, got, err)
		}
	}
	if l := leftovers(t, dir); l != nil {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestWriteFailsMidway: a write that fails after writing part of the new
// content leaves the old file whole and no temporary file.
func TestWriteFailsMidway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFile(path, []byte("old content"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := Write(path, 0o644, func(w io.Writer) error {
		if _, err := w.Write([]byte("new con")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write: got %v, want %v", err, boom)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "old content" {
		t.Errorf("after a failed write: got %q, %v, want the old content", got, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("after a failed write: mode %v, %v, want 0600", fi.Mode(), err)
	}
	if l := leftovers(t, dir); l != nil {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestWriteRenameFails: when the target cannot be replaced (it is a
// directory), nothing is left behind.
func TestWriteRenameFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "inside"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("x"), 0o600); err == nil {
		t.Fatal("WriteFile over a non-empty directory: got nil error")
	}
	if l := leftovers(t, dir); l != nil {
		t.Errorf("temporary files left: %v", l)
	}
}

func TestWriteFileMissingDir(t *testing.T) {
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "f"), nil, 0o600); err == nil {
		t.Error("WriteFile into a missing directory: got nil error")
	}
}

// The crash test runs this test binary as a child that rewrites one file
// in a loop, and kills it with SIGKILL in the middle of that.
const crashEnv = "ATOMICFILE_CRASH_CHILD"

const crashSize = 1 << 20

func content(b byte) []byte { return bytes.Repeat([]byte{b}, crashSize) }

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashLeavesOldOrNew")
	}
	for i := 0; ; i++ {
		if err := WriteFile(path, content(byte('a'+i%26)), 0o600); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", i)
	}
}

// TestCrashLeavesOldOrNew: a process killed while it rewrites a file
// leaves one whole version of it, never a partial one.
func TestCrashLeavesOldOrNew(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteFile(path, content('-'), 0o600); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 5; round++ {
		child := childtest.Start(t, "TestCrashChild", crashEnv+"="+path)
		// Kill it after a few whole writes, at whatever point it is in
		// the next one.
		for n := 0; n < 3+round; n++ {
			if line, ok := child.Line(); !ok || !strings.HasPrefix(line, "wrote") {
				t.Fatalf("child: %q", line)
			}
		}
		child.Kill()
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != crashSize || !bytes.Equal(got, bytes.Repeat(got[:1], crashSize)) {
			t.Fatalf("round %d: after a crash the file holds %d bytes, not one whole version", round, len(got))
		}
	}
}
