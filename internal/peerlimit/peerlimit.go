// Package peerlimit bounds how fast one peer can make a node work: a token
// bucket per peer ID, kept in a map of bounded size.
//
// A Limiter refills each peer's bucket at Rate.PerSecond tokens a second
// up to Rate.Burst; Allow takes one token and reports whether there was
// one. A peer over its limit is told "busy" or ignored by the caller, never
// queued. The named limits of the node, with the reason for each figure,
// are in defaults.go; every package that takes messages from peers uses
// them from there, so that what a peer can make a node spend is written
// down in one place (docs/THREATS.md gives the sums).
//
// What is promised: a peer that asks more than Burst times in an instant,
// or more than PerSecond times a second on average, is refused the
// surplus; the Limiter holds at most MaxPeers buckets (about 64 bytes
// each), forgetting idle ones first.
//
// What is not: peer IDs are free, so a per-peer limit bounds each identity,
// not an attacker with many. The host's resource manager bounds how many
// peers may be connected at once; the budgets of the catalog and the
// market bound what all peers together can make a node keep.
package peerlimit

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Rate is a token bucket's shape: PerSecond tokens are added every second,
// up to Burst.
type Rate struct {
	PerSecond float64
	Burst     int
}

// DefaultMaxPeers is how many peers' buckets a Limiter keeps unless told
// otherwise: more than the connections libp2p's default resource manager
// lets a node hold.
const DefaultMaxPeers = 4096

// Limiter hands out tokens per peer. It is safe for concurrent use.
type Limiter struct {
	rate     Rate
	maxPeers int
	now      func() time.Time

	mu      sync.Mutex
	buckets map[peer.ID]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// Option configures New.
type Option func(*Limiter)

// WithClock sets the limiter's clock (tests).
func WithClock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// WithMaxPeers bounds the number of buckets kept.
func WithMaxPeers(n int) Option { return func(l *Limiter) { l.maxPeers = max(1, n) } }

// New returns a limiter that grants each peer r. A rate with a Burst below
// one grants nothing; a nil *Limiter grants everything.
func New(r Rate, opts ...Option) *Limiter {
	l := &Limiter{rate: r, maxPeers: DefaultMaxPeers, now: time.Now, buckets: make(map[peer.ID]*bucket)}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Allow takes one of p's tokens and reports whether it had one.
func (l *Limiter) Allow(p peer.ID) bool { return l.AllowN(p, 1) }

// AllowN takes n of p's tokens if it has them all, and reports whether it
// did.
func (l *Limiter) AllowN(p peer.ID, n int) bool {
	if l == nil {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[p]
	if b == nil {
		if len(l.buckets) >= l.maxPeers {
			l.forget(now)
		}
		b = &bucket{tokens: float64(l.rate.Burst), at: now}
		l.buckets[p] = b
	}
	l.refill(b, now)
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(l.rate.Burst), b.tokens+d.Seconds()*l.rate.PerSecond)
		b.at = now
	}
}

// forget makes room for one bucket: it drops every bucket that has filled
// up again (forgetting it loses nothing), or else one at random (its peer
// starts again with a full bucket: a leak bounded by Burst per eviction).
// The caller holds l.mu.
func (l *Limiter) forget(now time.Time) {
	for p, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= float64(l.rate.Burst) {
			delete(l.buckets, p)
		}
	}
	if len(l.buckets) < l.maxPeers {
		return
	}
	for p := range l.buckets {
		delete(l.buckets, p)
		return
	}
}

// Peers returns how many buckets the limiter holds.
func (l *Limiter) Peers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
