package market

import (
	"math/bits"
	"sync"
)

// shareBook tracks which share indices of one campaign are taken (sold or
// reserved by an open offer) and hands out the lowest free ones. The
// ledger's keys are what guarantee that no index is reserved or sold
// twice; the book only keeps the server from asking for that, and makes
// picking K free indices among millions cheap: one bit per share, and a
// cursor below which every index is taken.
type shareBook struct {
	mu     sync.Mutex
	loaded bool
	n      int      // shares in the campaign
	bits   []uint64 // bit i set: index i is taken
	free   int      // indices not taken
	cursor int      // every index below cursor is taken
}

// load fills an empty book of n shares with the indices taken.
func (b *shareBook) load(n int, taken []uint32) {
	b.n, b.free, b.cursor = n, n, 0
	b.bits = make([]uint64, (n+63)/64)
	if tail := n % 64; tail != 0 { // indices beyond n are never free
		b.bits[len(b.bits)-1] = ^uint64(0) << tail
	}
	for _, i := range taken {
		if int(i) < n && b.bits[i/64]&(1<<(i%64)) == 0 {
			b.bits[i/64] |= 1 << (i % 64)
			b.free--
		}
	}
	b.loaded = true
}

// take marks the k lowest free indices taken and returns them in
// increasing order, or reports false if fewer than k are free.
func (b *shareBook) take(k int) ([]uint32, bool) {
	if k < 1 || k > b.free {
		return nil, false
	}
	out := make([]uint32, 0, k)
	i := b.cursor
	for len(out) < k {
		w := i / 64
		word := b.bits[w] | (uint64(1)<<(i%64) - 1) // bits below i count as taken
		if word == ^uint64(0) {
			i = (w + 1) * 64
			continue
		}
		j := w*64 + bits.TrailingZeros64(^word)
		b.bits[w] |= 1 << (j % 64)
		out = append(out, uint32(j))
		i = j + 1
	}
	// Every free index below i was just taken.
	b.cursor = i
	b.free -= k
	return out, true
}

// release frees indices again.
func (b *shareBook) release(indices []uint32) {
	for _, i := range indices {
		if int(i) >= b.n || b.bits[i/64]&(1<<(i%64)) == 0 {
			continue
		}
		b.bits[i/64] &^= 1 << (i % 64)
		b.free++
		b.cursor = min(b.cursor, int(i))
	}
}

// offerLocks serialises the handling of each offer (payment, redelivery,
// expiry) without serialising different offers.
type offerLocks struct {
	mu sync.Mutex
	m  map[OfferID]*offerLock
}

type offerLock struct {
	mu sync.Mutex
	n  int
}

func (l *offerLocks) lock(id OfferID) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = make(map[OfferID]*offerLock)
	}
	e := l.m[id]
	if e == nil {
		e = &offerLock{}
		l.m[id] = e
	}
	e.n++
	l.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		l.mu.Lock()
		if e.n--; e.n == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
}
