package market

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/internal/regtest"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
	"github.com/shardcast/shardcast/shares"
)

// The Lightning tests sell over a real regtest network: the creator's
// rail is bob's LND, the buyer's alice's (who funded their channel).

func TestMain(m *testing.M) { regtest.Main(m) }

const lnTestPrice = 50_000 // msat

func lnRail(t testing.TB, l regtest.LND) *lightning.Rail {
	t.Helper()
	r, err := lightning.New(lightning.Options{RESTAddr: l.REST, TLSCertPath: l.TLSCert, MacaroonPath: l.Macaroon})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// lnCampaign is a shards campaign of n shares sold on Lightning.
func lnCampaign(t testing.TB, key crypto.PrivKey, n int, aon bool, deadline time.Time) (*campaign.Manifest, cid.Cid, []shares.Share, *shares.Commitments) {
	t.Helper()
	_, sh, comm, err := shares.Split(rand.NewChaCha8([32]byte{byte(n), 9}), n)
	if err != nil {
		t.Fatal(err)
	}
	x := comm.X()
	m := &campaign.Manifest{
		Model: campaign.ModelShards, Title: "A Lightning Film", Content: rawCID("ln content " + deadline.String()),
		ContentSize: 1000, MediaType: "video/webm", Created: testCreated, Currency: lightning.Currency,
		Price: lnTestPrice, Shards: n, Commitments: rawCID("ln commitments"), SecretCommitment: x[:],
		Deadline: deadline, Shortfall: campaign.ShortfallLocked, Rails: []string{lightning.Name}, AllOrNothing: aon,
	}
	if err := m.Sign(key); err != nil {
		t.Fatal(err)
	}
	data, id, err := campaign.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if m, err = campaign.Decode(data); err != nil {
		t.Fatal(err)
	}
	return m, id, sh, comm
}

type lnMarket struct {
	net     *regtest.Network
	creator *creator
	buyer   *Client
	bLedger *Ledger
	bob     *lightning.Rail
	alice   *lightning.Rail
	id      cid.Cid
	comm    *shares.Commitments
	got     chan *Purchase
	caught  chan *Proof
}

// newLnMarket starts a creator selling one Lightning campaign and a buyer.
func newLnMarket(t testing.TB, n int, aon bool, deadline time.Time, hook func(*Offer, []byte)) *lnMarket {
	t.Helper()
	lm := &lnMarket{net: regtest.Shared(t), got: make(chan *Purchase, 64), caught: make(chan *Proof, 4)}
	lm.bob, lm.alice = lnRail(t, lm.net.Bob), lnRail(t, lm.net.Alice)
	dir := t.TempDir()
	c := &creator{key: testKey(t, "ln creator"), manifests: make(map[cid.Cid]*campaign.Manifest)}
	c.h = newHost(t, c.key)
	c.ledger = openLedger(t, filepath.Join(dir, "creator.db"))
	m, id, sh, comm := lnCampaign(t, c.key, n, aon, deadline)
	c.manifests[id] = m
	c.src = &testSource{manifests: c.manifests, shares: map[cid.Cid][]shares.Share{id: sh}}
	var err error
	c.srv, err = NewServer(c.h, c.key, c.ledger, []pay.Rail{lm.bob}, c.src, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.srv.hooks.seal = hook
	t.Cleanup(func() { c.srv.Close() })
	lm.creator, lm.id, lm.comm = c, id, comm

	bh := newHost(t, testKey(t, "ln buyer"))
	lm.bLedger = openLedger(t, filepath.Join(dir, "buyer.db"))
	lm.buyer, err = NewClient(bh, lm.bLedger, testIdentity(t, "ln buyer"), []pay.Rail{lm.alice},
		&ClientOptions{Events: funcEvents{delivered: func(p *Purchase) { trySend(lm.got, p) }, caught: func(p *Proof) { trySend(lm.caught, p) }}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lm.buyer.Close() })
	connect(t, bh, c.h)
	return lm
}

// trySend sends without blocking, as the client's hooks must not block;
// the tests read far fewer than the buffers hold.
func trySend[T any](c chan T, v T) {
	select {
	case c <- v:
	default:
	}
}

func (lm *lnMarket) order(k int) Order {
	return Order{Campaign: lm.id, Manifest: lm.creator.manifests[lm.id], Shares: k, Commitments: lm.comm}
}

func lnBalance(t testing.TB, r *lightning.Rail) int64 {
	t.Helper()
	b, err := r.Balance(context.Background(), lightning.Currency)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitLnBalance waits, on the rail's own clock, until a balance is want.
func waitLnBalance(t *testing.T, what string, r *lightning.Rail, want int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := lnBalance(t, r)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: balance %d msat, want %d", what, got, want)
		}
		time.Sleep(50 * time.Millisecond) // polls a condition with a deadline
	}
}

// A share bought on Lightning arrives sealed in the offer and opens with
// the preimage the payment reveals; the creator is paid the price.
func TestLightningLockedSale(t *testing.T) {
	lm := newLnMarket(t, 3, false, time.Now().Add(time.Hour), nil)
	bob := lnBalance(t, lm.bob)
	ctx := testCtx(t)
	p, err := lm.buyer.Buy(ctx, lm.order(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Shares) != 2 || p.Receipt == nil || p.Offer.Lock == nil || len(p.Payment.Preimage) != 32 {
		t.Fatalf("purchase: %d shares, receipt %v, lock %x, preimage %x", len(p.Shares), p.Receipt != nil, p.Offer.Lock, p.Payment.Preimage)
	}
	waitLnBalance(t, "creator after a sale", lm.bob, bob+p.Offer.Price.Minor)
	if st := stats(t, lm.creator.ledger, lm.id); st.Sold != 2 || st.Raised != p.Offer.Price.Minor {
		t.Fatalf("creator's stats: %+v", st)
	}
	checkLedger(t, lm.creator.ledger)
}

// A creator that seals a bad share is caught: the proof verifies.
func TestLightningCheat(t *testing.T) {
	lm := newLnMarket(t, 2, false, time.Now().Add(time.Hour), corruptFirstShare)
	_, err := lm.buyer.Buy(testCtx(t), lm.order(1))
	var ce *CheatError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCheated) {
		t.Fatalf("buying a bad share: got %v, want a CheatError", err)
	}
	proof := <-lm.caught
	if reason, err := proof.Verify(lm.comm); err != nil || reason == "" {
		t.Fatalf("the proof: reason %q, err %v", reason, err)
	}
	back, err := DecodeProof(proof.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := back.Verify(lm.comm); err != nil {
		t.Fatalf("the proof after a round trip: %v", err)
	}
	ps, err := lm.bLedger.Proofs(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatalf("buyer's ledger holds %d proofs (%v), want 1", len(ps), err)
	}
}

// Pledges to an all-or-nothing campaign are held until the last share is
// pledged, then all settle and the shares arrive with the preimages.
func TestLightningPledgesMet(t *testing.T) {
	lm := newLnMarket(t, 2, true, time.Now().Add(time.Hour), nil)
	bob, alice := lnBalance(t, lm.bob), lnBalance(t, lm.alice)
	ctx := testCtx(t)
	p1, err := lm.buyer.Buy(ctx, lm.order(1))
	if err != nil {
		t.Fatal(err)
	}
	if !p1.Pledged || len(p1.Shares) != 0 {
		t.Fatalf("first purchase: pledged %v with %d shares, want a pledge", p1.Pledged, len(p1.Shares))
	}
	if st := stats(t, lm.creator.ledger, lm.id); st.Pledged != 1 || st.Sold != 0 {
		t.Fatalf("creator's stats after one pledge: %+v", st)
	}
	waitLnBalance(t, "buyer with a pledge held", lm.alice, alice-lnTestPrice)
	if got := lnBalance(t, lm.bob); got != bob {
		t.Fatalf("creator paid %d msat for a held pledge", got-bob)
	}
	if _, err := lm.buyer.Buy(ctx, lm.order(1)); err != nil {
		t.Fatal(err)
	}
	var shs []shares.Share
	for len(shs) < 2 {
		select {
		case p := <-lm.got:
			shs = append(shs, p.Shares...)
		case <-ctx.Done():
			t.Fatalf("%d of 2 shares delivered when the goal was met", len(shs))
		}
	}
	if err := lm.comm.VerifyBatch(shs); err != nil {
		t.Fatal(err)
	}
	waitLnBalance(t, "creator at the goal", lm.bob, bob+2*lnTestPrice)
	checkLedger(t, lm.creator.ledger)
	testEventually(t, "both purchases complete", func() bool {
		recs, err := lm.bLedger.Purchases(context.Background(), lm.id)
		return err == nil && len(recs) == 2 && recs[0].Status == "complete" && recs[1].Status == "complete"
	})
}

// Short of the goal, EndPledges cancels every pledge and the buyer's
// funds come back.
func TestLightningPledgesShort(t *testing.T) {
	lm := newLnMarket(t, 3, true, time.Now().Add(time.Hour), nil)
	alice := lnBalance(t, lm.alice)
	ctx := testCtx(t)
	if _, err := lm.buyer.Buy(ctx, lm.order(1)); err != nil {
		t.Fatal(err)
	}
	waitLnBalance(t, "buyer with a pledge held", lm.alice, alice-lnTestPrice)
	met, err := lm.creator.srv.EndPledges(ctx, lm.id)
	if err != nil || met {
		t.Fatalf("EndPledges: met %v, err %v; want short", met, err)
	}
	waitLnBalance(t, "buyer refunded", lm.alice, alice)
	if st := stats(t, lm.creator.ledger, lm.id); st.Pledged != 0 || st.Sold != 0 || st.Reserved != 0 {
		t.Fatalf("creator's stats after the shortfall: %+v", st)
	}
	testEventually(t, "the purchase shows refunded", func() bool {
		recs, err := lm.bLedger.Purchases(context.Background(), lm.id)
		return err == nil && len(recs) == 1 && recs[0].Status == "refunded"
	})
	if _, err := lm.buyer.Buy(ctx, lm.order(1)); err == nil {
		t.Fatal("a pledge was taken after the campaign ended short")
	}
	checkLedger(t, lm.creator.ledger)
}

// testEventually polls cond, cheap and local, until it holds or a minute
// passes.
func testEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkLightningSale compares, in one run, a complete locked sale of
// one share through the market (quote, sealed offer, hold invoice, pay,
// settle with the key, receipt) with its anchor, a bare sale on the same
// rails (invoice, pay, wait until settled), and reports the ratio.
//
//	go test -run '^$' -bench LightningSale -benchtime 100x ./market
func BenchmarkLightningSale(b *testing.B) {
	lm := newLnMarketB(b)
	ctx := context.Background()
	settled := func(st pay.Status) bool { return st == pay.Settled }
	var market, bare time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := lm.buyer.Buy(ctx, lm.order(1)); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		inv, err := lm.bob.CreateInvoice(ctx, pay.InvoiceRequest{Amount: pay.Amount{Minor: lnTestPrice, Currency: lightning.Currency}, Memo: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := lm.alice.Pay(ctx, inv.Request); err != nil {
			b.Fatal(err)
		}
		if _, err := lm.bob.Wait(ctx, inv.ID, settled); err != nil {
			b.Fatal(err)
		}
		market, bare = market+t1.Sub(t0), bare+time.Since(t1)
	}
	n := float64(b.N)
	b.ReportMetric(float64(market.Milliseconds())/n, "market-ms/sale")
	b.ReportMetric(float64(bare.Milliseconds())/n, "bare-ms/sale")
	b.ReportMetric(float64(market)/float64(bare), "market/bare")
}

// newLnMarketB is newLnMarket for a benchmark: a campaign with a share
// for every iteration.
func newLnMarketB(b *testing.B) *lnMarket {
	return newLnMarket(b, 10_000, false, time.Now().Add(time.Hour), nil)
}

// A buyer whose LND refuses to pay (a read-only macaroon) is told the
// purchase failed, in one short line naming its own LND; the record says
// failed, the creator cancels the invoice and frees the shares at once,
// and a buyer restarted with the right macaroon never pays it.
func TestLightningDeniedBuy(t *testing.T) {
	lm := newLnMarket(t, 3, false, time.Now().Add(time.Hour), nil)
	readOnly, err := lightning.New(lightning.Options{RESTAddr: lm.net.Alice.REST, TLSCertPath: lm.net.Alice.TLSCert,
		MacaroonPath: filepath.Join(filepath.Dir(lm.net.Alice.Macaroon), "readonly.macaroon")})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l := openLedger(t, filepath.Join(dir, "denied.db"))
	h := newHost(t, testKey(t, "ln denied buyer"))
	connect(t, h, lm.creator.h)
	id := testIdentity(t, "ln denied buyer")
	c, err := NewClient(h, l, id, []pay.Rail{readOnly}, nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := lnBalance(t, lm.alice)
	_, err = c.Buy(testCtx(t), lm.order(1))
	var failed *FailedError
	if !errors.As(err, &failed) || !errors.Is(err, pay.ErrDenied) || strings.Contains(err.Error(), "lnbc") || len(err.Error()) > 400 {
		t.Fatalf("buying with a read-only macaroon: got %v, want a short FailedError of ErrDenied", err)
	}
	defer c.Close()
	rec, err := l.Purchase(context.Background(), failed.Offer)
	if err != nil || rec == nil || rec.Status != "failed" {
		t.Fatalf("record: %+v, %v; want failed", rec, err)
	}
	testEventually(t, "the creator frees the withdrawn offer's share", func() bool {
		return stats(t, lm.creator.ledger, lm.id).Reserved == 0
	})
	admin, err := NewClient(h, l, id, []pay.Rail{lm.alice}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.ResumeAll(context.Background(), func(context.Context, *Offer) (Order, error) {
		t.Error("a failed purchase was resumed")
		return lm.order(1), nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := lnBalance(t, lm.alice); got != alice {
		t.Errorf("alice's balance: %d, was %d: the failed buy paid", got, alice)
	}
}
