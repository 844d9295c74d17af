// Package catalog keeps the campaigns a node knows and spreads them.
//
// A campaign is its signed manifest (package campaign); the catalog accepts
// one only after campaign.Decode has verified it, stores it on disk by its
// ID, and announces it on a gossipsub topic. The creator's signed state
// records (sold, raised, released) travel on the same topic and the newest
// per campaign is kept. Gossip only reaches peers that are subscribed when a
// message is sent, so on every new connection the two peers also exchange
// everything they know over a small stream protocol: a node that joins late
// still learns the whole catalog.
//
// Forged or altered manifests and states are rejected by the topic's
// validator, which costs the sender its gossipsub score, and are never
// stored.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/internal/repo"
)

// Entry is one known campaign.
type Entry struct {
	ID       cid.Cid
	Manifest *campaign.Manifest
	Raw      []byte          // the manifest's canonical bytes
	State    *campaign.State // newest state seen, nil if none
	RawState []byte
}

// Catalog is the set of campaigns a node knows, kept in a directory.
type Catalog struct {
	dir string

	mu      sync.Mutex
	entries map[cid.Cid]*Entry
	notify  []func(Entry)
}

// ErrUnknown is returned for a campaign the catalog does not hold.
var ErrUnknown = errors.New("unknown campaign")

// Open loads the catalog stored in dir, creating dir if needed. Files that no
// longer verify are skipped.
func Open(dir string) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating catalog %s: %w", dir, err)
	}
	c := &Catalog{dir: dir, entries: map[cid.Cid]*Entry{}}
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
	}
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
func (c *Catalog) Add(raw []byte) (Entry, bool, error) {
	m, err := campaign.Decode(raw)
	if err != nil {
		return Entry{}, false, err
	}
	id := campaign.ID(raw)
	c.mu.Lock()
	if e, ok := c.entries[id]; ok {
		c.mu.Unlock()
		return *e, false, nil
	}
	c.mu.Unlock()
	if err := repo.WriteFileAtomic(filepath.Join(c.dir, id.String()+".manifest"), raw, 0o600); err != nil {
		return Entry{}, false, err
	}
	c.mu.Lock()
	if e, ok := c.entries[id]; ok {
		c.mu.Unlock()
		return *e, false, nil
	}
	e := &Entry{ID: id, Manifest: m, Raw: raw}
	c.entries[id] = e
	out, notify := *e, append([]func(Entry){}, c.notify...)
	c.mu.Unlock()
	for _, f := range notify {
		f(out)
	}
	return out, true, nil
}

// AddState verifies a state record of a known campaign and keeps it if it is
// newer than the one held. It reports whether it was kept.
func (c *Catalog) AddState(id cid.Cid, raw []byte) (bool, error) {
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if !ok {
		return false, fmt.Errorf("%w %s", ErrUnknown, id)
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
	if err := repo.WriteFileAtomic(filepath.Join(c.dir, id.String()+".state"), raw, 0o600); err != nil {
		return false, err
	}
	c.mu.Lock()
	if !campaign.Newer(s, e.State) {
		c.mu.Unlock()
		return false, nil
	}
	e.State, e.RawState = s, raw
	out, notify := *e, append([]func(Entry){}, c.notify...)
	c.mu.Unlock()
	for _, f := range notify {
		f(out)
	}
	return true, nil
}

// Get returns a campaign by ID.
func (c *Catalog) Get(id cid.Cid) (Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return Entry{}, fmt.Errorf("%w %s", ErrUnknown, id)
	}
	return *e, nil
}

// List returns every known campaign, newest first.
func (c *Catalog) List() []Entry {
	c.mu.Lock()
	out := make([]Entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, *e)
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
