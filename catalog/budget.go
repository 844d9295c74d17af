package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/peerlimit"
)

// Budget bounds the campaigns of creators the node does not follow that
// the catalog keeps, in memory and on disk. The zero value of a field
// means its default from package peerlimit.
type Budget struct {
	// Campaigns and Bytes bound how many such campaigns are kept and the
	// bytes of their manifests and states.
	Campaigns int
	Bytes     int64
	// PerCreator bounds the campaigns of one creator: more are refused.
	PerCreator int
	// PerSource is the share of the budget the campaigns brought by one
	// peer may keep when others need room: a full budget evicts first
	// from the source holding the most.
	PerSource int
	// Cooldown is how long an evicted campaign is refused while the
	// budget is full, so that syncs do not evict and fetch the same
	// campaigns over and over. It may come back after that, or at once if
	// there is room.
	Cooldown time.Duration
}

func (b *Budget) applyDefaults() {
	if b.Campaigns <= 0 {
		b.Campaigns = peerlimit.UnfollowedCampaigns
	}
	if b.Bytes <= 0 {
		b.Bytes = peerlimit.UnfollowedBytes
	}
	if b.PerCreator <= 0 {
		b.PerCreator = peerlimit.UnfollowedPerCreator
	}
	if b.PerSource <= 0 {
		b.PerSource = max(1, b.Campaigns/4)
	}
	if b.Cooldown <= 0 {
		b.Cooldown = 10 * time.Minute
	}
}

// WithBudget sets the budget of campaigns from creators the node does not
// follow.
func WithBudget(b Budget) Option {
	return func(c *Catalog) { c.budget = b }
}

// WithFollowed sets the predicate that says whether the node follows a
// campaign (its own, bought, opened...): followed campaigns are outside
// the budget and never evicted. It is called with the catalog's lock
// held and must not call back into the catalog.
func WithFollowed(f func(Entry) bool) Option {
	return func(c *Catalog) { c.follows = f }
}

// ErrBudget is wrapped by the errors of Add for a campaign of a creator
// the node does not follow that the budget has no room for. It says
// nothing against the campaign: gossip ignores it without blame.
var ErrBudget = errors.New("catalog: no room for campaigns of creators not followed")

// maxEvicted bounds the remembered evictions.
const maxEvicted = 4096

// meta is what the budget knows of an entry; under Catalog.mu.
type meta struct {
	followed bool
	source   peer.ID // who brought it: "" for this node or its disk
	seq      uint64  // order of arrival
	size     int64   // manifest and state bytes
}

// budgetState is the catalog's accounting of unfollowed campaigns.
type budgetState struct {
	meta       map[cid.Cid]*meta
	count      int
	bytes      int64
	perCreator map[peer.ID]int // unfollowed campaigns per creator
	perSource  map[peer.ID]int // unfollowed campaigns per source
	creators   map[peer.ID]int // all campaigns per creator
	followed   map[peer.ID]bool
	evicted    map[cid.Cid]time.Time
	seq        uint64
	onEvict    []func(cid.Cid)
}

func newBudgetState() budgetState {
	return budgetState{meta: map[cid.Cid]*meta{}, perCreator: map[peer.ID]int{}, perSource: map[peer.ID]int{},
		creators: map[peer.ID]int{}, followed: map[peer.ID]bool{}, evicted: map[cid.Cid]time.Time{}}
}

// OnEvict registers f to be called (outside the catalog's lock) with
// every campaign the budget evicts.
func (c *Catalog) OnEvict(f func(id cid.Cid)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bud.onEvict = append(c.bud.onEvict, f)
}

// Follow takes the creator's campaigns, held and to come, out of the
// budget: the user bought from it or opened one of its works. It lasts
// until the process ends; the WithFollowed predicate is what persists.
func (c *Catalog) Follow(creator peer.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bud.followed[creator] = true
	for id, e := range c.entries {
		if m := c.bud.meta[id]; e.Manifest.Creator == creator && m != nil && !m.followed {
			c.unaccount(e, m)
			m.followed = true
		}
	}
}

// Followed reports whether a held campaign is followed, outside the
// budget.
func (c *Catalog) Followed(id cid.Cid) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.bud.meta[id]
	return m != nil && m.followed
}

// Usage returns how many campaigns of creators not followed the catalog
// holds, and their bytes.
func (c *Catalog) Usage() (campaigns int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bud.count, c.bud.bytes
}

// knowsCreator reports whether the catalog holds a campaign of creator;
// the caller holds c.mu.
func (c *Catalog) knowsCreator(creator peer.ID) bool { return c.bud.creators[creator] > 0 }

// isFollowed says whether e is followed; the caller holds c.mu.
func (c *Catalog) isFollowed(e *Entry) bool {
	return c.bud.followed[e.Manifest.Creator] || (c.follows != nil && c.follows(*e))
}

// account adds a held entry to the books; the caller holds c.mu.
func (c *Catalog) account(e *Entry, source peer.ID) {
	c.bud.seq++
	m := &meta{followed: c.isFollowed(e), source: source, seq: c.bud.seq, size: int64(len(e.Raw) + len(e.RawState))}
	c.bud.meta[e.ID] = m
	c.bud.creators[e.Manifest.Creator]++
	if !m.followed {
		c.bud.count++
		c.bud.bytes += m.size
		c.bud.perCreator[e.Manifest.Creator]++
		c.bud.perSource[source]++
	}
}

// unaccount takes an unfollowed entry out of the budget's sums.
func (c *Catalog) unaccount(e *Entry, m *meta) {
	c.bud.count--
	c.bud.bytes -= m.size
	if c.bud.perCreator[e.Manifest.Creator]--; c.bud.perCreator[e.Manifest.Creator] <= 0 {
		delete(c.bud.perCreator, e.Manifest.Creator)
	}
	if c.bud.perSource[m.source]--; c.bud.perSource[m.source] <= 0 {
		delete(c.bud.perSource, m.source)
	}
}

// resize accounts for a new state of e replacing one of old bytes.
func (c *Catalog) resize(e *Entry, oldState int) {
	m := c.bud.meta[e.ID]
	if m == nil {
		return
	}
	d := int64(len(e.RawState) - oldState)
	m.size += d
	if !m.followed {
		c.bud.bytes += d
	}
}

// admit decides whether an unfollowed campaign of size bytes may be added,
// and which held ones must go to make room; the caller holds c.mu. It
// fails with ErrBudget if the creator has its share already, or the
// campaign was evicted lately and there is no room.
func (c *Catalog) admit(e *Entry, size int64) ([]*Entry, error) {
	if c.isFollowed(e) {
		return nil, nil
	}
	b := &c.budget
	if c.bud.perCreator[e.Manifest.Creator] >= b.PerCreator {
		return nil, ErrBudget
	}
	if size > b.Bytes {
		return nil, ErrBudget
	}
	full := c.bud.count+1 > b.Campaigns || c.bud.bytes+size > b.Bytes
	if at, ok := c.bud.evicted[e.ID]; ok && full && c.now().Sub(at) < b.Cooldown {
		return nil, ErrBudget
	}
	// Victims: the oldest of the source holding the most, again and
	// again, without touching the sums until the caller evicts them.
	var victims []*Entry
	chosen := map[cid.Cid]bool{}
	count, bytes := c.bud.count, c.bud.bytes
	perSource := map[peer.ID]int{}
	for count+1 > b.Campaigns || bytes+size > b.Bytes {
		var top peer.ID
		most := -1
		for s, n := range c.bud.perSource {
			if n -= perSource[s]; n > most || (n == most && s < top) {
				top, most = s, n
			}
		}
		if most <= 0 {
			return nil, ErrBudget
		}
		// Of what top brought, what it relayed goes before what it
		// created itself, each oldest first: a flooder that makes a peer
		// relay its junk must not cost that peer's own works their place.
		var victim *Entry
		var vm *meta
		vFirst := false
		for id, m := range c.bud.meta {
			if m.followed || m.source != top || chosen[id] {
				continue
			}
			e := c.entries[id]
			first := e != nil && e.Manifest.Creator == m.source
			if vm == nil || (!first && vFirst) || (first == vFirst && m.seq < vm.seq) {
				victim, vm, vFirst = e, m, first
			}
		}
		if victim == nil {
			return nil, ErrBudget
		}
		chosen[victim.ID] = true
		victims = append(victims, victim)
		perSource[top]++
		count--
		bytes -= vm.size
	}
	return victims, nil
}

// evict drops entries from memory and disk and remembers them; the
// caller holds c.mu (removing under it keeps a campaign that comes back
// at once from losing its new file) and calls OnEvict's functions after
// releasing it.
func (c *Catalog) evict(victims []*Entry) {
	now := c.now()
	for _, v := range victims {
		m := c.bud.meta[v.ID]
		if m == nil || c.entries[v.ID] != v {
			continue
		}
		c.unaccount(v, m)
		if c.bud.creators[v.Manifest.Creator]--; c.bud.creators[v.Manifest.Creator] <= 0 {
			delete(c.bud.creators, v.Manifest.Creator)
		}
		delete(c.bud.meta, v.ID)
		delete(c.entries, v.ID)
		if len(c.bud.evicted) >= maxEvicted {
			for id, at := range c.bud.evicted {
				if now.Sub(at) >= c.budget.Cooldown || len(c.bud.evicted) >= maxEvicted {
					delete(c.bud.evicted, id)
				}
			}
		}
		c.bud.evicted[v.ID] = now
		os.Remove(filepath.Join(c.dir, v.ID.String()+".manifest"))
		os.Remove(filepath.Join(c.dir, v.ID.String()+".state"))
	}
}

// full reports whether the budget has no room for one more campaign; the
// caller holds c.mu.
func (c *Catalog) full() bool { return c.bud.count+1 > c.budget.Campaigns }

// trim evicts the oldest unfollowed campaigns (by creation) until the
// budget holds; Open calls it after loading, the caller holds c.mu.
func (c *Catalog) trim() []*Entry {
	var list []*Entry
	for id, m := range c.bud.meta {
		if !m.followed {
			list = append(list, c.entries[id])
		}
	}
	slices.SortFunc(list, func(a, b *Entry) int { return a.Manifest.Created.Compare(b.Manifest.Created) })
	var victims []*Entry
	count, bytes := c.bud.count, c.bud.bytes
	for _, e := range list {
		if count <= c.budget.Campaigns && bytes <= c.budget.Bytes {
			break
		}
		victims = append(victims, e)
		count--
		bytes -= c.bud.meta[e.ID].size
	}
	c.evict(victims)
	return victims
}
