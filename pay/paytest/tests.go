package paytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
)

// testCharge: create, pay, claim → Settled; the payee gains exactly the
// amount and the payer loses it.
func testCharge(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest charge", Expiry: time.Hour})
	if inv.ID == "" || inv.Request == "" || inv.Rail != s.Payee.Name() || inv.Hold {
		t.Errorf("invoice %+v: want an ID, a request, rail %q, not hold", inv, s.Payee.Name())
	}
	if got, want := inv.Amount, s.amount(s.Amount); got != want {
		t.Errorf("invoice amount: got %v, want %v", got, want)
	}
	if !inv.Expires.After(inv.Created) {
		t.Errorf("invoice expires %v, created %v", inv.Expires, inv.Created)
	}
	s.wantStatus(t, inv.ID, pay.Open)
	dec, err := s.Payer.Decode(s.ctx, inv.Request)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if dec.ID != inv.ID || dec.Amount != inv.Amount || !bytes.Equal(dec.Payee, inv.Payee) ||
		dec.Hold || !dec.Expires.Equal(inv.Expires) || !strings.Contains(dec.Memo, "paytest charge") {
		t.Errorf("Decode: got %+v, want %+v", dec, inv)
	}
	p := s.sell(t, inv)
	if p.InvoiceID != inv.ID || p.Amount != inv.Amount {
		t.Errorf("payment: got %v of invoice %s, want %v of %s", p.Amount, p.InvoiceID, inv.Amount, inv.ID)
	}
	s.wantStatus(t, inv.ID, pay.Settled)
	s.wantBalances(t, s.Currency, before, s.Amount, s.Amount)
}

// testPayTwice: paying a request again returns the first payment and
// charges nothing.
func testPayTwice(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest pay twice"})
	p1 := s.sell(t, inv)
	p2, err := s.Payer.Pay(s.ctx, inv.Request)
	if err != nil {
		t.Fatalf("second Pay: %v", err)
	}
	if p2.InvoiceID != p1.InvoiceID || p2.Amount != p1.Amount || !bytes.Equal(p2.Proof, p1.Proof) {
		t.Errorf("second Pay: got %v, want the first payment %v", p2, p1)
	}
	s.wantBalances(t, s.Currency, before, s.Amount, s.Amount)
}

// testPayConcurrently: racing payments of one request charge once.
func testPayConcurrently(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest concurrent pay"})
	const n = 8
	proofs := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var p pay.Payment
			p, errs[i] = s.Payer.Pay(s.ctx, inv.Request)
			proofs[i] = p.Proof
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Pay #%d: %v", i, errs[i])
		}
		if !bytes.Equal(proofs[i], proofs[0]) {
			t.Errorf("Pay #%d returned another proof than #0", i)
		}
	}
	if _, err := s.Payee.Claim(s.ctx, inv.ID, proofs[0]); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if st := s.wait(t, inv.ID, nil, isFinal); st != pay.Settled {
		t.Fatalf("got %v, want %v", st, pay.Settled)
	}
	s.wantBalances(t, s.Currency, before, s.Amount, s.Amount)
}

// testClaimTwice: claiming again with the same proof gives the same
// status and credits nothing more.
func testClaimTwice(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest claim twice"})
	p := s.sell(t, inv)
	for i := range 3 {
		st, err := s.Payee.Claim(s.ctx, inv.ID, p.Proof)
		if err != nil || st != pay.Settled {
			t.Errorf("Claim again #%d: got %v, %v, want %v", i, st, err, pay.Settled)
		}
	}
	s.wantBalances(t, s.Currency, before, s.Amount, s.Amount)
}

// testExpire: an invoice past its expiry is Expired and cannot be paid.
func testExpire(t *testing.T, s *suite) {
	s.needClock(t)
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest expire", Expiry: time.Minute})
	s.Advance(2 * time.Minute)
	s.wantStatus(t, inv.ID, pay.Expired)
	if st := s.wait(t, inv.ID, nil, notOpen); st != pay.Expired {
		t.Errorf("Wait: got %v, want %v", st, pay.Expired)
	}
	if _, err := s.Payer.Pay(s.ctx, inv.Request); !errors.Is(err, pay.ErrExpired) {
		t.Errorf("Pay after expiry: got %v, want %v", err, pay.ErrExpired)
	}
	s.wantBalances(t, s.Currency, before, 0, 0)
}

// testClaimAfterExpiry: a payment made in time but claimed after the
// invoice expired either settled already (on a rail that sees payments
// itself) or is refused, and then the payer gets its money back.
func testClaimAfterExpiry(t *testing.T, s *suite) {
	s.needClock(t)
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest late claim", Expiry: time.Minute})
	p, err := s.Payer.Pay(s.ctx, inv.Request)
	if err != nil {
		t.Fatalf("Pay: %v", err)
	}
	s.Advance(2 * time.Minute)
	st, err := s.Payee.Claim(s.ctx, inv.ID, p.Proof)
	if err == nil {
		if st != pay.Settled {
			t.Fatalf("late Claim: got %v, want %v or %v", st, pay.Settled, pay.ErrExpired)
		}
		s.wantBalances(t, s.Currency, before, s.Amount, s.Amount)
		return
	}
	if !errors.Is(err, pay.ErrExpired) {
		t.Fatalf("late Claim: got %v, want %v", err, pay.ErrExpired)
	}
	s.refund(t, inv, true)
	if _, err := s.Payee.Claim(s.ctx, inv.ID, p.Proof); err == nil {
		t.Errorf("Claim after the refund voucher: got nil error")
	}
	s.wantStatus(t, inv.ID, pay.Expired)
	s.wantBalances(t, s.Currency, before, 0, 0)
}

// refund gets the payee's voucher for inv and redeems it at the payer,
// twice, checking the amount. paid says whether the payer paid at all.
func (s *suite) refund(t *testing.T, inv pay.Invoice, paid bool) {
	t.Helper()
	v, err := s.Payee.RefundVoucher(s.ctx, inv.ID)
	if err != nil {
		t.Fatalf("RefundVoucher(%s): %v", inv.ID, err)
	}
	if !paid {
		return
	}
	for i := range 2 {
		a, err := s.Payer.Refund(s.ctx, v)
		if err != nil || a != inv.Amount {
			t.Fatalf("Refund #%d: got %v, %v, want %v", i, a, err, inv.Amount)
		}
	}
}

// testCancelOpen: a canceled invoice cannot be settled, and whoever pays
// it anyway is made whole.
func testCancelOpen(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest cancel"})
	for range 2 {
		if err := s.Payee.Cancel(s.ctx, inv.ID); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
	}
	s.wantStatus(t, inv.ID, pay.Canceled)
	r := <-s.payAsync(inv)
	if r.payErr == nil && r.err == nil && r.claim != pay.Canceled {
		t.Errorf("Claim of a canceled invoice: got %v, want an error or %v", r.claim, pay.Canceled)
	}
	if r.payErr == nil && r.err != nil && !errors.Is(r.err, pay.ErrCanceled) {
		t.Errorf("Claim of a canceled invoice: got %v, want %v", r.err, pay.ErrCanceled)
	}
	s.refund(t, inv, r.payErr == nil)
	s.wantStatus(t, inv.ID, pay.Canceled)
	s.wantBalances(t, s.Currency, before, 0, 0)
}

func preimage(t *testing.T) ([]byte, [32]byte) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k, sha256.Sum256(k)
}

// testHoldSettle: paying a hold invoice locks the funds (Accepted) until
// the payee settles with the preimage.
func testHoldSettle(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	k, h := preimage(t)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest hold", Hold: true, PaymentHash: &h})
	if !inv.Hold || inv.PaymentHash != h {
		t.Fatalf("invoice: hold %v, hash %x, want true, %x", inv.Hold, inv.PaymentHash, h)
	}
	if dec, err := s.Payer.Decode(s.ctx, inv.Request); err != nil || !dec.Hold || dec.PaymentHash != h {
		t.Fatalf("Decode: got %+v, %v, want a hold invoice with hash %x", dec, err, h)
	}
	res := s.payAsync(inv)
	if st := s.wait(t, inv.ID, &res, notOpen); st != pay.Accepted {
		t.Fatalf("after payment: got %v, want %v", st, pay.Accepted)
	}
	if payee, _ := s.balances(t, s.Currency); payee != before[0] {
		t.Errorf("payee balance changed by %d before Settle, want 0", payee-before[0])
	}
	wrong := bytes.Clone(k)
	wrong[0] ^= 1
	if err := s.Payee.Settle(s.ctx, inv.ID, wrong); !errors.Is(err, pay.ErrPreimage) {
		t.Errorf("Settle with a wrong preimage: got %v, want %v", err, pay.ErrPreimage)
	}
	s.wantStatus(t, inv.ID, pay.Accepted)
	for range 2 {
		if err := s.Payee.Settle(s.ctx, inv.ID, k); err != nil {
			t.Fatalf("Settle: %v", err)
		}
	}
	s.wantStatus(t, inv.ID, pay.Settled)
	r := <-res
	if r.payErr != nil || r.err != nil {
		t.Fatalf("Pay: %v, Claim: %v", r.payErr, r.err)
	}
	if r.p.Preimage != nil && !bytes.Equal(r.p.Preimage, k) {
		t.Errorf("payment reveals preimage %x, want %x", r.p.Preimage, k)
	}
	if err := s.Payee.Cancel(s.ctx, inv.ID); !errors.Is(err, pay.ErrState) {
		t.Errorf("Cancel of a settled invoice: got %v, want %v", err, pay.ErrState)
	}
	s.wantBalances(t, s.Currency, before, s.Amount, s.Amount)
}

// testHoldWithoutHash: a hold invoice needs no payment hash.
func testHoldWithoutHash(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest hold without hash", Hold: true})
	res := s.payAsync(inv)
	if st := s.wait(t, inv.ID, &res, notOpen); st != pay.Accepted {
		t.Fatalf("after payment: got %v, want %v", st, pay.Accepted)
	}
	if err := s.Payee.Settle(s.ctx, inv.ID, nil); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	if r := <-res; r.payErr != nil || r.err != nil {
		t.Fatalf("Pay: %v, Claim: %v", r.payErr, r.err)
	}
	s.wantBalances(t, s.Currency, before, s.Amount, s.Amount)
}

// testHoldCancel: canceling an Accepted hold invoice gives the payer its
// money back.
func testHoldCancel(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	k, h := preimage(t)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest hold cancel", Hold: true, PaymentHash: &h})
	res := s.payAsync(inv)
	if st := s.wait(t, inv.ID, &res, notOpen); st != pay.Accepted {
		t.Fatalf("after payment: got %v, want %v", st, pay.Accepted)
	}
	if err := s.Payee.Cancel(s.ctx, inv.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	s.wantStatus(t, inv.ID, pay.Canceled)
	if err := s.Payee.Settle(s.ctx, inv.ID, k); !errors.Is(err, pay.ErrCanceled) {
		t.Errorf("Settle after Cancel: got %v, want %v", err, pay.ErrCanceled)
	}
	r := <-res // a rail that holds the payment in flight fails it now
	if r.payErr == nil && r.err != nil {
		t.Fatalf("Claim: %v", r.err)
	}
	s.refund(t, inv, r.payErr == nil)
	s.wantBalances(t, s.Currency, before, 0, 0)
}

// forgeries are proofs made from a genuine one that no rail may take for
// a payment of another invoice.
func forgeries(proof []byte) [][]byte {
	out := [][]byte{nil, {}, []byte("paid, honest"), proof, append(bytes.Clone(proof), 0)}
	if len(proof) > 0 {
		out = append(out, proof[:len(proof)-1])
		for _, i := range []int{0, len(proof) / 2, len(proof) - 1} {
			f := bytes.Clone(proof)
			f[i] ^= 0x40
			out = append(out, f)
		}
	}
	return out
}

// testWrongProof: a proof of paying one invoice, forged or not, does not
// settle another, cheaper or dearer.
func testWrongProof(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	cheap := s.invoice(t, pay.InvoiceRequest{Memo: "paytest cheap"})
	dear := s.invoice(t, pay.InvoiceRequest{Memo: "paytest dear", Amount: s.amount(2 * s.Amount)})
	same := s.invoice(t, pay.InvoiceRequest{Memo: "paytest same price"})
	p := s.sell(t, cheap)
	for _, inv := range []pay.Invoice{dear, same} {
		for i, f := range forgeries(p.Proof) {
			if st, err := s.Payee.Claim(s.ctx, inv.ID, f); err == nil && st != pay.Open {
				t.Errorf("Claim(%s) with forgery #%d of another invoice's proof: got %v, want an error or %v", inv.Amount, i, st, pay.Open)
			}
		}
		s.wantStatus(t, inv.ID, pay.Open)
	}
	s.wantBalances(t, s.Currency, before, s.Amount, s.Amount)
}

// testCurrencies: money moves in the invoice's currency only, and a
// payment in one currency does not settle an invoice in another.
func testCurrencies(t *testing.T, s *suite) {
	if s.Other == "" {
		t.Skip("the pair has one currency")
	}
	main, other := s.snapshot(t, s.Currency), s.snapshot(t, s.Other)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest other currency", Amount: pay.Amount{Minor: s.Amount, Currency: s.Other}})
	p := s.sell(t, inv)
	if p.Amount.Currency != s.Other {
		t.Errorf("payment in %s, want %s", p.Amount.Currency, s.Other)
	}
	target := s.invoice(t, pay.InvoiceRequest{Memo: "paytest main currency"})
	for i, f := range forgeries(p.Proof) {
		if st, err := s.Payee.Claim(s.ctx, target.ID, f); err == nil && st != pay.Open {
			t.Errorf("Claim in %s with forgery #%d of a %s proof: got %v", s.Currency, i, s.Other, st)
		}
	}
	s.wantStatus(t, target.ID, pay.Open)
	s.wantBalances(t, s.Other, other, s.Amount, s.Amount)
	s.wantBalances(t, s.Currency, main, 0, 0)
}

// testBadAmounts: invoices are for positive amounts in well-formed
// currencies.
func testBadAmounts(t *testing.T, s *suite) {
	for _, a := range []pay.Amount{
		{Minor: 0, Currency: s.Currency}, {Minor: -1, Currency: s.Currency},
		{Minor: 1, Currency: ""}, {Minor: 1, Currency: strings.ToLower(s.Currency)}, {Minor: 1, Currency: "U$D"},
	} {
		if inv, err := s.Payee.CreateInvoice(s.ctx, pay.InvoiceRequest{Amount: a}); err == nil {
			t.Errorf("CreateInvoice(%v): got %v, want an error", a, inv)
		}
	}
	if _, err := s.Payer.Balance(s.ctx, "usd"); err == nil {
		t.Errorf(`Balance("usd"): got nil error`)
	}
}

// testBadRequests: what is not a request the payee signed is not paid.
func testBadRequests(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest bad request"})
	bad := []string{"", "garbage", inv.Request[:len(inv.Request)/2], inv.Request + "A"}
	for _, i := range []int{len(inv.Request) / 2, len(inv.Request) - 10} {
		b := []byte(inv.Request)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		bad = append(bad, string(b))
	}
	for _, req := range bad {
		if _, err := s.Payer.Decode(s.ctx, req); !errors.Is(err, pay.ErrBadRequest) {
			t.Errorf("Decode(%.40q…): got %v, want %v", req, err, pay.ErrBadRequest)
		}
		if _, err := s.Payer.Pay(s.ctx, req); !errors.Is(err, pay.ErrBadRequest) {
			t.Errorf("Pay(%.40q…): got %v, want %v", req, err, pay.ErrBadRequest)
		}
	}
	s.wantStatus(t, inv.ID, pay.Open)
	s.wantBalances(t, s.Currency, before, 0, 0)
}

// testUnknownInvoice: the payee's calls on an invoice it never issued
// fail with ErrUnknownInvoice.
func testUnknownInvoice(t *testing.T, s *suite) {
	const id = "no-such-invoice"
	if _, _, err := s.Payee.Lookup(s.ctx, id); !errors.Is(err, pay.ErrUnknownInvoice) {
		t.Errorf("Lookup: got %v, want %v", err, pay.ErrUnknownInvoice)
	}
	if err := s.Payee.Settle(s.ctx, id, nil); !errors.Is(err, pay.ErrUnknownInvoice) {
		t.Errorf("Settle: got %v, want %v", err, pay.ErrUnknownInvoice)
	}
	if err := s.Payee.Cancel(s.ctx, id); !errors.Is(err, pay.ErrUnknownInvoice) {
		t.Errorf("Cancel: got %v, want %v", err, pay.ErrUnknownInvoice)
	}
	if _, err := s.Payee.RefundVoucher(s.ctx, id); !errors.Is(err, pay.ErrUnknownInvoice) {
		t.Errorf("RefundVoucher: got %v, want %v", err, pay.ErrUnknownInvoice)
	}
	if _, err := s.Payee.Wait(s.ctx, id, isFinal); !errors.Is(err, pay.ErrUnknownInvoice) {
		t.Errorf("Wait: got %v, want %v", err, pay.ErrUnknownInvoice)
	}
	if _, err := s.Payee.Claim(s.ctx, id, []byte("proof")); err == nil {
		t.Errorf("Claim: got nil error")
	}
}

// testWaitWakes: waiters started before the payment wake on settlement;
// a waiter whose context ends returns its error.
func testWaitWakes(t *testing.T, s *suite) {
	inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest wait"})
	const n = 4
	woke := make(chan pay.Status, n)
	for range n {
		go func() {
			st, err := s.Payee.Wait(s.ctx, inv.ID, func(st pay.Status) bool { return st == pay.Settled })
			if err != nil {
				t.Errorf("Wait: %v", err)
			}
			woke <- st
		}()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	cancel()
	if _, err := s.Payee.Wait(ctx, inv.ID, isFinal); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a canceled context: got %v, want %v", err, context.Canceled)
	}
	s.sell(t, inv)
	for range n {
		if st := <-woke; st != pay.Settled {
			t.Errorf("Wait: got %v, want %v", st, pay.Settled)
		}
	}
}

// testManySales: concurrent sales all settle and the wallets add up.
func testManySales(t *testing.T, s *suite) {
	before := s.snapshot(t, s.Currency)
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		inv := s.invoice(t, pay.InvoiceRequest{Memo: "paytest sale", Amount: s.amount(s.Amount + int64(i))})
		wg.Go(func() {
			r := <-s.payAsync(inv)
			if r.payErr != nil || r.err != nil {
				t.Errorf("sale %d: Pay: %v, Claim: %v", i, r.payErr, r.err)
			}
		})
	}
	wg.Wait()
	total := int64(n)*s.Amount + n*(n-1)/2
	s.wantBalances(t, s.Currency, before, total, total)
}
