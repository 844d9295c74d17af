package pool

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// benchN is the campaign size of the benchmarks: 10^5 shares.
const benchN = 100_000

var (
	benchOnce    sync.Once
	benchFixture *fixture
)

func bigFixture(b *testing.B) *fixture {
	benchOnce.Do(func() { benchFixture = newFixture(b, benchN, 42) })
	return benchFixture
}

// BenchmarkAdd stores 10^5 shares arriving in batches, each verified with
// VerifyBatch and appended with one fsync, in a fresh pool per iteration.
// Compare with BenchmarkVerifyBatch, the verification alone.
func BenchmarkAdd(b *testing.B) {
	f := bigFixture(b)
	for _, batch := range []int{100, benchN} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			b.SetBytes(benchN * 36)
			for b.Loop() {
				b.StopTimer()
				p, err := Open(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Track(f.id, f.m, f.open(b)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for lo := 0; lo < benchN; lo += batch {
					if _, err := p.Add(f.id, f.shares[lo:lo+batch]); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if !p.Complete(f.id) {
					b.Fatal("not complete")
				}
				p.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N)*benchN/b.Elapsed().Seconds(), "shares/s")
		})
	}
	// Batches of 100 from GOMAXPROCS goroutines at once, as gossip
	// validators deliver them.
	b.Run("batch=100/concurrent", func(b *testing.B) {
		b.SetBytes(benchN * 36)
		for b.Loop() {
			b.StopTimer()
			p, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			if err := p.Track(f.id, f.m, f.open(b)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			var wg sync.WaitGroup
			workers := runtime.GOMAXPROCS(0)
			for w := range workers {
				wg.Go(func() {
					for lo := w * 100; lo < benchN; lo += workers * 100 {
						if _, err := p.Add(f.id, f.shares[lo:lo+100]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if !p.Complete(f.id) {
				b.Fatal("not complete")
			}
			p.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(b.N)*benchN/b.Elapsed().Seconds(), "shares/s")
	})
}

// BenchmarkVerifyBatch is the anchor of BenchmarkAdd: shares.VerifyBatch
// on the same batches, with no pool.
func BenchmarkVerifyBatch(b *testing.B) {
	f := bigFixture(b)
	c := f.open(b)
	b.Run("batch=100", func(b *testing.B) {
		b.SetBytes(benchN * 36)
		for b.Loop() {
			for lo := 0; lo < benchN; lo += 100 {
				if err := c.VerifyBatch(f.shares[lo : lo+100]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N)*benchN/b.Elapsed().Seconds(), "shares/s")
	})
}

// BenchmarkSnapshot encodes and addresses (sha2-256) the snapshot of a
// pool holding 10^5 shares, and decodes it.
func BenchmarkSnapshot(b *testing.B) {
	f := bigFixture(b)
	p, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if err := p.Track(f.id, f.m, f.open(b)); err != nil {
		b.Fatal(err)
	}
	if _, err := p.Add(f.id, f.shares); err != nil {
		b.Fatal(err)
	}
	data, _, err := p.Snapshot(f.id)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, _, err := p.Snapshot(f.id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, list, err := DecodeSnapshot(data); err != nil || len(list) != benchN {
				b.Fatal(len(list), err)
			}
		}
	})
}
