package custody

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkAccept is a custodian's work for one deal besides the fsync:
// decode (creator's signature, commitments bound to X), open the part,
// verify it, sign the acceptance.
func BenchmarkAccept(b *testing.B) {
	for _, tm := range [][2]int{{2, 3}, {67, 100}} {
		b.Run(fmt.Sprintf("T=%d,M=%d", tm[0], tm[1]), func(b *testing.B) {
			f := newFixture(b, tm[0], tm[1], deadline)
			enc := must(f.deal(b, tm[1]).MarshalBinary())
			id, _ := Identity(f.custodians[tm[1]-1])
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				var d Deal
				if err := d.UnmarshalBinary(enc); err != nil {
					b.Fatal(err)
				}
				if _, err := d.Open(id); err != nil {
					b.Fatal(err)
				}
				if _, err := Accept(f.custodians[tm[1]-1], &d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnlock is any node's work at the deadline: decode and check T
// releases, then combine them.
func BenchmarkUnlock(b *testing.B) {
	for _, tm := range [][2]int{{2, 3}, {67, 100}} {
		b.Run(fmt.Sprintf("T=%d,M=%d", tm[0], tm[1]), func(b *testing.B) {
			f := newFixture(b, tm[0], tm[1], deadline)
			var encs [][]byte
			for j := 1; j <= tm[0]; j++ {
				encs = append(encs, must(f.release(b, j, f.parts[j-1], deadline).MarshalBinary()))
			}
			now := deadline.Add(time.Minute)
			for b.Loop() {
				c, _ := NewCollector(f.terms)
				for _, e := range encs {
					var r Release
					if err := r.UnmarshalBinary(e); err != nil {
						b.Fatal(err)
					}
					if _, err := c.Add(&r, now); err != nil {
						b.Fatal(err)
					}
				}
				if x, err := c.Unlock(); err != nil || x != f.secret {
					b.Fatal(err)
				}
			}
		})
	}
}
