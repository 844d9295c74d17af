package market

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	cid "github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/shares"
)

// campOffer returns an offer of campaign camp like ledgerOffer's, locked
// under k unless k is nil.
func campOffer(t *testing.T, camp cid.Cid, id byte, kind Kind, indices []uint32, amount int64, at time.Time, k []byte) *Offer {
	o := ledgerOffer(t, id, kind, indices, amount, at)
	o.Campaign = camp
	if k != nil {
		o.Lock, o.Sealed = sha256Of(k), make([]byte, len(indices)*shares.ShareSize+sealOverhead)
	}
	if err := o.sign(testKey(t, "creator")); err != nil {
		t.Fatal(err)
	}
	return o
}

func isPledged(t *testing.T, l *Ledger, o *Offer) bool {
	t.Helper()
	ok, err := l.pledged(o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func committed(t *testing.T, l *Ledger, c cid.Cid) int {
	t.Helper()
	n, err := l.committed(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLedgerPledges(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "market.db")
	l := openLedger(t, path)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	camp := rawCID("c")
	ka, kb := testLockKey("a"), testLockKey("b")
	a := campOffer(t, camp, 1, KindBuy, []uint32{0, 1}, 200, t0, ka)
	b := campOffer(t, camp, 2, KindBuy, []uint32{2}, 250, t0, kb)
	c := campOffer(t, camp, 3, KindBuy, []uint32{3}, 250, t0, testLockKey("c"))
	d := campOffer(t, camp, 4, KindBuy, []uint32{4, 5}, 500, t0, testLockKey("d"))
	u := campOffer(t, camp, 5, KindBuy, []uint32{6}, 250, t0, nil)
	keys := map[OfferID][]byte{a.ID: ka, b.ID: kb, c.ID: testLockKey("c"), d.ID: testLockKey("d")}
	for _, o := range []*Offer{a, b, c, d, u} {
		if err := l.putOffer(ctx, o, o.ID.String(), keys[o.ID], t0); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := l.lockKey(a.ID); err != nil || string(got) != string(ka) {
		t.Errorf("lockKey: got %x, %v, want %x", got, err, ka)
	}
	if _, err := l.lockKey(u.ID); err == nil {
		t.Error("lockKey of an unlocked offer: got no error")
	}

	for range 2 { // idempotent
		if err := l.pledge(ctx, a, t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.pledge(ctx, d, t0); err != nil {
		t.Fatal(err)
	}
	if !isPledged(t, l, a) || isPledged(t, l, b) {
		t.Errorf("pledged: got %v and %v, want true and false", isPledged(t, l, a), isPledged(t, l, b))
	}
	if err := l.pledge(ctx, campOffer(t, camp, 99, KindBuy, []uint32{9}, 1, t0, nil), t0); !errors.Is(err, errNotOpen) {
		t.Errorf("pledge of an unknown offer: got %v, want errNotOpen", err)
	}
	if got, want := stats(t, l, camp), (Stats{Reserved: 3, Pledged: 4, PledgedAmount: 700}); got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
	if got, want := committed(t, l, camp), 4; got != want {
		t.Errorf("committed: got %d, want %d", got, want)
	}
	checkLedger(t, l)

	// A pledge is not swept at its offer's expiry; the others are.
	due, err := l.dueOffers(ctx, t0.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []OfferID
	for _, r := range due {
		ids = append(ids, r.offer.ID)
	}
	if want := []OfferID{b.ID, c.ID, u.ID}; !sameIDs(ids, want) {
		t.Errorf("due offers: got %v, want %v", ids, want)
	}

	// Settling or expiring an offer ends its pledge; neither can be
	// pledged afterwards.
	if err := settleOffer(t, l, b, t0); err != nil {
		t.Fatal(err)
	}
	if got, want := committed(t, l, camp), 5; got != want {
		t.Errorf("committed with one sale: got %d, want %d", got, want)
	}
	if changed, err := l.expire(ctx, c); err != nil || !changed {
		t.Fatalf("expire: got %v, %v", changed, err)
	}
	for _, o := range []*Offer{b, c} {
		if err := l.pledge(ctx, o, t0); !errors.Is(err, errNotOpen) {
			t.Errorf("pledge of closed offer %v: got %v, want errNotOpen", o.ID, err)
		}
	}
	if err := settleOffer(t, l, a, t0); err != nil {
		t.Fatal(err)
	}
	if changed, err := l.expire(ctx, d); err != nil || !changed {
		t.Fatalf("expire: got %v, %v", changed, err)
	}
	if isPledged(t, l, a) || isPledged(t, l, d) {
		t.Error("a settled or expired offer is still pledged")
	}
	if got, want := stats(t, l, camp), (Stats{Sales: 2, Sold: 3, Reserved: 1, Raised: 450, Currency: "USD"}); got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
	if got, want := committed(t, l, camp), 3; got != want {
		t.Errorf("committed: got %d, want %d", got, want)
	}
	checkLedger(t, l)
	var n int
	if err := l.r.QueryRow("SELECT count(*) FROM pledges").Scan(&n); err != nil || n != 0 {
		t.Errorf("pledges left: got %d, %v, want 0", n, err)
	}
}

func sameIDs(got, want []OfferID) bool {
	cmp := func(a, b OfferID) int { return slices.Compare(a[:], b[:]) }
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, cmp)
	slices.SortFunc(want, cmp)
	return slices.Equal(got, want)
}

func TestLedgerOutcomes(t *testing.T) {
	ctx := context.Background()
	l := openLedger(t, filepath.Join(t.TempDir(), "market.db"))
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	c1, c2, c3 := rawCID("c1"), rawCID("c2"), rawCID("c3")
	open1 := campOffer(t, c1, 1, KindBuy, []uint32{0}, 100, t0, testLockKey("1"))
	held1 := campOffer(t, c1, 2, KindBuy, []uint32{1}, 100, t0.Add(time.Second), testLockKey("2"))
	gift1 := campOffer(t, c1, 3, KindDonate, nil, 100, t0, nil)
	open2 := campOffer(t, c2, 4, KindBuy, []uint32{0}, 100, t0, testLockKey("4"))
	gift3 := campOffer(t, c3, 5, KindDonate, nil, 100, t0, nil)
	for i, o := range []*Offer{open1, held1, gift1, open2, gift3} {
		var key []byte // the ledger keeps a locked offer's key, whatever it is
		if o.Lock != nil {
			key = o.Lock
		}
		if err := l.putOffer(ctx, o, o.ID.String(), key, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.pledge(ctx, held1, t0); err != nil {
		t.Fatal(err)
	}

	// The first outcome recorded stands, even when two race.
	var wg sync.WaitGroup
	got := make([]outcome, 2)
	for i, want := range []outcome{outcomeShort, outcomeMet} {
		wg.Go(func() {
			oc, err := l.decide(ctx, c1, want, t0)
			if err != nil {
				t.Error(err)
			}
			got[i] = oc
		})
	}
	wg.Wait()
	if got[0] != got[1] || got[0] == outcomeNone {
		t.Fatalf("racing decisions: got %v and %v, want the same outcome", got[0], got[1])
	}
	first := got[0]
	for _, want := range []outcome{outcomeMet, outcomeShort} {
		if oc, err := l.decide(ctx, c1, want, t0); err != nil || oc != first {
			t.Errorf("decide %v after %v: got %v, %v, want %v", want, first, oc, err, first)
		}
	}
	if oc, err := l.decide(ctx, c3, outcomeShort, t0); err != nil || oc != outcomeShort {
		t.Errorf("decide on c3: got %v, %v, want %v", oc, err, outcomeShort)
	}
	tests := []struct {
		c    cid.Cid
		want outcome
	}{{c1, first}, {c2, outcomeNone}, {c3, outcomeShort}}
	for _, tt := range tests {
		if oc, err := l.outcomeOf(tt.c); err != nil || oc != tt.want {
			t.Errorf("outcomeOf(%v): got %v, %v, want %v", tt.c, oc, err, tt.want)
		}
	}

	// Open purchases of c1, in order of creation; the held pledge alone.
	for _, tt := range []struct {
		pledgesOnly bool
		want        []OfferID
	}{{false, []OfferID{open1.ID, held1.ID}}, {true, []OfferID{held1.ID}}} {
		rows, err := l.openOffers(ctx, c1, tt.pledgesOnly)
		var ids []OfferID
		for _, r := range rows {
			ids = append(ids, r.offer.ID)
		}
		if err != nil || !slices.Equal(ids, tt.want) {
			t.Errorf("openOffers(pledges only %v): got %v, %v, want %v", tt.pledgesOnly, ids, err, tt.want)
		}
	}

	// c1 has an outcome and open purchases; c2 has no outcome; c3 only an
	// open donation.
	unfinished := func() []cid.Cid {
		t.Helper()
		v, err := l.unfinished(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := unfinished(); len(got) != 1 || !got[0].Equals(c1) {
		t.Errorf("unfinished: got %v, want [%v]", got, c1)
	}
	if _, err := l.expire(ctx, open1); err != nil {
		t.Fatal(err)
	}
	if got := unfinished(); len(got) != 1 {
		t.Errorf("unfinished with a pledge left: got %v, want [%v]", got, c1)
	}
	if err := settleOffer(t, l, held1, t0); err != nil {
		t.Fatal(err)
	}
	if got := unfinished(); len(got) != 0 {
		t.Errorf("unfinished once done: got %v, want none", got)
	}
	checkLedger(t, l)
}

func TestLedgerHeld(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "market.db")
	l := openLedger(t, path)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	camp := rawCID("c")
	creator := testPeer(t)
	type purchase struct {
		o      *Offer
		held   []int // setHeld statuses, in order
		end    string
		status string // in Purchases
		listed bool   // by payingPurchases: resumed at start
	}
	ps := []purchase{
		{campOffer(t, camp, 1, KindBuy, []uint32{0}, 100, t0, nil), nil, "", "paying", true},
		{campOffer(t, camp, 2, KindBuy, []uint32{1}, 100, t0, testLockKey("2")), nil, "", "paying", true},
		{campOffer(t, camp, 3, KindBuy, []uint32{2}, 100, t0, testLockKey("3")), []int{heldPledged}, "", "pledged", true},
		{campOffer(t, camp, 4, KindBuy, []uint32{3}, 100, t0, testLockKey("4")), []int{heldPledged, heldCanceled}, "expire", "refunded", false},
		{campOffer(t, camp, 5, KindBuy, []uint32{4}, 100, t0, testLockKey("5")), []int{heldPledged, heldSettled}, "complete", "complete", false},
		{campOffer(t, camp, 6, KindBuy, []uint32{5}, 100, t0, testLockKey("6")), []int{heldPledged, heldSettled}, "", "paying", true},
		{campOffer(t, camp, 7, KindBuy, []uint32{6}, 100, t0, nil), []int{heldPledged}, "", "pledged", true},
		{campOffer(t, camp, 8, KindBuy, []uint32{7}, 100, t0, testLockKey("8")), nil, "expire", "expired", false},
	}
	for i, p := range ps {
		at := t0.Add(time.Duration(i) * time.Second)
		if err := l.putPurchase(ctx, p.o, creator, "", at); err != nil {
			t.Fatal(err)
		}
		for _, h := range p.held {
			if err := l.setHeld(ctx, p.o.ID, h, at); err != nil {
				t.Fatal(err)
			}
		}
		switch p.end {
		case "expire":
			if _, err := l.endPurchase(ctx, p.o.ID, purchaseExpired, "", at); err != nil {
				t.Fatal(err)
			}
		case "complete":
			r := &Receipt{Offer: p.o.ID, Campaign: camp, Buyer: p.o.Buyer, Kind: KindBuy, Indices: p.o.Indices, Amount: p.o.Price, Time: at}
			if err := r.sign(testKey(t, "creator")); err != nil {
				t.Fatal(err)
			}
			if err := l.completePurchase(ctx, &delivery{ID: p.o.ID, Receipt: r}, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func() {
		t.Helper()
		paying, err := l.payingPurchases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []OfferID
		for _, r := range paying {
			ids = append(ids, r.Offer.ID)
		}
		recs, err := l.Purchases(ctx, camp)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(ps) {
			t.Fatalf("purchases: got %d, want %d", len(recs), len(ps))
		}
		var want []OfferID
		for i, p := range ps {
			if p.listed {
				want = append(want, p.o.ID)
			}
			rec := recs[len(recs)-1-i] // newest first
			if rec.Offer.ID != p.o.ID || rec.Status != p.status || (rec.Offer.Lock != nil) != (p.o.Lock != nil) {
				t.Errorf("purchase %v: got %v %q, want %v %q", p.o.ID, rec.Offer.ID, rec.Status, p.o.ID, p.status)
			}
		}
		if !sameIDs(ids, want) {
			t.Errorf("paying purchases: got %v, want %v", ids, want)
		}
	}
	check()
	// Everything survives closing and reopening.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLedger(t, path)
	check()
}

func TestLedgerProofs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "market.db")
	l := openLedger(t, path)
	if got, err := l.Proofs(ctx); err != nil || len(got) != 0 {
		t.Errorf("proofs of a new ledger: got %v, %v", got, err)
	}
	c := newLockCampaign(t, 6, 1)
	bad, k := c.badOffer(t)
	p := &Proof{Manifest: c.raw, Offer: bad, Key: k}
	other := &Proof{Manifest: c.raw, Offer: c.offer(t, 0, k, []byte("garbage"), c.key), Key: k}
	for _, q := range []*Proof{p, p, other} { // a proof is kept once
		if err := l.putProof(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLedger(t, path)
	got, err := l.Proofs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got[0].Marshal()) != string(other.Marshal()) || string(got[1].Marshal()) != string(p.Marshal()) {
		t.Fatalf("proofs: got %d, want the two kept, in offer order", len(got))
	}
	for _, q := range got {
		if reason, err := q.Verify(c.comm); err != nil || reason == "" {
			t.Errorf("stored proof: got %q, %v, want a reason", reason, err)
		}
	}
}
