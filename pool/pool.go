package pool

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

var (
	// ErrNotTracked is returned for a campaign the pool does not follow:
	// Track it first.
	ErrNotTracked = errors.New("campaign not tracked")
	// ErrIncomplete is returned by Secret while some shares are missing.
	ErrIncomplete = errors.New("shares missing")
)

// verifyChunk is how many stored shares Track verifies per VerifyBatch
// call when it re-checks a shares file: a failing chunk is then verified
// share by share to find the bad ones.
const verifyChunk = 4096

// Pool keeps the shares a node knows for each campaign it follows, in a
// directory. It is safe for concurrent use.
type Pool struct {
	dir string

	mu       sync.Mutex
	closed   bool
	entries  map[cid.Cid]*entry
	tracked  map[cid.Cid]bool
	unlocked map[cid.Cid]unlock
	onUnlock []func(cid.Cid, *age.X25519Identity)
	onTrack  []func(cid.Cid) // for Gossip: tracking of a campaign changed
}

type unlock struct {
	secret   [shares.ScalarSize]byte
	identity *age.X25519Identity
}

// entry is one campaign. wmu serializes writes to its shares file (f,
// size, and the records themselves), so that an fsync holds up neither
// readers nor the verification of other batches; mu guards the rest.
// Lock order: wmu, then mu.
type entry struct {
	id cid.Cid

	wmu     sync.Mutex
	mu      sync.Mutex
	m       *campaign.Manifest  // nil until Track, or until loaded from disk
	c       *shares.Commitments // non-nil while tracked
	set     *shareSet           // verified shares; nil until m is known
	pending []shares.Share      // read from disk, not yet verified
	dirty   bool                // the shares file holds records to drop
	done    bool                // complete: the combine has run
	f       *os.File            // the shares file, open for appending; wmu
	size    int64               // its length; wmu

	snapCount int // snap is the snapshot CID when set held snapCount shares
	snap      cid.Cid
}

// Open opens the pool kept in dir, creating dir if needed, and reloads
// what it holds: campaigns whose stored shares are all there are checked
// against their manifest's secret commitment and unlocked at once; the
// shares of other campaigns are verified when Track is called for them.
func Open(dir string) (*Pool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pool: creating %s: %w", dir, err)
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("pool: reading %s: %w", dir, err)
	}
	p := &Pool{
		dir:      dir,
		entries:  map[cid.Cid]*entry{},
		tracked:  map[cid.Cid]bool{},
		unlocked: map[cid.Cid]unlock{},
	}
	get := func(id cid.Cid) *entry {
		if p.entries[id] == nil {
			p.entries[id] = &entry{id: id}
		}
		return p.entries[id]
	}
	for _, fi := range files {
		name := fi.Name()
		if strings.HasSuffix(name, tmpSuffix) {
			os.Remove(filepath.Join(p.dir, name))
			continue
		}
		base, suffix, _ := strings.Cut(name, ".")
		id, err := cid.Decode(base)
		if err != nil || id.String() != base {
			continue
		}
		switch "." + suffix {
		case manifestSuffix:
			raw, err := os.ReadFile(p.path(id, manifestSuffix))
			if err != nil {
				p.Close()
				return nil, fmt.Errorf("pool: reading %s: %w", name, err)
			}
			m, err := campaign.Decode(raw)
			if err != nil || campaign.ID(raw) != id || m.Model != campaign.ModelShards {
				continue // not ours to keep: Track writes it again
			}
			get(id).m = m
		case sharesSuffix:
			f, size, list, dirty, err := loadShares(p.path(id, sharesSuffix))
			if err != nil {
				p.Close()
				return nil, err
			}
			e := get(id)
			e.f, e.size, e.pending, e.dirty = f, size, list, dirty
		}
	}
	for id, e := range p.entries {
		if e.m == nil {
			continue
		}
		e.set = newShareSet(e.m.Shards)
		if u, ok := e.completeFromDisk(); ok {
			p.unlocked[id] = u
		}
	}
	return p, nil
}

// completeFromDisk unlocks a campaign whose stored shares cover every
// index, if they combine to the secret committed in the manifest; they
// are then known without being verified one by one.
func (e *entry) completeFromDisk() (unlock, bool) {
	if len(e.pending) < e.set.n {
		return unlock{}, false
	}
	list, ok := sortShares(e.pending)
	if !ok || len(list) != e.set.n {
		return unlock{}, false
	}
	u, err := combine(e.m, list)
	if err != nil {
		return unlock{}, false
	}
	for _, s := range list {
		e.set.put(s)
	}
	e.pending, e.done = nil, true
	return u, true
}

// combine rebuilds the secret from all N shares of m and checks it
// against m's secret commitment X; it never returns a wrong secret.
func combine(m *campaign.Manifest, all []shares.Share) (unlock, error) {
	a, err := shares.Sum(all)
	if err != nil {
		return unlock{}, err
	}
	if len(a.Ranges) != 1 || a.Ranges[0] != (shares.Range{Start: 0, End: uint32(m.Shards)}) {
		return unlock{}, fmt.Errorf("pool: %v do not cover all %d shares: %w", a, m.Shards, ErrIncomplete)
	}
	x, err := shares.SecretCommitment(a.Sum)
	if err != nil {
		return unlock{}, err
	}
	if !bytes.Equal(x[:], m.SecretCommitment) {
		return unlock{}, fmt.Errorf("pool: the %d shares do not combine to the secret committed in X: %w", m.Shards, shares.ErrBadShare)
	}
	id, err := seal.IdentityFromSeed(shares.ContentSeed(a.Sum))
	if err != nil {
		return unlock{}, err
	}
	return unlock{secret: a.Sum, identity: id}, nil
}

// Close closes the pool's files. Calls that store shares fail afterwards.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	entries := make([]*entry, 0, len(p.entries))
	for _, e := range p.entries {
		entries = append(entries, e)
	}
	p.mu.Unlock()
	var errs []error
	for _, e := range entries {
		e.wmu.Lock()
		e.mu.Lock()
		if e.f != nil {
			errs = append(errs, e.f.Close())
			e.f = nil
		}
		e.c = nil
		e.mu.Unlock()
		e.wmu.Unlock()
	}
	return errors.Join(errs...)
}

func (p *Pool) entry(id cid.Cid) *entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.entries[id]
}

// Track starts following campaign id, whose decoded manifest is m and
// whose commitments c come from m.OpenCommitments (which has run
// Commitments.Check). Shares stored by an earlier run are verified now,
// about 10 µs each on two cores; any that fail are dropped from disk.
// Tracking a campaign twice does nothing.
func (p *Pool) Track(id cid.Cid, m *campaign.Manifest, c *shares.Commitments) error {
	if m == nil || c == nil {
		return fmt.Errorf("pool: tracking %s: no manifest or commitments", id)
	}
	if m.Model != campaign.ModelShards {
		return fmt.Errorf("pool: tracking %s: model %s has no shares", id, m.Model)
	}
	if x := c.X(); c.N() != m.Shards || !bytes.Equal(x[:], m.SecretCommitment) {
		return fmt.Errorf("pool: tracking %s: commitments are not the manifest's", id)
	}
	raw, got, err := campaign.Encode(m)
	if err != nil {
		return fmt.Errorf("pool: tracking %s: %w", id, err)
	}
	if got != id {
		return fmt.Errorf("pool: tracking %s: the manifest is campaign %s", id, got)
	}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return fmt.Errorf("pool: tracking %s: pool closed", id)
	}
	e := p.entries[id]
	if e == nil {
		e = &entry{id: id}
		p.entries[id] = e
	}
	p.mu.Unlock()

	e.wmu.Lock()
	e.mu.Lock()
	if e.c != nil {
		e.mu.Unlock()
		e.wmu.Unlock()
		return nil
	}
	u, unlocked, err := p.track(e, m, c, raw)
	e.mu.Unlock()
	e.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("pool: tracking %s: %w", id, err)
	}

	p.mu.Lock()
	p.tracked[id] = true
	hooks := slices.Clone(p.onTrack)
	p.mu.Unlock()
	for _, h := range hooks {
		h(id)
	}
	if unlocked {
		p.unlock(id, u)
	}
	return nil
}

// track does Track's work on e, whose locks the caller holds.
func (p *Pool) track(e *entry, m *campaign.Manifest, c *shares.Commitments, raw []byte) (unlock, bool, error) {
	if e.m == nil {
		if err := atomicfile.WriteFile(p.path(e.id, manifestSuffix), raw, 0o600); err != nil {
			return unlock{}, false, fmt.Errorf("pool: %w", err)
		}
		e.m = m
		e.set = newShareSet(m.Shards)
	}
	if len(e.pending) > 0 || e.dirty {
		for lo := 0; lo < len(e.pending); lo += verifyChunk {
			chunk := e.pending[lo:min(lo+verifyChunk, len(e.pending))]
			batchOK := c.VerifyBatch(chunk) == nil
			for _, s := range chunk {
				switch {
				case e.set.has(s.Index):
					e.dirty = true // a duplicate
				case batchOK || c.Verify(s) == nil:
					e.set.put(s)
				default:
					e.dirty = true
				}
			}
		}
		e.pending = nil
		if e.dirty {
			if err := p.rewriteShares(e, e.set.list()); err != nil {
				return unlock{}, false, err
			}
			e.dirty = false
		}
	}
	e.c = c
	return e.completeIfAll()
}

// completeIfAll combines the shares once all are known, the first time.
// The caller holds e.mu.
func (e *entry) completeIfAll() (unlock, bool, error) {
	if e.done || !e.set.complete() {
		return unlock{}, false, nil
	}
	u, err := combine(e.m, e.set.list())
	if err != nil {
		// Unreachable with commitments that passed Check: every share
		// was verified. Secret reports the error.
		return unlock{}, false, nil
	}
	e.done = true
	return u, true, nil
}

// Untrack stops following campaign id: Add refuses its shares and Gossip
// leaves its topic. What is stored stays and is served.
func (p *Pool) Untrack(id cid.Cid) {
	e := p.entry(id)
	if e == nil {
		return
	}
	e.mu.Lock()
	e.c = nil
	e.mu.Unlock()
	p.mu.Lock()
	delete(p.tracked, id)
	hooks := slices.Clone(p.onTrack)
	p.mu.Unlock()
	for _, h := range hooks {
		h(id)
	}
}

// Forget stops following campaign id and deletes what the pool holds of
// it, in memory and on disk: for a campaign the node no longer keeps (its
// catalog evicted it), whose shares would otherwise stay for ever.
func (p *Pool) Forget(id cid.Cid) error {
	p.Untrack(id)
	p.mu.Lock()
	e := p.entries[id]
	delete(p.entries, id)
	p.mu.Unlock()
	var errs []error
	if e != nil {
		e.wmu.Lock()
		e.mu.Lock()
		if e.f != nil {
			errs = append(errs, e.f.Close())
			e.f = nil
		}
		e.mu.Unlock()
		e.wmu.Unlock()
	}
	for _, suffix := range []string{manifestSuffix, sharesSuffix} {
		if err := os.Remove(p.path(id, suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pool: forgetting %s: %w", id, err)
	}
	return nil
}

// isTracked reports whether id is tracked now.
func (p *Pool) isTracked(id cid.Cid) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tracked[id]
}

// watchTracking calls fn with the ID of every campaign whose tracking
// changes from now on, and returns the campaigns tracked now.
func (p *Pool) watchTracking(fn func(cid.Cid)) []cid.Cid {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onTrack = append(p.onTrack, fn)
	ids := make([]cid.Cid, 0, len(p.tracked))
	for id := range p.tracked {
		ids = append(ids, id)
	}
	return ids
}

// Add verifies shares of campaign id against its commitments and stores
// the ones the pool did not know, durably, before returning how many that
// was. It is all or nothing: if any share is invalid (VerifyBatch fails,
// or it differs from the known share at its index) none is stored and the
// error wraps shares.ErrBadShare. Shares already known cost no group
// operation. Adding the last missing share unlocks the campaign.
func (p *Pool) Add(id cid.Cid, list []shares.Share) (int, error) {
	e := p.entry(id)
	if e == nil {
		return 0, fmt.Errorf("pool: adding shares of %s: %w", id, ErrNotTracked)
	}
	e.mu.Lock()
	fresh, err := e.unknown(list)
	c := e.c
	e.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("pool: adding shares of %s: %w", id, err)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	if c == nil {
		return 0, fmt.Errorf("pool: adding shares of %s: %w", id, ErrNotTracked)
	}
	if err := c.VerifyBatch(fresh); err != nil {
		return 0, fmt.Errorf("pool: adding shares of %s: %w", id, err)
	}

	e.wmu.Lock()
	e.mu.Lock()
	// Another Add may have stored some of them meanwhile; none can now.
	fresh, err = e.unknown(fresh)
	tracked := e.c != nil
	e.mu.Unlock()
	if err == nil && len(fresh) > 0 {
		if !tracked {
			err = ErrNotTracked
		} else {
			err = p.appendShares(e, fresh)
		}
	}
	if err != nil {
		e.wmu.Unlock()
		return 0, fmt.Errorf("pool: adding shares of %s: %w", id, err)
	}
	e.mu.Lock()
	for _, s := range fresh {
		e.set.put(s)
	}
	u, unlocked, _ := e.completeIfAll()
	e.mu.Unlock()
	e.wmu.Unlock()
	if unlocked {
		p.unlock(id, u)
	}
	return len(fresh), nil
}

// unknown returns the shares of list that e does not hold, sorted, with
// duplicates removed. A share that differs from the one e holds at its
// index, or from another in list, is an error wrapping ErrBadShare. The
// caller holds e.mu.
func (e *entry) unknown(list []shares.Share) ([]shares.Share, error) {
	sorted, ok := sortShares(list)
	if !ok {
		return nil, fmt.Errorf("two different shares at one index: %w", shares.ErrBadShare)
	}
	if e.set == nil {
		if len(sorted) == 0 {
			return nil, nil
		}
		return nil, ErrNotTracked
	}
	out := sorted[:0]
	for _, s := range sorted {
		v, ok := e.set.value(s.Index)
		if !ok {
			out = append(out, s)
			continue
		}
		if v != s.Value {
			return nil, fmt.Errorf("%v differs from the verified share at its index: %w", s, shares.ErrBadShare)
		}
	}
	return out, nil
}

// unlock records the unlock of id and calls the OnUnlock callbacks, once.
func (p *Pool) unlock(id cid.Cid, u unlock) {
	p.mu.Lock()
	if _, ok := p.unlocked[id]; ok {
		p.mu.Unlock()
		return
	}
	p.unlocked[id] = u
	fns := slices.Clone(p.onUnlock)
	p.mu.Unlock()
	for _, fn := range fns {
		fn(id, u.identity)
	}
}

// OnUnlock registers fn, called once per campaign with the content
// identity when the campaign's last share arrives; it is called at once
// (before OnUnlock returns) for the campaigns already unlocked, such as
// those Open found complete. fn runs on the goroutine that completed the
// campaign (Add, Track, a gossip validator), so it should not block.
func (p *Pool) OnUnlock(fn func(id cid.Cid, identity *age.X25519Identity)) {
	p.mu.Lock()
	p.onUnlock = append(p.onUnlock, fn)
	done := make(map[cid.Cid]*age.X25519Identity, len(p.unlocked))
	for id, u := range p.unlocked {
		done[id] = u.identity
	}
	p.mu.Unlock()
	for id, identity := range done {
		fn(id, identity)
	}
}
