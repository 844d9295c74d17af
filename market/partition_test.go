package market

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/shares"
)

// cut is a connection gater that, while on, keeps its host and one peer
// apart: no dial, no connection either way.
type cut struct {
	on   atomic.Bool
	peer peer.ID
}

func (c *cut) blocks(p peer.ID) bool                            { return c.on.Load() && p == c.peer }
func (c *cut) InterceptPeerDial(p peer.ID) bool                 { return !c.blocks(p) }
func (c *cut) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return !c.blocks(p) }
func (c *cut) InterceptAccept(network.ConnMultiaddrs) bool      { return true }
func (c *cut) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !c.blocks(p)
}
func (c *cut) InterceptUpgraded(conn network.Conn) (bool, control.DisconnectReason) {
	return !c.blocks(conn.RemotePeer()), 0
}

// gatedBuyer is a buyer whose host a cut can part from the creator.
func gatedBuyer(t *testing.T, name string, c *creator) (*buyer, *cut) {
	t.Helper()
	g := &cut{peer: c.h.ID()}
	b := &buyer{key: testKey(t, name), id: testIdentity(t, name)}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.DisableRelay(), libp2p.Identity(b.key), libp2p.ConnectionGater(g))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	b.h = h
	dir := t.TempDir()
	b.rail = openRail(t, filepath.Join(dir, "rail.db"), b.key, nil)
	b.ledger = openLedger(t, filepath.Join(dir, "market.db"))
	if b.client, err = NewClient(b.h, b.ledger, b.id, []pay.Rail{b.rail}, fastRetry); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.client.Close() })
	connect(t, b.h, c.h)
	return b, g
}

func split(h host.Host, g *cut) {
	g.on.Store(true)
	h.Network().ClosePeer(g.peer)
}

// TestPartition cuts a buyer off from the creator after it paid: its
// purchase stays pending, no new one can start on its side (and nothing
// is charged for trying), sales go on on the creator's side; once the
// cut heals the paid purchase is delivered, every share is sold once,
// and the shares bought on both sides unlock the work.
func TestPartition(t *testing.T) {
	c := newCreator(t, 12, nil, nil)
	gt := gateCreator(t, c)
	far, g := gatedBuyer(t, "far", c)
	near := newBuyer(t, "near", c, fastRetry)
	t.Cleanup(func() { near.client.Close() })
	before := balance(t, far.rail)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		p   *Purchase
		err error
	}
	done := make(chan result, 1)
	go func() { p, err := far.client.Buy(ctx, c.order(c.shards, 3)); done <- result{p, err} }()
	eventually(t, "the far buyer pays", func() error {
		if balance(t, far.rail) == before {
			return errors.New("not paid yet")
		}
		return nil
	})
	split(far.h, g)
	gt.shut.Store(false)
	cancel()
	r := <-done
	var pending *PendingError
	if !errors.As(r.err, &pending) || pending.Offer == nil {
		t.Fatalf("the far buyer's purchase across the cut: got %v, want pending", r.err)
	}
	paid := balance(t, far.rail)
	tctx := testCtx(t)
	if _, err := far.client.Buy(tctx, c.order(c.shards, 1)); err == nil || errors.Is(err, ErrPending) {
		t.Errorf("a new purchase with the creator out of reach: got %v, want an error", err)
	}
	if got := balance(t, far.rail); got != paid {
		t.Errorf("trying to buy across the cut cost %d", paid-got)
	}

	var got []shares.Share
	for _, k := range []int{4, 2} {
		p, err := near.client.Buy(tctx, c.order(c.shards, k))
		if err != nil {
			t.Fatalf("buying on the creator's side of the cut: %v", err)
		}
		got = append(got, p.Shares...)
	}
	if st := statusOf(t, far, pending.Offer.ID); st != "paying" {
		t.Errorf("the far purchase during the cut: %q, want paying", st)
	}

	g.on.Store(false) // heal
	connect(t, far.h, c.h)
	eventually(t, "the far purchase completes once the cut heals", hasStatus(t, far, pending.Offer.ID, "complete"))
	p, err := far.client.Resume(tctx, c.order(c.shards, 3), pending.Offer.ID)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, p.Shares...)
	rest, err := near.client.Buy(tctx, c.order(c.shards, 3))
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest.Shares...)
	idx := make([]uint32, 0, len(got))
	for _, s := range got {
		idx = append(idx, s.Index)
	}
	slices.Sort(idx)
	if len(slices.Compact(slices.Clone(idx))) != 12 || len(idx) != 12 {
		t.Fatalf("shares bought: %v, want each of 0…11 once", idx)
	}
	if _, err := shares.Combine(c.commitments, got); err != nil {
		t.Errorf("the shares bought on both sides do not unlock the work: %v", err)
	}
	if st := stats(t, c.ledger, c.shards); st.Sold != 12 || st.Sales != 4 {
		t.Errorf("creator: %+v, want 12 shares in 4 sales", st)
	}
	checkLedger(t, c.ledger)
	checkPurchases(t, far)
	checkPurchases(t, near)
}
