package lightning

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
)

const day = 24 * time.Hour

// threeDaysCLTV is holdCLTV(3 days): 432 blocks, 65 (15%) more, LND's
// 12-block holdexpirydelta and 12 blocks of slack.
const threeDaysCLTV = 432 + 65 + 12 + 12

func TestHoldCLTV(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int64
	}{
		{0, defaultCLTV},
		{time.Hour, defaultCLTV},
		{10 * time.Hour, 60 + 9 + 24},
		{3 * day, threeDaysCLTV},
		{3*day - time.Second, threeDaysCLTV},
		{3*day + time.Second, 433 + 65 + 24},
		{maxHold(), maxHoldCLTV},
		{maxHold() + time.Nanosecond, maxHoldCLTV + 1},
	} {
		if got := holdCLTV(tt.d); got != tt.want {
			t.Errorf("holdCLTV(%v): got %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestMaxHold(t *testing.T) {
	var r Rail
	if got, want := r.MaxHold(), 10*day+6*time.Hour+50*time.Minute; got != want {
		t.Errorf("MaxHold: got %v, want %v", got, want)
	}
	if got, want := maxHoldCLTV, 1728; got != want {
		t.Errorf("maxHoldCLTV: got %d, want %d", got, want)
	}
}

func TestDays(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 hours"},
		{time.Hour + 59*time.Minute, "1 hour"},
		{day, "1 day"},
		{2*day + time.Hour, "2 days 1 hour"},
		{10*day + 6*time.Hour + 50*time.Minute, "10 days 6 hours"},
	} {
		if got := days(tt.d); got != tt.want {
			t.Errorf("days(%v): got %q, want %q", tt.d, got, tt.want)
		}
	}
}

// decodedCLTV returns the cltv_expiry of request as r's node decodes it.
func decodedCLTV(t *testing.T, r *Rail, request string) int64 {
	t.Helper()
	var pr lndPayReq
	if err := r.call(context.Background(), "decoding a request", http.MethodGet, "/v1/payreq/"+url.PathEscape(request), nil, &pr); err != nil {
		t.Fatal(err)
	}
	return int64(pr.CLTVExpiry)
}

// TestHoldUntil checks, on the imitation of LND, the cltv_expiry the
// rail sends for each HoldUntil and the refusal of holds too long.
func TestHoldUntil(t *testing.T) {
	ctx := context.Background()
	clock := paytest.NewClock(time.Unix(1_700_000_000, 0))
	n := newFakeNet(t, clock.Now, 0, 100_000_000)
	payee, payer := n.rail(t, 0), n.rail(t, 1)
	now := clock.Now()
	for _, tt := range []struct {
		name    string
		hold    bool
		until   time.Time
		sent    int64 // cltv_expiry sent; 0: none
		decoded int64
		tooLong bool
	}{
		{name: "plain invoice", until: now.Add(3 * day), decoded: 80},
		{name: "no HoldUntil", hold: true, decoded: 80},
		{name: "past", hold: true, until: now.Add(-time.Hour), decoded: 80},
		{name: "one hour", hold: true, until: now.Add(time.Hour), sent: 80, decoded: 80},
		{name: "three days", hold: true, until: now.Add(3 * day), sent: threeDaysCLTV, decoded: threeDaysCLTV},
		{name: "longest", hold: true, until: now.Add(payee.MaxHold()), sent: maxHoldCLTV, decoded: maxHoldCLTV},
		{name: "too long", hold: true, until: now.Add(payee.MaxHold() + time.Second), tooLong: true},
		{name: "a month", hold: true, until: now.Add(30 * day), tooLong: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := sha256.Sum256([]byte(tt.name))
			req := pay.InvoiceRequest{Amount: pay.Amount{Minor: 250_000, Currency: Currency}, Memo: tt.name,
				Hold: tt.hold, HoldUntil: tt.until}
			if tt.hold {
				req.PaymentHash = &h
			}
			inv, err := payee.CreateInvoice(ctx, req)
			if tt.tooLong {
				if !errors.Is(err, pay.ErrHoldTooLong) || !strings.Contains(err.Error(), "the longest hold possible is 10 days 6 hours") {
					t.Fatalf("CreateInvoice: got %v, want %v saying the longest hold", err, pay.ErrHoldTooLong)
				}
				n.mu.Lock()
				_, issued := n.invoices[h]
				n.mu.Unlock()
				if issued {
					t.Errorf("CreateInvoice refused, but LND was asked for the invoice")
				}
				return
			}
			if err != nil {
				t.Fatalf("CreateInvoice: %v", err)
			}
			n.mu.Lock()
			sent := n.invoices[inv.PaymentHash].cltv
			n.mu.Unlock()
			if int64(sent) != tt.sent {
				t.Errorf("cltv_expiry sent: got %d, want %d", sent, tt.sent)
			}
			if got := decodedCLTV(t, payer, inv.Request); got != tt.decoded {
				t.Errorf("cltv_expiry decoded by the payer: got %d, want %d", got, tt.decoded)
			}
		})
	}
}

// TestRegtestHoldUntil holds payments on real LND nodes: a hold invoice
// held for three days, and one held for MaxHold, carry the expected
// cltv_expiry, can be paid (the payer's node accepts their time lock),
// and the held HTLC expires no sooner than that many blocks after it
// was accepted.
func TestRegtestHoldUntil(t *testing.T) {
	bob, alice := regtestRails(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tt := range []struct {
		name   string
		hold   time.Duration
		cltv   int64
		settle bool
	}{
		{"three days", 3 * day, threeDaysCLTV, true},
		{"longest", bob.MaxHold(), maxHoldCLTV, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			preimage := sha256.Sum256([]byte(tt.name + time.Now().String()))
			hash := sha256.Sum256(preimage[:])
			inv, err := bob.CreateInvoice(ctx, pay.InvoiceRequest{Amount: pay.Amount{Minor: 100_000, Currency: Currency},
				Memo: tt.name, Hold: true, PaymentHash: &hash, HoldUntil: time.Now().Add(tt.hold)})
			if err != nil {
				t.Fatalf("CreateInvoice: %v", err)
			}
			if got := decodedCLTV(t, alice, inv.Request); got != tt.cltv {
				t.Errorf("cltv_expiry decoded by the payer: got %d, want %d", got, tt.cltv)
			}
			type result struct {
				p   pay.Payment
				err error
			}
			paid := make(chan result, 1)
			go func() {
				p, err := alice.Pay(ctx, inv.Request)
				paid <- result{p, err}
			}()
			if st, err := bob.Wait(ctx, inv.ID, func(s pay.Status) bool { return s != pay.Open }); err != nil || st != pay.Accepted {
				t.Fatalf("Wait: got %v, %v, want %v", st, err, pay.Accepted)
			}
			var li struct {
				HTLCs []struct {
					AcceptHeight int64s `json:"accept_height"`
					ExpiryHeight int64s `json:"expiry_height"`
					State        string `json:"state"`
				} `json:"htlcs"`
			}
			if err := bob.call(ctx, "looking up the invoice", http.MethodGet, "/v1/invoice/"+inv.ID, nil, &li); err != nil {
				t.Fatal(err)
			}
			held := 0
			for _, h := range li.HTLCs {
				if h.State != "ACCEPTED" {
					continue
				}
				held++
				if int64(h.ExpiryHeight-h.AcceptHeight) < tt.cltv {
					t.Errorf("held HTLC accepted at %d expires at %d: want at least %d blocks later", h.AcceptHeight, h.ExpiryHeight, tt.cltv)
				}
			}
			if held == 0 {
				t.Errorf("accepted invoice lists no held HTLC: %+v", li.HTLCs)
			}
			if tt.settle {
				if err := bob.Settle(ctx, inv.ID, preimage[:]); err != nil {
					t.Fatalf("Settle: %v", err)
				}
				if r := <-paid; r.err != nil || string(r.p.Preimage) != string(preimage[:]) {
					t.Errorf("Pay: got preimage %x, %v, want %x", r.p.Preimage, r.err, preimage)
				}
				return
			}
			if err := bob.Cancel(ctx, inv.ID); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			if r := <-paid; !errors.Is(r.err, pay.ErrCanceled) {
				t.Errorf("Pay: got %v, want %v", r.err, pay.ErrCanceled)
			}
		})
	}
}
