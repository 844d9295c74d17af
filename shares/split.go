package shares

import (
	cryptorand "crypto/rand"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"github.com/gtank/ristretto255"
)

// commitChunk is how many shares are committed (or verified) per batch:
// large enough that the batch's one field inversion costs little per
// share, small enough that a worker's buffers stay in cache.
const commitChunk = 256

// Split draws a uniformly random secret x and n uniformly random shares
// s_0..s_{n-1} with x = Σ s_i, and returns x, the shares (Index i at
// position i) and the commitments X = x·G, C_i = s_i·G.
//
// rand is read for 64 bytes per share, each reduced modulo the group order
// (so the values are uniform); nil means crypto/rand.Reader. The shares are
// a pure function of the bytes read, whatever GOMAXPROCS is. The
// commitments are computed on GOMAXPROCS goroutines.
func Split(rand io.Reader, n int) (secret [ScalarSize]byte, shares []Share, c *Commitments, err error) {
	if n < 1 || n > MaxShares {
		return secret, nil, nil, fmt.Errorf("shares: cannot split into %d shares: want 1 to %d", n, MaxShares)
	}
	if rand == nil {
		rand = cryptorand.Reader
	}

	shares = make([]Share, n)
	var x, s edwards25519.Scalar
	const readChunk = 1024
	buf := make([]byte, 64*min(n, readChunk))
	defer clear(buf)
	for lo := 0; lo < n; lo += readChunk {
		hi := min(lo+readChunk, n)
		b := buf[:64*(hi-lo)]
		if _, err := io.ReadFull(rand, b); err != nil {
			return secret, nil, nil, fmt.Errorf("shares: reading randomness for share %d: %w", lo, err)
		}
		for i := lo; i < hi; i++ {
			if _, err := s.SetUniformBytes(b[64*(i-lo) : 64*(i-lo+1)]); err != nil {
				panic("shares: SetUniformBytes rejected 64 bytes: " + err.Error())
			}
			shares[i].Index = uint32(i)
			copy(shares[i].Value[:], s.Bytes())
			x.Add(&x, &s)
		}
	}

	c = &Commitments{n: n, points: make([]byte, n*PointSize)}
	forEachChunk(n, commitChunk, func(lo, hi int, w *worker) {
		valid := w.flags(hi - lo)
		for i := range valid {
			valid[i] = true
		}
		w.commit(shares[lo:hi], c.points[lo*PointSize:hi*PointSize], valid)
	})

	copy(secret[:], x.Bytes())
	c.x = baseMultEncode(&x)
	return secret, shares, c, nil
}

// baseMultEncode returns the encoding of s·G.
func baseMultEncode(s *edwards25519.Scalar) [PointSize]byte {
	var out [PointSize]byte
	copy(out[:], ristretto255.NewIdentityElement().ScalarBaseMult(ristrettoScalar(s)).Bytes())
	return out
}

// ristrettoScalar converts a reduced scalar for gtank/ristretto255.
func ristrettoScalar(s *edwards25519.Scalar) *ristretto255.Scalar {
	r, err := ristretto255.NewScalar().SetCanonicalBytes(s.Bytes())
	if err != nil {
		panic("shares: a reduced scalar is not canonical: " + err.Error())
	}
	return r
}

// worker holds one goroutine's reusable buffers for the batch paths.
type worker struct {
	enc    doubleEncoder
	points []edwards25519.Point
	ok     []bool
	valid  []bool
	buf    []byte

	zs, scratch []field.Element // prefix sums: Z coordinates to invert
}

func (w *worker) flags(n int) []bool {
	if cap(w.valid) < n {
		w.valid = make([]bool, n)
	}
	return w.valid[:n]
}

func (w *worker) bytes(n int) []byte {
	if cap(w.buf) < n {
		w.buf = make([]byte, n)
	}
	return w.buf[:n]
}

// commit writes the encoding of shares[i].Value·G to out[32i:32i+32] for
// every i with valid[i]. A value that is not a canonical scalar clears
// valid[i]. Each value is halved, multiplied by the base point, and the
// batch is doubled and encoded with one field inversion.
func (w *worker) commit(shares []Share, out []byte, valid []bool) {
	n := len(shares)
	if cap(w.points) < n {
		w.points = make([]edwards25519.Point, n)
		w.ok = make([]bool, n)
	}
	points, ok := w.points[:n], w.ok[:n]
	var s edwards25519.Scalar
	for i := range shares {
		if valid[i] {
			if _, err := s.SetCanonicalBytes(shares[i].Value[:]); err != nil {
				valid[i] = false
			}
		}
		if !valid[i] {
			points[i].Set(edwards25519.NewIdentityPoint())
			continue
		}
		s.Multiply(&s, &scalarHalf)
		points[i].ScalarBaseMult(&s)
	}
	w.enc.encodeDoubled(points, out, ok)
	for i := range shares {
		// Only the identity (a zero value, probability 2^-252 for a random
		// share) and exceptional points miss the batch formula.
		if valid[i] && !ok[i] {
			s.SetCanonicalBytes(shares[i].Value[:])
			enc := baseMultEncode(&s)
			copy(out[i*PointSize:], enc[:])
		}
	}
}

// forEachChunk calls fn on consecutive chunks [lo, hi) of [0, n), each of
// at most size items, from up to GOMAXPROCS goroutines, each with its own
// worker. It returns when every call has returned.
func forEachChunk(n, size int, fn func(lo, hi int, w *worker)) {
	chunks := (n + size - 1) / size
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		w := new(worker)
		for lo := 0; lo < n; lo += size {
			fn(lo, min(lo+size, n), w)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			w := new(worker)
			for {
				k := int(next.Add(1) - 1)
				if k >= chunks {
					return
				}
				fn(k*size, min((k+1)*size, n), w)
			}
		})
	}
	wg.Wait()
}
