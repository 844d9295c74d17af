// Package syncloop holds the shape that shardcast's gossiped stores (the
// catalog and the campaign pools) share: gossip delivers what is
// published while a peer listens, and anti-entropy syncs catch what it
// missed, with the peers that join a topic at once and with a few random
// topic peers every so often.
//
// What each store syncs, over which protocol, and with what limits per
// peer stay in the store; this package only runs the loops: Drain keeps a
// subscription's queue empty, OnJoin reacts to peers that join a topic,
// Every runs the periodic rounds, Pick chooses the peers of a round, and
// Slots bounds how many syncs run at once without queueing any.
package syncloop

import (
	"context"
	"math/rand/v2"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Drain reads sub and drops what it reads, until ctx ends or sub is
// canceled: the topic's validator has already stored what arrives, and
// reading keeps the subscription's queue from filling.
func Drain(ctx context.Context, sub *pubsub.Subscription) {
	for {
		if _, err := sub.Next(ctx); err != nil {
			return
		}
	}
}

// OnJoin calls sync, in a goroutine of its own, with every peer that
// joins the topic events watches (the peers already in it come first),
// until ctx ends or events is canceled. It does not cancel events.
func OnJoin(ctx context.Context, events *pubsub.TopicEventHandler, sync func(peer.ID)) {
	for {
		ev, err := events.NextPeerEvent(ctx)
		if err != nil {
			return
		}
		if ev.Type == pubsub.PeerJoin {
			go sync(ev.Peer)
		}
	}
}

// Every calls round every d until ctx ends; the first call is d after
// Every starts.
func Every(ctx context.Context, d time.Duration, round func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		round()
	}
}

// Pick returns at most n of peers, chosen at random; peers is left as it
// was.
func Pick(peers []peer.ID, n int) []peer.ID {
	out := append([]peer.ID(nil), peers...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:max(0, min(n, len(out)))]
}

// Slots bounds how many of something run at once. A nil Slots bounds
// nothing.
type Slots chan struct{}

// NewSlots returns Slots for n at once.
func NewSlots(n int) Slots { return make(Slots, n) }

// TryAcquire takes a slot if one is free, without waiting, and says
// whether it did. The caller that took one gives it back with Release.
func (s Slots) TryAcquire() bool {
	if s == nil {
		return true
	}
	select {
	case s <- struct{}{}:
		return true
	default:
		return false
	}
}

// Acquire takes a slot, waiting for one until ctx ends.
func (s Slots) Acquire(ctx context.Context) error {
	if s == nil {
		return nil
	}
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives back a slot that TryAcquire or Acquire took.
func (s Slots) Release() {
	if s != nil {
		<-s
	}
}
