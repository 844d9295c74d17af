package pool

import (
	"fmt"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/shares"
)

// What a Pool tells about a campaign.

// Known returns how many verified shares of campaign id the pool holds.
func (p *Pool) Known(id cid.Cid) int {
	e := p.entry(id)
	if e == nil {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set == nil {
		return 0
	}
	return e.set.count
}

// Needed returns N, the number of shares of campaign id, or 0 if the pool
// has not seen its manifest.
func (p *Pool) Needed(id cid.Cid) int {
	e := p.entry(id)
	if e == nil {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set == nil {
		return 0
	}
	return e.set.n
}

// Have reports whether the pool holds the verified share at index of
// campaign id.
func (p *Pool) Have(id cid.Cid, index uint32) bool {
	e := p.entry(id)
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set != nil && e.set.has(index)
}

// Shares returns the verified shares of campaign id, sorted by index.
func (p *Pool) Shares(id cid.Cid) []shares.Share {
	e := p.entry(id)
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set == nil {
		return nil
	}
	return e.set.list()
}

// Complete reports whether the pool holds all N shares of campaign id.
func (p *Pool) Complete(id cid.Cid) bool {
	e := p.entry(id)
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set != nil && e.set.complete()
}

// Secret returns the campaign secret x once all N shares are known,
// checked against the manifest's X = x·G. Before that the error wraps
// ErrIncomplete. It never returns a wrong secret.
func (p *Pool) Secret(id cid.Cid) ([shares.ScalarSize]byte, error) {
	p.mu.Lock()
	u, ok := p.unlocked[id]
	p.mu.Unlock()
	if ok {
		return u.secret, nil
	}
	e := p.entry(id)
	if e == nil {
		return [shares.ScalarSize]byte{}, fmt.Errorf("pool: secret of %s: %w", id, ErrNotTracked)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set == nil {
		return [shares.ScalarSize]byte{}, fmt.Errorf("pool: secret of %s: %w", id, ErrNotTracked)
	}
	if !e.set.complete() {
		return [shares.ScalarSize]byte{}, fmt.Errorf("pool: secret of %s: %d of %d shares known: %w", id, e.set.count, e.set.n, ErrIncomplete)
	}
	u, err := combine(e.m, e.set.list())
	if err != nil {
		return [shares.ScalarSize]byte{}, fmt.Errorf("pool: secret of %s: %w", id, err)
	}
	return u.secret, nil
}

// Unlocked returns the content identity of campaign id, derived from its
// secret (seal.IdentityFromSeed of shares.ContentSeed), once the campaign
// is unlocked.
func (p *Pool) Unlocked(id cid.Cid) (*age.X25519Identity, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u, ok := p.unlocked[id]
	return u.identity, ok
}

// Snapshot returns the pool snapshot of campaign id — the verified
// shares the pool holds, sorted by index, in the snapshot format — and
// its CID (CIDv1, raw, sha2-256).
func (p *Pool) Snapshot(id cid.Cid) ([]byte, cid.Cid, error) {
	e := p.entry(id)
	if e == nil {
		return nil, cid.Undef, fmt.Errorf("pool: snapshot of %s: %w", id, ErrNotTracked)
	}
	e.mu.Lock()
	if e.set == nil {
		e.mu.Unlock()
		return nil, cid.Undef, fmt.Errorf("pool: snapshot of %s: %w", id, ErrNotTracked)
	}
	list := e.set.list()
	e.mu.Unlock()
	data := encodeSnapshot(id, list)
	c := snapshotCID(data)
	e.mu.Lock()
	if e.set.count == len(list) {
		e.snapCount, e.snap = len(list), c
	}
	e.mu.Unlock()
	return data, c, nil
}

// snapshotID returns the CID of the current snapshot of id, or cid.Undef
// if the pool holds no share of it.
func (p *Pool) snapshotID(id cid.Cid) cid.Cid {
	e := p.entry(id)
	if e == nil {
		return cid.Undef
	}
	e.mu.Lock()
	if e.set == nil || e.set.count == 0 {
		e.mu.Unlock()
		return cid.Undef
	}
	if e.snap.Defined() && e.snapCount == e.set.count {
		defer e.mu.Unlock()
		return e.snap
	}
	e.mu.Unlock()
	_, c, err := p.Snapshot(id)
	if err != nil {
		return cid.Undef
	}
	return c
}
