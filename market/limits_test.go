package market

import (
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/peerlimit"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
)

// quoteCode sends a quote and returns the refusal's code, or 0 with the
// offer.
func quoteCode(t *testing.T, b *buyer, c *creator, q *quote) (Code, *Offer) {
	t.Helper()
	q.Rail = "test"
	q.Recipient = b.id.Recipient().String()
	resp, err := b.client.exchange(testCtx(t), c.h.ID(), q.encode(), false)
	if err != nil {
		t.Fatal(err)
	}
	switch m := resp.(type) {
	case *Offer:
		return 0, m
	case *errorMsg:
		return m.Code, nil
	}
	t.Fatalf("quote: got %+v", resp)
	return 0, nil
}

func offerRows(t *testing.T, l *Ledger) int {
	t.Helper()
	var n int
	if err := l.r.QueryRow("SELECT count(*) FROM offers").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBuyerCaps holds one buyer to 3 unpaid offers and 10 reserved shares
// per campaign: quotes beyond are refused as busy, another buyer is not
// held back, and paying or letting an offer expire makes room again.
func TestBuyerCaps(t *testing.T) {
	clock := paytest.NewClock(time.Now())
	c := newCreator(t, 100, &ServerOptions{Now: clock.Now, MaxOpenOffers: 3, MaxReservedShares: 10,
		QuoteRate: peerlimit.Rate{PerSecond: -1}}, &pay.TestOptions{Now: clock.Now})
	a, b := newBuyer(t, "a", c, nil), newBuyer(t, "b", c, nil)
	ctx := testCtx(t)

	var first *Offer
	for i, tt := range []struct {
		who    *buyer
		shares int
		want   Code
	}{
		{a, 4, 0}, {a, 4, 0},
		{a, 4, CodeBusy}, // 12 shares
		{a, 2, 0},        // 10 shares in 3 offers
		{a, 1, CodeBusy}, // a fourth offer
		{b, 10, 0},       // b has its own bounds
	} {
		got, o := quoteCode(t, tt.who, c, &quote{Campaign: c.shards, Kind: KindBuy, Shares: tt.shares})
		if got != tt.want {
			t.Fatalf("quote %d (%d shares): got code %v, want %v", i, tt.shares, got, tt.want)
		}
		if i == 0 {
			first = o
		}
	}
	if got, want := stats(t, c.ledger, c.shards).Reserved, 20; got != want {
		t.Errorf("reserved: got %d, want %d", got, want)
	}
	// Access to a pay campaign reserves nothing, but the offers count.
	for i, want := range []Code{0, 0, 0, CodeBusy} {
		if got, _ := quoteCode(t, a, c, &quote{Campaign: c.pay, Kind: KindBuy}); got != want {
			t.Errorf("pay quote %d: got code %v, want %v", i, got, want)
		}
	}

	// Paying one offer makes room for another.
	pm, err := a.rail.Pay(ctx, first.Request)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.client.exchange(ctx, c.h.ID(), (&payment{ID: first.ID, Proof: pm.Proof}).encode(), false)
	if _, ok := resp.(*delivery); err != nil || !ok {
		t.Fatalf("paying the first offer: got %+v, %v, want a delivery", resp, err)
	}
	if got, _ := quoteCode(t, a, c, &quote{Campaign: c.shards, Kind: KindBuy, Shares: 4}); got != 0 {
		t.Errorf("quote after paying: got code %v, want an offer", got)
	}
	// Expiry frees the rest.
	clock.Advance(c.srv.opts.ReserveTTL)
	if _, err := c.srv.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := quoteCode(t, a, c, &quote{Campaign: c.shards, Kind: KindBuy, Shares: 10}); got != 0 {
		t.Errorf("quote after expiry: got code %v, want an offer", got)
	}
	checkLedger(t, c.ledger)
}

// TestQuoteRate refuses a buyer's quotes beyond its token bucket.
func TestQuoteRate(t *testing.T) {
	clock := paytest.NewClock(time.Now())
	c := newCreator(t, 100, &ServerOptions{Now: clock.Now, QuoteRate: peerlimit.Rate{PerSecond: 1, Burst: 3},
		MaxOpenOffers: -1, MaxReservedShares: -1}, &pay.TestOptions{Now: clock.Now})
	a, b := newBuyer(t, "a", c, nil), newBuyer(t, "b", c, nil)
	for i, tt := range []struct {
		advance time.Duration
		who     *buyer
		want    Code
	}{
		{0, a, 0}, {0, a, 0}, {0, a, 0}, {0, a, CodeBusy},
		{0, b, 0},
		{time.Second, a, 0}, {0, a, CodeBusy},
	} {
		clock.Advance(tt.advance)
		if got, _ := quoteCode(t, tt.who, c, &quote{Campaign: c.shards, Kind: KindBuy, Shares: 1}); got != tt.want {
			t.Errorf("quote %d: got code %v, want %v", i, got, tt.want)
		}
	}
}

// TestReserveTTL: an offer of shares expires after ReserveTTL, one of
// access after OfferTTL.
func TestReserveTTL(t *testing.T) {
	clock := paytest.NewClock(time.Now())
	c := newCreator(t, 10, &ServerOptions{Now: clock.Now}, &pay.TestOptions{Now: clock.Now})
	b := newBuyer(t, "buyer", c, nil)
	now := clock.Now()
	for _, tt := range []struct {
		q    *quote
		want time.Duration
	}{
		{&quote{Campaign: c.shards, Kind: KindBuy, Shares: 2}, peerlimit.ReserveTTL},
		{&quote{Campaign: c.pay, Kind: KindBuy}, DefaultOfferTTL},
	} {
		o := quoteFor(t, b, c, tt.q)
		if got := o.Expires.Sub(now); got < tt.want-time.Second || got > tt.want+time.Second {
			t.Errorf("offer of %d shares expires after %v, want %v", len(o.Indices), got, tt.want)
		}
	}
}

// TestPruneExpired deletes the rows of offers that expired unpaid once
// PruneAfter has passed, and keeps settled offers; the ledger stays
// consistent and a pruned offer is unknown.
func TestPruneExpired(t *testing.T) {
	clock := paytest.NewClock(time.Now())
	c := newCreator(t, 10, &ServerOptions{Now: clock.Now, PruneAfter: time.Hour}, &pay.TestOptions{Now: clock.Now})
	b := newBuyer(t, "buyer", c, nil)
	ctx := testCtx(t)
	paid, err := b.client.Buy(ctx, c.order(c.shards, 2))
	if err != nil {
		t.Fatal(err)
	}
	unpaid := quoteFor(t, b, c, &quote{Campaign: c.shards, Kind: KindBuy, Shares: 3})
	quoteFor(t, b, c, &quote{Campaign: c.pay, Kind: KindBuy})
	clock.Advance(DefaultOfferTTL)
	if n, err := c.srv.sweep(ctx); err != nil || n != 2 {
		t.Fatalf("sweep: got %d, %v, want 2", n, err)
	}
	if n, err := c.srv.prune(ctx); err != nil || n != 0 {
		t.Errorf("prune within the grace: got %d, %v, want 0", n, err)
	}
	if got, want := offerRows(t, c.ledger), 3; got != want {
		t.Errorf("offer rows before the grace ends: got %d, want %d", got, want)
	}
	clock.Advance(time.Hour + time.Second)
	if n, err := c.srv.prune(ctx); err != nil || n != 2 {
		t.Errorf("prune: got %d, %v, want 2", n, err)
	}
	if got, want := offerRows(t, c.ledger), 1; got != want {
		t.Errorf("offer rows after pruning: got %d, want %d (the paid one)", got, want)
	}
	resp, err := b.client.exchange(ctx, c.h.ID(), (&redeliver{ID: unpaid.ID}).encode(), false)
	if e, ok := resp.(*errorMsg); err != nil || !ok || e.Code != CodeNotFound {
		t.Errorf("redelivery of a pruned offer: got %+v, %v, want not found", resp, err)
	}
	resp, err = b.client.exchange(ctx, c.h.ID(), (&redeliver{ID: paid.Offer.ID}).encode(), false)
	if _, ok := resp.(*delivery); err != nil || !ok {
		t.Errorf("redelivery of the paid offer: got %+v, %v, want its delivery", resp, err)
	}
	if got, want := stats(t, c.ledger, c.shards), (Stats{Sales: 1, Sold: 2, Raised: 200, Currency: "USD"}); got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
	checkLedger(t, c.ledger)
}
