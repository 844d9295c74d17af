package flow

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/keystore"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// TestCommittedPublishesSold: a sale on the creator's node puts the sold
// shares in the pool and announces the new figures.
func TestCommittedPublishesSold(t *testing.T) {
	n := newPeer(t, nil, nil)
	e := n.publish(t, shardsTerms(5))
	n.ledger.sold[e.ID] = []uint32{1, 3}
	n.ledger.stats[e.ID] = market.Stats{Sold: 2, Raised: 200}
	n.f.Committed(e.ID, newOfferID())
	n.idle()
	if got := n.pool.Known(e.ID); got != 2 {
		t.Errorf("the pool holds %d shares, want the 2 sold", got)
	}
	if len(n.ann.states) != 1 || n.ann.states[0].Sold != 2 || n.ann.states[0].Raised != 200 {
		t.Errorf("states announced: %+v, want one of 2 sold for 200", n.ann.states)
	}
}

func TestPublishStatePerModel(t *testing.T) {
	for _, tc := range []struct {
		terms                 campaign.Terms
		sold, raised, pledged int64
	}{
		{openTerms(), 3, 900, 0},
		{payTerms(), 2, 600, 0},
		{shardsTerms(10), 2, 600, 4},
	} {
		t.Run(string(tc.terms.Model), func(t *testing.T) {
			n := newPeer(t, nil, nil)
			e := n.publish(t, tc.terms)
			n.ledger.stats[e.ID] = market.Stats{Sold: 2, Raised: 600, Donations: 3, Donated: 900, Pledged: 4}
			n.f.Pledged(e.ID)
			n.idle()
			if len(n.ann.states) != 1 {
				t.Fatalf("%d states announced, want 1", len(n.ann.states))
			}
			s := n.ann.states[0]
			if s.Sold != tc.sold || s.Raised != tc.raised || s.Pledged != tc.pledged || !s.Time.Equal(start) {
				t.Errorf("state: sold %d raised %d pledged %d at %v; want %d %d %d at %v",
					s.Sold, s.Raised, s.Pledged, s.Time, tc.sold, tc.raised, tc.pledged, start)
			}
		})
	}
}

func TestPublishStateOnlyOwnAndOnline(t *testing.T) {
	creator, other := pair(t)
	e := creator.publish(t, payTerms())
	other.f.publishState(context.Background(), e.ID)
	creator.f.p.Ledger = nil
	creator.f.publishState(context.Background(), e.ID)
	if creator.ann.stateCount()+other.ann.stateCount() != 0 {
		t.Error("a state was announced for another's campaign, or offline")
	}
}

func TestDelivered(t *testing.T) {
	n := newPeer(t, nil, nil)
	id := rawCID([]byte("campaign"))
	n.f.Delivered(&market.Purchase{Offer: &market.Offer{Campaign: id}})
	n.f.Delivered(&market.Purchase{Offer: &market.Offer{Campaign: id}, Shares: []shares.Share{{Index: 4}, {Index: 7}}})
	n.idle()
	if got := n.pool.Known(id); got != 2 {
		t.Errorf("the pool holds %d shares, want the 2 delivered", got)
	}
	if got := n.pool.publishedCount(id); got != 2 {
		t.Errorf("gossiped %d shares, want 2", got)
	}
}

func TestCompletedKeepsWhatWasBought(t *testing.T) {
	creator, buyer := pair(t)
	pay := creator.publish(t, payTerms())
	ident, _ := creator.keys.ContentKey(pay.Manifest.Content)
	if err := buyer.f.Completed(context.Background(), &market.Purchase{Offer: &market.Offer{Campaign: pay.ID}, Identity: ident}); err != nil {
		t.Fatal(err)
	}
	if !buyer.f.CanRead(pay) {
		t.Error("a completed purchase's key was not kept")
	}
	unknown := rawCID([]byte("unknown"))
	if err := buyer.f.Completed(context.Background(), &market.Purchase{Offer: &market.Offer{Campaign: unknown}, Identity: ident}); err == nil {
		t.Error("a key bought for a campaign not in the catalog: got nil, want an error (the waiter learns it)")
	}
	buyer.keys.failKey = true
	if err := buyer.f.Completed(context.Background(), &market.Purchase{Offer: &market.Offer{Campaign: pay.ID}, Identity: ident}); err == nil {
		t.Error("a key that cannot be stored: got nil, want an error")
	}
}

// TestCaughtKeepsProof: a proof the market caught is kept in the
// keystore, where the Buy's error says it is.
func TestCaughtKeepsProof(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, shardsTerms(2))
	offer := &market.Offer{ID: newOfferID(), Campaign: e.ID, Kind: market.KindBuy, Buyer: buyer.self,
		Recipient: "age1buyer", Indices: []uint32{0}, Price: pay.Amount{Minor: 100, Currency: "USD"}, Rail: "test",
		Request: "invoice", Expires: start.Add(time.Minute), Sig: make([]byte, 64), Lock: make([]byte, 32), Sealed: make([]byte, 100)}
	proof := &market.Proof{Manifest: e.Raw, Offer: offer, Key: make([]byte, 32)}
	buyer.f.Caught(proof)
	buyer.idle()
	raw, err := buyer.keys.Proof(proof.Offer.ID.String())
	if err != nil {
		t.Fatalf("the proof was not kept: %v", err)
	}
	if string(raw) != string(proof.Marshal()) {
		t.Error("the proof kept is not the proof caught")
	}
	// The offer here is not signed by the creator: the proof is kept but
	// not announced (AddProof checks who it accuses before telling peers).
	if got := buyer.ann.proofCount(); got != 0 {
		t.Errorf("%d proofs with a forged offer announced, want none", got)
	}
}

// TestResumeDrivesPurchasesOn: at Start the purchases under way are handed
// back to the market with their orders, the creator away or not.
func TestResumeDrivesPurchasesOn(t *testing.T) {
	creator, buyer := pair(t)
	pay := creator.publish(t, payTerms())
	shards := creator.publish(t, shardsTerms(3))
	buyer.network.down[creator.self] = true
	buyer.buyer.resume = []*market.Offer{
		{ID: newOfferID(), Campaign: pay.ID, Kind: market.KindBuy},
		{ID: newOfferID(), Campaign: shards.ID, Kind: market.KindBuy},
		{ID: newOfferID(), Campaign: shards.ID, Kind: market.KindDonate},
	}
	buyer.f.Start(context.Background())
	buyer.idle()
	got := buyer.buyer.resumed
	if len(got) != 3 {
		t.Fatalf("%d purchases resumed, want 3", len(got))
	}
	if got[0].Manifest == nil || got[0].Campaign != pay.ID || got[0].Commitments != nil {
		t.Errorf("the pay order: %+v", got[0])
	}
	if got[1].Commitments == nil || got[1].Commitments.N() != 3 {
		t.Errorf("the shards buy was resumed without its commitments")
	}
	if got[2].Commitments != nil {
		t.Errorf("a donation was resumed with commitments")
	}
}

func TestStartFollowsCreatorsBoughtFrom(t *testing.T) {
	n := newPeer(t, nil, nil)
	var a, b peer.ID = "creator-a", "creator-b"
	for _, p := range []peer.ID{a, b, a} {
		n.ledger.purchases = append(n.ledger.purchases, market.PurchaseRecord{Offer: &market.Offer{Campaign: rawCID([]byte(p))}, Creator: p})
	}
	n.f.Start(context.Background())
	if got := n.cat.followsOf(); !slices.Equal(got, []peer.ID{a, b}) {
		t.Errorf("follows %v, want %v once each", got, []peer.ID{a, b})
	}
}

func TestFollows(t *testing.T) {
	creator, other := pair(t)
	open := creator.publish(t, openTerms())
	pay := creator.publish(t, payTerms())
	ks := keystore.New(t.TempDir())
	for _, tc := range []struct {
		name string
		self peer.ID
		e    catalog.Entry
		key  bool
		want bool
	}{
		{"own open", creator.self, open, false, true},
		{"own pay", creator.self, pay, false, true},
		{"another's open", other.self, open, false, false},
		{"another's pay, no key", other.self, pay, false, false},
		{"another's pay, key held", other.self, pay, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.key {
				id, _ := seal.NewIdentity()
				ks.SaveContentKey(tc.e.Manifest.Content, id)
			}
			if got := Follows(tc.self, ks)(tc.e); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSourceSellsOwnCampaigns(t *testing.T) {
	creator, other := pair(t)
	pay := creator.publish(t, payTerms())
	shards := creator.publish(t, shardsTerms(3))
	src := creator.f.Source()
	id, err := src.ContentIdentity(pay.ID)
	want, _ := creator.keys.ContentKey(pay.Manifest.Content)
	if err != nil || id.String() != want.String() {
		t.Errorf("ContentIdentity: got an error %v or another key", err)
	}
	s, err := src.Share(shards.ID, 2)
	if err != nil || s.Index != 2 {
		t.Errorf("Share 2: got %v, %v", s.Index, err)
	}
	if _, err := other.f.Source().Campaign(pay.ID); err == nil {
		t.Error("another node's source sells the creator's campaign")
	}
	if _, err := src.Campaign(cid.Undef); err == nil {
		t.Error("a campaign not in the catalog is sold")
	}
}
