package pay

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clock is a manual clock (paytest.Clock cannot be imported here).
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type fixture struct {
	ctx          context.Context
	clock        *clock
	payee, payer *TestRail
	payerKey     ed25519.PrivateKey
	dir          string
}

func keyFrom(b byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = b
	}
	return ed25519.NewKeyFromSeed(seed)
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{ctx: context.Background(), clock: &clock{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, dir: t.TempDir()}
	f.payerKey = keyFrom(2)
	f.payee = f.open(t, "payee.db", keyFrom(1), nil)
	f.payer = f.open(t, "payer.db", f.payerKey, nil)
	return f
}

func (f *fixture) open(t *testing.T, name string, key ed25519.PrivateKey, opts *TestOptions) *TestRail {
	t.Helper()
	if opts == nil {
		opts = &TestOptions{}
	}
	opts.Now = f.clock.now
	r, err := OpenTestRail(filepath.Join(f.dir, name), key, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Check(context.Background()); err != nil {
			t.Error(err)
		}
		r.Close()
	})
	return r
}

func (f *fixture) invoice(t *testing.T, req InvoiceRequest) Invoice {
	t.Helper()
	if req.Amount == (Amount{}) {
		req.Amount = Amount{250, "USD"}
	}
	inv, err := f.payee.CreateInvoice(f.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// proofFor signs a proof of paying inv with key, after edit.
func proofFor(t *testing.T, inv Invoice, key ed25519.PrivateKey, edit func(*testProof)) []byte {
	t.Helper()
	q, raw, err := parseTestRequest(inv.Request)
	if err != nil {
		t.Fatal(err)
	}
	p := testProof{Digest: requestDigest(raw), ID: q.ID, Amount: q.Amount}
	copy(p.Payer[:], key.Public().(ed25519.PublicKey))
	if edit != nil {
		edit(&p)
	}
	p.sign(key)
	return p.marshal()
}

func TestClaimRejects(t *testing.T) {
	f := newFixture(t)
	other := f.invoice(t, InvoiceRequest{})
	tests := []struct {
		name  string
		proof func(inv Invoice) []byte
		want  error
	}{
		{"garbage", func(Invoice) []byte { return []byte("SCTP\x01garbage") }, ErrBadProof},
		{"bad signature", func(inv Invoice) []byte {
			p := proofFor(t, inv, f.payerKey, nil)
			p[len(p)-1] ^= 1
			return p
		}, ErrBadProof},
		{"signed by another key", func(inv Invoice) []byte {
			p := proofFor(t, inv, f.payerKey, nil)
			sig := ed25519.Sign(keyFrom(9), append([]byte(proofContext), p[:len(p)-64]...))
			return append(p[:len(p)-64], sig...)
		}, ErrBadProof},
		{"other invoice", func(Invoice) []byte { return proofFor(t, other, f.payerKey, nil) }, ErrBadProof},
		{"other request", func(inv Invoice) []byte {
			return proofFor(t, inv, f.payerKey, func(p *testProof) { p.Digest[0] ^= 1 })
		}, ErrBadProof},
		{"underpaid", func(inv Invoice) []byte {
			return proofFor(t, inv, f.payerKey, func(p *testProof) { p.Amount.Minor-- })
		}, ErrUnderpaid},
		{"overpaid", func(inv Invoice) []byte {
			return proofFor(t, inv, f.payerKey, func(p *testProof) { p.Amount.Minor++ })
		}, ErrBadProof},
		{"currency", func(inv Invoice) []byte {
			return proofFor(t, inv, f.payerKey, func(p *testProof) { p.Amount.Currency = "EUR" })
		}, ErrCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := f.invoice(t, InvoiceRequest{})
			st, err := f.payee.Claim(f.ctx, inv.ID, tt.proof(inv))
			if !errors.Is(err, tt.want) {
				t.Errorf("Claim: got %v, %v, want %v", st, err, tt.want)
			}
			if _, st, _ := f.payee.Lookup(f.ctx, inv.ID); st != Open {
				t.Errorf("after the rejected claim: got %v, want %v", st, Open)
			}
		})
	}
	if b, _ := f.payee.Balance(f.ctx, "USD"); b != DefaultTestBalance {
		t.Errorf("payee balance: got %d, want %d", b, DefaultTestBalance)
	}
}

func TestClaimStates(t *testing.T) {
	f := newFixture(t)
	// Unknown: a well-formed proof for an invoice the payee never issued.
	ghost := Invoice{Request: f.invoice(t, InvoiceRequest{}).Request}
	q, _, _ := parseTestRequest(ghost.Request)
	q.ID[0] ^= 1
	q.sign(keyFrom(1))
	ghost = q.invoice(q.marshal())
	if _, err := f.payee.Claim(f.ctx, ghost.ID, proofFor(t, ghost, f.payerKey, nil)); !errors.Is(err, ErrUnknownInvoice) {
		t.Errorf("Claim of an unknown invoice: got %v, want %v", err, ErrUnknownInvoice)
	}

	canceled := f.invoice(t, InvoiceRequest{})
	if err := f.payee.Cancel(f.ctx, canceled.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.payee.Claim(f.ctx, canceled.ID, proofFor(t, canceled, f.payerKey, nil)); !errors.Is(err, ErrCanceled) {
		t.Errorf("Claim of a canceled invoice: got %v, want %v", err, ErrCanceled)
	}

	paid := f.invoice(t, InvoiceRequest{})
	if _, err := f.payee.Claim(f.ctx, paid.ID, proofFor(t, paid, f.payerKey, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.payee.Claim(f.ctx, paid.ID, proofFor(t, paid, keyFrom(3), nil)); !errors.Is(err, ErrState) {
		t.Errorf("Claim by a second payer: got %v, want %v", err, ErrState)
	}
	for _, id := range []string{paid.ID, canceled.ID} {
		if _, err := f.payee.RefundVoucher(f.ctx, id); id == paid.ID && !errors.Is(err, ErrState) {
			t.Errorf("RefundVoucher of a settled invoice: got %v, want %v", err, ErrState)
		}
	}
	if err := f.payee.Settle(f.ctx, paid.ID, nil); !errors.Is(err, ErrState) {
		t.Errorf("Settle of a plain invoice: got %v, want %v", err, ErrState)
	}

	open := f.invoice(t, InvoiceRequest{Hold: true, Expiry: time.Minute})
	if err := f.payee.Settle(f.ctx, open.ID, nil); !errors.Is(err, ErrState) {
		t.Errorf("Settle of an unpaid hold invoice: got %v, want %v", err, ErrState)
	}
	if _, err := f.payee.RefundVoucher(f.ctx, open.ID); !errors.Is(err, ErrState) {
		t.Errorf("RefundVoucher of an open invoice: got %v, want %v", err, ErrState)
	}
	f.clock.t = f.clock.t.Add(time.Minute)
	if err := f.payee.Settle(f.ctx, open.ID, nil); !errors.Is(err, ErrExpired) {
		t.Errorf("Settle of an expired hold invoice: got %v, want %v", err, ErrExpired)
	}
	if _, err := f.payee.Claim(f.ctx, open.ID, proofFor(t, open, f.payerKey, nil)); !errors.Is(err, ErrExpired) {
		t.Errorf("Claim at expiry: got %v, want %v", err, ErrExpired)
	}
}

func TestPayRejects(t *testing.T) {
	f := newFixture(t)
	broke := f.open(t, "broke.db", keyFrom(4), &TestOptions{InitialBalance: -1})
	inv := f.invoice(t, InvoiceRequest{})
	if _, err := broke.Pay(f.ctx, inv.Request); !errors.Is(err, ErrInsufficientFunds) {
		t.Errorf("Pay from an empty wallet: got %v, want %v", err, ErrInsufficientFunds)
	}
	if b, _ := broke.Balance(f.ctx, "USD"); b != 0 {
		t.Errorf("empty wallet: got %d, want 0", b)
	}

	// A request naming the payee but signed by someone else.
	q, _, _ := parseTestRequest(inv.Request)
	q.Amount.Minor = 1
	q.sign(keyFrom(9))
	if _, err := f.payer.Pay(f.ctx, q.String()); !errors.Is(err, ErrBadRequest) {
		t.Errorf("Pay of a forged request: got %v, want %v", err, ErrBadRequest)
	}

	p, err := f.payer.Pay(f.ctx, inv.Request)
	if err != nil {
		t.Fatal(err)
	}
	late := f.invoice(t, InvoiceRequest{Expiry: time.Second})
	f.clock.t = f.clock.t.Add(time.Second)
	if _, err := f.payer.Pay(f.ctx, late.Request); !errors.Is(err, ErrExpired) {
		t.Errorf("Pay at expiry: got %v, want %v", err, ErrExpired)
	}
	again, err := f.payer.Pay(f.ctx, inv.Request)
	if err != nil || string(again.Proof) != string(p.Proof) {
		t.Errorf("Pay again after expiry: got %v, %v, want the first payment", again, err)
	}
	if b, _ := f.payer.Balance(f.ctx, "USD"); b != DefaultTestBalance-250 {
		t.Errorf("payer balance: got %d, want %d", b, DefaultTestBalance-250)
	}
}

func TestRefundRejects(t *testing.T) {
	f := newFixture(t)
	inv := f.invoice(t, InvoiceRequest{})
	if _, err := f.payer.Pay(f.ctx, inv.Request); err != nil {
		t.Fatal(err)
	}
	unpaid := f.invoice(t, InvoiceRequest{})
	for _, id := range []string{inv.ID, unpaid.ID} {
		if err := f.payee.Cancel(f.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	v, err := f.payee.RefundVoucher(f.ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	vUnpaid, err := f.payee.RefundVoucher(f.ctx, unpaid.ID)
	if err != nil {
		t.Fatal(err)
	}
	resign := func(key ed25519.PrivateKey, edit func(*testVoucher)) []byte {
		vo, err := parseTestVoucher(v)
		if err != nil {
			t.Fatal(err)
		}
		edit(vo)
		vo.sign(key)
		return vo.marshal()
	}
	flipped := []byte(string(v))
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name    string
		voucher []byte
		want    error
	}{
		{"garbage", []byte("SCTV"), ErrBadProof},
		{"bad signature", flipped, ErrBadProof},
		{"never paid", vUnpaid, ErrUnknownInvoice},
		{"another payee", resign(keyFrom(9), func(vo *testVoucher) { copy(vo.Payee[:], keyFrom(9).Public().(ed25519.PublicKey)) }), ErrBadProof},
		{"another amount", resign(keyFrom(1), func(vo *testVoucher) { vo.Amount.Minor *= 2 }), ErrBadProof},
	}
	for _, tt := range tests {
		if _, err := f.payer.Refund(f.ctx, tt.voucher); !errors.Is(err, tt.want) {
			t.Errorf("%s: Refund: got %v, want %v", tt.name, err, tt.want)
		}
	}
	if b, _ := f.payer.Balance(f.ctx, "USD"); b != DefaultTestBalance-250 {
		t.Errorf("payer balance after rejected refunds: got %d, want %d", b, DefaultTestBalance-250)
	}
	if a, err := f.payer.Refund(f.ctx, v); err != nil || a != inv.Amount {
		t.Errorf("Refund: got %v, %v, want %v", a, err, inv.Amount)
	}
}

func TestCreateInvoice(t *testing.T) {
	f := newFixture(t)
	h := sha256.Sum256([]byte("k"))
	for _, req := range []InvoiceRequest{
		{Amount: Amount{1, "USD"}, Expiry: -time.Second},
		{Amount: Amount{1, "USD"}, PaymentHash: &h},
		{Amount: Amount{1, "USD"}, Memo: strings.Repeat("x", MaxMemo)},
		{Amount: Amount{1, "USD"}, Memo: "\xff"},
	} {
		if _, err := f.payee.CreateInvoice(f.ctx, req); err == nil {
			t.Errorf("CreateInvoice(%+v): got nil error", req)
		}
	}
	for memo, want := range map[string]string{"": "TEST MONEY", "film": "TEST MONEY: film", "TEST MONEY x": "TEST MONEY x"} {
		inv := f.invoice(t, InvoiceRequest{Memo: memo})
		if inv.Memo != want {
			t.Errorf("memo %q: got %q, want %q", memo, inv.Memo, want)
		}
		if s := inv.String(); !strings.Contains(s, "2.50 USD (TEST MONEY)") {
			t.Errorf("Invoice.String: got %q, want it to say TEST MONEY", s)
		}
		if got, want := inv.Expires.Sub(inv.Created), DefaultExpiry; got != want {
			t.Errorf("expiry: got %v, want %v", got, want)
		}
		if _, err := hex.DecodeString(inv.ID); err != nil || len(inv.ID) != 32 {
			t.Errorf("invoice ID %q: want 32 hex digits", inv.ID)
		}
	}
	if p := (Payment{Rail: TestRailName, Amount: Amount{1, "EUR"}}); !strings.Contains(p.String(), "TEST MONEY") {
		t.Errorf("Payment.String: got %q, want it to say TEST MONEY", p.String())
	}
}

// TestReopen: the ledger survives Close, and stays bound to its key.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rail.db")
	ctx := context.Background()
	r, err := OpenTestRail(path, keyFrom(1), &TestOptions{InitialBalance: 1000})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := r.CreateInvoice(ctx, InvoiceRequest{Amount: Amount{300, "EUR"}, Hold: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Pay(ctx, inv.Request) // paying oneself is allowed
	if err != nil {
		t.Fatal(err)
	}
	if st, err := r.Claim(ctx, inv.ID, p.Proof); err != nil || st != Accepted {
		t.Fatalf("Claim: got %v, %v, want %v", st, err, Accepted)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Balance(ctx, "EUR"); err == nil {
		t.Errorf("Balance after Close: got nil error")
	}
	if _, err := r.CreateInvoice(ctx, InvoiceRequest{Amount: Amount{1, "EUR"}}); err == nil {
		t.Errorf("CreateInvoice after Close: got nil error")
	}
	if _, err := OpenTestRail(path, keyFrom(2), nil); err == nil {
		t.Errorf("opening with another key: got nil error")
	}
	r, err = OpenTestRail(path, keyFrom(1), &TestOptions{InitialBalance: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, st, err := r.Lookup(ctx, inv.ID); err != nil || st != Accepted {
		t.Errorf("after reopening: got %v, %v, want %v", st, err, Accepted)
	}
	if b, _ := r.Balance(ctx, "EUR"); b != 700 {
		t.Errorf("balance after reopening: got %d, want 700", b)
	}
	if err := r.Settle(ctx, inv.ID, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := r.Balance(ctx, "EUR"); b != 1000 {
		t.Errorf("balance after settling: got %d, want 1000", b)
	}
	if err := r.Check(ctx); err != nil {
		t.Error(err)
	}
}

// TestCloseWakesWait: a Wait blocked on an open invoice returns once the
// rail is closed.
func TestCloseWakesWait(t *testing.T) {
	r, err := OpenTestRail(filepath.Join(t.TempDir(), "rail.db"), keyFrom(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	inv, err := r.CreateInvoice(ctx, InvoiceRequest{Amount: Amount{1, "USD"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := r.Wait(ctx, inv.ID, func(s Status) bool { return s == Settled })
		done <- err
	}()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Errorf("Wait after Close: got nil error")
	}
}
