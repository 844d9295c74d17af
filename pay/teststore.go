package pay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/shardcast/shardcast/internal/sqlwriter"
)

// The test rail's ledger is one SQLite file kept by internal/sqlwriter:
// every write is on disk when it returns, and the writer commits the
// payments queued at one moment with one fsync, which is what lets a rail
// sustain hundreds of claims a second on a disk that does a few thousand
// fsyncs a second. Reads never wait for the writer.

const schema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;
-- One wallet per currency. initial is what it started with; the ledger
-- invariant (Check) is balance = initial - payments + refunds + settled.
CREATE TABLE IF NOT EXISTS wallets (
	currency TEXT PRIMARY KEY,
	initial  INTEGER NOT NULL,
	balance  INTEGER NOT NULL CHECK (balance >= 0)
) STRICT;
-- Invoices this rail issued (payee side). state is a Status; Expired is
-- stored only once a refund voucher was issued for an expired invoice.
CREATE TABLE IF NOT EXISTS invoices (
	id           TEXT PRIMARY KEY,
	digest       BLOB NOT NULL UNIQUE, -- SHA-256 of request
	request      BLOB NOT NULL,        -- the signed binary request
	amount       INTEGER NOT NULL,
	currency     TEXT NOT NULL,
	expires      INTEGER NOT NULL,     -- Unix nanoseconds
	hold         INTEGER NOT NULL,
	payment_hash BLOB NOT NULL,
	state        INTEGER NOT NULL,
	proof        BLOB,                 -- the claimed proof of payment
	payer        BLOB,                 -- its payer's public key
	preimage     BLOB,
	updated      INTEGER NOT NULL
) STRICT;
-- Payments this rail made (payer side), one per request.
CREATE TABLE IF NOT EXISTS payments (
	digest     BLOB PRIMARY KEY,       -- SHA-256 of the request paid
	invoice_id TEXT NOT NULL,
	payee      BLOB NOT NULL,
	amount     INTEGER NOT NULL,
	currency   TEXT NOT NULL,
	request    BLOB NOT NULL,
	proof      BLOB NOT NULL,
	paid       INTEGER NOT NULL,       -- Unix nanoseconds
	refunded   INTEGER NOT NULL DEFAULT 0,
	voucher    BLOB
) STRICT;
`

// maxBatch bounds how many operations share one transaction.
const maxBatch = 128

var errClosed = errors.New("pay: test rail is closed")

type store struct {
	w, r *sql.DB // one writing connection; a pool of read-only ones
	wr   *sqlwriter.Writer
	// onCommit is called with the invoice ID of every committed operation
	// that names one.
	onCommit func(id string)
}

func openStore(path string) (*store, error) {
	// The store holds money: sqlwriter makes it private to the owner.
	w, r, err := sqlwriter.Open(path, schema)
	if err != nil {
		return nil, fmt.Errorf("pay: opening: %w", err)
	}
	return &store{w: w, r: r}, nil
}

// start starts the writer; until then the caller may use s.w directly.
func (s *store) start(onCommit func(string)) error {
	s.onCommit = onCommit
	wr, err := sqlwriter.New(s.w, sqlwriter.Options{Name: "pay", MaxBatch: maxBatch, Closed: errClosed})
	if err != nil {
		return err
	}
	s.wr = wr
	return nil
}

func (s *store) close() error {
	if s.wr != nil {
		s.wr.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// write runs fn in the writer and returns once its effects are durable,
// or with the error that undid them (sqlwriter.Writer.Write). Once fn's
// effects are committed, the waiters of invoice wake, if it is not "",
// are woken.
func (s *store) write(ctx context.Context, wake string, fn func(tx *sql.Tx) error) error {
	err := s.wr.Write(ctx, fn)
	if err != nil && err == ctx.Err() {
		return fmt.Errorf("pay: waiting for the ledger: %w", err)
	}
	if err == nil && wake != "" && s.onCommit != nil {
		s.onCommit(wake)
	}
	return err
}

// adjust adds delta to the wallet of currency, creating it with initial
// if it does not exist. A debit beyond the balance is ErrInsufficientFunds.
func adjust(tx *sql.Tx, currency string, delta, initial int64) error {
	var bal int64
	err := tx.QueryRow("SELECT balance FROM wallets WHERE currency = ?", currency).Scan(&bal)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		bal = initial
		if _, err := tx.Exec("INSERT INTO wallets (currency, initial, balance) VALUES (?, ?, ?)", currency, initial, initial); err != nil {
			return fmt.Errorf("pay: creating %s wallet: %w", currency, err)
		}
	case err != nil:
		return fmt.Errorf("pay: reading %s wallet: %w", currency, err)
	}
	if delta < 0 && bal < -delta {
		return fmt.Errorf("pay: paying %v from %v: %w", Amount{-delta, currency}, Amount{bal, currency}, ErrInsufficientFunds)
	}
	if delta > 0 && bal > math.MaxInt64-delta {
		return fmt.Errorf("pay: crediting %v to %v: wallet would overflow", Amount{delta, currency}, Amount{bal, currency})
	}
	if _, err := tx.Exec("UPDATE wallets SET balance = ? WHERE currency = ?", bal+delta, currency); err != nil {
		return fmt.Errorf("pay: updating %s wallet: %w", currency, err)
	}
	return nil
}

// check verifies the ledger invariant of every wallet: its balance is
// what it started with, less what it paid, plus what was refunded to it
// and what its settled invoices brought in.
func (s *store) check(ctx context.Context, initial int64) error {
	rows, err := s.r.QueryContext(ctx, `
		WITH c(currency) AS (
			SELECT currency FROM wallets UNION SELECT currency FROM payments UNION SELECT currency FROM invoices)
		SELECT c.currency, w.initial, w.balance,
			(SELECT coalesce(sum(amount), 0) FROM payments p WHERE p.currency = c.currency),
			(SELECT coalesce(sum(amount), 0) FROM payments p WHERE p.currency = c.currency AND refunded = 1),
			(SELECT coalesce(sum(amount), 0) FROM invoices i WHERE i.currency = c.currency AND state = ?)
		FROM c LEFT JOIN wallets w ON w.currency = c.currency`, int(Settled))
	if err != nil {
		return fmt.Errorf("pay: checking ledger: %w", err)
	}
	defer rows.Close()
	var errs []error
	for rows.Next() {
		var cur string
		var init, bal sql.NullInt64
		var paid, refunded, settled int64
		if err := rows.Scan(&cur, &init, &bal, &paid, &refunded, &settled); err != nil {
			return fmt.Errorf("pay: checking ledger: %w", err)
		}
		if !init.Valid {
			init.Int64, bal.Int64 = initial, initial
		}
		if want := init.Int64 - paid + refunded + settled; bal.Int64 != want {
			errs = append(errs, fmt.Errorf("pay: %s wallet holds %v, the ledger says %v (started %v, paid %v, refunded %v, settled %v)",
				cur, Amount{bal.Int64, cur}, Amount{want, cur}, Amount{init.Int64, cur}, Amount{paid, cur}, Amount{refunded, cur}, Amount{settled, cur}))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pay: checking ledger: %w", err)
	}
	return errors.Join(errs...)
}
