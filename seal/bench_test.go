package seal

import (
	"bytes"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"filippo.io/age"
)

const benchSize = 64 << 20

// BenchmarkEncrypt compares age.Encrypt (the anchor) with Encrypt on
// 64 MiB held in memory, written to io.Discard.
func BenchmarkEncrypt(b *testing.B) {
	id := testIdentity(b)
	p := plaintext(benchSize, 1)
	ageLib := func() {
		w, err := age.Encrypt(io.Discard, id.Recipient())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(w, bytes.NewReader(p)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	parallel := func() {
		if _, err := Encrypt(io.Discard, bytes.NewReader(p), id.Recipient()); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("age-lib", loop(ageLib))
	b.Run("parallel", loop(parallel))
	b.Run("parallel-1worker", loop(func() {
		s, err := newSealer([]age.Recipient{id.Recipient()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.writeTo(io.Discard, bytes.NewReader(p), 1); err != nil {
			b.Fatal(err)
		}
	}))
	b.Run("interleaved", interleaved(ageLib, parallel))
}

// loop benchmarks f, which handles benchSize bytes.
func loop(f func()) func(b *testing.B) {
	return func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			f()
		}
	}
}

// interleaved runs the anchor and ours alternately, so that both see the
// same load on a shared machine, and reports both speeds and their ratio.
func interleaved(anchor, ours func()) func(b *testing.B) {
	return func(b *testing.B) {
		b.SetBytes(2 * benchSize)
		var ta, to time.Duration
		for b.Loop() {
			t0 := time.Now()
			anchor()
			t1 := time.Now()
			ours()
			ta, to = ta+t1.Sub(t0), to+time.Since(t1)
		}
		mbps := func(d time.Duration) float64 { return float64(b.N) * benchSize / 1e6 / d.Seconds() }
		b.ReportMetric(mbps(ta), "anchor-MB/s")
		b.ReportMetric(mbps(to), "ours-MB/s")
		b.ReportMetric(ta.Seconds()/to.Seconds(), "speedup")
	}
}

// BenchmarkDecryptReaderAt compares sequential and random reads of 64 MiB
// through age.Decrypt (the sequential anchor), age.DecryptReaderAt and
// OpenReaderAt.
func BenchmarkDecryptReaderAt(b *testing.B) {
	id := testIdentity(b)
	c := sealBytes(b, plaintext(benchSize, 2), id, runtime.GOMAXPROCS(0))
	src := bytes.NewReader(c)
	size := int64(len(c))
	ageOpen := func() (io.ReaderAt, int64, error) { return age.DecryptReaderAt(src, size, id) }
	sealOpen := func() (io.ReaderAt, int64, error) { return OpenReaderAt(src, size, id) }

	b.Run("age-Decrypt/seq", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			r, err := age.Decrypt(bytes.NewReader(c), id)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	seq := func(open func() (io.ReaderAt, int64, error), bufSize int) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(benchSize)
			buf := make([]byte, bufSize)
			for b.Loop() {
				ra, n, err := open()
				if err != nil {
					b.Fatal(err)
				}
				for off := int64(0); off < n; off += int64(bufSize) {
					if _, err := ra.ReadAt(buf, off); err != nil && err != io.EOF {
						b.Fatal(err)
					}
				}
			}
		}
	}
	b.Run("age-ReaderAt/seq-1MiB", seq(ageOpen, 1<<20))
	b.Run("seal-ReaderAt/seq-1MiB", seq(sealOpen, 1<<20))
	b.Run("seal-ReadSeeker/seq-32KiB", func(b *testing.B) {
		// What http.ServeContent does: io.CopyN through a 32 KiB buffer.
		b.SetBytes(benchSize)
		buf := make([]byte, 32<<10)
		for b.Loop() {
			ra, n, err := sealOpen()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{NewReadSeeker(ra, n)}, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	seqAll := func(open func() (io.ReaderAt, int64, error)) func() {
		buf := make([]byte, 1<<20)
		return func() {
			ra, n, err := open()
			if err != nil {
				b.Fatal(err)
			}
			for off := int64(0); off < n; off += int64(len(buf)) {
				if _, err := ra.ReadAt(buf, off); err != nil && err != io.EOF {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("interleaved/age-ReaderAt-vs-seal-ReaderAt/seq-1MiB", interleaved(seqAll(ageOpen), seqAll(sealOpen)))
	random := func(open func() (io.ReaderAt, int64, error)) func(b *testing.B) {
		return func(b *testing.B) {
			const reads, readSize = 1000, 64 << 10
			b.SetBytes(reads * readSize)
			buf := make([]byte, readSize)
			r := rand.New(rand.NewPCG(3, 4))
			for b.Loop() {
				ra, n, err := open()
				if err != nil {
					b.Fatal(err)
				}
				for range reads {
					if _, err := ra.ReadAt(buf, r.Int64N(n-readSize)); err != nil && err != io.EOF {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*reads), "µs/read")
		}
	}
	b.Run("age-ReaderAt/random-1000x64KiB", random(ageOpen))
	b.Run("seal-ReaderAt/random-1000x64KiB", random(sealOpen))
}
