package market

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
	"github.com/shardcast/shardcast/shares"
)

func TestBuyPay(t *testing.T) {
	c := newCreator(t, 8, nil, nil)
	b := newBuyer(t, "buyer", c, nil)
	ctx := testCtx(t)
	before := balance(t, b.rail)

	p, err := b.client.Buy(ctx, c.order(c.pay, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Identity.String(), c.contentID.String(); got != want {
		t.Errorf("unwrapped identity differs from the content identity")
	}
	if got, want := p.Receipt.Amount, (pay.Amount{Minor: 250, Currency: "USD"}); got != want {
		t.Errorf("receipt amount: got %v, want %v", got, want)
	}
	if got, want := balance(t, b.rail), before-250; got != want {
		t.Errorf("buyer balance: got %d, want %d", got, want)
	}
	if got, want := balance(t, c.rail), int64(pay.DefaultTestBalance+250); got != want {
		t.Errorf("creator balance: got %d, want %d", got, want)
	}
	if got, want := stats(t, c.ledger, c.pay), (Stats{Sales: 1, Sold: 1, Raised: 250, Currency: "USD"}); got != want {
		t.Errorf("creator stats: got %+v, want %+v", got, want)
	}
	recs, err := b.ledger.Purchases(ctx, c.pay)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Status != "complete" || recs[0].Receipt == nil || recs[0].Creator != c.h.ID() {
		t.Fatalf("buyer purchases: got %+v, want one complete purchase with its receipt", recs)
	}
	if err := recs[0].Receipt.Verify(c.manifests[c.pay]); err != nil {
		t.Error(err)
	}
	checkLedger(t, c.ledger)
}

func TestBuyShards(t *testing.T) {
	c := newCreator(t, 10, nil, nil)
	b := newBuyer(t, "buyer", c, nil)
	ctx := testCtx(t)
	tests := []struct {
		k       int
		indices []uint32
		price   int64
	}{
		{3, []uint32{0, 1, 2}, 100 + 100 + 250}, // two early-bird shares, one at the full price
		{1, []uint32{3}, 250},
		{6, []uint32{4, 5, 6, 7, 8, 9}, 6 * 250},
	}
	var all []shares.Share
	for _, tt := range tests {
		p, err := b.client.Buy(ctx, c.order(c.shards, tt.k))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Offer.Indices; !slices.Equal(got, tt.indices) {
			t.Errorf("indices: got %v, want %v", got, tt.indices)
		}
		if got := p.Offer.Price.Minor; got != tt.price {
			t.Errorf("price of %v: got %d, want %d", tt.indices, got, tt.price)
		}
		for i, s := range p.Shares {
			if err := c.commitments.Verify(s); err != nil || s.Index != tt.indices[i] {
				t.Errorf("share %d: %v", s.Index, err)
			}
		}
		all = append(all, p.Shares...)
	}
	if _, err := shares.Combine(c.commitments, all); err != nil {
		t.Errorf("the shares bought do not combine: %v", err)
	}
	_, err := b.client.Buy(ctx, c.order(c.shards, 1))
	if !errors.Is(err, ErrSoldOut) {
		t.Errorf("buying past the last share: got %v, want ErrSoldOut", err)
	}
	if got, want := stats(t, c.ledger, c.shards), (Stats{Sales: 3, Sold: 10, Raised: 2200, Currency: "USD"}); got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
	sold, err := c.ledger.Sold(ctx, c.shards)
	if err != nil || len(sold) != 10 || sold[9] != 9 {
		t.Errorf("sold: got %v, %v, want 0…9", sold, err)
	}
	checkLedger(t, c.ledger)
}

// TestShardsRace has ten buyers race for 24 shares, three each: eight
// win, two are told the campaign is sold out, and no share is sold twice.
func TestShardsRace(t *testing.T) {
	const n, k, buyers = 24, 3, 10
	c := newCreator(t, n, nil, nil)
	bs := make([]*buyer, buyers)
	for i := range bs {
		bs[i] = newBuyer(t, fmt.Sprint("buyer", i), c, nil)
	}
	ctx := testCtx(t)
	var mu sync.Mutex
	var got []uint32
	var soldOut int
	var wg sync.WaitGroup
	for _, b := range bs {
		wg.Go(func() {
			p, err := b.client.Buy(ctx, c.order(c.shards, k))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrSoldOut):
				soldOut++
			case err != nil:
				t.Error(err)
			default:
				for _, s := range p.Shares {
					got = append(got, s.Index)
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	if want := n; len(slices.Compact(slices.Clone(got))) != want || len(got) != want {
		t.Errorf("shares sold: got %v, want each of 0…%d once", got, want-1)
	}
	if want := buyers - n/k; soldOut != want {
		t.Errorf("sold-out refusals: got %d, want %d", soldOut, want)
	}
	if got, want := stats(t, c.ledger, c.shards).Sold, n; got != want {
		t.Errorf("stats: sold %d, want %d", got, want)
	}
	checkLedger(t, c.ledger)
}

func TestDonate(t *testing.T) {
	var mu sync.Mutex
	var sales []OfferID
	c := newCreator(t, 4, &ServerOptions{Events: funcEvents{committed: func(_ cid.Cid, id OfferID) {
		mu.Lock()
		sales = append(sales, id)
		mu.Unlock()
	}}}, nil)
	b := newBuyer(t, "buyer", c, nil)
	ctx := testCtx(t)
	for _, id := range []struct {
		name   string
		amount int64
	}{{"open", 500}, {"open", 1200}, {"pay", 700}} {
		camp := c.open
		if id.name == "pay" {
			camp = c.pay
		}
		p, err := b.client.Donate(ctx, c.order(camp, 0), id.amount)
		if err != nil {
			t.Fatal(err)
		}
		if p.Identity != nil || p.Shares != nil || p.Receipt.Kind != KindDonate || p.Receipt.Amount.Minor != id.amount {
			t.Errorf("donation of %d to %s: got %+v", id.amount, id.name, p)
		}
	}
	if got, want := stats(t, c.ledger, c.open), (Stats{Donations: 2, Donated: 1700, Currency: "USD"}); got != want {
		t.Errorf("open stats: got %+v, want %+v", got, want)
	}
	if got, want := stats(t, c.ledger, c.pay), (Stats{Donations: 1, Donated: 700, Currency: "USD"}); got != want {
		t.Errorf("pay stats: got %+v, want %+v", got, want)
	}
	if _, err := b.client.Buy(ctx, c.order(c.open, 0)); err == nil {
		t.Error("buying an open campaign succeeded")
	}
	mu.Lock()
	if len(sales) != 3 {
		t.Errorf("Committed: called for %v, want the three donations", sales)
	}
	mu.Unlock()
	recs, err := b.ledger.Purchases(ctx, c.open)
	if err != nil || len(recs) != 2 || recs[0].Receipt == nil || recs[1].Receipt == nil {
		t.Fatalf("buyer's donations: got %+v, %v, want two with receipts", recs, err)
	}
	pts, err := c.ledger.SalesOverTime(ctx, c.open, 24*time.Hour)
	if err != nil || len(pts) != 1 || pts[0].Donations != 2 || pts[0].Donated != 1700 {
		t.Errorf("donations over time: got %+v, %v", pts, err)
	}
	checkLedger(t, c.ledger)
}

// quoteFor asks c for an offer the way Client does, without paying.
func quoteFor(t *testing.T, b *buyer, c *creator, q *quote) *Offer {
	t.Helper()
	q.Rail = "test"
	if q.Recipient == "" {
		q.Recipient = b.id.Recipient().String()
	}
	resp, err := b.client.exchange(testCtx(t), c.h.ID(), q.encode(), false)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := resp.(*Offer)
	if !ok {
		t.Fatalf("quote: got %+v, want an offer", resp)
	}
	return o
}

func TestExpiredOffer(t *testing.T) {
	clock := paytest.NewClock(time.Now())
	c := newCreator(t, 4, &ServerOptions{Now: clock.Now, OfferTTL: time.Minute}, &pay.TestOptions{Now: clock.Now})
	b := newBuyer(t, "buyer", c, nil)
	ctx := testCtx(t)
	before := balance(t, b.rail)

	o := quoteFor(t, b, c, &quote{Campaign: c.shards, Kind: KindBuy, Shares: 3})
	if got, want := stats(t, c.ledger, c.shards).Reserved, 3; got != want {
		t.Errorf("reserved: got %d, want %d", got, want)
	}
	pm, err := b.rail.Pay(ctx, o.Request) // on the buyer's clock, still in time
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	resp, err := b.client.exchange(ctx, c.h.ID(), (&payment{ID: o.ID, Proof: pm.Proof}).encode(), false)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := resp.(*errorMsg)
	if !ok || e.Code != CodeExpired || e.Voucher == nil {
		t.Fatalf("paying an expired offer: got %+v, want an expiry with a voucher", resp)
	}
	if _, err := b.rail.Refund(ctx, e.Voucher); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, b.rail); got != before {
		t.Errorf("buyer balance after refund: got %d, want %d", got, before)
	}
	if got, want := stats(t, c.ledger, c.shards), (Stats{}); got != want {
		t.Errorf("stats after expiry: got %+v, want %+v", got, want)
	}

	// The freed shares are sold again, from index 0.
	p, err := b.client.Buy(ctx, c.order(c.shards, 2))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Offer.Indices, []uint32{0, 1}; !slices.Equal(got, want) {
		t.Errorf("indices after expiry: got %v, want %v", got, want)
	}

	// The sweeper expires offers nobody pays.
	quoteFor(t, b, c, &quote{Campaign: c.shards, Kind: KindBuy, Shares: 2})
	clock.Advance(time.Minute)
	if n, err := c.srv.sweep(ctx); err != nil || n != 1 {
		t.Errorf("sweep: got %d, %v, want 1 offer expired", n, err)
	}
	if got, want := stats(t, c.ledger, c.shards).Reserved, 0; got != want {
		t.Errorf("reserved after sweep: got %d, want %d", got, want)
	}
	checkLedger(t, c.ledger)

	// A Client that pays too late gets its money back and ErrExpired.
	o = quoteFor(t, b, c, &quote{Campaign: c.pay, Kind: KindBuy})
	clock.Advance(time.Minute)
	before = balance(t, b.rail)
	_, err = b.client.payAndCollect(ctx, c.order(c.pay, 0), c.h.ID(), b.rail, o)
	if !errors.Is(err, ErrExpired) {
		t.Errorf("paying late: got %v, want ErrExpired", err)
	}
	if got := balance(t, b.rail); got != before {
		t.Errorf("buyer balance after a late payment: got %d, want %d", got, before)
	}
}

// TestReplay sends a settled offer's payment again, and asks for it to
// be delivered again: the same delivery comes back, and the ledger counts
// one sale.
func TestReplay(t *testing.T) {
	c := newCreator(t, 4, nil, nil)
	b := newBuyer(t, "buyer", c, nil)
	ctx := testCtx(t)
	p, err := b.client.Buy(ctx, c.order(c.shards, 2))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := b.ledger.Purchases(ctx, c.shards)
	if err != nil {
		t.Fatal(err)
	}
	first := &delivery{ID: p.Offer.ID, Payload: recs[0].Payload, Receipt: recs[0].Receipt}
	for _, req := range []any{
		&payment{ID: p.Offer.ID, Proof: p.Payment.Proof},
		&payment{ID: p.Offer.ID, Proof: p.Payment.Proof},
		&redeliver{ID: p.Offer.ID},
	} {
		var body []byte
		switch r := req.(type) {
		case *payment:
			body = r.encode()
		case *redeliver:
			body = r.encode()
		}
		resp, err := b.client.exchange(ctx, c.h.ID(), body, false)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := resp.(*delivery)
		if !ok || !bytes.Equal(v.encode(), first.encode()) {
			t.Errorf("%T again: got %+v, want the first delivery", req, resp)
		}
	}
	again, err := b.client.Resume(ctx, c.order(c.shards, 2), p.Offer.ID)
	if err != nil || !slices.Equal(again.Shares, p.Shares) {
		t.Errorf("resume: got %+v, %v, want the same shares", again, err)
	}
	if got, want := stats(t, c.ledger, c.shards), (Stats{Sales: 1, Sold: 2, Raised: 200, Currency: "USD"}); got != want {
		t.Errorf("stats after replays: got %+v, want %+v", got, want)
	}

	// Another peer cannot collect the delivery.
	other := newBuyer(t, "other", c, nil)
	resp, err := other.client.exchange(ctx, c.h.ID(), (&redeliver{ID: p.Offer.ID}).encode(), false)
	if e, ok := resp.(*errorMsg); err != nil || !ok || e.Code != CodeBadRequest {
		t.Errorf("redelivery to another peer: got %+v, %v, want a refusal", resp, err)
	}
	checkLedger(t, c.ledger)
}

// TestForgedOffer serves hand-made offers from a fake creator: the client
// rejects each before paying anything. The genuine offer shows that the
// fake is otherwise believable: the client pays it.
func TestForgedOffer(t *testing.T) {
	c := newCreator(t, 4, nil, nil)
	fake := newHost(t, nil)
	b := newBuyer(t, "buyer", nil, nil)
	connect(t, b.h, fake)
	impostor := testKey(t, "impostor")

	tests := []struct {
		name   string
		key    crypto.PrivKey
		before func(o *Offer) // changes made before signing
		after  func(o *Offer) // changes made after signing
	}{
		{name: "genuine"},
		{name: "signed by another key", key: impostor},
		{name: "tampered after signing", after: func(o *Offer) { o.Expires = o.Expires.Add(time.Hour) }},
		{name: "no signature", after: func(o *Offer) { o.Sig = make([]byte, sigSize) }},
		{name: "price below the manifest's", before: func(o *Offer) { o.Price.Minor-- }},
		{name: "price above the manifest's", before: func(o *Offer) { o.Price.Minor++ }},
		{name: "another buyer", before: func(o *Offer) { o.Buyer = fake.ID() }},
		{name: "another campaign", before: func(o *Offer) { o.Campaign = c.pay }},
		{name: "another recipient", before: func(o *Offer) { o.Recipient = c.contentID.Recipient().String() }},
		{name: "wrong currency", before: func(o *Offer) { o.Price.Currency = "EUR" }},
		{name: "fewer shares", before: func(o *Offer) { o.Indices, o.Price.Minor = o.Indices[:1], 100 }},
		{name: "no shares", before: func(o *Offer) { o.Indices = nil }},
		{name: "share beyond N", before: func(o *Offer) { o.Indices, o.Price.Minor = []uint32{3, 4}, 500 }},
		{name: "expired", before: func(o *Offer) { o.Expires = time.Now().Add(-time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			if key == nil {
				key = c.key
			}
			fake.SetStreamHandler(ProtocolID, fakeCreator(t, c, func(o *Offer) {
				if tt.before != nil {
					tt.before(o)
				}
				if err := o.sign(key); err != nil {
					t.Error(err)
				}
				if tt.after != nil {
					tt.after(o)
				}
			}))
			before := balance(t, b.rail)
			o := c.order(c.shards, 2)
			o.Creator = fake.ID()
			_, err := b.client.Buy(testCtx(t), o)
			paid := before - balance(t, b.rail)
			if tt.name == "genuine" {
				if !errors.As(err, new(*RemoteError)) || paid != 200 {
					t.Errorf("got %v after paying %d, want the fake's refusal after paying 200", err, paid)
				}
				return
			}
			if !errors.Is(err, ErrBadOffer) {
				t.Errorf("got %v, want ErrBadOffer", err)
			}
			if paid != 0 {
				t.Errorf("buyer paid %d for a forged offer", paid)
			}
		})
	}
}

// fakeCreator answers quotes with an offer of shares 0 and 1 for 2.00 on
// the real creator's rail, passed through forge, and refuses payments.
func fakeCreator(t *testing.T, c *creator, forge func(*Offer)) network.StreamHandler {
	return func(s network.Stream) {
		defer s.Close()
		body, err := readFrame(s, maxRequestFrame)
		if err != nil {
			t.Error(err)
			return
		}
		var resp []byte
		if q, err := decodeQuote(body); err == nil {
			inv, err := c.rail.CreateInvoice(context.Background(), pay.InvoiceRequest{Amount: pay.Amount{Minor: 200, Currency: "USD"}})
			if err != nil {
				t.Error(err)
				return
			}
			o := &Offer{ID: OfferID{1}, Campaign: q.Campaign, Kind: q.Kind, Buyer: s.Conn().RemotePeer(), Recipient: q.Recipient,
				Indices: []uint32{0, 1}, Price: inv.Amount, Rail: "test", Request: inv.Request, Expires: inv.Expires}
			forge(o)
			resp = o.Marshal()
		} else {
			resp = (&errorMsg{Code: CodeRejected, Message: "fake"}).encode()
		}
		s.Write(appendFrame(nil, resp))
	}
}

// TestServerRefusals sends requests a creator must refuse, and checks the
// code of each refusal.
func TestServerRefusals(t *testing.T) {
	c := newCreator(t, 4, nil, nil)
	b := newBuyer(t, "buyer", c, nil)
	ctx := testCtx(t)
	rcpt := b.id.Recipient().String()

	// A campaign whose deadline has passed.
	m := *c.manifests[c.shards]
	m.Deadline = m.Created.Add(time.Hour)
	if err := m.Sign(c.key); err != nil {
		t.Fatal(err)
	}
	_, closed, err := campaign.Encode(&m)
	if err != nil {
		t.Fatal(err)
	}
	c.src.mu.Lock()
	c.manifests[closed] = &m
	c.src.mu.Unlock()

	tests := []struct {
		name string
		body []byte
		want Code
	}{
		{"garbage", []byte{0xff, 0x00}, CodeBadRequest},
		{"an offer", testMessages(t)[2].encode(), CodeBadRequest},
		{"unknown campaign", (&quote{Campaign: rawCID("nothing"), Kind: KindBuy, Rail: "test", Recipient: rcpt}).encode(), CodeNotFound},
		{"unknown rail", (&quote{Campaign: c.pay, Kind: KindBuy, Rail: "lightning", Recipient: rcpt}).encode(), CodeUnsupported},
		{"buying an open campaign", (&quote{Campaign: c.open, Kind: KindBuy, Rail: "test", Recipient: rcpt}).encode(), CodeUnsupported},
		{"two accesses", (&quote{Campaign: c.pay, Kind: KindBuy, Shares: 2, Rail: "test", Recipient: rcpt}).encode(), CodeBadRequest},
		{"zero shares", (&quote{Campaign: c.shards, Kind: KindBuy, Rail: "test", Recipient: rcpt}).encode(), CodeBadRequest},
		{"more shares than exist", (&quote{Campaign: c.shards, Kind: KindBuy, Shares: 5, Rail: "test", Recipient: rcpt}).encode(), CodeSoldOut},
		{"after the deadline", (&quote{Campaign: closed, Kind: KindBuy, Shares: 1, Rail: "test", Recipient: rcpt}).encode(), CodeClosed},
		{"bad recipient", (&quote{Campaign: c.pay, Kind: KindBuy, Rail: "test", Recipient: "age1nope"}).encode(), CodeBadRequest},
		{"unknown offer", (&payment{ID: OfferID{9}, Proof: []byte("x")}).encode(), CodeNotFound},
		{"unknown redelivery", (&redeliver{ID: OfferID{9}}).encode(), CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := b.client.exchange(ctx, c.h.ID(), tt.body, false)
			if e, ok := resp.(*errorMsg); err != nil || !ok || e.Code != tt.want {
				t.Errorf("got %+v, %v, want code %v", resp, err, tt.want)
			}
		})
	}

	// A forged proof and an unpaid redelivery of a real offer.
	o := quoteFor(t, b, c, &quote{Campaign: c.pay, Kind: KindBuy})
	for _, tt := range []struct {
		name string
		body []byte
		want Code
	}{
		{"forged proof", (&payment{ID: o.ID, Proof: []byte("forged")}).encode(), CodeRejected},
		{"redelivery before payment", (&redeliver{ID: o.ID}).encode(), CodeUnpaid},
	} {
		resp, err := b.client.exchange(ctx, c.h.ID(), tt.body, false)
		if e, ok := resp.(*errorMsg); err != nil || !ok || e.Code != tt.want {
			t.Errorf("%s: got %+v, %v, want code %v", tt.name, resp, err, tt.want)
		}
	}
	if got := stats(t, c.ledger, c.pay); got != (Stats{}) {
		t.Errorf("stats after refusals: got %+v, want none", got)
	}
	checkLedger(t, c.ledger)
}
