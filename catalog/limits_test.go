package catalog

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/internal/peerlimit"
)

// TestValidateRates: the topic's validator ignores (without blame) what a
// peer relays beyond its rate and what the budget has no room for, and
// rejects only false messages.
func TestValidateRates(t *testing.T) {
	c, err := Open(t.TempDir(), WithBudget(Budget{Campaigns: 100, PerCreator: 1}))
	if err != nil {
		t.Fatal(err)
	}
	g := &Gossip{c: c, log: slog.New(slog.DiscardHandler),
		lim: limiters{manifests: peerlimit.New(peerlimit.Rate{Burst: 3})}}
	msg := func(data []byte) *pubsub.Message { return &pubsub.Message{Message: &pb.Message{Data: data}} }
	ctx := context.Background()
	flooder, other := peer.ID("flooder"), peer.ID("other")
	k, first := testManifest(t, "first")
	forged := bytes.Clone(first)
	forged[len(forged)/2] ^= 1
	for i, tt := range []struct {
		from peer.ID
		data []byte
		want pubsub.ValidationResult
	}{
		{flooder, manifestMsg(first), pubsub.ValidationAccept},
		{flooder, manifestMsg(signWith(t, k, "same creator")), pubsub.ValidationIgnore}, // PerCreator
		{flooder, manifestMsg(forged), pubsub.ValidationReject},
		{flooder, manifestMsg(fresh(t, 0)), pubsub.ValidationIgnore}, // over its 3
		{other, manifestMsg(fresh(t, 1)), pubsub.ValidationAccept},
	} {
		if got := g.validate(ctx, tt.from, msg(tt.data)); got != tt.want {
			t.Errorf("message %d from %s: got %v, want %v", i, tt.from, got, tt.want)
		}
	}
}

func campaignOf(raw []byte) cid.Cid { return campaign.ID(raw) }

func fresh(t *testing.T, i int) []byte {
	t.Helper()
	_, raw := testManifest(t, fmt.Sprint("fresh ", i))
	return raw
}

// TestSyncRate: a node serves a peer's syncs up to its bucket and resets
// the streams beyond; the syncs it starts itself are rated the same way.
func TestSyncRate(t *testing.T) {
	a, b := newTestNode(t, true), newTestNode(t, false)
	a.g.lim.syncs = peerlimit.New(peerlimit.Rate{Burst: 2}) // no refill: exactly 2
	_, raw := testManifest(t, "served")
	if _, _, err := a.c.Add(raw); err != nil {
		t.Fatal(err)
	}
	connectNodes(t, b, a)
	served := 0
	for range 5 {
		got := 0
		b.g.pull(context.Background(), a.h.ID(), func([]byte) { got++ })
		if got > 0 {
			served++
		}
	}
	if served != 2 {
		t.Errorf("syncs served: got %d of 5, want 2", served)
	}

	// c has its own bucket at a.
	c := newTestNode(t, false)
	c.g.lim.pulls = peerlimit.New(peerlimit.Rate{Burst: 1})
	connectNodes(t, c, a)
	c.g.syncWith(context.Background(), a.h.ID())
	if _, err := c.c.Get(campaignOf(raw)); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	_, raw2 := testManifest(t, "later")
	if _, _, err := a.c.Add(raw2); err != nil {
		t.Fatal(err)
	}
	c.g.syncWith(context.Background(), a.h.ID()) // over its rate: not started
	if _, err := c.c.Get(campaignOf(raw2)); err == nil {
		t.Error("a sync over the rate ran")
	}
}
