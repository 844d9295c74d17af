package sqlwriter

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shardcast/shardcast/internal/childtest"
)

const testSchema = `CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, note TEXT NOT NULL) STRICT;`

// open opens a store in dir with a writer; both close with the test.
func open(t *testing.T, path string, o Options) (*Writer, *sql.DB) {
	t.Helper()
	w, r, err := Open(path, testSchema, "temp_store(MEMORY)")
	if err != nil {
		t.Fatal(err)
	}
	wr, err := New(w, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		wr.Close()
		r.Close()
		w.Close()
	})
	return wr, r
}

func insert(id int) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO rows (id, note) VALUES (?, 'x')", id)
		return err
	}
}

// stored lists the ids in the table, read through the read-only pool.
func stored(t *testing.T, r *sql.DB) map[int]bool {
	t.Helper()
	rows, err := r.Query("SELECT id FROM rows")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	return out
}

func TestWriteCommits(t *testing.T) {
	var commits atomic.Int64
	w, r := open(t, filepath.Join(t.TempDir(), "s.db"), Options{Committed: func() { commits.Add(1) }})
	if err := w.Write(context.Background(), insert(1)); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, r); !got[1] {
		t.Errorf("after Write returned: got %v, want row 1", got)
	}
	if commits.Load() != 1 {
		t.Errorf("Committed called %d times, want 1", commits.Load())
	}
}

// TestOpsFailAlone: in batches of concurrent writes, an operation whose
// fn fails after writing is undone, and only it.
func TestOpsFailAlone(t *testing.T) {
	w, r := open(t, filepath.Join(t.TempDir(), "s.db"), Options{MaxBatch: 8})
	boom := errors.New("boom")
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = w.Write(context.Background(), func(tx *sql.Tx) error {
				if err := insert(i)(tx); err != nil {
					return err
				}
				if i%3 == 0 {
					return boom
				}
				return nil
			})
		})
	}
	wg.Wait()
	got := stored(t, r)
	for i := range n {
		if want := i%3 != 0; got[i] != want || (errs[i] == nil) != want {
			t.Errorf("op %d: stored %v, error %v; want stored %v", i, got[i], errs[i], want)
		}
		if i%3 == 0 && !errors.Is(errs[i], boom) {
			t.Errorf("op %d: got %v, want %v", i, errs[i], boom)
		}
	}
}

// TestTransactionErrorFailsBatch: when the transaction itself fails (here
// an operation ends it behind the writer's back), every operation of its
// batch fails and none is stored; whatever Write said nil to is stored.
func TestTransactionErrorFailsBatch(t *testing.T) {
	w, r := open(t, filepath.Join(t.TempDir(), "s.db"), Options{Name: "test store"})
	const n = 32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			fn := insert(i)
			if i == n/2 {
				fn = func(tx *sql.Tx) error {
					_, err := tx.Exec("ROLLBACK")
					return err
				}
			}
			errs[i] = w.Write(context.Background(), fn)
		})
	}
	wg.Wait()
	if errs[n/2] == nil || !strings.HasPrefix(errs[n/2].Error(), "test store: ") {
		t.Errorf("the operation that broke its transaction: got %v, want an error of the test store", errs[n/2])
	}
	got := stored(t, r)
	for i := range n {
		if i != n/2 && got[i] != (errs[i] == nil) {
			t.Errorf("op %d: stored %v, error %v", i, got[i], errs[i])
		}
	}
	// The writer goes on.
	if err := w.Write(context.Background(), insert(n)); err != nil || !stored(t, r)[n] {
		t.Errorf("writing after a failed transaction: %v", err)
	}
}

func TestCanceledNeverRuns(t *testing.T) {
	w, _ := open(t, filepath.Join(t.TempDir(), "s.db"), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := w.Write(ctx, func(*sql.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Write with a canceled context: got %v, ran %v; want context.Canceled, not run", err, ran)
	}
}

func TestClosed(t *testing.T) {
	closed := errors.New("store is closed")
	w, _ := open(t, filepath.Join(t.TempDir(), "s.db"), Options{Closed: closed})
	w.Close()
	w.Close()
	if err := w.Write(context.Background(), insert(1)); !errors.Is(err, closed) {
		t.Errorf("Write after Close: got %v, want %v", err, closed)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Open(filepath.Join(dir, "a?b.db"), testSchema); err == nil {
		t.Error("Open of a path with '?': got nil error")
	}
	if _, _, err := Open(filepath.Join(dir, "bad.db"), "NOT SQL"); err == nil {
		t.Error("Open with a bad schema: got nil error")
	}
	path := filepath.Join(dir, "s.db")
	w, r, err := Open(path, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	var mode string
	if err := r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode: got %q, %v, want wal", mode, err)
	}
	if _, err := r.Exec("INSERT INTO rows (id, note) VALUES (1, 'x')"); err == nil {
		t.Error("writing through the read-only pool: got nil error")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode: got %v, %v, want 0600", fi.Mode(), err)
	}
}

// The crash test runs this test binary as a child that writes rows and
// prints the id of each once Write returned, until it is killed.
const crashEnv = "SQLWRITER_CRASH_CHILD"

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashKeepsCommitted")
	}
	w, _ := open(t, path, Options{})
	start, err := strconv.Atoi(os.Getenv(crashEnv + "_START"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := start + g; ; i += 4 {
				if err := w.Write(context.Background(), insert(i)); err != nil {
					fmt.Println("error:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Println("committed", i)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrashKeepsCommitted: a process killed with SIGKILL while it writes
// loses nothing Write returned nil for, and the file opens again.
func TestCrashKeepsCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "s.db")
	committed := map[int]bool{}
	for round := range 3 {
		child := childtest.Start(t, "TestCrashChild", crashEnv+"="+path, crashEnv+"_START="+strconv.Itoa(round*1_000_000))
		for n := 0; n < 200; n++ {
			line, _ := child.Line()
			id, err := strconv.Atoi(strings.TrimPrefix(line, "committed "))
			if err != nil {
				t.Fatalf("child: %q", line)
			}
			committed[id] = true
		}
		child.Kill()
		w, r, err := Open(path, testSchema)
		if err != nil {
			t.Fatalf("round %d: opening after a crash: %v", round, err)
		}
		got := stored(t, r)
		r.Close()
		w.Close()
		for id := range committed {
			if !got[id] {
				t.Errorf("round %d: row %d was committed before the crash and is gone", round, id)
			}
		}
	}
}
