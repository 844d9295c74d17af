package market

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
)

// gate stands in front of a creator's server: while shut, it resets the
// streams of payments and redeliveries (the creator looks unreachable
// after the buyer paid); quotes and withdrawals pass.
type gate struct {
	shut atomic.Bool
}

func gateCreator(t *testing.T, c *creator) *gate {
	g := &gate{}
	g.shut.Store(true)
	c.h.SetStreamHandler(ProtocolID, func(st network.Stream) {
		br := bufio.NewReader(st)
		body, err := readFrame(br, maxRequestFrame)
		if err != nil {
			st.Reset()
			return
		}
		if g.shut.Load() && (body[0] == typePay || body[0] == typeRedeliver) {
			st.Reset()
			return
		}
		c.srv.handle(&replayed{Stream: st, r: io.MultiReader(bytesFrame(body), br)})
	})
	return g
}

// replayed is a stream whose first bytes were read already.
type replayed struct {
	network.Stream
	r io.Reader
}

func (s *replayed) Read(p []byte) (int, error) { return s.r.Read(p) }

func bytesFrame(body []byte) io.Reader {
	return &frameReader{b: appendFrame(nil, body)}
}

type frameReader struct{ b []byte }

func (f *frameReader) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

// eventually polls cond until it holds or the test's time runs out.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func statusOf(t *testing.T, b *buyer, id OfferID) string {
	t.Helper()
	rec, err := b.ledger.Purchase(context.Background(), id)
	if err != nil || rec == nil {
		t.Fatalf("purchase %v: %v, %v", id, rec, err)
	}
	return rec.Status
}

func hasStatus(t *testing.T, b *buyer, id OfferID, want string) func() error {
	return func() error {
		if got := statusOf(t, b, id); got != want {
			return fmt.Errorf("status %q, want %q", got, want)
		}
		return nil
	}
}

var fastRetry = &ClientOptions{RetryMin: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond}

// TestPurchaseOutlivesCaller: a caller that stops waiting right after
// the payment changes nothing: the client delivers the purchase, once.
func TestPurchaseOutlivesCaller(t *testing.T) {
	c := newCreator(t, 8, nil, nil)
	g := gateCreator(t, c)
	var completed atomic.Int32
	opts := *fastRetry
	opts.Events = funcEvents{completed: func(ctx context.Context, p *Purchase) error { completed.Add(1); return nil }}
	b := newBuyer(t, "buyer", c, &opts)
	before := balance(t, b.rail)

	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		p   *Purchase
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := b.client.Buy(ctx, c.order(c.shards, 3))
		done <- result{p, err}
	}()
	eventually(t, "the buyer pays", func() error {
		if balance(t, b.rail) == before {
			return errors.New("not paid yet")
		}
		return nil
	})
	cancel()
	r := <-done
	var pending *PendingError
	if !errors.As(r.err, &pending) || !errors.Is(r.err, ErrPending) || pending.Offer == nil {
		t.Fatalf("Buy whose caller left after paying: got %v, %v, want a PendingError naming the offer", r.p, r.err)
	}
	id := pending.Offer.ID
	if got := statusOf(t, b, id); got != "paying" {
		t.Errorf("status while the creator is cut off: got %q, want paying", got)
	}
	g.shut.Store(false)
	eventually(t, "the client completes the purchase", hasStatus(t, b, id, "complete"))
	price := pending.Offer.Price.Minor
	if got, want := balance(t, b.rail), before-price; got != want {
		t.Errorf("buyer balance: got %d, want %d", got, want)
	}
	if got, want := balance(t, c.rail), pay.DefaultTestBalance+price; got != int64(want) {
		t.Errorf("creator balance: got %d, want %d", got, want)
	}
	if got := stats(t, c.ledger, c.shards); got.Sales != 1 || got.Sold != 3 {
		t.Errorf("creator stats: got %+v, want one sale of 3 shares", got)
	}
	if n := completed.Load(); n != 1 {
		t.Errorf("Completed ran %d times, want 1", n)
	}
	checkLedger(t, c.ledger)
	checkPurchases(t, b)
}

// TestResumeAtStart: a buyer restarted with a paid, undelivered purchase
// completes it at start.
func TestResumeAtStart(t *testing.T) {
	c := newCreator(t, 8, nil, nil)
	g := gateCreator(t, c)
	b := newBuyer(t, "buyer", c, fastRetry)
	before := balance(t, b.rail)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := b.client.Buy(ctx, c.order(c.pay, 0))
	var pending *PendingError
	if !errors.As(err, &pending) || pending.Offer == nil {
		t.Fatalf("Buy with the creator cut off after the quote: got %v, want a PendingError naming the offer", err)
	}
	id := pending.Offer.ID
	eventually(t, "the buyer pays", func() error {
		if balance(t, b.rail) == before {
			return errors.New("not paid yet")
		}
		return nil
	})
	b.client.Close() // the buyer's node stops

	var completed atomic.Int32
	opts := *fastRetry
	opts.Events = funcEvents{completed: func(ctx context.Context, p *Purchase) error {
		if p.Identity == nil || p.Identity.String() != c.contentID.String() {
			t.Errorf("resumed purchase delivered identity %v", p.Identity)
		}
		completed.Add(1)
		return nil
	}}
	client, err := NewClient(b.h, b.ledger, b.id, []pay.Rail{b.rail}, &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	b.client = client
	g.shut.Store(false)
	if err := client.ResumeAll(context.Background(), func(_ context.Context, o *Offer) (Order, error) {
		return c.order(o.Campaign, 0), nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the restarted client completes the purchase", hasStatus(t, b, id, "complete"))
	eventually(t, "Completed runs", func() error {
		if completed.Load() != 1 {
			return errors.New("not yet")
		}
		return nil
	})
	if got, want := balance(t, b.rail), before-250; got != want {
		t.Errorf("buyer balance: got %d, want %d", got, want)
	}
	checkPurchases(t, b)
}

// TestPaidOfferExpiredRefunded: a paid offer whose creator never took
// the payment before it expired is refunded with the creator's voucher.
func TestPaidOfferExpiredRefunded(t *testing.T) {
	clock := paytest.NewClock(time.Now())
	c := newCreator(t, 4, &ServerOptions{Now: clock.Now, OfferTTL: time.Minute}, &pay.TestOptions{Now: clock.Now})
	g := gateCreator(t, c)
	b := newBuyer(t, "buyer", c, fastRetry)
	before := balance(t, b.rail)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.client.Buy(ctx, c.order(c.shards, 2))
	eventually(t, "the buyer pays", func() error {
		if balance(t, b.rail) == before {
			return errors.New("not paid yet")
		}
		return nil
	})
	recs, err := b.ledger.Purchases(ctx, c.shards)
	if err != nil || len(recs) != 1 {
		t.Fatalf("purchases: %v, %v", recs, err)
	}
	id := recs[0].Offer.ID
	clock.Advance(2 * time.Minute)
	if n, err := c.srv.sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v, want the unclaimed offer expired", n, err)
	}
	g.shut.Store(false)
	eventually(t, "the buyer is refunded", hasStatus(t, b, id, "refunded"))
	if got := balance(t, b.rail); got != before {
		t.Errorf("buyer balance after the refund: got %d, want %d", got, before)
	}
	if got := stats(t, c.ledger, c.shards); got != (Stats{}) {
		t.Errorf("creator stats: got %+v, want none", got)
	}
	checkLedger(t, c.ledger)
	checkPurchases(t, b)
}

// TestInsufficientFunds: a payment that fails for good ends the purchase
// as failed, moves no money, frees the creator's shares at once, and is
// never resumed.
func TestInsufficientFunds(t *testing.T) {
	c := newCreator(t, 4, nil, nil)
	b := newBuyer(t, "buyer", c, fastRetry)
	// A wallet of 1.00 USD.
	poor := openRail(t, t.TempDir()+"/poor.db", testKey(t, "poor"), &pay.TestOptions{InitialBalance: 100})
	client, err := NewClient(b.h, b.ledger, b.id, []pay.Rail{poor}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := testCtx(t)
	_, err = client.Buy(ctx, c.order(c.shards, 3))
	var failed *FailedError
	if !errors.As(err, &failed) || !errors.Is(err, ErrFailed) || !errors.Is(err, pay.ErrInsufficientFunds) {
		t.Fatalf("Buy beyond the wallet: got %v, want a FailedError of insufficient funds", err)
	}
	rec, err := b.ledger.Purchase(ctx, failed.Offer)
	if err != nil || rec == nil || rec.Status != "failed" || rec.Note == "" {
		t.Fatalf("record: got %+v, %v, want failed with a note", rec, err)
	}
	if got := balance(t, poor); got != 100 {
		t.Errorf("balance: got %d, want 100", got)
	}
	eventually(t, "the creator frees the withdrawn offer's shares", func() error {
		if r := stats(t, c.ledger, c.shards).Reserved; r != 0 {
			return fmt.Errorf("%d shares reserved", r)
		}
		return nil
	})
	resumed := false
	if err := client.ResumeAll(ctx, func(context.Context, *Offer) (Order, error) {
		resumed = true
		return Order{}, errors.New("not asked for")
	}); err != nil || resumed {
		t.Errorf("ResumeAll: %v, resumed %v: a failed purchase is never resumed", err, resumed)
	}
	if got := statusOf(t, b, failed.Offer); got != "failed" {
		t.Errorf("status after ResumeAll: %q", got)
	}
	checkLedger(t, c.ledger)
}

// TestIdempotentRequest: a request ID given again returns the first
// purchase's outcome, and charges once, even when asked concurrently.
func TestIdempotentRequest(t *testing.T) {
	c := newCreator(t, 8, nil, nil)
	b := newBuyer(t, "buyer", c, fastRetry)
	ctx := testCtx(t)
	before := balance(t, b.rail)
	o := c.order(c.shards, 2)
	o.Request = "req-1"
	var wg sync.WaitGroup
	ps := make([]*Purchase, 4)
	errs := make([]error, 4)
	for i := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); ps[i], errs[i] = b.client.Buy(ctx, o) }()
	}
	wg.Wait()
	for i := range ps {
		if errs[i] != nil || ps[i].Offer.ID != ps[0].Offer.ID || len(ps[i].Shares) != 2 {
			t.Errorf("call %d: got %v, %v, want the first purchase", i, ps[i], errs[i])
		}
	}
	again, err := b.client.Buy(ctx, o)
	if err != nil || again.Offer.ID != ps[0].Offer.ID || len(again.Shares) != 2 {
		t.Errorf("again later: got %v, %v, want the first purchase", again, err)
	}
	if got, want := balance(t, b.rail), before-200; got != want {
		t.Errorf("balance: got %d, want %d (charged once)", got, want)
	}
	if got := stats(t, c.ledger, c.shards); got.Sales != 1 {
		t.Errorf("creator sales: got %d, want 1", got.Sales)
	}
	other := c.order(c.pay, 0)
	other.Request = "req-1"
	if _, err := b.client.Buy(ctx, other); !errors.Is(err, ErrBadOrder) {
		t.Errorf("request ID reused for another campaign: got %v, want ErrBadOrder", err)
	}

	// A failed purchase's request gives the same failure, and no new offer.
	poor := openRail(t, t.TempDir()+"/poor.db", testKey(t, "poor"), &pay.TestOptions{InitialBalance: 100})
	client, err := NewClient(b.h, b.ledger, b.id, []pay.Rail{poor}, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	f := c.order(c.pay, 0)
	f.Request = "req-2"
	_, err1 := client.Buy(ctx, f)
	_, err2 := client.Buy(ctx, f)
	var f1, f2 *FailedError
	if !errors.As(err1, &f1) || !errors.As(err2, &f2) || f1.Offer != f2.Offer {
		t.Errorf("a failed request again: got %v and %v, want the same failure", err1, err2)
	}
	recs, _ := b.ledger.Purchases(ctx, c.pay)
	if len(recs) != 1 {
		t.Errorf("purchases of the pay campaign: got %d, want 1", len(recs))
	}
	checkPurchases(t, b)
}

func checkPurchases(t *testing.T, b *buyer) {
	t.Helper()
	if err := b.ledger.CheckPurchases(context.Background(), b.rail); err != nil {
		t.Error(err)
	}
}
