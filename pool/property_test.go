package pool

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

// addInBatches adds list to p in batches of random sizes.
func addInBatches(t *testing.T, r *rand.Rand, p *Pool, f *fixture, list []shares.Share) {
	t.Helper()
	for len(list) > 0 {
		k := 1 + r.IntN(len(list))
		if _, err := p.Add(f.id, list[:k]); err != nil {
			t.Fatal(err)
		}
		list = list[k:]
	}
}

// Any set of shares short of all N gives no secret and no identity; all N,
// added in any order and any batches, give the secret of the split.
func TestPropertySubsetsAndOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 25 {
		n := 1 + r.IntN(40)
		f := newFixture(t, n, uint64(100+trial))
		p := openPool(t, t.TempDir())
		if err := p.Track(f.id, f.m, f.open(t)); err != nil {
			t.Fatal(err)
		}
		perm := make([]shares.Share, n)
		for i, j := range r.Perm(n) {
			perm[i] = f.shares[j]
		}
		k := r.IntN(n) // a proper subset: 0 to n-1 shares
		addInBatches(t, r, p, f, perm[:k])
		if _, err := p.Secret(f.id); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("n=%d, %d shares: Secret got %v, want ErrIncomplete", n, k, err)
		}
		if id, ok := p.Unlocked(f.id); ok || id != nil || p.Complete(f.id) {
			t.Fatalf("n=%d, %d shares: unlocked (%v, %v) or complete", n, k, id, ok)
		}
		// The rest, with some shares sent twice.
		rest := append(perm[k:], perm[:r.IntN(k+1)]...)
		r.Shuffle(len(rest), func(a, b int) { rest[a], rest[b] = rest[b], rest[a] })
		addInBatches(t, r, p, f, rest)
		secret, err := p.Secret(f.id)
		if err != nil || secret != f.secret {
			t.Fatalf("n=%d: Secret got %x, %v; want %x", n, secret, err, f.secret)
		}
		if id, ok := p.Unlocked(f.id); !ok || id.String() != f.identity(t) {
			t.Fatalf("n=%d: Unlocked got %v, %v; want the secret's identity", n, id, ok)
		}
		_, c, err := p.Snapshot(f.id)
		if err != nil {
			t.Fatal(err)
		}
		if want := rawCID(encodeSnapshot(f.id, f.shares)); c != want {
			t.Fatalf("n=%d: snapshot CID after random order %s, want %s", n, c, want)
		}
	}
}
