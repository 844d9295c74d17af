package flow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/shares"
)

// market pair: a creator and a buyer that see the same files and
// campaigns. The buyer's market delivers what the creator's keystore
// holds.
func pair(t *testing.T) (creator, buyer *peerNode) {
	t.Helper()
	creator = newPeer(t, nil, nil)
	buyer = newPeer(t, creator.blocks, creator.cat)
	return creator, buyer
}

// stock makes the buyer's market deliver the creator's key or shares of e.
func stock(t *testing.T, creator, buyer *peerNode, e catalog.Entry) {
	t.Helper()
	switch e.Manifest.Model {
	case campaign.ModelPay:
		id, err := creator.keys.ContentKey(e.Manifest.Content)
		if err != nil {
			t.Fatal(err)
		}
		buyer.buyer.identities[e.ID] = id
	case campaign.ModelShards:
		var list []shares.Share
		for i := range e.Manifest.Shards {
			s, err := creator.keys.Share(e.Manifest.Content, uint32(i))
			if err != nil {
				t.Fatal(err)
			}
			list = append(list, s)
		}
		buyer.buyer.shares[e.ID] = list
	}
}

func TestBuyPay(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, payTerms())
	stock(t, creator, buyer, e)
	if buyer.f.CanRead(e) {
		t.Fatal("the buyer can read before buying")
	}
	p, err := buyer.f.Buy(context.Background(), e.ID, 0, "")
	if err != nil {
		t.Fatalf("Buy: %v", err)
	}
	if p.Identity == nil {
		t.Fatal("Buy delivered no identity")
	}
	if !buyer.f.CanRead(e) {
		t.Error("after Buy the buyer cannot read: the key was not stored")
	}
	if got := buyer.cat.followsOf(); !slices.Contains(got, creator.self) {
		t.Errorf("the buyer follows %v, want the creator among them", got)
	}
	if got := buyer.network.reached; !slices.Contains(got, creator.self) {
		t.Errorf("the buyer reached %v, want the creator", got)
	}
}

func TestBuyShards(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, shardsTerms(5))
	stock(t, creator, buyer, e)
	p, err := buyer.f.Buy(context.Background(), e.ID, 2, "")
	if err != nil {
		t.Fatalf("Buy: %v", err)
	}
	if len(p.Shares) != 2 {
		t.Fatalf("Buy delivered %d shares, want 2", len(p.Shares))
	}
	if o := buyer.buyer.orders[0]; o.Commitments == nil || o.Commitments.N() != 5 || o.Shares != 2 {
		t.Errorf("the order: commitments %v, shares %d; want commitments of 5 and 2 shares", o.Commitments, o.Shares)
	}
	if got := buyer.pool.Known(e.ID); got != 2 {
		t.Errorf("the buyer's pool holds %d shares, want the 2 bought", got)
	}
	if got := buyer.pool.publishedCount(e.ID); got != 2 {
		t.Errorf("the buyer gossiped %d shares, want 2", got)
	}
}

// TestBuyRefused: a Buy that would charge for nothing, or for a wrong
// count, is refused before the market is asked.
func TestBuyRefused(t *testing.T) {
	pledgedAll := func(e catalog.Entry) catalog.Entry {
		e.State = &campaign.State{Sold: 3, Pledged: 2}
		return e
	}
	soldSome := func(e catalog.Entry) catalog.Entry {
		e.State = &campaign.State{Sold: 3}
		return e
	}
	for _, tc := range []struct {
		name  string
		terms campaign.Terms
		k     int
		setup func(t *testing.T, creator, buyer *peerNode, e catalog.Entry) catalog.Entry
		want  error
	}{
		{"open", openTerms(), 0, nil, market.ErrHeld},
		{"pay, two", payTerms(), 2, nil, market.ErrBadOrder},
		{"pay, key held", payTerms(), 0, func(t *testing.T, creator, buyer *peerNode, e catalog.Entry) catalog.Entry {
			id, _ := creator.keys.ContentKey(e.Manifest.Content)
			buyer.keys.SaveContentKey(e.Manifest.Content, id)
			return e
		}, market.ErrHeld},
		{"pay, purchase pending", payTerms(), 0, func(t *testing.T, creator, buyer *peerNode, e catalog.Entry) catalog.Entry {
			buyer.ledger.purchases = append(buyer.ledger.purchases, market.PurchaseRecord{
				Offer: &market.Offer{Campaign: e.ID, Kind: market.KindBuy}, Creator: creator.self, Status: "paying"})
			return e
		}, market.ErrHeld},
		{"shards, none", shardsTerms(5), 0, nil, market.ErrBadOrder},
		{"shards, more than N", shardsTerms(5), 6, nil, market.ErrBadOrder},
		{"shards, sold out", shardsTerms(5), 1, func(t *testing.T, _, _ *peerNode, e catalog.Entry) catalog.Entry { return pledgedAll(e) }, market.ErrSoldOut},
		{"shards, more than left", shardsTerms(5), 3, func(t *testing.T, _, _ *peerNode, e catalog.Entry) catalog.Entry { return soldSome(e) }, market.ErrBadOrder},
		{"shards, unlocked", shardsTerms(2), 1, func(t *testing.T, _, buyer *peerNode, e catalog.Entry) catalog.Entry {
			buyer.pool.n[e.ID] = 2
			buyer.pool.Add(e.ID, []shares.Share{{Index: 0}, {Index: 1}})
			return e
		}, market.ErrHeld},
		{"rejected creator", payTerms(), 0, func(t *testing.T, _, _ *peerNode, e catalog.Entry) catalog.Entry {
			e.Rejected = "sealed bad shares"
			return e
		}, catalog.ErrRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creator, buyer := pair(t)
			e := creator.publish(t, tc.terms)
			stock(t, creator, buyer, e)
			if tc.setup != nil {
				e = tc.setup(t, creator, buyer, e)
				creator.cat.put(e)
			}
			_, err := buyer.f.Buy(context.Background(), e.ID, tc.k, "")
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if buys, _ := buyer.buyer.counts(); buys != 0 {
				t.Errorf("the market was asked %d times, want none", buys)
			}
		})
	}
}

func TestBuyOwnCampaign(t *testing.T) {
	creator := newPeer(t, nil, nil)
	e := creator.publish(t, payTerms())
	if _, err := creator.f.Buy(context.Background(), e.ID, 0, ""); err == nil || !strings.Contains(err.Error(), "creator") {
		t.Errorf("got %v, want a refusal: this node is the creator", err)
	}
	if _, err := creator.f.Donate(context.Background(), e.ID, 100, ""); err == nil {
		t.Error("Donate to its own campaign: got nil, want an error")
	}
}

func TestBuyUnknownCampaign(t *testing.T) {
	n := newPeer(t, nil, nil)
	if _, err := n.f.Buy(context.Background(), rawCID([]byte("none")), 1, ""); !errors.Is(err, catalog.ErrUnknown) {
		t.Errorf("got %v, want catalog.ErrUnknown", err)
	}
}

func TestBuyOffline(t *testing.T) {
	n := newPeer(t, nil, nil)
	n.f.p.Buyer = nil
	if _, err := n.f.Buy(context.Background(), rawCID([]byte("x")), 1, ""); !errors.Is(err, ErrOffline) {
		t.Errorf("Buy: got %v, want ErrOffline", err)
	}
	if _, err := n.f.Donate(context.Background(), rawCID([]byte("x")), 1, ""); !errors.Is(err, ErrOffline) {
		t.Errorf("Donate: got %v, want ErrOffline", err)
	}
}

func TestBuyCreatorUnreachable(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, payTerms())
	buyer.network.down[creator.self] = true
	if _, err := buyer.f.Buy(context.Background(), e.ID, 0, ""); !errors.Is(err, errInjected) {
		t.Errorf("got %v, want the network's error", err)
	}
	if buys, _ := buyer.buyer.counts(); buys != 0 {
		t.Errorf("the market was asked %d times, want none", buys)
	}
}

// TestBuyRetryOfKnownRequest: a request ID the ledger knows goes to the
// market unchecked, even with the key held and the creator away: the
// market answers with that purchase's outcome.
func TestBuyRetryOfKnownRequest(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, payTerms())
	stock(t, creator, buyer, e)
	id, _ := creator.keys.ContentKey(e.Manifest.Content)
	buyer.keys.SaveContentKey(e.Manifest.Content, id)
	buyer.ledger.requests["req-1"] = &market.PurchaseRecord{Request: "req-1"}
	buyer.network.down[creator.self] = true
	if _, err := buyer.f.Buy(context.Background(), e.ID, 0, "req-1"); err != nil {
		t.Fatalf("Buy under a known request: %v", err)
	}
	if got := buyer.buyer.orders[0].Request; got != "req-1" {
		t.Errorf("the order's request: got %q, want req-1", got)
	}
}

// TestConcurrentPayBuysChargeOnce: many Buys of one pay campaign at once
// reach the market one at a time, and only the first is charged; the
// others find the key held.
func TestConcurrentPayBuysChargeOnce(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, payTerms())
	stock(t, creator, buyer, e)
	buyer.buyer.gate = make(chan struct{})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = buyer.f.Buy(context.Background(), e.ID, 0, "")
		}()
	}
	eventually(t, "the first purchase to reach the market", func() bool { b, _ := buyer.buyer.counts(); return b == 1 })
	close(buyer.buyer.gate)
	wg.Wait()
	buys, most := buyer.buyer.counts()
	if buys != 1 || most != 1 {
		t.Errorf("the market saw %d purchases, %d at once; want 1 and 1", buys, most)
	}
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, market.ErrHeld):
			t.Errorf("a second Buy: got %v, want market.ErrHeld", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d Buys succeeded, want 1", ok)
	}
}

// TestPayBuyOutlivesCaller: a caller that stops waiting gets a
// *market.PendingError; the lock stays held until the purchase ends, so
// another Buy meanwhile is refused, and the key is kept when it does end.
func TestPayBuyOutlivesCaller(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, payTerms())
	stock(t, creator, buyer, e)
	buyer.buyer.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := buyer.f.Buy(ctx, e.ID, 0, "")
		done <- err
	}()
	eventually(t, "the purchase to reach the market", func() bool { b, _ := buyer.buyer.counts(); return b == 1 })
	cancel()
	var pe *market.PendingError
	if err := <-done; !errors.As(err, &pe) {
		t.Fatalf("the caller that gave up: got %v, want a *market.PendingError", err)
	}
	short, stop := context.WithCancel(context.Background())
	stop()
	if _, err := buyer.f.Buy(short, e.ID, 0, ""); !errors.Is(err, market.ErrHeld) {
		t.Errorf("a Buy while the first is under way: got %v, want market.ErrHeld", err)
	}
	close(buyer.buyer.gate)
	eventually(t, "the key of the purchase that went on", func() bool { return buyer.f.CanRead(e) })
	if buys, _ := buyer.buyer.counts(); buys != 1 {
		t.Errorf("the market saw %d purchases, want 1", buys)
	}
}

// TestShardsBuysDoNotLock: shards purchases of one campaign may run at
// once (each reserves its own shares).
func TestShardsBuysDoNotLock(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, shardsTerms(6))
	stock(t, creator, buyer, e)
	buyer.buyer.gate = make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := buyer.f.Buy(context.Background(), e.ID, 1, ""); err != nil {
				t.Errorf("Buy: %v", err)
			}
		}()
	}
	eventually(t, "both purchases to reach the market", func() bool { _, most := buyer.buyer.counts(); return most == 2 })
	close(buyer.buyer.gate)
	wg.Wait()
}

func TestDonate(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, openTerms())
	p, err := buyer.f.Donate(context.Background(), e.ID, 250, "")
	if err != nil {
		t.Fatalf("Donate: %v", err)
	}
	if p.Offer.Kind != market.KindDonate || buyer.buyer.donated != 250 {
		t.Errorf("donated %d as a %v, want 250 as a donation", buyer.buyer.donated, p.Offer.Kind)
	}
	if !slices.Contains(buyer.cat.followsOf(), creator.self) {
		t.Error("the donor does not follow the creator")
	}
	buyer.network.down[creator.self] = true
	if _, err := buyer.f.Donate(context.Background(), e.ID, 1, ""); !errors.Is(err, errInjected) {
		t.Errorf("Donate to a creator away: got %v, want the network's error", err)
	}
}

func TestCheatErrorNamesProofPath(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, shardsTerms(3))
	stock(t, creator, buyer, e)
	cheat := &market.CheatError{Proof: &market.Proof{Offer: &market.Offer{ID: newOfferID()}}, Reason: "bad share"}
	b := &cheatingBuyer{fakeBuyer: buyer.buyer, err: cheat}
	buyer.f.p.Buyer = b
	_, err := buyer.f.Buy(context.Background(), e.ID, 1, "")
	want := buyer.keys.ProofPath(cheat.Proof.Offer.ID.String())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error naming %s", err, want)
	}
}

type cheatingBuyer struct {
	*fakeBuyer
	err error
}

func (b *cheatingBuyer) Buy(context.Context, market.Order) (*market.Purchase, error) {
	return nil, b.err
}
