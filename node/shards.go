package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/internal/peerlimit"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// Repo directories of the shards model.
const (
	poolDir = "pool"
)

// shardsState is what the node keeps in memory about shards campaigns.
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

// publishShards splits a fresh secret into n shares, encrypts the content to
// the identity derived from it, stores the shares and commitments, and
// fills in the manifest's shards fields. Everything secret is on disk before
// the manifest exists.
func (n *Node) publishShards(ctx context.Context, m *campaign.Manifest, r io.Reader) error {
	if m.Shards <= 0 && m.Price > 0 && m.Goal > 0 {
		k, err := campaign.SharesForGoal(m.Goal, m.Price)
		if err != nil {
			return err
		}
		m.Shards = k
	}
	if m.Shards <= 0 {
		return fmt.Errorf("%w: a shards campaign needs --shards N or --goal", campaign.ErrBadManifest)
	}
	if m.Deadline.IsZero() {
		return fmt.Errorf("%w: a shards campaign needs a --deadline", campaign.ErrBadManifest)
	}
	if m.Shortfall == "" {
		m.Shortfall = campaign.ShortfallRelease
	}
	secret, list, c, err := shares.Split(rand.Reader, m.Shards)
	if err != nil {
		return fmt.Errorf("splitting the key into %d shares: %w", m.Shards, err)
	}
	id, err := seal.IdentityFromSeed(shares.ContentSeed(secret))
	if err != nil {
		return err
	}
	cr := &countReader{r: r}
	enc, err := seal.EncryptReader(cr, id.Recipient())
	if err != nil {
		return fmt.Errorf("encrypting content: %w", err)
	}
	contentCID, _, err := content.Import(ctx, n.store.Blocks, enc)
	enc.Close()
	if err != nil {
		return fmt.Errorf("importing encrypted content: %w", err)
	}
	if err := n.keys.SaveShares(contentCID, list); err != nil {
		return err
	}
	if err := n.SaveContentKey(contentCID, id); err != nil {
		return err
	}
	cbytes, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	ccid, _, err := content.Import(ctx, n.store.Blocks, bytes.NewReader(cbytes))
	if err != nil {
		return fmt.Errorf("storing commitments: %w", err)
	}
	x := c.X()
	m.Content, m.ContentSize = contentCID, cr.n
	m.Commitments, m.SecretCommitment = ccid, x[:]
	if err := n.prov.add(ccid); err != nil {
		n.log.Warn("recording root to announce", "cid", ccid, "err", err)
	}
	return nil
}

// ownShare reads share index of one of this node's shards campaigns.
func (n *Node) ownShare(m *campaign.Manifest, index uint32) (shares.Share, error) {
	return n.keys.Share(m.Content, index)
}

// commitmentsOf returns a shards campaign's checked commitments, fetching
// them once, if the campaign has at most maxShares shares (else an error
// wrapping campaign.ErrTooLarge). The file is read in one stream of the
// size the manifest implies, after checking its size (see
// campaign.Manifest.ReadCommitments).
func (n *Node) commitmentsOf(ctx context.Context, e catalog.Entry, maxShares int) (*shares.Commitments, error) {
	n.shards.mu.Lock()
	c := n.shards.commitments[e.ID]
	n.shards.mu.Unlock()
	if c != nil {
		return c, nil
	}
	if e.Manifest.Shards > maxShares {
		return nil, fmt.Errorf("campaign %s of %d shares, more than the %d loaded here: %w", e.ID, e.Manifest.Shards, maxShares, campaign.ErrTooLarge)
	}
	f, err := n.Open(ctx, e.Manifest.Commitments)
	if err != nil {
		return nil, fmt.Errorf("fetching the commitments of %s: %w", e.ID, err)
	}
	c, err = e.Manifest.ReadCommitments(f.NewReader(ctx, 0, -1), f.Size(), maxShares)
	if err != nil {
		return nil, fmt.Errorf("fetching the commitments of %s: %w", e.ID, err)
	}
	n.shards.mu.Lock()
	n.shards.commitments[e.ID] = c
	n.shards.mu.Unlock()
	return c, nil
}

// shareCap is the largest N whose commitments the node loads for a
// campaign: any for those it follows, peerlimit.MaxUnfollowedShares for
// the others.
func (n *Node) shareCap(id cid.Cid) int {
	if n.catalog.Followed(id) {
		return campaign.MaxShares
	}
	return peerlimit.MaxUnfollowedShares
}

// track queues a shards campaign for a tracking worker, which fetches its
// commitments and follows its pool. At most peerlimit.TrackWorkers
// workers run, whatever the number of campaigns; a campaign whose
// commitments cannot be fetched is tried peerlimit.TrackAttempts times
// with a growing backoff (a timer, not a goroutine, waits), then dropped
// until the catalog hears of it again. The pools of at most
// peerlimit.UnfollowedPools campaigns the node does not follow are
// tracked.
func (n *Node) track(e catalog.Entry) {
	if e.Manifest.Model != campaign.ModelShards || n.pool == nil {
		return
	}
	n.shards.mu.Lock()
	defer n.shards.mu.Unlock()
	if n.shards.tracking[e.ID] != nil {
		return
	}
	n.shards.tracking[e.ID] = &tracked{}
	n.enqueue(e.ID)
}

// enqueue hands a campaign to a tracking worker, starting one if fewer
// than peerlimit.TrackWorkers run; the caller holds n.shards.mu.
func (n *Node) enqueue(id cid.Cid) {
	if n.ctx.Err() != nil {
		return
	}
	n.shards.queue = append(n.shards.queue, id)
	if n.shards.workers >= peerlimit.TrackWorkers {
		return
	}
	n.shards.workers++
	n.wg.Add(1)
	go n.trackWorker()
}

func (n *Node) trackWorker() {
	defer n.wg.Done()
	for {
		n.shards.mu.Lock()
		if len(n.shards.queue) == 0 || n.ctx.Err() != nil {
			n.shards.workers--
			n.shards.mu.Unlock()
			return
		}
		id := n.shards.queue[0]
		n.shards.queue = n.shards.queue[1:]
		n.shards.mu.Unlock()
		n.trackOnce(id)
	}
}

// trackOnce makes one attempt at following a campaign's pool.
func (n *Node) trackOnce(id cid.Cid) {
	e, err := n.catalog.Get(id)
	followed := n.catalog.Followed(id)
	n.shards.mu.Lock()
	t := n.shards.tracking[id]
	if err != nil || t == nil || t.pool {
		if err != nil && t != nil {
			delete(n.shards.tracking, id) // evicted meanwhile
		}
		n.shards.mu.Unlock()
		return
	}
	if !followed && n.shards.pools >= peerlimit.UnfollowedPools {
		// No room: dropped until the catalog hears of it again, or the
		// user follows it.
		delete(n.shards.tracking, id)
		n.shards.mu.Unlock()
		return
	}
	n.shards.mu.Unlock()

	ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
	c, err := n.commitmentsOf(ctx, e, n.shareCap(id))
	cancel()
	n.shards.mu.Lock()
	defer n.shards.mu.Unlock()
	if n.shards.tracking[id] != t {
		return // evicted meanwhile
	}
	switch {
	case err == nil:
		if !followed {
			if n.shards.pools >= peerlimit.UnfollowedPools {
				delete(n.shards.tracking, id)
				return
			}
			n.shards.pools++
		}
		t.pool, t.followed = true, followed
		if err := n.pool.Track(id, e.Manifest, c); err != nil {
			n.log.Warn("tracking the share pool", "campaign", id, "err", err)
		}
	case errors.Is(err, campaign.ErrBadManifest):
		n.log.Warn("campaign with bad commitments", "campaign", id, "err", err)
		t.pool = false
		t.attempts = peerlimit.TrackAttempts // never again while held
	case errors.Is(err, campaign.ErrTooLarge):
		n.log.Debug("not tracking a large campaign the node does not follow", "campaign", id, "shares", e.Manifest.Shards)
		delete(n.shards.tracking, id)
	default:
		t.attempts++
		if t.attempts >= peerlimit.TrackAttempts {
			n.log.Debug("giving up fetching commitments for now", "campaign", id, "err", err)
			delete(n.shards.tracking, id)
			return
		}
		wait := min(peerlimit.TrackBackoff<<(t.attempts-1), peerlimit.TrackMaxBackoff)
		time.AfterFunc(wait, func() {
			n.shards.mu.Lock()
			defer n.shards.mu.Unlock()
			if n.shards.tracking[id] == t {
				n.enqueue(id)
			}
		})
	}
}

// untrack forgets a campaign the catalog evicted: it leaves its pool and
// deletes the shares stored of it.
func (n *Node) untrack(id cid.Cid) {
	n.shards.mu.Lock()
	t := n.shards.tracking[id]
	delete(n.shards.tracking, id)
	delete(n.shards.commitments, id)
	if t != nil && t.pool && !t.followed {
		n.shards.pools--
	}
	n.shards.mu.Unlock()
	if err := n.pool.Forget(id); err != nil {
		n.log.Warn("forgetting the pool of an evicted campaign", "campaign", id, "err", err)
	}
}

// follow takes a campaign's creator out of the catalog's budget (the user
// buys from it or opens its work) and tracks the campaign's pool, even if
// the pools of campaigns not followed are full.
func (n *Node) follow(e catalog.Entry) {
	n.catalog.Follow(e.Manifest.Creator)
	if e.Manifest.Model != campaign.ModelShards || n.pool == nil {
		return
	}
	n.shards.mu.Lock()
	defer n.shards.mu.Unlock()
	t := n.shards.tracking[e.ID]
	switch {
	case t == nil:
		n.shards.tracking[e.ID] = &tracked{}
		n.enqueue(e.ID)
	case t.pool && !t.followed:
		t.followed = true
		n.shards.pools--
	}
}

// unlocked stores the identity the pool rebuilt for a campaign: from now
// on this node can decrypt it.
func (n *Node) unlocked(id cid.Cid, ident *age.X25519Identity) {
	e, err := n.catalog.Get(id)
	if err != nil {
		n.log.Warn("unlocked campaign not in the catalog", "campaign", id)
		return
	}
	if err := n.SaveContentKey(e.Manifest.Content, ident); err != nil {
		n.log.Warn("storing the unlocked key", "campaign", id, "err", err)
		return
	}
	n.log.Info("campaign unlocked", "campaign", id, "title", e.Manifest.Title)
}

// publishShares adds shares to the pool and gossips them.
func (n *Node) publishShares(ctx context.Context, id cid.Cid, list []shares.Share) error {
	if len(list) == 0 {
		return nil
	}
	if _, err := n.pool.Add(id, list); err != nil {
		return err
	}
	for n.poolGossip != nil && len(list) > 0 {
		batch := list[:min(len(list), 1000)]
		list = list[len(batch):]
		if err := n.poolGossip.Publish(ctx, id, batch); err != nil {
			return err
		}
	}
	return nil
}

// publishSold publishes, on the creator's node, the sold shares of a
// campaign that the pool does not hold yet.
func (n *Node) publishSold(ctx context.Context, id cid.Cid) {
	e, err := n.catalog.Get(id)
	if err != nil || e.Manifest.Model != campaign.ModelShards || e.Manifest.Creator != n.ID() {
		return
	}
	sold, err := n.ledger.Sold(ctx, id)
	if err != nil {
		n.log.Warn("reading sold shares", "campaign", id, "err", err)
		return
	}
	n.publishOwn(ctx, e, sold)
}

// publishOwn publishes the creator's shares at the given indices that the
// pool lacks.
func (n *Node) publishOwn(ctx context.Context, e catalog.Entry, indices []uint32) int {
	var list []shares.Share
	for _, i := range indices {
		if n.pool.Have(e.ID, i) {
			continue
		}
		s, err := n.ownShare(e.Manifest, i)
		if err != nil {
			n.log.Warn("reading own share", "campaign", e.ID, "index", i, "err", err)
			return 0
		}
		list = append(list, s)
	}
	if err := n.publishShares(ctx, e.ID, list); err != nil {
		n.log.Warn("publishing shares", "campaign", e.ID, "err", err)
		return 0
	}
	return len(list)
}

// Release publishes every share of one of this node's shards campaigns
// that the pool does not hold yet: the work unlocks for everyone. It
// returns how many shares it published.
func (n *Node) Release(ctx context.Context, id cid.Cid) (int, error) {
	if n.pool == nil {
		return 0, ErrOffline
	}
	e, err := n.catalog.Get(id)
	if err != nil {
		return 0, err
	}
	if e.Manifest.Model != campaign.ModelShards {
		return 0, fmt.Errorf("campaign %s is a %s campaign: only shards campaigns have shares to release", id, e.Manifest.Model)
	}
	if e.Manifest.Creator != n.ID() {
		return 0, fmt.Errorf("campaign %s is not this node's: only its creator can release it", id)
	}
	if e.Manifest.AllOrNothing {
		// Released early, the work is free: pledges short of the goal are
		// canceled and their funds go back.
		if _, err := n.endPledges(ctx, e); err != nil {
			return 0, err
		}
	}
	all := make([]uint32, e.Manifest.Shards)
	for i := range all {
		all[i] = uint32(i)
	}
	k := n.publishOwn(ctx, e, all)
	n.log.Info("released shares", "campaign", id, "shares", k)
	go n.publishState(n.ctx, id)
	return k, nil
}

// deadlineLoop ends the pledges of this node's all-or-nothing campaigns
// whose deadline has passed, and releases the unsold shares of its shards
// campaigns that missed their goal (shortfall "release").
func (n *Node) deadlineLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	ended := make(map[cid.Cid]bool) // all-or-nothing campaigns whose pledges ended
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		for _, e := range n.catalog.List() {
			m := e.Manifest
			if m.Model != campaign.ModelShards || m.Creator != n.ID() || now.Before(m.Deadline) {
				continue
			}
			if m.AllOrNothing && !ended[e.ID] {
				met, err := n.endPledges(n.ctx, e)
				if err != nil {
					n.log.Error("deadline passed: ending pledges", "campaign", e.ID, "err", err)
					continue
				}
				ended[e.ID] = true
				if met {
					continue // the settled pledges publish their shares
				}
			}
			if m.Shortfall != campaign.ShortfallRelease || n.pool.Complete(e.ID) {
				continue
			}
			if k, err := n.Release(n.ctx, e.ID); err == nil && k > 0 {
				n.log.Info("deadline passed: released the unsold shares", "campaign", e.ID, "shares", k)
			}
		}
	}
}

// Pooled returns how many of a campaign's shares this node's pool holds.
func (n *Node) Pooled(id cid.Cid) int {
	if n.pool == nil {
		return 0
	}
	return n.pool.Known(id)
}

// startPool follows the pools of the shards campaigns the node knows and
// will learn, and stores the keys they unlock.
func (n *Node) startPool() {
	n.pool.OnUnlock(n.unlocked)
	n.catalog.OnNew(n.track)
	n.catalog.OnEvict(n.untrack)
	for _, e := range n.catalog.List() {
		n.track(e)
	}
}
