// Package sqlwriter keeps one SQLite file with a single writer that
// commits in batches: the durable store under shardcast's market ledger
// and test rail.
//
// Open opens the file in WAL mode with synchronous=FULL, so a commit is
// on disk (the WAL fsync'd) when it returns, and hands back one writing
// connection (immediate transactions) and a pool of read-only ones that
// never wait for the writer. A Writer runs every write through one
// goroutine that commits the operations queued at that moment in one
// transaction, each inside its own SAVEPOINT, so that one failing leaves
// the others intact: one fsync then commits many operations, which is
// what lets a store sustain hundreds of writes a second on a disk that
// does a few thousand fsyncs a second.
//
// # What is promised
//
//   - Write returns nil only once what fn wrote is committed and on disk.
//   - An operation whose fn fails is rolled back to its savepoint and
//     gets fn's error; the others of its batch commit.
//   - An error of the transaction itself (beginning it, a savepoint, the
//     commit: a full disk, an I/O error) fails every operation of the
//     batch that had not failed on its own; none of them committed.
//   - If ctx ends before the writer takes an operation, it never runs;
//     once taken, Write waits for the outcome whatever ctx does.
//   - The database file and its WAL are private to the owner
//     (internal/private).
//
// What it does not do: schema migrations, checkpoints, or anything of the
// tables; callers bring those.
package sqlwriter

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/shardcast/shardcast/internal/private"
)

// ErrClosed is what Write returns once the writer is closed, unless
// Options.Closed says otherwise.
var ErrClosed = errors.New("sqlwriter: closed")

// Readers is how many read-only connections Open allows at once.
const Readers = 4

// Open makes the SQLite file at path private to its owner (creating it
// if needed) and opens it: w is its one writing connection, in WAL mode
// with synchronous=FULL and immediate transactions, on which schema has
// run; r is a pool of Readers read-only connections. pragmas are added to
// the writer's, as "name(value)" (e.g. "wal_autocheckpoint(0)").
func Open(path, schema string, pragmas ...string) (w, r *sql.DB, err error) {
	if strings.ContainsAny(path, "?#") {
		return nil, nil, fmt.Errorf("%q: path must not contain ? or #", path)
	}
	if err := private.SQLite(path); err != nil {
		return nil, nil, err
	}
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	for _, p := range pragmas {
		dsn += "&_pragma=" + p
	}
	w, err = sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if _, err := w.Exec(schema); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("creating tables in %s: %w", path, err)
	}
	var mode string
	if err := w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		w.Close()
		return nil, nil, fmt.Errorf("%s: journal mode %q, want wal: %v", path, mode, err)
	}
	r, err = sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	r.SetMaxOpenConns(Readers)
	return w, r, nil
}

// Options tune a Writer. The zero value is valid.
type Options struct {
	// Name begins every error of the transaction ("market: ledger
	// /x/market.db"); "sqlwriter" if empty.
	Name string
	// MaxBatch bounds how many operations share one transaction; 128 if
	// zero.
	MaxBatch int
	// Closed is what Write returns once the writer is closed; ErrClosed
	// if nil.
	Closed error
	// Committed, if set, is called by the writer after each transaction
	// it commits.
	Committed func()
}

// A Writer runs operations on one writing connection, in batches.
type Writer struct {
	db   *sql.DB
	o    Options
	ops  chan *op
	quit chan struct{}
	done chan struct{}
	once sync.Once

	// The savepoint statements run for every operation: prepared once.
	savepoint, rollbackTo, release *sql.Stmt
}

// An op is one unit of work for the writer: fn runs inside a savepoint
// and either all of what it wrote commits or none of it.
type op struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	err  error
	done chan struct{}
}

// Savepoint statements.
const (
	sqlSavepoint  = "SAVEPOINT op"
	sqlRollbackTo = "ROLLBACK TO op"
	sqlRelease    = "RELEASE op"
)

// New starts a writer on db, which should be Open's w: one connection
// that nothing else writes through while the writer runs.
func New(db *sql.DB, o Options) (*Writer, error) {
	if o.Name == "" {
		o.Name = "sqlwriter"
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 128
	}
	if o.Closed == nil {
		o.Closed = ErrClosed
	}
	w := &Writer{db: db, o: o, ops: make(chan *op), quit: make(chan struct{}), done: make(chan struct{})}
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{{&w.savepoint, sqlSavepoint}, {&w.rollbackTo, sqlRollbackTo}, {&w.release, sqlRelease}} {
		st, err := db.Prepare(s.q)
		if err != nil {
			w.closeStmts()
			return nil, fmt.Errorf("%s: preparing %q: %w", o.Name, s.q, err)
		}
		*s.st = st
	}
	go w.run()
	return w, nil
}

func (w *Writer) closeStmts() {
	for _, st := range []*sql.Stmt{w.savepoint, w.rollbackTo, w.release} {
		if st != nil {
			st.Close()
		}
	}
}

// Close stops the writer after the batch under way has committed; later
// Writes fail with Options.Closed. It does not close the database.
func (w *Writer) Close() {
	w.once.Do(func() {
		close(w.quit)
		<-w.done
		w.closeStmts()
	})
}

// Write runs fn in the writer and returns once its effects are durable,
// or with the error that undid them. If ctx ends before the writer takes
// the operation, nothing runs and Write returns ctx.Err(); once taken,
// Write waits for the outcome whatever ctx does, so that a nil error
// always means committed. fn must not keep tx.
func (w *Writer) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	o := &op{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case w.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.quit:
		return w.o.Closed
	}
	<-o.done
	return o.err
}

func (w *Writer) run() {
	defer close(w.done)
	batch := make([]*op, 0, w.o.MaxBatch)
	for {
		select {
		case o := <-w.ops:
			batch = append(batch[:0], o)
		case <-w.quit:
			return
		}
	fill:
		for len(batch) < w.o.MaxBatch {
			select {
			case o := <-w.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		w.commit(batch)
		for _, o := range batch {
			close(o.done)
		}
	}
}

// commit runs a batch in one transaction. An operation's own error rolls
// back to its savepoint; an error of the transaction itself (a full disk,
// an I/O error) fails every operation of the batch.
func (w *Writer) commit(batch []*op) {
	fail := func(err error) {
		for _, o := range batch {
			if o.err == nil {
				o.err = err
			}
		}
	}
	tx, err := w.db.Begin()
	if err != nil {
		fail(fmt.Errorf("%s: beginning transaction: %w", w.o.Name, err))
		return
	}
	for _, o := range batch {
		if o.err = o.ctx.Err(); o.err != nil {
			continue
		}
		if _, err := tx.Stmt(w.savepoint).Exec(); err != nil {
			tx.Rollback()
			fail(fmt.Errorf("%s: opening savepoint: %w", w.o.Name, err))
			return
		}
		var err error
		if o.err = o.fn(tx); o.err != nil {
			_, err = tx.Stmt(w.rollbackTo).Exec()
		}
		if err == nil {
			_, err = tx.Stmt(w.release).Exec()
		}
		if err != nil {
			tx.Rollback()
			fail(fmt.Errorf("%s: closing savepoint: %w", w.o.Name, err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		// An operation that failed on its own keeps its error; the rest
		// did not commit.
		fail(fmt.Errorf("%s: committing: %w", w.o.Name, err))
		return
	}
	if w.o.Committed != nil {
		w.o.Committed()
	}
}
