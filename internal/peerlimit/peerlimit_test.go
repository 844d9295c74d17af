package peerlimit

import (
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLimiter(t *testing.T) {
	a, b := peer.ID("peer a"), peer.ID("peer b")
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := New(Rate{PerSecond: 2, Burst: 3}, WithClock(c.now))
	for _, s := range []struct {
		advance time.Duration
		p       peer.ID
		want    bool
	}{
		{0, a, true}, {0, a, true}, {0, a, true}, // the burst
		{0, a, false},                      // empty
		{0, b, true},                       // another peer has its own bucket
		{250 * time.Millisecond, a, false}, // half a token
		{250 * time.Millisecond, a, true},  // one token after 0.5 s
		{0, a, false},
		{time.Hour, a, true}, {0, a, true}, {0, a, true}, // refilled to the burst, not beyond
		{0, a, false},
	} {
		c.t = c.t.Add(s.advance)
		if got := l.Allow(s.p); got != s.want {
			t.Errorf("at %v: Allow(%s) = %v, want %v", c.t.Unix(), s.p, got, s.want)
		}
	}
	// b's bucket refilled during the hour: 3 tokens, and AllowN takes
	// all it asks or none.
	if l.AllowN(b, 4) {
		t.Error("AllowN(b, 4) with 3 tokens: got true, want false")
	}
	if !l.AllowN(b, 3) {
		t.Error("AllowN(b, 3) with 3 tokens: got false, want true")
	}
	var nilLimiter *Limiter
	if !nilLimiter.Allow(a) {
		t.Error("a nil limiter refused")
	}
	if New(Rate{}).Allow(a) {
		t.Error("a zero rate allowed")
	}
}

// The limiter keeps at most MaxPeers buckets: idle ones go first, and a
// flood of identities cannot grow it.
func TestLimiterBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := New(Rate{PerSecond: 1, Burst: 2}, WithClock(c.now), WithMaxPeers(100))
	for i := range 10_000 {
		l.Allow(peer.ID(fmt.Sprint("throwaway ", i)))
	}
	if got := l.Peers(); got > 100 {
		t.Errorf("buckets after 10,000 peers: got %d, want at most 100", got)
	}
	busy := peer.ID("busy")
	l.Allow(busy)
	l.Allow(busy)
	c.t = c.t.Add(10 * time.Second) // every other bucket refills and is forgotten
	l.Allow(peer.ID("newcomer"))
	if got := l.Peers(); got > 3 {
		t.Errorf("buckets after the idle ones refilled: got %d, want at most 3", got)
	}
}
