package shares_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shardcast/shardcast/shares"
)

// custodySizes are committees from the smallest useful one to M = 100
// with a two-thirds threshold, and the largest the encodings allow.
var custodySizes = []struct{ t, m int }{{2, 3}, {7, 10}, {67, 100}, {171, 255}}

func custodyName(t, m int) string { return fmt.Sprintf("M=%d,T=%d", m, t) }

// reportCPU reports the CPU time per operation since start (taken just
// before the loop): on a machine shared with other jobs it moves far less
// than ns/op. With GOMAXPROCS=1 it is the time of one core.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e3, "cpu-µs/op")
}

// BenchmarkDeal deals a secret: T−1 random coefficients, M evaluations of
// the polynomial, T fixed-base multiplications for the commitments.
func BenchmarkDeal(b *testing.B) {
	for _, sz := range custodySizes {
		b.Run(custodyName(sz.t, sz.m), func(b *testing.B) {
			secret, _, _, _ := deal(b, 40, 1, 1)
			start := cpuTime()
			for b.Loop() {
				if _, _, err := shares.Deal(nil, secret, sz.t, sz.m); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkVerifyPart verifies one part: what a custodian does before
// accepting, and a node for each part it hears at the deadline.
func BenchmarkVerifyPart(b *testing.B) {
	for _, sz := range custodySizes {
		b.Run(custodyName(sz.t, sz.m), func(b *testing.B) {
			_, _, parts, c := deal(b, 41, sz.t, sz.m)
			i := 0
			start := cpuTime()
			for b.Loop() {
				if err := c.VerifyPart(parts[i]); err != nil {
					b.Fatal(err)
				}
				i = (i + 1) % len(parts)
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkVerifyAllParts verifies all M parts of a dealing, as a node
// that hears every custodian does: with VerifyParts (batch) and with
// VerifyPart in a loop (one-by-one).
func BenchmarkVerifyAllParts(b *testing.B) {
	for _, sz := range custodySizes {
		_, _, parts, c := deal(b, 42, sz.t, sz.m)
		b.Run(custodyName(sz.t, sz.m)+"/batch", func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				if err := c.VerifyParts(parts); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
		b.Run(custodyName(sz.t, sz.m)+"/one-by-one", func(b *testing.B) {
			start := cpuTime()
			for b.Loop() {
				for _, p := range parts {
					if err := c.VerifyPart(p); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkCombineParts combines T parts: CheckX, VerifyParts, the
// Lagrange interpolation and the final check against X.
func BenchmarkCombineParts(b *testing.B) {
	for _, sz := range custodySizes {
		b.Run(custodyName(sz.t, sz.m), func(b *testing.B) {
			_, x, parts, c := deal(b, 43, sz.t, sz.m)
			use := parts[sz.m-sz.t:]
			start := cpuTime()
			for b.Loop() {
				if _, err := shares.CombineParts(c, x, use); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}
