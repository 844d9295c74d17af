package custody

import (
	"errors"
	"testing"
	"time"

	"github.com/shardcast/shardcast/shares"
)

func TestCollect(t *testing.T) {
	f := newFixture(t, 3, 5, deadline)
	after := deadline.Add(time.Minute)
	honest := func(j int) *Release { return f.release(t, j, f.parts[j-1], deadline.Add(time.Second)) }
	wrongPart := func(j int) *Release {
		p := f.parts[j-1]
		p.Value[3] ^= 1
		return f.release(t, j, p, deadline)
	}
	for _, tt := range []struct {
		name     string
		releases []*Release
		now      time.Time
		unlocks  bool
		proven   []int // custodians (by index) with a proof against them
		ignored  int
	}{
		{name: "T honest parts unlock", releases: []*Release{honest(1), honest(4), honest(5)}, now: after, unlocks: true},
		{name: "all honest parts unlock", releases: []*Release{honest(1), honest(2), honest(3), honest(4), honest(5)}, now: after, unlocks: true},
		{name: "T-1 parts do not", releases: []*Release{honest(2), honest(3)}, now: after},
		{name: "a wrong part is proven and the honest ones unlock",
			releases: []*Release{honest(1), wrongPart(2), honest(3), honest(4)}, now: after, unlocks: true, proven: []int{2}},
		{name: "a wrong part does not count towards T",
			releases: []*Release{honest(1), wrongPart(2), honest(3)}, now: after, proven: []int{2}},
		{name: "an early release is a proof",
			releases: []*Release{f.release(t, 1, f.parts[0], deadline.Add(-time.Second)), honest(2), honest(3)}, now: deadline.Add(-2 * time.Second), proven: []int{1}},
		{name: "another custodian's part is a proof",
			releases: []*Release{f.release(t, 1, f.parts[1], deadline), honest(3), honest(4)}, now: after, proven: []int{1}},
		{name: "a duplicate is ignored",
			releases: []*Release{honest(1), honest(1), honest(1), honest(2)}, now: after, ignored: 2},
		{name: "a second proof against one custodian is ignored",
			releases: []*Release{wrongPart(1), wrongPart(1), honest(2), honest(3), honest(4)}, now: after, unlocks: true, proven: []int{1}, ignored: 1},
		{name: "a release dated in the future is ignored, not proven",
			releases: []*Release{honest(1), honest(2), f.release(t, 3, f.parts[2], after.Add(time.Hour))}, now: after, ignored: 1},
		{name: "a release by someone else is ignored", releases: []*Release{honest(1), honest(2), func() *Release {
			r, err := NewRelease(f.creator, must32(f.terms.Hash()), deadline, f.parts[2])
			if err != nil {
				t.Fatal(err)
			}
			return r
		}()}, now: after, ignored: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCollector(f.terms)
			if err != nil {
				t.Fatal(err)
			}
			var proven []int
			ignored := 0
			for _, r := range tt.releases {
				p, err := c.Add(r, tt.now)
				switch {
				case p != nil:
					if !errors.Is(err, ErrMisbehaviour) {
						t.Errorf("a proof with err = %v", err)
					}
					b := must(p.MarshalBinary())
					var q Proof
					if err := q.UnmarshalBinary(b); err != nil {
						t.Fatalf("decoding proof: %v", err)
					}
					culprit, err := q.Verify()
					if !errors.Is(err, ErrMisbehaviour) {
						t.Fatalf("a third node's Verify: %v", err)
					}
					proven = append(proven, f.terms.Index(culprit))
				case errors.Is(err, ErrIgnored):
					ignored++
				case err != nil:
					t.Errorf("Add: %v", err)
				}
			}
			if len(proven) != len(tt.proven) || (len(proven) > 0 && proven[0] != tt.proven[0]) {
				t.Errorf("proofs against %v, want %v", proven, tt.proven)
			}
			if ignored != tt.ignored {
				t.Errorf("%d ignored, want %d", ignored, tt.ignored)
			}
			x, err := c.Unlock()
			if tt.unlocks != (err == nil) {
				t.Fatalf("Unlock: %v (want unlock: %v)", err, tt.unlocks)
			}
			if tt.unlocks && x != f.secret {
				t.Fatal("Unlock returned a wrong secret")
			}
			if !tt.unlocks && (!errors.Is(err, shares.ErrTooFewParts) || x != [32]byte{}) {
				t.Errorf("no unlock: err = %v, secret zero: %v", err, x == [32]byte{})
			}
			x2, _, err2 := Unlock(f.terms, tt.releases, tt.now)
			if (err2 == nil) != tt.unlocks || x2 != x {
				t.Errorf("Unlock (the function) disagrees with the Collector: %v", err2)
			}
		})
	}
}

func must32(h Hash, err error) Hash {
	if err != nil {
		panic(err)
	}
	return h
}

// An honest release can never be held against its custodian.
func TestProofOfHonestReleaseFails(t *testing.T) {
	f := newFixture(t, 2, 3, deadline)
	p := &Proof{Terms: f.terms, Release: f.release(t, 2, f.parts[1], deadline)}
	if _, err := p.Verify(); err == nil || errors.Is(err, ErrMisbehaviour) {
		t.Fatalf("Verify of an honest release: %v", err)
	}
	other := newFixture(t, 2, 3, deadline)
	p = &Proof{Terms: other.terms, Release: f.release(t, 2, shares.Part{Index: 2}, deadline)}
	if _, err := p.Verify(); err == nil || errors.Is(err, ErrMisbehaviour) {
		t.Fatalf("Verify of a release of other terms: %v", err)
	}
}
