package shares

import (
	"encoding/binary"
	"fmt"
	"slices"

	"filippo.io/edwards25519"
)

// Range is the half-open run of share indices [Start, End).
type Range struct {
	Start, End uint32
}

// Aggregate stands for a set of shares by the sum of their values. The set
// is given as Ranges in canonical form: sorted, each non-empty, with a gap
// between consecutive ranges (so {0,1,2,5} is [0,3) [5,6)), which keeps
// the encoding unique and makes an aggregate of a contiguous run of shares
// as small as a single share. Sum is Σ s_i over the set, a canonical
// scalar. An aggregate of the whole set [0, N) has the secret as its Sum.
type Aggregate struct {
	Ranges []Range
	Sum    [ScalarSize]byte
}

// Len returns how many shares a covers.
func (a Aggregate) Len() int {
	n := 0
	for _, r := range a.Ranges {
		if r.End > r.Start {
			n += int(r.End - r.Start)
		}
	}
	return n
}

// Contains reports whether a covers share index i.
func (a Aggregate) Contains(i uint32) bool {
	k, _ := slices.BinarySearchFunc(a.Ranges, i, func(r Range, i uint32) int {
		if r.End <= i {
			return -1
		}
		if r.Start > i {
			return 1
		}
		return 0
	})
	return k < len(a.Ranges) && a.Ranges[k].Start <= i && i < a.Ranges[k].End
}

// String describes a without revealing its sum.
func (a Aggregate) String() string {
	return fmt.Sprintf("aggregate of %d shares in %d ranges", a.Len(), len(a.Ranges))
}

// checkRanges reports whether r is in canonical form.
func checkRanges(r []Range) error {
	if len(r) == 0 {
		return fmt.Errorf("shares: aggregate covers no share")
	}
	for i, x := range r {
		if x.Start >= x.End {
			return fmt.Errorf("shares: aggregate range %d [%d, %d) is empty", i, x.Start, x.End)
		}
		if x.End > MaxShares {
			return fmt.Errorf("shares: aggregate range %d [%d, %d) goes past %d", i, x.Start, x.End, MaxShares)
		}
		if i > 0 && x.Start <= r[i-1].End {
			return fmt.Errorf("shares: aggregate range %d [%d, %d) does not start after range %d [%d, %d) ends",
				i, x.Start, x.End, i-1, r[i-1].Start, r[i-1].End)
		}
	}
	return nil
}

// Sum aggregates shares: the canonical ranges of their indices and the sum
// of their values. It fails on an empty slice, a duplicate index, an index
// ≥ MaxShares or a non-canonical value (errors wrap ErrBadShare). It
// checks nothing against commitments: see VerifyAggregate.
func Sum(shares []Share) (Aggregate, error) {
	if len(shares) == 0 {
		return Aggregate{}, fmt.Errorf("shares: aggregating no shares")
	}
	var sum, v edwards25519.Scalar
	idx := make([]uint32, len(shares))
	for i, s := range shares {
		if s.Index >= MaxShares {
			return Aggregate{}, fmt.Errorf("shares: share index %d ≥ %d: %w", s.Index, MaxShares, ErrBadShare)
		}
		if _, err := v.SetCanonicalBytes(s.Value[:]); err != nil {
			return Aggregate{}, fmt.Errorf("shares: share %d: value is not a canonical scalar: %w", s.Index, ErrBadShare)
		}
		sum.Add(&sum, &v)
		idx[i] = s.Index
	}
	slices.Sort(idx)
	var a Aggregate
	for i, x := range idx {
		switch {
		case i > 0 && x == idx[i-1]:
			return Aggregate{}, fmt.Errorf("shares: share %d appears twice: %w", x, ErrBadShare)
		case i > 0 && x == idx[i-1]+1:
			a.Ranges[len(a.Ranges)-1].End = x + 1
		default:
			a.Ranges = append(a.Ranges, Range{x, x + 1})
		}
	}
	copy(a.Sum[:], sum.Bytes())
	return a, nil
}

// Merge returns the aggregate of the union of two disjoint aggregates. It
// fails if they overlap, or if either is malformed.
func Merge(a, b Aggregate) (Aggregate, error) {
	if err := checkRanges(a.Ranges); err != nil {
		return Aggregate{}, fmt.Errorf("shares: merging: %w", err)
	}
	if err := checkRanges(b.Ranges); err != nil {
		return Aggregate{}, fmt.Errorf("shares: merging: %w", err)
	}
	var sa, sb edwards25519.Scalar
	if _, err := sa.SetCanonicalBytes(a.Sum[:]); err != nil {
		return Aggregate{}, fmt.Errorf("shares: merging: sum is not a canonical scalar: %w", ErrBadShare)
	}
	if _, err := sb.SetCanonicalBytes(b.Sum[:]); err != nil {
		return Aggregate{}, fmt.Errorf("shares: merging: sum is not a canonical scalar: %w", ErrBadShare)
	}
	out := Aggregate{Ranges: make([]Range, 0, len(a.Ranges)+len(b.Ranges))}
	i, j := 0, 0
	for i < len(a.Ranges) || j < len(b.Ranges) {
		var r Range
		if j == len(b.Ranges) || (i < len(a.Ranges) && a.Ranges[i].Start < b.Ranges[j].Start) {
			r, i = a.Ranges[i], i+1
		} else {
			r, j = b.Ranges[j], j+1
		}
		if k := len(out.Ranges) - 1; k >= 0 {
			last := &out.Ranges[k]
			if r.Start < last.End {
				return Aggregate{}, fmt.Errorf("shares: merging aggregates that both cover share %d: %w", r.Start, ErrBadShare)
			}
			if r.Start == last.End {
				last.End = r.End
				continue
			}
		}
		out.Ranges = append(out.Ranges, r)
	}
	copy(out.Sum[:], sa.Add(&sa, &sb).Bytes())
	return out, nil
}

// The aggregate encoding (integers big-endian):
//
//	count  uint32               number of ranges, ≥ 1
//	count × (start, end uint32) the canonical ranges, [start, end)
//	sum    32 bytes             canonical scalar
//
// so 44 bytes for a single run of shares.
const aggregateMin = 4 + 8 + ScalarSize

// MarshalBinary encodes a; it fails if a is not in canonical form.
func (a Aggregate) MarshalBinary() ([]byte, error) {
	return a.AppendBinary(make([]byte, 0, 4+8*len(a.Ranges)+ScalarSize))
}

// AppendBinary appends the encoding of a to b.
func (a Aggregate) AppendBinary(b []byte) ([]byte, error) {
	if err := checkRanges(a.Ranges); err != nil {
		return nil, err
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(a.Ranges)))
	for _, r := range a.Ranges {
		b = binary.BigEndian.AppendUint32(b, r.Start)
		b = binary.BigEndian.AppendUint32(b, r.End)
	}
	return append(b, a.Sum[:]...), nil
}

// UnmarshalBinary decodes an aggregate, rejecting ranges that are not in
// canonical form and a sum that is not a canonical scalar, so that an
// accepted encoding re-encodes to the same bytes.
func (a *Aggregate) UnmarshalBinary(b []byte) error {
	if len(b) < aggregateMin {
		return fmt.Errorf("shares: aggregate is %d bytes, want at least %d", len(b), aggregateMin)
	}
	count := binary.BigEndian.Uint32(b)
	if want := uint64(4) + 8*uint64(count) + ScalarSize; uint64(len(b)) != want {
		return fmt.Errorf("shares: aggregate of %d ranges is %d bytes, want %d", count, len(b), want)
	}
	ranges := make([]Range, count)
	for i := range ranges {
		off := 4 + 8*i
		ranges[i] = Range{binary.BigEndian.Uint32(b[off:]), binary.BigEndian.Uint32(b[off+4:])}
	}
	if err := checkRanges(ranges); err != nil {
		return err
	}
	sum := b[len(b)-ScalarSize:]
	if _, err := edwards25519.NewScalar().SetCanonicalBytes(sum); err != nil {
		return fmt.Errorf("shares: aggregate sum is not a canonical scalar: %w", ErrBadShare)
	}
	a.Ranges = ranges
	copy(a.Sum[:], sum)
	return nil
}

// VerifyAggregate reports whether a.Sum·G equals the sum of the
// commitments of the shares a covers. It returns nil or an error wrapping
// ErrBadShare (malformed, out of range, or not matching).
//
// The sum over the whole set [0, N) is compared with X, which Check proves
// equal to Σ C_i. Its cost is one base multiplication plus: nothing more
// for the whole set; O(len(a.Ranges)) point additions once Check has run;
// otherwise one point decoding (about 6 µs) per covered share.
func (c *Commitments) VerifyAggregate(a Aggregate) error {
	if err := checkRanges(a.Ranges); err != nil {
		return fmt.Errorf("%w: %w", err, ErrBadShare)
	}
	n := c.N()
	if last := a.Ranges[len(a.Ranges)-1]; int64(last.End) > int64(n) {
		return fmt.Errorf("shares: aggregate range [%d, %d) goes past the %d shares: %w", last.Start, last.End, n, ErrBadShare)
	}
	var sum edwards25519.Scalar
	if _, err := sum.SetCanonicalBytes(a.Sum[:]); err != nil {
		return fmt.Errorf("shares: aggregate sum is not a canonical scalar: %w", ErrBadShare)
	}

	if len(a.Ranges) == 1 && a.Ranges[0].Start == 0 && int(a.Ranges[0].End) == n {
		if baseMultEncode(&sum) != c.x {
			return fmt.Errorf("shares: aggregate of all %d shares does not match X: %w", n, ErrBadShare)
		}
		return nil
	}

	var acc edwards25519.Point
	acc.Set(edwards25519.NewIdentityPoint())
	if idx := c.index.Load(); idx != nil {
		for _, r := range a.Ranges {
			if !idx.rangeSum(int(r.Start), int(r.End), &acc) {
				return fmt.Errorf("shares: internal error: bad prefix sum")
			}
		}
	} else {
		var p edwards25519.Point
		for _, r := range a.Ranges {
			for i := int(r.Start); i < int(r.End); i++ {
				if !decodePoint(&p, c.commitment(i)) {
					return fmt.Errorf("shares: commitment %d is not a canonical ristretto255 encoding", i)
				}
				acc.Add(&acc, &p)
			}
		}
	}
	var want edwards25519.Point
	want.ScalarBaseMult(&sum)
	if !equalPoints(&acc, &want) {
		return fmt.Errorf("shares: %v does not match its commitments: %w", a, ErrBadShare)
	}
	return nil
}
