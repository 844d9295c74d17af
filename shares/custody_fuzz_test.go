package shares_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

// The seed corpora live in testdata/fuzz/FuzzXxx; f.Add adds a few more.

func FuzzPart(f *testing.F) {
	f.Add(append([]byte{1}, make([]byte, 32)...))
	f.Add(append([]byte{0}, make([]byte, 32)...))
	f.Add(append([]byte{255}, l[:]...))
	f.Fuzz(func(t *testing.T, in []byte) {
		var p shares.Part
		if err := p.UnmarshalBinary(in); err != nil {
			if len(in) == shares.PartSize && !errors.Is(err, shares.ErrBadPart) {
				t.Fatalf("a 33-byte part refused without ErrBadPart: %v", err)
			}
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of an accepted part: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, want %x", out, in)
		}
		if p.Index == 0 {
			t.Fatalf("accepted index 0")
		}
	})
}

// FuzzCustody: accepted commitments re-encode to the same bytes, and
// verifying or combining against them, whatever their points, returns a
// PartError, ErrTooFewParts or another error, and never panics.
func FuzzCustody(f *testing.F) {
	for _, tm := range [][2]int{{1, 1}, {2, 3}, {3, 5}} {
		_, _, _, c := deal(f, 30, tm[0], tm[1])
		good, _ := c.MarshalBinary()
		f.Add(good, []byte{1, 2, 3})
	}
	f.Fuzz(func(t *testing.T, in []byte, values []byte) {
		var c shares.Custody
		if err := c.UnmarshalBinary(in); err != nil {
			if c.T() != 0 {
				t.Fatalf("a refused decode left T = %d", c.T())
			}
			return
		}
		out, err := c.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of accepted commitments: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, want %x", out, in)
		}
		if c.T() < 1 || c.T() > c.M() || c.M() > shares.MaxCustodians {
			t.Fatalf("accepted T=%d M=%d", c.T(), c.M())
		}
		if err := c.CheckX(c.X()); err != nil {
			t.Fatalf("CheckX of its own A_0: %v", err)
		}
		// Parts with the fuzzer's small values at indices 1, 2, …: each
		// either verifies or is a PartError; combining gives an error or a
		// secret whose commitment is A_0.
		var parts []shares.Part
		for i, v := range values[:min(len(values), c.M())] {
			p := shares.Part{Index: uint8(i + 1)}
			p.Value[0] = v
			if err := c.VerifyPart(p); err != nil && !errors.Is(err, shares.ErrBadPart) {
				t.Fatalf("VerifyPart(%v): got %v, want nil or ErrBadPart", p, err)
			}
			parts = append(parts, p)
		}
		got, err := shares.CombineParts(&c, c.X(), parts)
		if err == nil {
			if x, _ := shares.SecretCommitment(got); x != c.X() {
				t.Fatalf("CombineParts returned %x, whose commitment is not A_0", got)
			}
		} else if !errors.Is(err, shares.ErrBadPart) && !errors.Is(err, shares.ErrTooFewParts) {
			t.Fatalf("CombineParts: got %v, want ErrBadPart or ErrTooFewParts", err)
		}
	})
}

// FuzzCombineParts deals a secret from a fuzzed seed, then hands
// CombineParts a fuzzed selection of its parts, some tampered with. It
// must return that secret or an error, and must succeed whenever it is
// given at least T distinct untouched parts and nothing else.
func FuzzCombineParts(f *testing.F) {
	f.Add(uint8(2), uint8(3), []byte{0, 1}, []byte{})
	f.Add(uint8(3), uint8(5), []byte{4, 0, 2}, []byte{0, 0, 1})
	f.Add(uint8(1), uint8(1), []byte{0}, []byte{})
	f.Add(uint8(4), uint8(9), []byte{8, 7, 6, 6, 5}, []byte{0, 0, 0, 0, 0, 255})
	f.Fuzz(func(t *testing.T, th, m uint8, pick []byte, tamper []byte) {
		if m == 0 || m > 16 || th == 0 || th > m || len(pick) > 32 {
			return
		}
		rng := rand.NewChaCha8([32]byte{th, m})
		secret, _, sc, err := shares.Split(rng, 1)
		if err != nil {
			t.Fatal(err)
		}
		parts, c, err := shares.Deal(rng, secret, int(th), int(m))
		if err != nil {
			t.Fatal(err)
		}
		var set []shares.Part
		clean, distinct := true, map[uint8]bool{}
		for i, k := range pick {
			p := parts[int(k)%int(m)]
			if i < len(tamper) && tamper[i] != 0 {
				p.Value[i%31] ^= tamper[i]
				clean = false
			}
			if distinct[p.Index] {
				clean = false
			}
			distinct[p.Index] = true
			set = append(set, p)
		}
		got, err := shares.CombineParts(c, sc.X(), set)
		if err == nil && got != secret {
			t.Fatalf("CombineParts returned a wrong secret %x", got)
		}
		if err != nil && clean && len(set) >= int(th) {
			t.Fatalf("CombineParts of %d distinct good parts (T=%d): %v", len(set), th, err)
		}
		if err == nil && (!clean || len(set) < int(th)) {
			t.Fatalf("CombineParts accepted a set with a bad, repeated or missing part")
		}
	})
}
