package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/internal/atomicfile"
)

// Entry is one known campaign.
type Entry struct {
	ID       cid.Cid
	Manifest *campaign.Manifest
	Raw      []byte          // the manifest's canonical bytes
	State    *campaign.State // newest state seen, nil if none
	RawState []byte
	// Rejected is why the campaign's creator stands accused by a proof of
	// misbehaviour, "" when it does not.
	Rejected string
}

// Catalog is the set of campaigns a node knows, kept in a directory.
type Catalog struct {
	dir    string
	verify ProofVerifier
	sem    chan struct{}    // bounds the verifier calls under way
	now    func() time.Time // the clock of remembered verdicts

	budget  Budget
	follows func(Entry) bool

	mu      sync.Mutex
	entries map[cid.Cid]*Entry
	notify  []func(Entry)
	proofs  proofSet
	bud     budgetState
}

// ErrUnknown is returned for a campaign the catalog does not hold.
var ErrUnknown = errors.New("unknown campaign")

// ErrRejected is wrapped by the errors of Add and AddState for a creator
// that a proof of misbehaviour accuses.
var ErrRejected = errors.New("creator rejected for misbehaviour")

// An Option configures Open.
type Option func(*Catalog)

// WithProofVerifier sets the verifier of proofs of misbehaviour. Without
// one the catalog still honours the proofs it holds on disk, but accepts
// no new ones.
func WithProofVerifier(v ProofVerifier) Option {
	return func(c *Catalog) { c.verify = v }
}

// Open loads the catalog stored in dir, creating dir if needed. Files that no
// longer verify are skipped.
func Open(dir string, opts ...Option) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating catalog %s: %w", dir, err)
	}
	c := &Catalog{dir: dir, entries: map[cid.Cid]*Entry{}, sem: make(chan struct{}, maxVerifying),
		now: time.Now, proofs: newProofSet(), bud: newBudgetState()}
	for _, o := range opts {
		o(c)
	}
	c.budget.applyDefaults()
	if err := c.loadProofs(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading catalog %s: %w", dir, err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".manifest")
		if !ok {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading catalog: %w", err)
		}
		m, err := campaign.Decode(raw)
		if err != nil || campaign.ID(raw).String() != name {
			continue
		}
		id := campaign.ID(raw)
		ent := &Entry{ID: id, Manifest: m, Raw: raw}
		if st, err := os.ReadFile(filepath.Join(dir, name+".state")); err == nil {
			if s, err := campaign.DecodeState(st, id, m); err == nil {
				ent.State, ent.RawState = s, st
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading catalog: %w", err)
		}
		c.entries[id] = ent
		c.account(ent, "")
	}
	c.trim()
	return c, nil
}

// OnNew registers f to be called (outside the catalog's lock) with every
// campaign or state the catalog learns from now on.
func (c *Catalog) OnNew(f func(Entry)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notify = append(c.notify, f)
}

// Add verifies a manifest and stores it. It reports whether it was new.
// Manifests of a creator that a proof accuses are refused with an error
// wrapping ErrRejected, even those the catalog already holds. A campaign
// of a creator the node does not follow (WithFollowed, Follow) is kept
// within the Budget: it may evict others, or be refused with an error
// wrapping ErrBudget.
func (c *Catalog) Add(raw []byte) (Entry, bool, error) {
	return c.add(raw, "")
}

// add is Add for a manifest that source brought ("" for this node).
func (c *Catalog) add(raw []byte, source peer.ID) (Entry, bool, error) {
	if len(raw) > campaign.MaxManifestSize {
		return Entry{}, false, fmt.Errorf("%w: manifest of %d bytes", campaign.ErrBadManifest, len(raw))
	}
	id := campaign.ID(raw)
	c.mu.Lock()
	if e, ok := c.entries[id]; ok {
		// Known: no need to verify the signature again.
		err := c.refused(id, e.Manifest)
		out := c.marked(e)
		c.mu.Unlock()
		if err != nil {
			return Entry{}, false, err
		}
		return out, false, nil
	}
	if at, ok := c.bud.evicted[id]; ok && c.full() && c.now().Sub(at) < c.budget.Cooldown {
		c.mu.Unlock()
		return Entry{}, false, fmt.Errorf("campaign %s: %w", id, ErrBudget)
	}
	c.mu.Unlock()
	m, err := campaign.Decode(raw)
	if err != nil {
		return Entry{}, false, err
	}
	e := &Entry{ID: id, Manifest: m, Raw: raw}
	c.mu.Lock()
	if err := c.refused(id, m); err != nil {
		c.mu.Unlock()
		return Entry{}, false, err
	}
	if _, err := c.admit(e, int64(len(raw))); err != nil {
		c.mu.Unlock()
		return Entry{}, false, fmt.Errorf("campaign %s by %s: %w", id, m.Creator, err)
	}
	c.mu.Unlock()
	path := filepath.Join(c.dir, id.String()+".manifest")
	if err := atomicfile.WriteFile(path, raw, 0o600); err != nil {
		return Entry{}, false, err
	}
	c.mu.Lock()
	if e, ok := c.entries[id]; ok {
		out := c.marked(e)
		c.mu.Unlock()
		return out, false, nil
	}
	victims, err := c.admit(e, int64(len(raw)))
	if err != nil {
		os.Remove(path)
		c.mu.Unlock()
		return Entry{}, false, fmt.Errorf("campaign %s by %s: %w", id, m.Creator, err)
	}
	c.evict(victims)
	// A proof accepted since the check above leaves the entry marked.
	c.entries[id] = e
	c.account(e, source)
	out, notify, evicted := c.marked(e), append([]func(Entry){}, c.notify...), slices.Clone(c.bud.onEvict)
	c.mu.Unlock()
	for _, v := range victims {
		for _, f := range evicted {
			f(v.ID)
		}
	}
	for _, f := range notify {
		f(out)
	}
	return out, true, nil
}

// refused returns an error wrapping ErrRejected if a proof accuses the
// creator of m; the caller holds c.mu.
func (c *Catalog) refused(id cid.Cid, m *campaign.Manifest) error {
	if p, ok := c.proofs.bans[m.Creator]; ok {
		return fmt.Errorf("campaign %s by %s: %w: %s", id, m.Creator, ErrRejected, p.reason)
	}
	return nil
}

// marked returns a copy of e with Rejected filled in; the caller holds c.mu.
func (c *Catalog) marked(e *Entry) Entry {
	out := *e
	if p, ok := c.proofs.bans[e.Manifest.Creator]; ok {
		out.Rejected = p.reason
	}
	return out
}

// AddState verifies a state record of a known campaign and keeps it if it is
// newer than the one held. It reports whether it was kept. States of a
// creator that a proof accuses are refused with an error wrapping
// ErrRejected.
func (c *Catalog) AddState(id cid.Cid, raw []byte) (bool, error) {
	c.mu.Lock()
	e, ok := c.entries[id]
	var err error
	if ok {
		err = c.refused(id, e.Manifest)
	}
	c.mu.Unlock()
	if !ok {
		return false, fmt.Errorf("%w %s", ErrUnknown, id)
	}
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	same := bytes.Equal(raw, e.RawState)
	c.mu.Unlock()
	if same {
		return false, nil // held already: no need to verify it again
	}
	s, err := campaign.DecodeState(raw, id, e.Manifest)
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	if !campaign.Newer(s, e.State) {
		c.mu.Unlock()
		return false, nil
	}
	c.mu.Unlock()
	if err := atomicfile.WriteFile(filepath.Join(c.dir, id.String()+".state"), raw, 0o600); err != nil {
		return false, err
	}
	c.mu.Lock()
	if c.entries[id] != e { // evicted meanwhile
		os.Remove(filepath.Join(c.dir, id.String()+".state"))
		c.mu.Unlock()
		return false, nil
	}
	if !campaign.Newer(s, e.State) {
		c.mu.Unlock()
		return false, nil
	}
	old := len(e.RawState)
	e.State, e.RawState = s, raw
	c.resize(e, old)
	out, notify := c.marked(e), append([]func(Entry){}, c.notify...)
	c.mu.Unlock()
	for _, f := range notify {
		f(out)
	}
	return true, nil
}

// Get returns a campaign by ID, with Rejected set if its creator stands
// accused.
func (c *Catalog) Get(id cid.Cid) (Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return Entry{}, fmt.Errorf("%w %s", ErrUnknown, id)
	}
	return c.marked(e), nil
}

// List returns every known campaign, newest first, with Rejected set on
// those whose creator stands accused.
func (c *Catalog) List() []Entry {
	c.mu.Lock()
	out := make([]Entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, c.marked(e))
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Manifest.Created, out[j].Manifest.Created
		if !a.Equal(b) {
			return a.After(b)
		}
		return out[i].ID.String() < out[j].ID.String()
	})
	return out
}
