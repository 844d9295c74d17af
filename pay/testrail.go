package pay

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// TestRailName is the Name of the test rail.
const TestRailName = "test"

// DefaultTestBalance is what a new test wallet holds: 1,000,000.00 units
// of a two-decimal currency.
const DefaultTestBalance = 100_000_000

// TestOptions configure a TestRail. The zero value is ready to use.
type TestOptions struct {
	// InitialBalance is what a new wallet holds, in minor units of its
	// currency. 0 means DefaultTestBalance; a negative value means new
	// wallets start empty.
	InitialBalance int64
	// Now is the rail's clock; nil means time.Now. Tests inject one to
	// expire invoices without sleeping.
	Now func() time.Time
}

func (o *TestOptions) applyDefaults() {
	// Demos need money to move without anyone funding wallets first.
	switch {
	case o.InitialBalance == 0:
		o.InitialBalance = DefaultTestBalance
	case o.InitialBalance < 0:
		o.InitialBalance = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// TestRail is the test rail: real bookkeeping of TEST MONEY in a local
// SQLite ledger. Payer and payee are TestRails of different nodes (or the
// same one); each holds its own wallets. See the package documentation.
type TestRail struct {
	key  ed25519.PrivateKey
	pub  [32]byte
	opts TestOptions
	st   *store

	mu      sync.Mutex
	waiters map[string]*watch
}

type watch struct {
	ch chan struct{}
	n  int
}

var _ Rail = (*TestRail)(nil)

// OpenTestRail opens (creating if needed) the test-rail ledger at path,
// owned by key, which signs the rail's requests, proofs and vouchers. A
// libp2p Ed25519 key's Raw bytes are such a key. A ledger stays bound to
// the key that created it. opts may be nil.
func OpenTestRail(path string, key ed25519.PrivateKey, opts *TestOptions) (*TestRail, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("pay: opening test rail %s: key of %d bytes, want an Ed25519 private key", path, len(key))
	}
	r := &TestRail{key: key, waiters: make(map[string]*watch)}
	copy(r.pub[:], key.Public().(ed25519.PublicKey))
	if opts != nil {
		r.opts = *opts
	}
	r.opts.applyDefaults()
	st, err := openStore(path)
	if err != nil {
		return nil, err
	}
	var owner []byte
	err = st.w.QueryRow("SELECT value FROM meta WHERE key = 'owner'").Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = st.w.Exec("INSERT INTO meta (key, value) VALUES ('owner', ?)", r.pub[:])
		owner = r.pub[:]
	}
	if err == nil && !bytes.Equal(owner, r.pub[:]) {
		err = fmt.Errorf("ledger belongs to key %x, not %x", owner, r.pub)
	}
	if err != nil {
		st.close()
		return nil, fmt.Errorf("pay: opening test rail %s: %w", path, err)
	}
	if err := st.start(r.wake); err != nil {
		st.close()
		return nil, fmt.Errorf("pay: opening test rail %s: %w", path, err)
	}
	r.st = st
	return r, nil
}

// Close stops the rail, after the operations under way have committed.
// Calls blocked in Wait return an error.
func (r *TestRail) Close() error {
	err := r.st.close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, w := range r.waiters {
		close(w.ch)
		delete(r.waiters, id)
	}
	return err
}

// Name returns "test".
func (r *TestRail) Name() string { return TestRailName }

// PublicKey is the key that signs this rail's requests as payee and its
// proofs as payer.
func (r *TestRail) PublicKey() ed25519.PublicKey { return append(ed25519.PublicKey(nil), r.pub[:]...) }

// Check verifies that every wallet's balance equals what it started with,
// less what it paid, plus refunds and settled invoices.
func (r *TestRail) Check(ctx context.Context) error { return r.st.check(ctx, r.opts.InitialBalance) }

func (r *TestRail) now() int64 { return r.opts.Now().UnixNano() }

// CreateInvoice issues a payee-signed request. The memo is prefixed with
// TestMemoLabel unless it already starts with it.
func (r *TestRail) CreateInvoice(ctx context.Context, req InvoiceRequest) (Invoice, error) {
	if err := checkAmount(req.Amount); err != nil {
		return Invoice{}, fmt.Errorf("pay: creating invoice: %w", err)
	}
	memo := req.Memo
	if !strings.HasPrefix(memo, TestMemoLabel) {
		memo = strings.TrimSuffix(TestMemoLabel+": "+memo, ": ")
	}
	expiry := req.Expiry
	if expiry == 0 {
		expiry = DefaultExpiry
	}
	switch {
	case expiry < 0:
		return Invoice{}, fmt.Errorf("pay: creating invoice: negative expiry %v", expiry)
	case len(memo) > MaxMemo || !utf8.ValidString(memo):
		return Invoice{}, fmt.Errorf("pay: creating invoice: memo is not UTF-8 of at most %d bytes", MaxMemo)
	case req.PaymentHash != nil && !req.Hold:
		return Invoice{}, fmt.Errorf("pay: creating invoice: a payment hash needs a hold invoice, settled by the preimage's holder")
	}
	q := testRequest{Payee: r.pub, Amount: req.Amount, Hold: req.Hold, Memo: memo}
	if _, err := rand.Read(q.ID[:]); err != nil {
		return Invoice{}, fmt.Errorf("pay: creating invoice: %w", err)
	}
	q.Created = r.now()
	q.Expires = q.Created + int64(expiry)
	if q.Expires < q.Created {
		return Invoice{}, fmt.Errorf("pay: creating invoice: expiry %v out of range", expiry)
	}
	if req.PaymentHash != nil {
		q.PaymentHash = *req.PaymentHash
	}
	q.sign(r.key)
	raw := q.marshal()
	digest := requestDigest(raw)
	inv := q.invoice(raw)
	err := r.st.write(ctx, "", func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO invoices (id, digest, request, amount, currency, expires, hold, payment_hash, state, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			inv.ID, digest[:], raw, q.Amount.Minor, q.Amount.Currency, q.Expires, q.Hold, q.PaymentHash[:], int(Open), q.Created)
		return err
	})
	if err != nil {
		return Invoice{}, fmt.Errorf("pay: storing invoice %s: %w", inv.ID, err)
	}
	return inv, nil
}

func (q *testRequest) invoice(raw []byte) Invoice {
	return Invoice{
		ID:          hex.EncodeToString(q.ID[:]),
		Rail:        TestRailName,
		Amount:      q.Amount,
		Memo:        q.Memo,
		Created:     time.Unix(0, q.Created).UTC(),
		Expires:     time.Unix(0, q.Expires).UTC(),
		PaymentHash: q.PaymentHash,
		Hold:        q.Hold,
		Payee:       append([]byte(nil), q.Payee[:]...),
		Request:     requestPrefix + base64.RawURLEncoding.EncodeToString(raw),
	}
}

// invoiceRow is an invoice as the payee's ledger holds it.
type invoiceRow struct {
	req    *testRequest
	raw    []byte
	digest []byte
	state  Status
	proof  []byte
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func loadInvoice(ctx context.Context, q querier, id string) (*invoiceRow, error) {
	var row invoiceRow
	err := q.QueryRowContext(ctx, "SELECT request, digest, state, proof FROM invoices WHERE id = ?", id).
		Scan(&row.raw, &row.digest, &row.state, &row.proof)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("pay: invoice %q: %w", id, ErrUnknownInvoice)
	}
	if err != nil {
		return nil, fmt.Errorf("pay: reading invoice %s: %w", id, err)
	}
	if row.req, err = parseTestRequestBinary(row.raw); err != nil {
		return nil, fmt.Errorf("pay: reading invoice %s: corrupt request: %w", id, err)
	}
	return &row, nil
}

// status is the row's state, with an Open invoice past its expiry
// reported as Expired.
func (row *invoiceRow) status(now int64) Status {
	if row.state == Open && now >= row.req.Expires {
		return Expired
	}
	return row.state
}

func setState(tx *sql.Tx, id string, s Status, now int64) error {
	_, err := tx.Exec("UPDATE invoices SET state = ?, updated = ? WHERE id = ?", int(s), now, id)
	return err
}

// Lookup returns an invoice this rail issued and its status.
func (r *TestRail) Lookup(ctx context.Context, id string) (Invoice, Status, error) {
	row, err := loadInvoice(ctx, r.st.r, id)
	if err != nil {
		return Invoice{}, 0, err
	}
	return row.req.invoice(row.raw), row.status(r.now()), nil
}

// Claim verifies a payer's proof and settles the invoice, crediting this
// rail's wallet (or accepts it, crediting nothing, if it is a hold
// invoice). The proof must be signed by the payer it names, for exactly
// this request, amount and currency, and arrive before the invoice
// expires.
func (r *TestRail) Claim(ctx context.Context, id string, proof []byte) (Status, error) {
	p, err := parseTestProof(proof)
	if err == nil {
		err = p.verify()
	}
	if err != nil {
		return 0, fmt.Errorf("pay: claiming invoice %s: %v: %w", id, err, ErrBadProof)
	}
	if got := hex.EncodeToString(p.ID[:]); got != id {
		return 0, fmt.Errorf("pay: claiming invoice %s with a proof for invoice %s: %w", id, got, ErrBadProof)
	}
	var st Status
	err = r.st.write(ctx, id, func(tx *sql.Tx) error {
		row, err := loadInvoice(context.Background(), tx, id)
		if err != nil {
			return err
		}
		want := row.req.Amount
		switch {
		case !bytes.Equal(p.Digest[:], row.digest):
			return fmt.Errorf("pay: claiming invoice %s: proof pays another request: %w", id, ErrBadProof)
		case p.Amount.Currency != want.Currency:
			return fmt.Errorf("pay: claiming invoice %s of %v with a payment in %s: %w", id, want, p.Amount.Currency, ErrCurrency)
		case p.Amount.Minor < want.Minor:
			return fmt.Errorf("pay: claiming invoice %s of %v with %v: %w", id, want, p.Amount, ErrUnderpaid)
		case p.Amount.Minor > want.Minor:
			return fmt.Errorf("pay: claiming invoice %s of %v with %v: not the amount it signed for: %w", id, want, p.Amount, ErrBadProof)
		}
		now := r.now()
		if row.proof != nil && bytes.Equal(row.proof, proof) {
			st = row.status(now) // a replay of the accepted proof
			return nil
		}
		switch row.status(now) {
		case Canceled:
			return fmt.Errorf("pay: claiming invoice %s: %w", id, ErrCanceled)
		case Expired:
			return fmt.Errorf("pay: claiming invoice %s: %w", id, ErrExpired)
		case Accepted, Settled:
			return fmt.Errorf("pay: claiming invoice %s: already paid by another payer: %w", id, ErrState)
		}
		st = Settled
		if row.req.Hold {
			st = Accepted
		} else if err := adjust(tx, want.Currency, want.Minor, r.opts.InitialBalance); err != nil {
			return err
		}
		_, err = tx.Exec("UPDATE invoices SET state = ?, proof = ?, payer = ?, updated = ? WHERE id = ?",
			int(st), proof, p.Payer[:], now, id)
		return err
	})
	if err != nil {
		return 0, err
	}
	return st, nil
}

// Settle credits an Accepted hold invoice to this rail's wallet. If the
// invoice has a payment hash, preimage must hash to it; otherwise preimage
// is ignored.
func (r *TestRail) Settle(ctx context.Context, id string, preimage []byte) error {
	return r.st.write(ctx, id, func(tx *sql.Tx) error {
		row, err := loadInvoice(context.Background(), tx, id)
		if err != nil {
			return err
		}
		if !row.req.Hold {
			return fmt.Errorf("pay: settling invoice %s: not a hold invoice: %w", id, ErrState)
		}
		if h := row.req.PaymentHash; h != [32]byte{} && sha256.Sum256(preimage) != h {
			return fmt.Errorf("pay: settling invoice %s: %w", id, ErrPreimage)
		}
		now := r.now()
		switch row.status(now) {
		case Settled:
			return nil
		case Open:
			return fmt.Errorf("pay: settling invoice %s: not paid yet: %w", id, ErrState)
		case Canceled:
			return fmt.Errorf("pay: settling invoice %s: %w", id, ErrCanceled)
		case Expired:
			return fmt.Errorf("pay: settling invoice %s: %w", id, ErrExpired)
		}
		if err := adjust(tx, row.req.Amount.Currency, row.req.Amount.Minor, r.opts.InitialBalance); err != nil {
			return err
		}
		_, err = tx.Exec("UPDATE invoices SET state = ?, preimage = ?, updated = ? WHERE id = ?", int(Settled), preimage, now, id)
		return err
	})
}

// Cancel cancels an invoice that is not settled. The payer of a canceled
// invoice gets its money back with RefundVoucher and Refund.
func (r *TestRail) Cancel(ctx context.Context, id string) error {
	return r.st.write(ctx, id, func(tx *sql.Tx) error {
		row, err := loadInvoice(context.Background(), tx, id)
		if err != nil {
			return err
		}
		switch row.state {
		case Settled:
			return fmt.Errorf("pay: canceling invoice %s: already settled: %w", id, ErrState)
		case Canceled, Expired:
			return nil
		}
		return setState(tx, id, Canceled, r.now())
	})
}

// RefundVoucher returns the payee-signed voucher that lets the payer of a
// Canceled or Expired invoice take its payment back with Refund. Issuing
// it for an expired invoice records the expiry, so that no later claim
// can settle it.
func (r *TestRail) RefundVoucher(ctx context.Context, id string) ([]byte, error) {
	var v []byte
	err := r.st.write(ctx, "", func(tx *sql.Tx) error {
		row, err := loadInvoice(context.Background(), tx, id)
		if err != nil {
			return err
		}
		now := r.now()
		reason := reasonCanceled
		switch row.status(now) {
		case Canceled:
		case Expired:
			reason = reasonExpired
			if row.state == Open {
				if err := setState(tx, id, Expired, now); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("pay: refunding invoice %s: it is %v: %w", id, row.status(now), ErrState)
		}
		vo := testVoucher{ID: row.req.ID, Amount: row.req.Amount, Reason: reason, Payee: r.pub}
		copy(vo.Digest[:], row.digest)
		vo.sign(r.key)
		v = vo.marshal()
		return nil
	})
	return v, err
}

// Decode parses a request and verifies its payee's signature.
func (r *TestRail) Decode(ctx context.Context, request string) (Invoice, error) {
	q, raw, err := parseTestRequest(request)
	if err != nil {
		return Invoice{}, err
	}
	if err := q.verify(); err != nil {
		return Invoice{}, err
	}
	return q.invoice(raw), nil
}

// Pay verifies the payee's request, then debits this rail's wallet and
// records the payment in one transaction, and returns the proof: the
// payer-signed digest of the request, amount and payer key. Paying a
// request again returns the recorded payment, even after it expired.
func (r *TestRail) Pay(ctx context.Context, request string) (Payment, error) {
	q, raw, err := parseTestRequest(request)
	if err != nil {
		return Payment{}, err
	}
	if err := q.verify(); err != nil {
		return Payment{}, err
	}
	pr := testProof{Digest: requestDigest(raw), ID: q.ID, Amount: q.Amount, Payer: r.pub}
	pr.sign(r.key)
	pm := Payment{Rail: TestRailName, InvoiceID: hex.EncodeToString(q.ID[:]), Amount: q.Amount, Proof: pr.marshal()}
	err = r.st.write(ctx, "", func(tx *sql.Tx) error {
		var proof []byte
		err := tx.QueryRow("SELECT proof FROM payments WHERE digest = ?", pr.Digest[:]).Scan(&proof)
		if err == nil {
			pm.Proof = proof
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := r.now()
		if now >= q.Expires {
			return fmt.Errorf("pay: paying invoice %s: %w", pm.InvoiceID, ErrExpired)
		}
		if err := adjust(tx, q.Amount.Currency, -q.Amount.Minor, r.opts.InitialBalance); err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO payments (digest, invoice_id, payee, amount, currency, request, proof, paid)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			pr.Digest[:], pm.InvoiceID, q.Payee[:], q.Amount.Minor, q.Amount.Currency, raw, pm.Proof, now)
		return err
	})
	if err != nil {
		return Payment{}, fmt.Errorf("pay: paying invoice %s: %w", pm.InvoiceID, err)
	}
	return pm, nil
}

// Refund verifies a payee's voucher for a payment this rail made and
// credits the payment back, once.
func (r *TestRail) Refund(ctx context.Context, voucher []byte) (Amount, error) {
	v, err := parseTestVoucher(voucher)
	if err == nil {
		err = v.verify()
	}
	if err != nil {
		return Amount{}, fmt.Errorf("pay: redeeming refund voucher: %v: %w", err, ErrBadProof)
	}
	id := hex.EncodeToString(v.ID[:])
	err = r.st.write(ctx, "", func(tx *sql.Tx) error {
		var payee []byte
		var a Amount
		var invoiceID string
		var refunded bool
		err := tx.QueryRow("SELECT payee, invoice_id, amount, currency, refunded FROM payments WHERE digest = ?", v.Digest[:]).
			Scan(&payee, &invoiceID, &a.Minor, &a.Currency, &refunded)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pay: refunding invoice %s: no payment of it: %w", id, ErrUnknownInvoice)
		}
		switch {
		case err != nil:
			return err
		case !bytes.Equal(payee, v.Payee[:]) || invoiceID != id || a != v.Amount:
			return fmt.Errorf("pay: refunding invoice %s: voucher does not match the payment: %w", id, ErrBadProof)
		case refunded:
			return nil
		}
		if err := adjust(tx, a.Currency, a.Minor, r.opts.InitialBalance); err != nil {
			return err
		}
		_, err = tx.Exec("UPDATE payments SET refunded = 1, voucher = ? WHERE digest = ?", voucher, v.Digest[:])
		return err
	})
	if err != nil {
		return Amount{}, err
	}
	return v.Amount, nil
}

// Balance returns what this rail's wallet holds in currency.
func (r *TestRail) Balance(ctx context.Context, currency string) (int64, error) {
	if err := checkCurrency(currency); err != nil {
		return 0, err
	}
	var bal int64
	err := r.st.r.QueryRowContext(ctx, "SELECT balance FROM wallets WHERE currency = ?", currency).Scan(&bal)
	if errors.Is(err, sql.ErrNoRows) {
		return r.opts.InitialBalance, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pay: reading %s wallet: %w", currency, err)
	}
	return bal, nil
}

// Wait blocks until until(status) holds. Every committed change to the
// invoice wakes it, and so does the invoice's expiry (timed on the real
// clock from the rail's clock's reading).
func (r *TestRail) Wait(ctx context.Context, id string, until func(Status) bool) (Status, error) {
	for {
		ch, release := r.watch(id)
		row, err := loadInvoice(ctx, r.st.r, id)
		if err != nil {
			release()
			return 0, err
		}
		st := row.status(r.now())
		if until(st) {
			release()
			return st, nil
		}
		var expiry <-chan time.Time
		stop := func() bool { return false }
		if st == Open {
			t := time.NewTimer(time.Duration(row.req.Expires - r.now()))
			expiry, stop = t.C, t.Stop
		}
		select {
		case <-ch:
		case <-expiry:
		case <-ctx.Done():
			err = fmt.Errorf("pay: waiting for invoice %s (%v): %w", id, st, ctx.Err())
		}
		stop()
		release()
		if err != nil {
			return st, err
		}
	}
}

func (r *TestRail) watch(id string) (<-chan struct{}, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.waiters[id]
	if w == nil {
		w = &watch{ch: make(chan struct{})}
		r.waiters[id] = w
	}
	w.n++
	return w.ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if w.n--; w.n == 0 && r.waiters[id] == w {
			delete(r.waiters, id)
		}
	}
}

func (r *TestRail) wake(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.waiters[id]; w != nil {
		close(w.ch)
		delete(r.waiters, id)
	}
}

// Payments lists every payment this rail made as payer.
func (r *TestRail) Payments(ctx context.Context) ([]PaymentRecord, error) {
	rows, err := r.st.r.QueryContext(ctx, "SELECT request, amount, currency, refunded FROM payments ORDER BY paid, digest")
	if err != nil {
		return nil, fmt.Errorf("pay: listing payments: %w", err)
	}
	defer rows.Close()
	var out []PaymentRecord
	for rows.Next() {
		var raw []byte
		var p PaymentRecord
		if err := rows.Scan(&raw, &p.Amount.Minor, &p.Amount.Currency, &p.Refunded); err != nil {
			return nil, fmt.Errorf("pay: listing payments: %w", err)
		}
		p.Request = requestPrefix + base64.RawURLEncoding.EncodeToString(raw)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pay: listing payments: %w", err)
	}
	return out, nil
}
