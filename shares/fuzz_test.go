package shares_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

// The seed corpora live in testdata/fuzz/FuzzXxx; f.Add adds a few more.

func FuzzShare(f *testing.F) {
	f.Add(make([]byte, 36))
	f.Add(append([]byte{0, 0, 0, 7}, l[:]...))
	f.Fuzz(func(t *testing.T, in []byte) {
		var s shares.Share
		if err := s.UnmarshalBinary(in); err != nil {
			return
		}
		out, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of an accepted share: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, want %x", out, in)
		}
	})
}

func FuzzCommitments(f *testing.F) {
	_, _, c, err := shares.Split(nil, 2)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := c.MarshalBinary()
	f.Add(good)
	f.Fuzz(func(t *testing.T, in []byte) {
		var c shares.Commitments
		if err := c.UnmarshalBinary(in); err != nil {
			return
		}
		out, err := c.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of accepted commitments: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, want %x", out, in)
		}
		// Whatever the points, checking and verifying must not panic.
		_ = c.Check()
		a := shares.Aggregate{Ranges: []shares.Range{{Start: 0, End: 1}}}
		if err := c.VerifyAggregate(a); err != nil && !errors.Is(err, shares.ErrBadShare) && c.N() == 1 {
			t.Fatalf("VerifyAggregate of the whole set: got %v, want nil or ErrBadShare", err)
		}
		if err := c.Verify(shares.Share{Index: 0}); err != nil && !errors.Is(err, shares.ErrBadShare) {
			t.Fatalf("Verify: got %v, want nil or ErrBadShare", err)
		}
	})
}

func FuzzAggregate(f *testing.F) {
	f.Add(append([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 32)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a shares.Aggregate
		if err := a.UnmarshalBinary(in); err != nil {
			return
		}
		out, err := a.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of an accepted aggregate: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, want %x", out, in)
		}
		r := a.Ranges[0]
		if !a.Contains(r.Start) || !a.Contains(r.End-1) || a.Len() < len(a.Ranges) {
			t.Fatalf("%v: inconsistent Contains/Len for %v", a, a.Ranges)
		}
		if m, err := shares.Merge(a, a); err == nil {
			t.Fatalf("merging %v with itself: got %v, nil error", a, m)
		}
	})
}

// FuzzReadCommitments: reading a stream for n shares accepts exactly what
// UnmarshalBinary accepts for n shares, and the same commitments.
func FuzzReadCommitments(f *testing.F) {
	_, _, c, err := shares.Split(nil, 2)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := c.MarshalBinary()
	f.Add(good, 2)
	f.Add(good, 3)
	f.Add(append(bytes.Clone(good), 0), 2)
	f.Fuzz(func(t *testing.T, in []byte, n int) {
		if n > 1<<16 {
			return // the decoder allocates 32·n: keep the fuzzer's memory small
		}
		got, err := shares.ReadCommitments(bytes.NewReader(in), n)
		var want shares.Commitments
		werr := want.UnmarshalBinary(in)
		if werr == nil && want.N() != n {
			werr = errors.New("another N")
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("ReadCommitments(%d): %v; UnmarshalBinary: %v", n, err, werr)
		}
		if err != nil {
			return
		}
		out, err := got.MarshalBinary()
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, %v, want %x", out, err, in)
		}
	})
}
