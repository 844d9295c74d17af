package shares

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// The commitments file format, version 1 (all integers big-endian):
//
//	offset  size  field
//	0       4     magic "SCMT"
//	4       1     version, 0x01
//	5       4     N, the number of shares, 1 ≤ N ≤ MaxShares
//	9       32    X = x·G, canonical ristretto255 encoding
//	41      32·N  C_0 … C_{N-1}, C_i = s_i·G, canonical encodings
//
// Nothing follows. The file is 41 + 32·N bytes: 32,000,041 for N = 10^6.
const (
	commitmentsMagic   = "SCMT"
	commitmentsVersion = 1
	commitmentsHeader  = 4 + 1 + 4 + PointSize
)

// indexChunk is the span of the prefix-sum index kept in one block: local
// sums within a block, one full point per block boundary.
const indexChunk = 1024

// Commitments are the public commitments of a split: X = x·G for the
// secret and C_i = s_i·G for every share. They are safe for concurrent
// use, except that UnmarshalBinary must not run concurrently with
// anything else.
type Commitments struct {
	n      int
	x      [PointSize]byte
	points []byte // n × PointSize

	// index holds prefix sums of the decoded C_i, built by Check, which make
	// VerifyAggregate O(number of ranges).
	index atomic.Pointer[prefixIndex]
}

// N returns the number of shares.
func (c *Commitments) N() int {
	if c == nil {
		return 0
	}
	return c.n
}

// X returns the encoding of X = x·G, the commitment to the secret.
func (c *Commitments) X() [PointSize]byte {
	return c.x
}

// Commitment returns the encoding of C_i.
func (c *Commitments) Commitment(i uint32) ([PointSize]byte, error) {
	var out [PointSize]byte
	if int64(i) >= int64(c.N()) {
		return out, fmt.Errorf("shares: commitment index %d out of range [0, %d)", i, c.N())
	}
	copy(out[:], c.commitment(int(i)))
	return out, nil
}

func (c *Commitments) commitment(i int) []byte {
	return c.points[i*PointSize : (i+1)*PointSize]
}

// MarshalBinary encodes the commitments in the file format above.
func (c *Commitments) MarshalBinary() ([]byte, error) {
	return c.AppendBinary(make([]byte, 0, commitmentsHeader+len(c.points)))
}

// AppendBinary appends the encoding of c to b.
func (c *Commitments) AppendBinary(b []byte) ([]byte, error) {
	if c.N() == 0 {
		return nil, fmt.Errorf("shares: encoding empty commitments")
	}
	b = append(b, commitmentsMagic...)
	b = append(b, commitmentsVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(c.n))
	b = append(b, c.x[:]...)
	return append(b, c.points...), nil
}

// UnmarshalBinary decodes the file format above. It checks the framing
// only (magic, version, N, exact length): call Check before trusting the
// points.
func (c *Commitments) UnmarshalBinary(b []byte) error {
	if len(b) < commitmentsHeader {
		return fmt.Errorf("shares: commitments are %d bytes, shorter than the %d-byte header", len(b), commitmentsHeader)
	}
	if string(b[:4]) != commitmentsMagic {
		return fmt.Errorf("shares: commitments start with %q, want %q", b[:4], commitmentsMagic)
	}
	if b[4] != commitmentsVersion {
		return fmt.Errorf("shares: commitments version %d, want %d", b[4], commitmentsVersion)
	}
	n := binary.BigEndian.Uint32(b[5:9])
	if n < 1 || n > MaxShares {
		return fmt.Errorf("shares: commitments for %d shares, want 1 to %d", n, MaxShares)
	}
	if want := commitmentsHeader + int(n)*PointSize; len(b) != want {
		return fmt.Errorf("shares: commitments for %d shares are %d bytes, want %d", n, len(b), want)
	}
	c.n = int(n)
	copy(c.x[:], b[9:commitmentsHeader])
	c.points = bytes.Clone(b[commitmentsHeader:])
	c.index.Store(nil)
	return nil
}

// Check verifies that X and every C_i are canonical encodings and that
// Σ C_i = X, so that shares accepted by Verify combine into the secret.
// A creator could otherwise publish commitments that no complete set of
// valid shares satisfies. Check decodes every point once (about 6 µs per
// share on one core, spread over GOMAXPROCS goroutines) and keeps prefix
// sums of the decoded points (64 bytes per share) that make
// VerifyAggregate cost O(number of ranges).
func (c *Commitments) Check() error {
	n := c.N()
	if n == 0 {
		return fmt.Errorf("shares: checking empty commitments")
	}
	var x edwards25519.Point
	if !decodePoint(&x, c.x[:]) {
		return fmt.Errorf("shares: commitment X is not a canonical ristretto255 encoding")
	}

	idx := &prefixIndex{
		loc: make([]byte, (n+1)*affineSize),
		off: make([]edwards25519.Point, n/indexChunk+1),
	}
	sums := make([]edwards25519.Point, (n+indexChunk-1)/indexChunk)
	var mu sync.Mutex
	firstBad := n
	forEachChunk(n, indexChunk, func(lo, hi int, w *worker) {
		if bad := w.prefixSums(c.points, lo, hi, idx.loc, &sums[lo/indexChunk]); bad >= 0 {
			mu.Lock()
			firstBad = min(firstBad, bad)
			mu.Unlock()
		}
	})
	if firstBad < n {
		return fmt.Errorf("shares: commitment %d is not a canonical ristretto255 encoding", firstBad)
	}
	if n%indexChunk == 0 {
		putAffine(idx.loc[n*affineSize:], &feZero, &feOne)
	}
	idx.off[0].Set(edwards25519.NewIdentityPoint())
	for k := 1; k < len(idx.off); k++ {
		idx.off[k].Add(&idx.off[k-1], &sums[k-1])
	}

	var total edwards25519.Point
	if !idx.prefix(n, &total) {
		return fmt.Errorf("shares: internal error: bad prefix sum")
	}
	if !equalPoints(&total, &x) {
		return fmt.Errorf("shares: the %d commitments do not add up to X", n)
	}
	c.index.Store(idx)
	return nil
}

// affineSize is the size of a point stored as affine x ‖ y.
const affineSize = 64

// prefixIndex holds P(i) = Σ_{j<i} C_j for 0 ≤ i ≤ N as off[i/indexChunk]
// + loc[i]: off is the sum of all whole blocks before i's block, loc the
// sum within the block, stored affine (x ‖ y, 64 bytes) to halve its size.
type prefixIndex struct {
	loc []byte
	off []edwards25519.Point
}

// prefix sets p to P(i) and reports whether the stored point was valid.
func (idx *prefixIndex) prefix(i int, p *edwards25519.Point) bool {
	var x, y, z, t field.Element
	b := idx.loc[i*affineSize : (i+1)*affineSize]
	x.SetBytes(b[:32])
	y.SetBytes(b[32:])
	z.One()
	t.Multiply(&x, &y)
	var l edwards25519.Point
	if _, err := l.SetExtendedCoordinates(&x, &y, &z, &t); err != nil {
		return false
	}
	p.Add(&idx.off[i/indexChunk], &l)
	return true
}

// rangeSum adds Σ_{start≤j<end} C_j to acc.
func (idx *prefixIndex) rangeSum(start, end int, acc *edwards25519.Point) bool {
	var a, b edwards25519.Point
	if !idx.prefix(end, &b) || !idx.prefix(start, &a) {
		return false
	}
	acc.Add(acc, b.Subtract(&b, &a))
	return true
}

func putAffine(dst []byte, x, y *field.Element) {
	copy(dst[:32], x.Bytes())
	copy(dst[32:affineSize], y.Bytes())
}

// prefixSums decodes C_lo … C_{hi-1} (one index block), writes the local
// prefix sums loc[lo+1 … hi] that belong to the block (loc[lo] is the
// identity; loc[hi] belongs to the next block if the block is full) and
// sets sum to the block's total. It returns the first index that does not
// decode, or -1.
func (w *worker) prefixSums(points []byte, lo, hi int, loc []byte, sum *edwards25519.Point) int {
	n := hi - lo
	if cap(w.points) < n {
		w.points = make([]edwards25519.Point, n)
		w.ok = make([]bool, n)
	}
	if cap(w.zs) < n {
		w.zs = make([]field.Element, n)
		w.scratch = make([]field.Element, n)
	}
	pts, zs := w.points[:n], w.zs[:n]

	var acc, p edwards25519.Point
	acc.Set(edwards25519.NewIdentityPoint())
	for j := lo; j < hi; j++ {
		if !decodePoint(&p, points[j*PointSize:(j+1)*PointSize]) {
			return j
		}
		acc.Add(&acc, &p)
		pts[j-lo].Set(&acc)
	}
	sum.Set(&acc)

	for i := range pts {
		_, _, z, _ := pts[i].ExtendedCoordinates()
		zs[i].Set(z)
	}
	invertBatch(zs, w.scratch[:n])
	putAffine(loc[lo*affineSize:], &feZero, &feOne)
	var x, y field.Element
	for i := range pts {
		if i+1 == indexChunk {
			break // the block's total: the next block starts from the identity
		}
		X, Y, _, _ := pts[i].ExtendedCoordinates()
		x.Multiply(X, &zs[i])
		y.Multiply(Y, &zs[i])
		putAffine(loc[(lo+i+1)*affineSize:], &x, &y)
	}
	return -1
}

// CommitmentsSize returns the size of the commitments file of n shares:
// 41 + 32·n bytes.
func CommitmentsSize(n int) int64 {
	return commitmentsHeader + int64(n)*PointSize
}

// ReadCommitments decodes a commitments file of exactly n shares from r,
// in a stream: it reads the header first and refuses a file whose magic,
// version or N is not what is expected before reading any point, then
// reads exactly 32·n bytes and checks that nothing follows. It allocates
// no more than the file's points, so the caller bounds the memory by
// bounding n. Like UnmarshalBinary it checks the framing only: call Check
// before trusting the points.
func ReadCommitments(r io.Reader, n int) (*Commitments, error) {
	if n < 1 || n > MaxShares {
		return nil, fmt.Errorf("shares: commitments for %d shares, want 1 to %d", n, MaxShares)
	}
	var h [commitmentsHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("shares: reading the commitments header: %w", err)
	}
	if string(h[:4]) != commitmentsMagic {
		return nil, fmt.Errorf("shares: commitments start with %q, want %q", h[:4], commitmentsMagic)
	}
	if h[4] != commitmentsVersion {
		return nil, fmt.Errorf("shares: commitments version %d, want %d", h[4], commitmentsVersion)
	}
	if got := binary.BigEndian.Uint32(h[5:9]); int64(got) != int64(n) {
		return nil, fmt.Errorf("shares: commitments for %d shares, want %d", got, n)
	}
	c := &Commitments{n: n, points: make([]byte, n*PointSize)}
	copy(c.x[:], h[9:])
	if _, err := io.ReadFull(r, c.points); err != nil {
		return nil, fmt.Errorf("shares: reading %d commitments: %w", n, err)
	}
	var extra [1]byte
	if k, err := io.ReadFull(r, extra[:]); k != 0 || err != io.EOF {
		return nil, fmt.Errorf("shares: commitments for %d shares: bytes after the last point", n)
	}
	return c, nil
}
