package shares_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gtank/ristretto255"
	"github.com/shardcast/shardcast/shares"
)

var benchSizes = []int{1_000, 100_000}

// perShare reports the time per share of an operation on n shares.
func perShare(b *testing.B, n int) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/share")
}

// BenchmarkAnchorBaseMultEncode is the raw cost the share operations are
// built from: one ristretto255 fixed-base multiplication and encoding.
func BenchmarkAnchorBaseMultEncode(b *testing.B) {
	var buf [64]byte
	rand.NewChaCha8([32]byte{}).Read(buf[:])
	s, _ := ristretto255.NewScalar().SetUniformBytes(buf[:])
	e := ristretto255.NewIdentityElement()
	var out [32]byte
	start := cpuTime()
	for b.Loop() {
		copy(out[:], e.ScalarBaseMult(s).Bytes())
	}
	reportCPU(b, start)
}

func BenchmarkSplit(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			rng := rand.NewChaCha8([32]byte{})
			for b.Loop() {
				if _, _, _, err := shares.Split(rng, n); err != nil {
					b.Fatal(err)
				}
			}
			perShare(b, n)
		})
	}
}

// BenchmarkVerify verifies one share per operation, comparing encodings
// (unchecked) or points from Check's index (checked).
func BenchmarkVerify(b *testing.B) {
	_, ss, c, err := shares.Split(rand.NewChaCha8([32]byte{}), benchSizes[0])
	if err != nil {
		b.Fatal(err)
	}
	for _, checked := range []bool{false, true} {
		if checked {
			if err := c.Check(); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("checked=%v", checked), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := c.Verify(ss[i]); err != nil {
					b.Fatal(err)
				}
				i = (i + 1) % len(ss)
			}
		})
	}
}

func BenchmarkVerifyBatch(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			_, ss, c, err := shares.Split(rand.NewChaCha8([32]byte{}), n)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := c.VerifyBatch(ss); err != nil {
					b.Fatal(err)
				}
			}
			perShare(b, n)
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			_, _, c, err := shares.Split(rand.NewChaCha8([32]byte{}), n)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := c.Check(); err != nil {
					b.Fatal(err)
				}
			}
			perShare(b, n)
		})
	}
}

func BenchmarkCombine(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			secret, ss, c, err := shares.Split(rand.NewChaCha8([32]byte{}), n)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				got, err := shares.Combine(c, ss)
				if err != nil || got != secret {
					b.Fatal(err)
				}
			}
			perShare(b, n)
		})
	}
}

// BenchmarkVerifyAggregate verifies an aggregate of a run of half the
// shares, with the prefix-sum index that Check builds and without it.
func BenchmarkVerifyAggregate(b *testing.B) {
	for _, n := range benchSizes {
		_, ss, c, err := shares.Split(rand.NewChaCha8([32]byte{}), n)
		if err != nil {
			b.Fatal(err)
		}
		a, err := shares.Sum(ss[n/4 : 3*n/4])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("N=%d/unchecked", n), func(b *testing.B) {
			for b.Loop() {
				if err := c.VerifyAggregate(a); err != nil {
					b.Fatal(err)
				}
			}
		})
		if err := c.Check(); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("N=%d/checked", n), func(b *testing.B) {
			for b.Loop() {
				if err := c.VerifyAggregate(a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
