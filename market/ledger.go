package market

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/shardcast/shardcast/internal/sqlwriter"
)

// The ledger is one SQLite file kept by internal/sqlwriter: every write
// is on disk when it returns, and the writer commits the sales queued at
// one moment with one fsync, which is what lets a creator sustain hundreds
// of sales a second. Reads never wait for the writer, and a third
// connection copies the WAL back into the database in the background
// (checkpoint).
//
// Creator side: offers, reserved and sold share indices, sales,
// donations, deliveries and receipts (role 1). Buyer side: purchases,
// deliveries and receipts (role 2). One node may be both, even of the
// same offer.
const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;
-- Offers this node made as creator. status: 1 open, 2 settled, 3 expired.
CREATE TABLE IF NOT EXISTS offers (
	id        BLOB PRIMARY KEY,   -- OfferID, 16 bytes
	campaign  BLOB NOT NULL,      -- CID, binary
	kind      INTEGER NOT NULL,   -- 1 buy, 2 donate
	buyer     BLOB NOT NULL,      -- peer ID, binary
	shares    INTEGER NOT NULL,   -- number of indices
	amount    INTEGER NOT NULL,   -- minor units
	currency  TEXT NOT NULL,
	rail      TEXT NOT NULL,
	invoice   TEXT NOT NULL,      -- the rail's invoice ID
	created   INTEGER NOT NULL,   -- Unix nanoseconds
	expires   INTEGER NOT NULL,   -- Unix nanoseconds
	status    INTEGER NOT NULL CHECK (status IN (1, 2, 3)),
	offer     BLOB NOT NULL       -- the signed Offer
) STRICT;
CREATE INDEX IF NOT EXISTS offers_open ON offers (expires) WHERE status = 1;
-- Shares held by open offers. The key makes a double reservation fail.
CREATE TABLE IF NOT EXISTS reserved (
	campaign BLOB NOT NULL,
	idx      INTEGER NOT NULL,
	offer    BLOB NOT NULL,
	PRIMARY KEY (campaign, idx)
) STRICT, WITHOUT ROWID;
-- Shares sold. The key makes a double sale impossible.
CREATE TABLE IF NOT EXISTS sold (
	campaign BLOB NOT NULL,
	idx      INTEGER NOT NULL,
	offer    BLOB NOT NULL,
	PRIMARY KEY (campaign, idx)
) STRICT, WITHOUT ROWID;
-- Settled purchases (kind buy): shares is K in model shards, 1 in model pay.
CREATE TABLE IF NOT EXISTS sales (
	offer    BLOB PRIMARY KEY REFERENCES offers (id),
	campaign BLOB NOT NULL,
	buyer    BLOB NOT NULL,
	shares   INTEGER NOT NULL,
	amount   INTEGER NOT NULL,
	currency TEXT NOT NULL,
	time     INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS sales_campaign ON sales (campaign, time);
-- Settled donations.
CREATE TABLE IF NOT EXISTS donations (
	offer    BLOB PRIMARY KEY REFERENCES offers (id),
	campaign BLOB NOT NULL,
	buyer    BLOB NOT NULL,
	amount   INTEGER NOT NULL,
	currency TEXT NOT NULL,
	time     INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS donations_campaign ON donations (campaign, time);
-- Offers this node accepted as buyer, recorded before any payment.
-- status: 1 paying (may still complete), 2 complete, 3 expired (never
-- paid), 4 failed (nothing was or will be paid), 5 refunded.
CREATE TABLE IF NOT EXISTS purchases (` + purchasesColumns + `) STRICT;
-- The Delivery message of each settled offer, as sent (role 1) or
-- received (role 2); its payload is encrypted to the buyer.
CREATE TABLE IF NOT EXISTS deliveries (
	offer    BLOB NOT NULL,
	role     INTEGER NOT NULL CHECK (role IN (1, 2)),
	delivery BLOB NOT NULL,
	PRIMARY KEY (offer, role)
) STRICT, WITHOUT ROWID;
-- Signed receipts, as issued (role 1) or received (role 2).
CREATE TABLE IF NOT EXISTS receipts (
	offer    BLOB NOT NULL,
	role     INTEGER NOT NULL CHECK (role IN (1, 2)),
	campaign BLOB NOT NULL,
	time     INTEGER NOT NULL,
	receipt  BLOB NOT NULL,
	PRIMARY KEY (offer, role)
) STRICT, WITHOUT ROWID;
-- The key k of each locked offer (atomic delivery on a rail that reveals
-- preimages): SHA-256(k) is its invoice's payment hash.
CREATE TABLE IF NOT EXISTS locks (
	offer BLOB PRIMARY KEY,
	key   BLOB NOT NULL
) STRICT, WITHOUT ROWID;
-- Open offers of all-or-nothing campaigns whose hold invoice is paid and
-- held. Settling or expiring the offer deletes its row.
CREATE TABLE IF NOT EXISTS pledges (
	offer    BLOB PRIMARY KEY,
	campaign BLOB NOT NULL,
	time     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pledges_campaign ON pledges (campaign);
-- How each all-or-nothing campaign ended, decided once before acting on
-- it: 1 goal met (settle every pledge), 2 short of it (cancel them all).
CREATE TABLE IF NOT EXISTS outcomes (
	campaign BLOB PRIMARY KEY,
	outcome  INTEGER NOT NULL CHECK (outcome IN (1, 2)),
	time     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- Buyer side: pledges this node made. status: 1 held, 2 settled,
-- 3 canceled (the funds came back).
CREATE TABLE IF NOT EXISTS held (
	offer  BLOB PRIMARY KEY,
	status INTEGER NOT NULL CHECK (status IN (1, 2, 3)),
	time   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- Buyer side: proofs that a creator sold this node bad shares.
CREATE TABLE IF NOT EXISTS proofs (
	offer    BLOB PRIMARY KEY,
	campaign BLOB NOT NULL,
	proof    BLOB NOT NULL
) STRICT, WITHOUT ROWID;
`

// purchasesColumns are the buyer's purchases table; ledgers made before
// purchases could fail lack the last two columns and statuses 4 and 5,
// and are migrated when opened (migratePurchases).
const purchasesColumns = `
	offer    BLOB PRIMARY KEY,
	campaign BLOB NOT NULL,
	creator  BLOB NOT NULL,       -- the peer it bought from
	kind     INTEGER NOT NULL,
	shares   INTEGER NOT NULL,
	amount   INTEGER NOT NULL,
	currency TEXT NOT NULL,
	status   INTEGER NOT NULL CHECK (status IN (1, 2, 3, 4, 5)),
	created  INTEGER NOT NULL,
	updated  INTEGER NOT NULL,
	signed   BLOB NOT NULL,       -- the signed Offer
	request  TEXT,                -- the client's request ID, if it gave one
	note     TEXT NOT NULL DEFAULT '' -- why it failed, or what holds it up
`

// migratePurchases rebuilds a purchases table of the first layout, and
// indexes request IDs.
func migratePurchases(db *sql.DB) error {
	var ddl string
	if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'purchases'").Scan(&ddl); err != nil {
		return err
	}
	if !strings.Contains(ddl, "request") {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, q := range []string{
			"ALTER TABLE purchases RENAME TO purchases_v1",
			"CREATE TABLE purchases (" + purchasesColumns + ") STRICT",
			`INSERT INTO purchases (offer, campaign, creator, kind, shares, amount, currency, status, created, updated, signed)
				SELECT offer, campaign, creator, kind, shares, amount, currency, status, created, updated, signed FROM purchases_v1`,
			"DROP TABLE purchases_v1",
		} {
			if _, err := tx.Exec(q); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err := db.Exec(`CREATE UNIQUE INDEX IF NOT EXISTS purchases_request ON purchases (request) WHERE request IS NOT NULL;
		CREATE INDEX IF NOT EXISTS purchases_paying ON purchases (created) WHERE status = 1`)
	return err
}

const (
	roleCreator = 1
	roleBuyer   = 2
)

// maxBatch bounds how many operations share one transaction.
const maxBatch = 256

var errClosed = errors.New("market: ledger is closed")

// Ledger is a node's durable record of the market: as creator, its
// offers, reserved and sold shares, sales, donations, deliveries and
// receipts; as buyer, its purchases with their deliveries and receipts.
// Every write is committed and fsync'd before the call that makes it
// returns. It is safe for concurrent use.
type Ledger struct {
	path      string
	w, r      *sql.DB // one writing connection; a pool of read-only ones
	cp        *sql.DB // one connection for checkpoints
	wr        *sqlwriter.Writer
	commits   atomic.Int64
	quit      chan struct{}
	cpDone    chan struct{}
	closeOnce sync.Once

	// Statements are prepared once: parsing them again for every sale
	// would cost more than running them. The writer's are prepared when
	// the ledger opens, on its one connection (writeStatements); reads
	// are prepared on first use.
	wstmts map[string]*sql.Stmt
	rmu    sync.RWMutex
	rstmts map[string]*sql.Stmt
}

// queryRow runs a read-only query, prepared once. It does not watch ctx:
// these reads take microseconds, and watching would cost a goroutine each.
func (l *Ledger) queryRow(query string, args ...any) *sql.Row {
	l.rmu.RLock()
	st := l.rstmts[query]
	l.rmu.RUnlock()
	if st == nil {
		l.rmu.Lock()
		if st = l.rstmts[query]; st == nil {
			var err error
			if st, err = l.r.Prepare(query); err != nil {
				l.rmu.Unlock()
				return l.r.QueryRow(query, args...) // reports the same error
			}
			l.rstmts[query] = st
		}
		l.rmu.Unlock()
	}
	return st.QueryRow(args...)
}

// wtx is the writer's transaction, running prepared statements.
type wtx struct {
	l  *Ledger
	tx *sql.Tx
}

func (w *wtx) exec(query string, args ...any) (sql.Result, error) {
	if st := w.l.wstmts[query]; st != nil {
		return w.tx.Stmt(st).Exec(args...)
	}
	return w.tx.Exec(query, args...)
}

func (w *wtx) queryRow(query string, args ...any) *sql.Row {
	if st := w.l.wstmts[query]; st != nil {
		return w.tx.Stmt(st).QueryRow(args...)
	}
	return w.tx.QueryRow(query, args...)
}

// OpenLedger opens (creating if needed) the ledger at path.
func OpenLedger(path string) (*Ledger, error) {
	// The ledger holds money: sqlwriter makes it private to the owner.
	// Checkpoints run in the background (checkpoint), not in the writer.
	w, r, err := sqlwriter.Open(path, schema+limitsSchema,
		"temp_store(MEMORY)", "cache_size(-16384)", "wal_autocheckpoint(0)")
	if err != nil {
		return nil, fmt.Errorf("market: opening ledger: %w", err)
	}
	if err := migratePurchases(w); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("market: migrating the purchases of ledger %s: %w", path, err)
	}
	cp, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)")
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("market: opening ledger %s: %w", path, err)
	}
	cp.SetMaxOpenConns(1)
	l := &Ledger{path: path, w: w, r: r, cp: cp, quit: make(chan struct{}),
		cpDone: make(chan struct{}), wstmts: make(map[string]*sql.Stmt), rstmts: make(map[string]*sql.Stmt)}
	for _, q := range writeStatements {
		st, err := w.Prepare(q)
		if err != nil {
			l.closeDBs()
			return nil, fmt.Errorf("market: opening ledger %s: preparing %q: %w", path, q, err)
		}
		l.wstmts[q] = st
	}
	l.wr, err = sqlwriter.New(w, sqlwriter.Options{Name: "market: ledger " + path, MaxBatch: maxBatch,
		Closed: errClosed, Committed: func() { l.commits.Add(1) }})
	if err != nil {
		l.closeStmts()
		l.closeDBs()
		return nil, err
	}
	go l.checkpoint()
	return l, nil
}

func (l *Ledger) closeDBs() error {
	return errors.Join(l.cp.Close(), l.r.Close(), l.w.Close())
}

// checkpointInterval is how often the WAL is copied back into the
// database file.
const checkpointInterval = 250 * time.Millisecond

// checkpoint copies the WAL into the database file in the background, so
// that the writer never does it in the middle of a sale: SQLite's own
// automatic checkpoint runs in the committing connection and would stall
// every write queued behind it. A passive checkpoint waits for nothing
// and blocks no one.
func (l *Ledger) checkpoint() {
	defer close(l.cpDone)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
		}
		if l.commits.Swap(0) == 0 {
			continue
		}
		l.cp.Exec("PRAGMA wal_checkpoint(PASSIVE)") // on failure the next one catches up
	}
}

// Close stops the ledger after the writes under way have committed.
func (l *Ledger) Close() error {
	l.closeOnce.Do(func() {
		l.wr.Close()
		close(l.quit)
		<-l.cpDone
	})
	l.closeStmts()
	return l.closeDBs()
}

func (l *Ledger) closeStmts() {
	l.rmu.Lock()
	for _, st := range l.rstmts {
		st.Close()
	}
	l.rstmts = nil
	l.rmu.Unlock()
	for _, st := range l.wstmts {
		st.Close()
	}
}

// write runs fn in the writer and returns once its effects are durable,
// or with the error that undid them (sqlwriter.Writer.Write).
func (l *Ledger) write(ctx context.Context, fn func(w *wtx) error) error {
	return l.wr.Write(ctx, func(tx *sql.Tx) error { return fn(&wtx{l: l, tx: tx}) })
}
