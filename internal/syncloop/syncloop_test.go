package syncloop

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/p2ptest"
)

func TestPick(t *testing.T) {
	peers := []peer.ID{"a", "b", "c", "d", "e"}
	tests := []struct {
		peers []peer.ID
		n     int
		want  int
	}{
		{peers, 3, 3},
		{peers, 5, 5},
		{peers, 9, 5},
		{peers, 0, 0},
		{peers, -1, 0},
		{nil, 2, 0},
	}
	for _, tt := range tests {
		before := slices.Clone(tt.peers)
		got := Pick(tt.peers, tt.n)
		if len(got) != tt.want {
			t.Errorf("Pick(%v, %d): got %v, want %d peers", tt.peers, tt.n, got, tt.want)
		}
		seen := map[peer.ID]bool{}
		for _, p := range got {
			if seen[p] || !slices.Contains(tt.peers, p) {
				t.Errorf("Pick(%v, %d): got %v, want distinct peers of the list", tt.peers, tt.n, got)
			}
			seen[p] = true
		}
		if !slices.Equal(tt.peers, before) {
			t.Errorf("Pick(%v, %d) changed its argument to %v", before, tt.n, tt.peers)
		}
	}
}

func TestSlots(t *testing.T) {
	s := NewSlots(2)
	for i := range 2 {
		if !s.TryAcquire() {
			t.Fatalf("TryAcquire %d of 2: got false", i+1)
		}
	}
	if s.TryAcquire() {
		t.Fatal("TryAcquire with no free slot: got true")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Acquire(ctx); err == nil {
		t.Fatal("Acquire with no free slot and a canceled context: got nil error")
	}
	s.Release()
	if err := s.Acquire(context.Background()); err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	var none Slots
	if !none.TryAcquire() || none.Acquire(ctx) != nil {
		t.Error("nil Slots: want no bound")
	}
	none.Release()
}

// TestEvery runs in a bubble with a fake clock: round runs once per
// period, and not after ctx ends.
func TestEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var rounds atomic.Int64
		done := make(chan struct{})
		go func() {
			Every(ctx, 10*time.Second, func() { rounds.Add(1) })
			close(done)
		}()
		time.Sleep(35 * time.Second)
		synctest.Wait()
		if got := rounds.Load(); got != 3 {
			t.Errorf("after 3.5 periods: got %d rounds, want 3", got)
		}
		cancel()
		<-done
		time.Sleep(time.Minute)
		if got := rounds.Load(); got != 3 {
			t.Errorf("after ctx ended: got %d rounds, want 3", got)
		}
	})
}

// TestOnJoinAndDrain: two real gossipsub nodes on loopback each learn of
// the other's join through OnJoin; Drain keeps reading while messages
// arrive and returns once its subscription is canceled.
func TestOnJoinAndDrain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const topic = "/shardcast/syncloop-test/1"
	type node struct {
		h      host.Host
		topic  *pubsub.Topic
		sub    *pubsub.Subscription
		joined chan peer.ID
	}
	var nodes [2]*node
	for i := range nodes {
		h := p2ptest.Host(t)
		ps, err := pubsub.NewGossipSub(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := ps.Join(topic)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := tp.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		events, err := tp.EventHandler()
		if err != nil {
			t.Fatal(err)
		}
		n := &node{h: h, topic: tp, sub: sub, joined: make(chan peer.ID, 4)}
		go OnJoin(ctx, events, func(p peer.ID) { n.joined <- p })
		nodes[i] = n
	}
	if err := nodes[1].h.Connect(ctx, peer.AddrInfo{ID: nodes[0].h.ID(), Addrs: nodes[0].h.Addrs()}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(time.Minute)
	for i, n := range nodes {
		select {
		case p := <-n.joined:
			if want := nodes[1-i].h.ID(); p != want {
				t.Errorf("node %d: OnJoin reported %s, want %s", i, p, want)
			}
		case <-deadline:
			t.Fatalf("node %d: no join reported within a minute", i)
		}
	}
	drained := make(chan struct{})
	go func() {
		Drain(ctx, nodes[1].sub)
		close(drained)
	}()
	for range 100 {
		if err := nodes[0].topic.Publish(ctx, []byte("hello")); err != nil {
			t.Fatal(err)
		}
	}
	nodes[1].sub.Cancel()
	select {
	case <-drained:
	case <-time.After(time.Minute):
		t.Fatal("Drain still running a minute after its subscription was canceled")
	}
}
