package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/internal/peerlimit"
	"github.com/shardcast/shardcast/shares"
)

// shardsState is what flow keeps in memory about shards campaigns.
type shardsState struct {
	mu          sync.Mutex
	commitments map[cid.Cid]*shares.Commitments
	tracking    map[cid.Cid]*tracked
	queue       []cid.Cid // campaigns waiting for a tracking worker
	workers     int       // tracking workers running, at most peerlimit.TrackWorkers
	pools       int       // pools tracked of campaigns not followed
}

// tracked is where the tracking of one campaign stands.
type tracked struct {
	attempts int
	pool     bool // its pool is tracked
	followed bool // counted outside pools
}

// commitmentsOf returns a shards campaign's checked commitments, fetching
// them once, if the campaign has at most maxShares shares (else an error
// wrapping campaign.ErrTooLarge). The file is read in one stream of the
// size the manifest implies, after checking its size (see
// campaign.Manifest.ReadCommitments).
func (f *Flow) commitmentsOf(ctx context.Context, e catalog.Entry, maxShares int) (*shares.Commitments, error) {
	f.shards.mu.Lock()
	c := f.shards.commitments[e.ID]
	f.shards.mu.Unlock()
	if c != nil {
		return c, nil
	}
	if e.Manifest.Shards > maxShares {
		return nil, fmt.Errorf("campaign %s of %d shares, more than the %d loaded here: %w", e.ID, e.Manifest.Shards, maxShares, campaign.ErrTooLarge)
	}
	r, size, err := f.p.Blocks.Fetch(ctx, e.Manifest.Commitments)
	if err != nil {
		return nil, fmt.Errorf("fetching the commitments of %s: %w", e.ID, err)
	}
	c, err = e.Manifest.ReadCommitments(r, size, maxShares)
	if err != nil {
		return nil, fmt.Errorf("fetching the commitments of %s: %w", e.ID, err)
	}
	f.shards.mu.Lock()
	f.shards.commitments[e.ID] = c
	f.shards.mu.Unlock()
	return c, nil
}

// shareCap is the largest N whose commitments the node loads for a
// campaign: any for those it follows, peerlimit.MaxUnfollowedShares for
// the others.
func (f *Flow) shareCap(id cid.Cid) int {
	if f.p.Catalog.Followed(id) {
		return campaign.MaxShares
	}
	return peerlimit.MaxUnfollowedShares
}

// Track queues a shards campaign for a tracking worker, which fetches its
// commitments and follows its pool. At most peerlimit.TrackWorkers
// workers run, whatever the number of campaigns; a campaign whose
// commitments cannot be fetched is tried peerlimit.TrackAttempts times
// with a growing backoff (a timer, not a goroutine, waits), then dropped
// until the catalog hears of it again. The pools of at most
// peerlimit.UnfollowedPools campaigns the node does not follow are
// tracked. The catalog calls it for each campaign it learns.
func (f *Flow) Track(e catalog.Entry) {
	if e.Manifest.Model != campaign.ModelShards {
		return
	}
	f.shards.mu.Lock()
	defer f.shards.mu.Unlock()
	if f.shards.tracking[e.ID] != nil {
		return
	}
	f.shards.tracking[e.ID] = &tracked{}
	f.enqueue(e.ID)
}

// enqueue hands a campaign to a tracking worker, starting one if fewer
// than peerlimit.TrackWorkers run; the caller holds f.shards.mu.
func (f *Flow) enqueue(id cid.Cid) {
	if f.ctx.Err() != nil {
		return
	}
	f.shards.queue = append(f.shards.queue, id)
	if f.shards.workers >= peerlimit.TrackWorkers {
		return
	}
	f.shards.workers++
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		f.shards.workers--
		return
	}
	f.wg.Add(1)
	go f.trackWorker()
}

func (f *Flow) trackWorker() {
	defer f.wg.Done()
	for {
		f.shards.mu.Lock()
		if len(f.shards.queue) == 0 || f.ctx.Err() != nil {
			f.shards.workers--
			f.shards.mu.Unlock()
			return
		}
		id := f.shards.queue[0]
		f.shards.queue = f.shards.queue[1:]
		f.shards.mu.Unlock()
		f.trackOnce(id)
	}
}

// trackOnce makes one attempt at following a campaign's pool.
func (f *Flow) trackOnce(id cid.Cid) {
	e, err := f.p.Catalog.Get(id)
	followed := f.p.Catalog.Followed(id)
	f.shards.mu.Lock()
	t := f.shards.tracking[id]
	if err != nil || t == nil || t.pool {
		if err != nil && t != nil {
			delete(f.shards.tracking, id) // evicted meanwhile
		}
		f.shards.mu.Unlock()
		return
	}
	if !followed && f.shards.pools >= peerlimit.UnfollowedPools {
		// No room: dropped until the catalog hears of it again, or the
		// user follows it.
		delete(f.shards.tracking, id)
		f.shards.mu.Unlock()
		return
	}
	f.shards.mu.Unlock()

	ctx, cancel := context.WithTimeout(f.ctx, time.Minute)
	c, err := f.commitmentsOf(ctx, e, f.shareCap(id))
	cancel()
	f.shards.mu.Lock()
	defer f.shards.mu.Unlock()
	if f.shards.tracking[id] != t {
		return // evicted meanwhile
	}
	switch {
	case err == nil:
		if !followed {
			if f.shards.pools >= peerlimit.UnfollowedPools {
				delete(f.shards.tracking, id)
				return
			}
			f.shards.pools++
		}
		t.pool, t.followed = true, followed
		if err := f.p.Pool.Track(id, e.Manifest, c); err != nil {
			f.p.Log.Warn("tracking the share pool", "campaign", id, "err", err)
		}
	case errors.Is(err, campaign.ErrBadManifest):
		f.p.Log.Warn("campaign with bad commitments", "campaign", id, "err", err)
		t.pool = false
		t.attempts = peerlimit.TrackAttempts // never again while held
	case errors.Is(err, campaign.ErrTooLarge):
		f.p.Log.Debug("not tracking a large campaign the node does not follow", "campaign", id, "shares", e.Manifest.Shards)
		delete(f.shards.tracking, id)
	default:
		t.attempts++
		if t.attempts >= peerlimit.TrackAttempts {
			f.p.Log.Debug("giving up fetching commitments for now", "campaign", id, "err", err)
			delete(f.shards.tracking, id)
			return
		}
		wait := min(peerlimit.TrackBackoff<<(t.attempts-1), peerlimit.TrackMaxBackoff)
		time.AfterFunc(wait, func() {
			f.shards.mu.Lock()
			defer f.shards.mu.Unlock()
			if f.shards.tracking[id] == t {
				f.enqueue(id)
			}
		})
	}
}

// Untrack forgets a campaign the catalog evicted: it leaves its pool and
// deletes the shares stored of it.
func (f *Flow) Untrack(id cid.Cid) {
	f.shards.mu.Lock()
	t := f.shards.tracking[id]
	delete(f.shards.tracking, id)
	delete(f.shards.commitments, id)
	if t != nil && t.pool && !t.followed {
		f.shards.pools--
	}
	f.shards.mu.Unlock()
	if err := f.p.Pool.Forget(id); err != nil {
		f.p.Log.Warn("forgetting the pool of an evicted campaign", "campaign", id, "err", err)
	}
}

// follow takes a campaign's creator out of the catalog's budget (the user
// buys from it or opens its work) and tracks the campaign's pool, even if
// the pools of campaigns not followed are full.
func (f *Flow) follow(e catalog.Entry) {
	f.p.Catalog.Follow(e.Manifest.Creator)
	if e.Manifest.Model != campaign.ModelShards {
		return
	}
	f.shards.mu.Lock()
	defer f.shards.mu.Unlock()
	t := f.shards.tracking[e.ID]
	switch {
	case t == nil:
		f.shards.tracking[e.ID] = &tracked{}
		f.enqueue(e.ID)
	case t.pool && !t.followed:
		t.followed = true
		f.shards.pools--
	}
}

// Unlocked stores the identity the pool rebuilt for a campaign: from now
// on this node can decrypt it. The pool calls it on each unlock.
func (f *Flow) Unlocked(id cid.Cid, ident *age.X25519Identity) {
	e, err := f.p.Catalog.Get(id)
	if err != nil {
		f.p.Log.Warn("unlocked campaign not in the catalog", "campaign", id)
		return
	}
	if err := f.p.Keys.SaveContentKey(e.Manifest.Content, ident); err != nil {
		f.p.Log.Warn("storing the unlocked key", "campaign", id, "err", err)
		return
	}
	f.p.Log.Info("campaign unlocked", "campaign", id, "title", e.Manifest.Title)
	if e.Manifest.Creator == f.p.Self {
		// The creator's state says so, for nodes that hold no share.
		f.goAsync(func(ctx context.Context) { f.publishState(ctx, id) })
	}
}

// publishShares adds shares to the pool and gossips them.
func (f *Flow) publishShares(ctx context.Context, id cid.Cid, list []shares.Share) error {
	if len(list) == 0 {
		return nil
	}
	if _, err := f.p.Pool.Add(id, list); err != nil {
		return err
	}
	for len(list) > 0 {
		batch := list[:min(len(list), 1000)]
		list = list[len(batch):]
		if err := f.p.Pool.Publish(ctx, id, batch); err != nil {
			return err
		}
	}
	return nil
}

// publishSold publishes, on the creator's node, the sold shares of a
// campaign that the pool does not hold yet.
func (f *Flow) publishSold(ctx context.Context, id cid.Cid) {
	e, err := f.p.Catalog.Get(id)
	if err != nil || e.Manifest.Model != campaign.ModelShards || e.Manifest.Creator != f.p.Self {
		return
	}
	sold, err := f.p.Ledger.Sold(ctx, id)
	if err != nil {
		f.p.Log.Warn("reading sold shares", "campaign", id, "err", err)
		return
	}
	f.publishOwn(ctx, e, sold)
}

// publishOwn publishes the creator's shares at the given indices that the
// pool lacks.
func (f *Flow) publishOwn(ctx context.Context, e catalog.Entry, indices []uint32) int {
	var list []shares.Share
	for _, i := range indices {
		if f.p.Pool.Have(e.ID, i) {
			continue
		}
		s, err := f.p.Keys.Share(e.Manifest.Content, i)
		if err != nil {
			f.p.Log.Warn("reading own share", "campaign", e.ID, "index", i, "err", err)
			return 0
		}
		list = append(list, s)
	}
	if err := f.publishShares(ctx, e.ID, list); err != nil {
		f.p.Log.Warn("publishing shares", "campaign", e.ID, "err", err)
		return 0
	}
	return len(list)
}
