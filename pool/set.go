package pool

import (
	"math/bits"

	"github.com/shardcast/shardcast/shares"
)

// pageShares is how many share values one page of a shareSet holds
// (32 KiB): pages are allocated as shares arrive, so a set's memory follows
// the number of shares known rather than N.
const pageShares = 1024

// shareSet holds the verified shares of a campaign of n shares: a bitmap
// of the indices present and their values by index.
type shareSet struct {
	n     int
	count int
	have  []uint64
	pages [][]byte
}

func newShareSet(n int) *shareSet {
	return &shareSet{
		n:     n,
		have:  make([]uint64, (n+63)/64),
		pages: make([][]byte, (n+pageShares-1)/pageShares),
	}
}

func (s *shareSet) complete() bool { return s.count == s.n }

func (s *shareSet) has(i uint32) bool {
	return int64(i) < int64(s.n) && s.have[i/64]&(1<<(i%64)) != 0
}

// value returns the value of share i and whether the set holds it.
func (s *shareSet) value(i uint32) (v [shares.ScalarSize]byte, ok bool) {
	if !s.has(i) {
		return v, false
	}
	off := int(i%pageShares) * shares.ScalarSize
	copy(v[:], s.pages[i/pageShares][off:])
	return v, true
}

// put stores sh, whose index must be below n and not yet held.
func (s *shareSet) put(sh shares.Share) {
	p := sh.Index / pageShares
	if s.pages[p] == nil {
		s.pages[p] = make([]byte, pageShares*shares.ScalarSize)
	}
	copy(s.pages[p][int(sh.Index%pageShares)*shares.ScalarSize:], sh.Value[:])
	s.have[sh.Index/64] |= 1 << (sh.Index % 64)
	s.count++
}

// list returns the shares held, sorted by index.
func (s *shareSet) list() []shares.Share {
	out := make([]shares.Share, 0, s.count)
	for w, word := range s.have {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			i := uint32(64*w + b)
			sh := shares.Share{Index: i}
			off := int(i%pageShares) * shares.ScalarSize
			copy(sh.Value[:], s.pages[i/pageShares][off:])
			out = append(out, sh)
		}
	}
	return out
}
