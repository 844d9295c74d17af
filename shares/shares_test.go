package shares_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

// l is the group order, little-endian: the smallest non-canonical scalar.
var l = [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 31: 0x10}

func split(t testing.TB, seed byte, n int) ([32]byte, []shares.Share, *shares.Commitments) {
	t.Helper()
	secret, ss, c, err := shares.Split(rand.NewChaCha8([32]byte{seed}), n)
	if err != nil {
		t.Fatalf("Split(%d): %v", n, err)
	}
	return secret, ss, c
}

func TestSplit(t *testing.T) {
	for _, n := range []int{1, 2, 3, 255, 256, 257, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			secret, ss, c := split(t, 1, n)
			if got := c.N(); got != n {
				t.Errorf("N: got %d, want %d", got, n)
			}
			if got := len(ss); got != n {
				t.Errorf("len(shares): got %d, want %d", got, n)
			}
			x, err := shares.SecretCommitment(secret)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.X(); got != x {
				t.Errorf("X: got %x, want %x", got, x)
			}
			if err := c.Check(); err != nil {
				t.Errorf("Check: got %v, want nil", err)
			}
			for i, s := range ss {
				if s.Index != uint32(i) {
					t.Fatalf("share %d: got index %d", i, s.Index)
				}
				if err := c.Verify(s); err != nil {
					t.Fatalf("Verify(%v): got %v, want nil", s, err)
				}
			}
			if err := c.VerifyBatch(ss); err != nil {
				t.Errorf("VerifyBatch: got %v, want nil", err)
			}
			got, err := shares.Combine(c, ss)
			if err != nil || got != secret {
				t.Errorf("Combine: got %x, %v, want %x", got, err, secret)
			}
			a, err := shares.Sum(ss)
			if err != nil {
				t.Fatal(err)
			}
			if a.Sum != secret {
				t.Errorf("Sum of all: got %x, want the secret %x", a.Sum, secret)
			}
			if got, err := shares.CombineAggregate(c, a); err != nil || got != secret {
				t.Errorf("CombineAggregate: got %x, %v, want %x", got, err, secret)
			}
		})
	}
}

// TestSplitDeterministic checks that the output is a function of the
// random bytes only, whatever the parallelism.
func TestSplitDeterministic(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	s1, ss1, c1 := split(t, 7, 700)
	runtime.GOMAXPROCS(max(prev, 2))
	s2, ss2, c2 := split(t, 7, 700)
	runtime.GOMAXPROCS(prev)
	b1, _ := c1.MarshalBinary()
	b2, _ := c2.MarshalBinary()
	if s1 != s2 || !slices.Equal(ss1, ss2) || !bytes.Equal(b1, b2) {
		t.Errorf("two splits of the same random bytes differ")
	}
	s3, _, _ := split(t, 8, 700)
	if s3 == s1 {
		t.Errorf("two seeds gave the same secret")
	}
}

func TestSplitErrors(t *testing.T) {
	for _, n := range []int{0, -1, shares.MaxShares + 1} {
		if _, _, _, err := shares.Split(nil, n); err == nil {
			t.Errorf("Split(%d): got nil error", n)
		}
	}
	short := io.LimitReader(rand.NewChaCha8([32]byte{}), 64*1500)
	if _, _, _, err := shares.Split(short, 2000); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Split from a short reader: got %v, want %v", err, io.ErrUnexpectedEOF)
	}
	if _, ss, c, err := shares.Split(nil, 3); err != nil || c.VerifyBatch(ss) != nil {
		t.Errorf("Split(nil, 3): got %v", err)
	}
}

func TestVerify(t *testing.T) {
	_, ss, c := split(t, 2, 10)
	plusOne := ss[4]
	plusOne.Value[0] ^= 1
	tests := []struct {
		name string
		s    shares.Share
		ok   bool
	}{
		{"first", ss[0], true},
		{"last", ss[9], true},
		{"index N", shares.Share{Index: 10, Value: ss[9].Value}, false},
		{"index max", shares.Share{Index: ^uint32(0), Value: ss[9].Value}, false},
		{"other share's value", shares.Share{Index: 3, Value: ss[4].Value}, false},
		{"flipped bit", plusOne, false},
		{"zero value", shares.Share{Index: 1}, false},
		{"value l", shares.Share{Index: 1, Value: l}, false},
		{"value all ones", shares.Share{Index: 1, Value: [32]byte(bytes.Repeat([]byte{0xff}, 32))}, false},
	}
	for _, checked := range []bool{false, true} {
		if checked {
			if err := c.Check(); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/checked=%v", tt.name, checked), func(t *testing.T) {
				verifyCase(t, c, ss, tt.s, tt.ok)
			})
		}
	}
}

func verifyCase(t *testing.T, c *shares.Commitments, ss []shares.Share, s shares.Share, ok bool) {
	t.Helper()
	err := c.Verify(s)
	if got := err == nil; got != ok {
		t.Errorf("Verify: got %v, want ok %v", err, ok)
	}
	if err != nil && !errors.Is(err, shares.ErrBadShare) {
		t.Errorf("Verify: got %v, want it to wrap ErrBadShare", err)
	}
	err = c.VerifyBatch([]shares.Share{ss[0], s, ss[2]})
	if got := err == nil; got != ok {
		t.Errorf("VerifyBatch: got %v, want ok %v", err, ok)
	}
	if err != nil && !errors.Is(err, shares.ErrBadShare) {
		t.Errorf("VerifyBatch: got %v, want it to wrap ErrBadShare", err)
	}
}

func TestVerifyBatchReportsFirstBad(t *testing.T) {
	_, ss, c := split(t, 3, 600)
	bad := slices.Clone(ss)
	bad[300].Value, bad[301].Value = bad[301].Value, bad[300].Value
	bad[550].Index = 600
	err := c.VerifyBatch(bad)
	if !errors.Is(err, shares.ErrBadShare) {
		t.Fatalf("got %v, want ErrBadShare", err)
	}
	if got, want := err.Error(), "share 300 does not match its commitment"; !strings.Contains(got, want) {
		t.Errorf("got %q, want it to contain %q", got, want)
	}
	if got, want := err.Error(), "and 2 more"; !strings.Contains(got, want) {
		t.Errorf("got %q, want it to contain %q", got, want)
	}
}

func TestCombine(t *testing.T) {
	secret, ss, c := split(t, 4, 50)
	rng := rand.New(rand.NewChaCha8([32]byte{4}))
	shuffled := slices.Clone(ss)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	swapped := slices.Clone(ss)
	swapped[5].Value, swapped[6].Value = swapped[6].Value, swapped[5].Value
	wrong := slices.Clone(ss)
	wrong[7].Value[3] ^= 0x10
	dup := slices.Clone(ss)
	dup[8] = dup[9]
	outOfRange := slices.Clone(ss)
	outOfRange[10].Index = 50
	nonCanonical := slices.Clone(ss)
	nonCanonical[11].Value = l

	tests := []struct {
		name    string
		shares  []shares.Share
		bad     bool   // error wraps ErrBadShare
		message string // error contains
	}{
		{"in order", ss, false, ""},
		{"shuffled", shuffled, false, ""},
		{"missing one", ss[1:], false, "1 of 50 shares missing, the first is 0"},
		{"missing many", ss[:10], false, "40 of 50 shares missing, the first is 10"},
		{"none", nil, false, "50 of 50 shares missing"},
		{"extra", append(slices.Clone(ss), ss[0]), true, "share 0 appears twice"},
		{"duplicate", dup, true, "share 9 appears twice"},
		{"out of range", outOfRange, true, "share index 50 out of range"},
		{"non-canonical", nonCanonical, true, "not a canonical scalar"},
		{"wrong value", wrong, true, "do not combine"},
		// Each share is wrong, but the sum is right: Combine accepts, as
		// the secret is the secret.
		{"swapped values", swapped, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := shares.Combine(c, tt.shares)
			if tt.message == "" {
				if err != nil || got != secret {
					t.Errorf("got %x, %v, want %x", got, err, secret)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %x, nil error, want an error", got)
			}
			if got := errors.Is(err, shares.ErrBadShare); got != tt.bad {
				t.Errorf("got %v, want wrapping ErrBadShare %v", err, tt.bad)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("got %q, want it to contain %q", err, tt.message)
			}
			if got != [32]byte{} {
				t.Errorf("got secret %x on error, want zero", got)
			}
		})
	}
}

// TestCombineProperties: all N shares combine in any order into the
// secret; without any one of them, the sum of the rest is not the secret.
func TestCombineProperties(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{5}))
	for round := range 40 {
		n := 1 + rng.IntN(200)
		secret, ss, c := split(t, byte(round), n)
		rng.Shuffle(n, func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
		got, err := shares.Combine(c, ss)
		if err != nil || got != secret {
			t.Fatalf("n=%d: Combine shuffled: got %x, %v, want %x", n, got, err, secret)
		}
		if n == 1 {
			continue
		}
		drop := rng.IntN(n)
		rest := slices.Delete(slices.Clone(ss), drop, drop+1)
		a, err := shares.Sum(rest)
		if err != nil {
			t.Fatal(err)
		}
		if a.Sum == secret {
			t.Fatalf("n=%d: the sum without share %d is the secret", n, ss[drop].Index)
		}
		if _, err := shares.Combine(c, rest); err == nil {
			t.Fatalf("n=%d: Combine without share %d: got nil error", n, ss[drop].Index)
		}
		if err := c.VerifyAggregate(a); err != nil {
			t.Fatalf("n=%d: VerifyAggregate of all but %d: %v", n, ss[drop].Index, err)
		}
	}
}

func TestCheckTampered(t *testing.T) {
	_, ss, c := split(t, 6, 300)
	good, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const header = 41
	rng := rand.New(rand.NewChaCha8([32]byte{6}))
	tamper := func(name string, f func(b []byte)) {
		t.Helper()
		b := bytes.Clone(good)
		f(b)
		var c2 shares.Commitments
		if err := c2.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: UnmarshalBinary: %v", name, err)
		}
		if err := c2.Check(); err == nil {
			t.Errorf("%s: Check: got nil error", name)
		}
	}
	for range 20 {
		i := rng.IntN(300)
		bit := byte(1) << rng.IntN(8)
		pos := header + 32*i + rng.IntN(32)
		tamper(fmt.Sprintf("flip bit %d of C_%d", bit, i), func(b []byte) { b[pos] ^= bit })
	}
	tamper("flip X", func(b []byte) { b[9] ^= 2 })
	tamper("C_7 = C_8", func(b []byte) { copy(b[header+32*7:], b[header+32*8:header+32*9]) })
	tamper("C_0 = identity", func(b []byte) { clear(b[header : header+32]) })
	tamper("X = identity", func(b []byte) { clear(b[9:header]) })

	// Swapping two commitments keeps the sum: Check passes, Verify catches it.
	b := bytes.Clone(good)
	ci, cj := header+32*3, header+32*4
	tmp := bytes.Clone(b[ci : ci+32])
	copy(b[ci:], b[cj:cj+32])
	copy(b[cj:], tmp)
	var c2 shares.Commitments
	if err := c2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if err := c2.Check(); err != nil {
		t.Errorf("swapped C_3, C_4: Check: got %v, want nil", err)
	}
	if err := c2.Verify(ss[3]); !errors.Is(err, shares.ErrBadShare) {
		t.Errorf("swapped C_3, C_4: Verify(share 3): got %v, want ErrBadShare", err)
	}
	if err := c.Check(); err != nil {
		t.Errorf("untouched: Check: got %v, want nil", err)
	}
}

func TestVerifyAggregate(t *testing.T) {
	_, ss, c := split(t, 9, 40)
	sum := func(idx ...int) shares.Aggregate {
		var sel []shares.Share
		for _, i := range idx {
			sel = append(sel, ss[i])
		}
		a, err := shares.Sum(sel)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	span := func(lo, hi int) []int {
		var r []int
		for i := lo; i < hi; i++ {
			r = append(r, i)
		}
		return r
	}
	withRanges := func(a shares.Aggregate, r ...shares.Range) shares.Aggregate {
		a.Ranges = r
		return a
	}
	wrongSum := sum(span(3, 9)...)
	wrongSum.Sum[0] ^= 4
	nonCanonical := sum(1, 2)
	nonCanonical.Sum = l
	tests := []struct {
		name string
		a    shares.Aggregate
		ok   bool
	}{
		{"one share", sum(5), true},
		{"first", sum(0), true},
		{"last", sum(39), true},
		{"run", sum(span(3, 17)...), true},
		{"runs", sum(append(span(0, 4), append(span(10, 12), 20, 39)...)...), true},
		{"all", sum(span(0, 40)...), true},
		{"all but the last", sum(span(0, 39)...), true},
		{"wrong sum", wrongSum, false},
		{"non-canonical sum", nonCanonical, false},
		{"range past N", withRanges(sum(39), shares.Range{Start: 39, End: 41}), false},
		{"claims one more", withRanges(sum(span(3, 9)...), shares.Range{Start: 3, End: 10}), false},
		{"no ranges", withRanges(sum(1)), false},
		{"empty range", withRanges(sum(1), shares.Range{Start: 1, End: 2}, shares.Range{Start: 5, End: 5}), false},
		{"adjacent ranges", withRanges(sum(1, 2), shares.Range{Start: 1, End: 2}, shares.Range{Start: 2, End: 3}), false},
		{"overlap", withRanges(sum(1, 2), shares.Range{Start: 1, End: 3}, shares.Range{Start: 2, End: 3}), false},
		{"unsorted", withRanges(sum(1, 5), shares.Range{Start: 5, End: 6}, shares.Range{Start: 1, End: 2}), false},
		// [1,2) twice with twice the sum would verify if duplicates were allowed.
		{"doubled", withRanges(func() shares.Aggregate {
			a, _ := shares.Merge(sum(1), sum(2))
			a.Sum = sum(1).Sum
			return a
		}(), shares.Range{Start: 1, End: 2}, shares.Range{Start: 1, End: 2}), false},
	}
	for _, checked := range []bool{false, true} {
		if checked {
			if err := c.Check(); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/checked=%v", tt.name, checked), func(t *testing.T) {
				err := c.VerifyAggregate(tt.a)
				if got := err == nil; got != tt.ok {
					t.Errorf("got %v, want ok %v", err, tt.ok)
				}
				if err != nil && !errors.Is(err, shares.ErrBadShare) {
					t.Errorf("got %v, want it to wrap ErrBadShare", err)
				}
			})
		}
	}
}

// TestVerifyAggregateIndex checks the prefix-sum index across its block
// boundaries against the slow path, for N around multiples of 1024.
func TestVerifyAggregateIndex(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{10}))
	for _, n := range []int{1023, 1024, 1025, 2048, 2100} {
		_, ss, c := split(t, byte(n), n)
		var cases []shares.Aggregate
		for range 12 {
			k := 1 + rng.IntN(4)
			var sel []shares.Share
			for _, start := range rng.Perm(n)[:k] {
				end := min(n, start+1+rng.IntN(1500))
				for i := start; i < end; i++ {
					if !slices.ContainsFunc(sel, func(s shares.Share) bool { return s.Index == uint32(i) }) {
						sel = append(sel, ss[i])
					}
				}
			}
			a, err := shares.Sum(sel)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, a)
		}
		for _, a := range cases {
			if err := c.VerifyAggregate(a); err != nil {
				t.Fatalf("n=%d, %v, unchecked: %v", n, a, err)
			}
		}
		if err := c.Check(); err != nil {
			t.Fatal(err)
		}
		for _, a := range cases {
			if err := c.VerifyAggregate(a); err != nil {
				t.Fatalf("n=%d, %v %v, checked: %v", n, a, a.Ranges, err)
			}
			a.Sum[0] ^= 1
			if err := c.VerifyAggregate(a); err == nil {
				t.Fatalf("n=%d, %v, checked: wrong sum accepted", n, a)
			}
		}
	}
}

func TestMerge(t *testing.T) {
	_, ss, c := split(t, 11, 30)
	rng := rand.New(rand.NewChaCha8([32]byte{11}))
	for range 50 {
		perm := rng.Perm(30)
		k1, k2 := 1+rng.IntN(10), 1+rng.IntN(10)
		var s1, s2 []shares.Share
		for _, i := range perm[:k1] {
			s1 = append(s1, ss[i])
		}
		for _, i := range perm[k1 : k1+k2] {
			s2 = append(s2, ss[i])
		}
		a1, _ := shares.Sum(s1)
		a2, _ := shares.Sum(s2)
		want, err := shares.Sum(append(slices.Clone(s1), s2...))
		if err != nil {
			t.Fatal(err)
		}
		got, err := shares.Merge(a1, a2)
		if err != nil || got.Sum != want.Sum || !slices.Equal(got.Ranges, want.Ranges) {
			t.Fatalf("Merge(%v, %v): got %v %v, %v, want %v", a1.Ranges, a2.Ranges, got.Ranges, got.Sum, err, want.Ranges)
		}
		if err := c.VerifyAggregate(got); err != nil {
			t.Fatalf("VerifyAggregate(merged): %v", err)
		}
		if got.Len() != k1+k2 {
			t.Errorf("Len: got %d, want %d", got.Len(), k1+k2)
		}
		for i := range 31 {
			in := slices.ContainsFunc(append(slices.Clone(s1), s2...), func(s shares.Share) bool { return s.Index == uint32(i) })
			if got.Contains(uint32(i)) != in {
				t.Errorf("Contains(%d): got %v, want %v", i, !in, in)
			}
		}
		if _, err := shares.Merge(a1, a1); !errors.Is(err, shares.ErrBadShare) {
			t.Errorf("Merge with itself: got %v, want ErrBadShare", err)
		}
	}
}

func TestSumErrors(t *testing.T) {
	_, ss, _ := split(t, 12, 5)
	tests := []struct {
		name   string
		shares []shares.Share
	}{
		{"empty", nil},
		{"duplicate", []shares.Share{ss[1], ss[2], ss[1]}},
		{"index too big", []shares.Share{{Index: shares.MaxShares, Value: ss[0].Value}}},
		{"non-canonical", []shares.Share{ss[0], {Index: 3, Value: l}}},
	}
	for _, tt := range tests {
		if a, err := shares.Sum(tt.shares); err == nil {
			t.Errorf("%s: got %v, nil error", tt.name, a)
		}
	}
}

func TestShareEncoding(t *testing.T) {
	s := shares.Share{Index: 0x00a0b0c0}
	for i := range 31 {
		s.Value[i] = byte(i)
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(b), "00a0b0c0000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e00"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var back shares.Share
	if err := back.UnmarshalBinary(b); err != nil || back != s {
		t.Errorf("round trip: got %v, %v", back, err)
	}
	if got := s.String(); strings.Contains(got, "0102") {
		t.Errorf("String reveals the value: %q", got)
	}
	bad := map[string][]byte{
		"short":         b[:35],
		"long":          append(bytes.Clone(b), 0),
		"index too big": append([]byte{1, 0, 0, 0}, b[4:]...),
		"value l":       append(bytes.Clone(b[:4]), l[:]...),
		"value ones":    append(bytes.Clone(b[:4]), bytes.Repeat([]byte{0xff}, 32)...),
	}
	for name, in := range bad {
		if err := back.UnmarshalBinary(in); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
}

func TestCommitmentsEncoding(t *testing.T) {
	_, _, c := split(t, 13, 3)
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(b), 41+3*32; got != want {
		t.Fatalf("length: got %d, want %d", got, want)
	}
	if got, want := hex.EncodeToString(b[:9]), "53434d540100000003"; got != want {
		t.Errorf("header: got %s, want %s", got, want)
	}
	var back shares.Commitments
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := back.MarshalBinary()
	if !bytes.Equal(b, b2) || back.X() != c.X() || back.N() != 3 {
		t.Errorf("round trip differs")
	}
	for i := range uint32(3) {
		got, err := back.Commitment(i)
		if err != nil || !bytes.Equal(got[:], b[41+32*i:41+32*(i+1)]) {
			t.Errorf("Commitment(%d): got %x, %v", i, got, err)
		}
	}
	if _, err := back.Commitment(3); err == nil {
		t.Errorf("Commitment(3): got nil error")
	}
	edit := func(f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	bad := map[string][]byte{
		"empty":       nil,
		"header only": b[:41],
		"truncated":   b[:len(b)-1],
		"trailing":    append(bytes.Clone(b), 0),
		"magic":       edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version 0":   edit(func(b []byte) []byte { b[4] = 0; return b }),
		"version 2":   edit(func(b []byte) []byte { b[4] = 2; return b }),
		"N = 0":       edit(func(b []byte) []byte { b[8] = 0; return b[:41] }),
		"N = 4":       edit(func(b []byte) []byte { b[8] = 4; return b }),
		"N too big":   edit(func(b []byte) []byte { b[5] = 1; b[8] = 1; return b }),
	}
	for name, in := range bad {
		var c2 shares.Commitments
		if err := c2.UnmarshalBinary(in); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
	var empty shares.Commitments
	if _, err := empty.MarshalBinary(); err == nil {
		t.Errorf("MarshalBinary of empty commitments: got nil error")
	}
	if err := empty.Check(); err == nil {
		t.Errorf("Check of empty commitments: got nil error")
	}
	if _, err := shares.Combine(&empty, nil); err == nil {
		t.Errorf("Combine with empty commitments: got nil error")
	}
}

func TestAggregateEncoding(t *testing.T) {
	a := shares.Aggregate{Ranges: []shares.Range{{1, 3}, {0x10000, 0x10001}}}
	a.Sum[0] = 7
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := "00000002" + "0000000100000003" + "0001000000010001" + "07" + strings.Repeat("00", 31)
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var back shares.Aggregate
	if err := back.UnmarshalBinary(b); err != nil || back.Sum != a.Sum || !slices.Equal(back.Ranges, a.Ranges) {
		t.Errorf("round trip: got %v %v, %v", back.Ranges, back.Sum, err)
	}
	edit := func(f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	bad := map[string][]byte{
		"empty":         nil,
		"truncated":     b[:len(b)-1],
		"trailing":      append(bytes.Clone(b), 0),
		"count 0":       append([]byte{0, 0, 0, 0}, b[len(b)-32:]...),
		"count 3":       edit(func(b []byte) []byte { b[3] = 3; return b }),
		"count huge":    edit(func(b []byte) []byte { b[0] = 0xff; return b }),
		"empty range":   edit(func(b []byte) []byte { b[11] = 1; return b }),
		"reversed":      edit(func(b []byte) []byte { b[7], b[11] = 3, 1; return b }),
		"adjacent":      append([]byte{0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 5}, b[len(b)-32:]...),
		"past max":      append([]byte{0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1}, b[len(b)-32:]...),
		"non-canonical": append(bytes.Clone(b[:len(b)-32]), l[:]...),
	}
	for name, in := range bad {
		if err := back.UnmarshalBinary(in); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
	if _, err := (shares.Aggregate{}).MarshalBinary(); err == nil {
		t.Errorf("MarshalBinary of an empty aggregate: got nil error")
	}
}

// TestContentSeed checks ContentSeed against HKDF-SHA256 computed from its
// definition (RFC 5869: one HMAC to extract, one to expand a single block)
// and against a fixed vector.
func TestContentSeed(t *testing.T) {
	var secret [32]byte
	for i := range secret {
		secret[i] = byte(i)
	}
	mac := hmac.New(sha256.New, []byte("shardcast/shares/v1"))
	mac.Write(secret[:])
	prk := mac.Sum(nil)
	mac = hmac.New(sha256.New, prk)
	mac.Write([]byte("content identity\x01"))
	want := mac.Sum(nil)
	got := shares.ContentSeed(secret)
	if !bytes.Equal(got[:], want) {
		t.Errorf("got %x, want %x", got, want)
	}
	if got, want := hex.EncodeToString(got[:]), "0021b425340053a777e5e7c00ba1c883e3cc22eec171fd31aa9df0aa398455bb"; got != want {
		t.Errorf("vector: got %s, want %s", got, want)
	}
	secret[0] ^= 1
	if shares.ContentSeed(secret) == got {
		t.Errorf("two secrets gave the same seed")
	}
}

func TestSecretCommitment(t *testing.T) {
	if _, err := shares.SecretCommitment(l); err == nil {
		t.Errorf("SecretCommitment(l): got nil error")
	}
	var one [32]byte
	one[0] = 1
	got, err := shares.SecretCommitment(one)
	if want := "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"; err != nil || hex.EncodeToString(got[:]) != want {
		t.Errorf("SecretCommitment(1): got %x, %v, want the base point %s", got, err, want)
	}
}

func TestCombineAggregateErrors(t *testing.T) {
	_, ss, c := split(t, 14, 10)
	part, _ := shares.Sum(ss[:9])
	if _, err := shares.CombineAggregate(c, part); err == nil {
		t.Errorf("CombineAggregate of 9 of 10: got nil error")
	}
	all, _ := shares.Sum(ss)
	all.Sum[5] ^= 1
	if _, err := shares.CombineAggregate(c, all); !errors.Is(err, shares.ErrBadShare) {
		t.Errorf("CombineAggregate with a wrong sum: got %v, want ErrBadShare", err)
	}
}
