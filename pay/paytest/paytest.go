// Package paytest is the conformance suite every pay.Rail must pass, in
// the manner of restic's backend test suite: a rail's own tests call Run
// with a function that makes a fresh payee and payer, and the suite plays
// out every way a sale can go — charge, replays, expiry, cancel and
// refund, hold invoices settled and canceled, forged and mismatched
// proofs, currencies, Wait — checking statuses and both wallets after
// each.
//
// The suite uses only the Rail interface and follows the protocol its
// documentation gives: the payer pays in the background and hands the
// proof to the payee's Claim, while the payee waits on Wait. So a rail
// that verifies proofs (test) and one that observes payments itself
// (lightning, whose Pay of a hold invoice returns only once the payee has
// settled or canceled it) run the same tests. Where the rails may
// legitimately differ (a rail that ignores proofs reports a status
// instead of rejecting a forged one), the suite checks what matters: no
// invoice is settled or credited without its payment, and the payer ends
// up whole whenever the payee does not keep the money.
package paytest

import (
	"context"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
)

// Pair is what the suite runs against: two rails of one kind, the payer
// able to pay the payee.
type Pair struct {
	Payee, Payer pay.Rail
	// Currency is the currency both rails hold; "" means "USD".
	Currency string
	// Other is a second currency both hold, for the currency tests; ""
	// skips them.
	Other string
	// Amount is the amount of most invoices, in minor units; 0 means 250.
	// The payer must be able to pay about 50 of them.
	Amount int64
	// Advance moves both rails' clocks forward by d; nil skips the tests
	// that need an invoice to expire.
	Advance func(d time.Duration)
	// Timeout bounds each test; 0 means a minute.
	Timeout time.Duration
}

// Run runs every test of the suite as a subtest, each on a fresh Pair
// from newPair (which should register its cleanup with t.Cleanup).
func Run(t *testing.T, newPair func(t *testing.T) Pair) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"Charge", testCharge},
		{"PayTwice", testPayTwice},
		{"PayConcurrently", testPayConcurrently},
		{"ClaimTwice", testClaimTwice},
		{"Expire", testExpire},
		{"ClaimAfterExpiry", testClaimAfterExpiry},
		{"CancelOpen", testCancelOpen},
		{"HoldSettle", testHoldSettle},
		{"HoldWithoutHash", testHoldWithoutHash},
		{"HoldCancel", testHoldCancel},
		{"WrongProof", testWrongProof},
		{"Currencies", testCurrencies},
		{"BadAmounts", testBadAmounts},
		{"BadRequests", testBadRequests},
		{"UnknownInvoice", testUnknownInvoice},
		{"WaitWakes", testWaitWakes},
		{"ManySales", testManySales},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t)
			if p.Currency == "" {
				p.Currency = "USD"
			}
			if p.Amount == 0 {
				p.Amount = 250
			}
			if p.Timeout == 0 {
				p.Timeout = time.Minute
			}
			ctx, cancel := context.WithTimeout(context.Background(), p.Timeout)
			defer cancel()
			tt.fn(t, &suite{Pair: p, ctx: ctx})
		})
	}
}

// suite is one test's pair and context, with the helpers the tests share.
type suite struct {
	Pair
	ctx context.Context
}

func (s *suite) amount(minor int64) pay.Amount { return pay.Amount{Minor: minor, Currency: s.Currency} }

// balances returns the payee's and the payer's balance in currency.
func (s *suite) balances(t *testing.T, currency string) (payee, payer int64) {
	t.Helper()
	var err error
	if payee, err = s.Payee.Balance(s.ctx, currency); err != nil {
		t.Fatalf("payee Balance(%s): %v", currency, err)
	}
	if payer, err = s.Payer.Balance(s.ctx, currency); err != nil {
		t.Fatalf("payer Balance(%s): %v", currency, err)
	}
	return payee, payer
}

// wantBalances checks that the payee gained and the payer lost what they
// should have since before.
func (s *suite) wantBalances(t *testing.T, currency string, before [2]int64, payeeGain, payerLoss int64) {
	t.Helper()
	payee, payer := s.balances(t, currency)
	if got, want := payee-before[0], payeeGain; got != want {
		t.Errorf("payee %s balance changed by %d, want %d", currency, got, want)
	}
	if got, want := before[1]-payer, payerLoss; got != want {
		t.Errorf("payer %s balance went down by %d, want %d", currency, got, want)
	}
}

func (s *suite) snapshot(t *testing.T, currency string) [2]int64 {
	t.Helper()
	a, b := s.balances(t, currency)
	return [2]int64{a, b}
}

func (s *suite) invoice(t *testing.T, req pay.InvoiceRequest) pay.Invoice {
	t.Helper()
	if req.Amount == (pay.Amount{}) {
		req.Amount = s.amount(s.Amount)
	}
	inv, err := s.Payee.CreateInvoice(s.ctx, req)
	if err != nil {
		t.Fatalf("CreateInvoice(%+v): %v", req, err)
	}
	return inv
}

func (s *suite) wantStatus(t *testing.T, id string, want pay.Status) {
	t.Helper()
	_, got, err := s.Payee.Lookup(s.ctx, id)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", id, err)
	}
	if got != want {
		t.Errorf("Lookup(%s): got %v, want %v", id, got, want)
	}
}

// paid is the outcome of paying an invoice and claiming it.
type paid struct {
	p      pay.Payment
	payErr error
	claim  pay.Status
	err    error // Claim's error
}

// payAsync pays inv from the payer and hands the proof to the payee's
// Claim, in the background, as a buyer's node and a creator's do.
func (s *suite) payAsync(inv pay.Invoice) <-chan paid {
	ch := make(chan paid, 1)
	go func() {
		var r paid
		if r.p, r.payErr = s.Payer.Pay(s.ctx, inv.Request); r.payErr == nil {
			r.claim, r.err = s.Payee.Claim(s.ctx, inv.ID, r.p.Proof)
		}
		ch <- r
	}()
	return ch
}

// sell pays and claims a plain invoice and waits until the payee's rail
// says it is settled.
func (s *suite) sell(t *testing.T, inv pay.Invoice) pay.Payment {
	t.Helper()
	r := <-s.payAsync(inv)
	if r.payErr != nil {
		t.Fatalf("Pay(%s): %v", inv.ID, r.payErr)
	}
	if r.err != nil {
		t.Fatalf("Claim(%s): %v", inv.ID, r.err)
	}
	if st := s.wait(t, inv.ID, nil, isFinal); st != pay.Settled {
		t.Fatalf("invoice %s: got %v, want %v", inv.ID, st, pay.Settled)
	}
	return r.p
}

func isFinal(st pay.Status) bool { return st != pay.Open && st != pay.Accepted }

func notOpen(st pay.Status) bool { return st != pay.Open }

// wait waits on the payee's rail until until holds; if res is not nil
// and reports a failed payment first, the test fails. The outcome, if it
// arrived, is put back into res's place for the caller.
func (s *suite) wait(t *testing.T, id string, res *<-chan paid, until func(pay.Status) bool) pay.Status {
	t.Helper()
	type waited struct {
		st  pay.Status
		err error
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	wc := make(chan waited, 1)
	go func() {
		st, err := s.Payee.Wait(ctx, id, until)
		wc <- waited{st, err}
	}()
	var in <-chan paid
	if res != nil {
		in = *res
	}
	for {
		select {
		case r := <-in:
			if r.payErr != nil || r.err != nil {
				t.Fatalf("paying invoice %s: Pay: %v, Claim: %v", id, r.payErr, r.err)
			}
			done := make(chan paid, 1)
			done <- r
			*res, in = done, nil
		case w := <-wc:
			if w.err != nil {
				t.Fatalf("Wait(%s): %v", id, w.err)
			}
			return w.st
		}
	}
}

func (s *suite) needClock(t *testing.T) {
	if s.Advance == nil {
		t.Skip("the pair has no clock to advance")
	}
}
