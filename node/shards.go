package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// Repo directories of the shards model.
const (
	poolDir = "pool"
	// sharesDir holds, on the creator's node, every share of each of its
	// shards campaigns (36 bytes each, by index), named by content CID.
	sharesDir = "shares"
)

// shardsState is what the node keeps in memory about shards campaigns.
type shardsState struct {
	mu          sync.Mutex
	commitments map[cid.Cid]*shares.Commitments
	tracking    map[cid.Cid]bool
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
	raw := make([]byte, 0, len(list)*shares.ShareSize)
	for _, s := range list {
		raw, _ = s.AppendBinary(raw)
	}
	if err := os.MkdirAll(n.repo.Path(sharesDir), 0o700); err != nil {
		return err
	}
	if err := repo.WriteFileAtomic(filepath.Join(n.repo.Path(sharesDir), contentCID.String()+".shares"), raw, 0o600); err != nil {
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
	f, err := os.Open(filepath.Join(n.repo.Path(sharesDir), m.Content.String()+".shares"))
	if err != nil {
		return shares.Share{}, fmt.Errorf("reading shares: %w", err)
	}
	defer f.Close()
	buf := make([]byte, shares.ShareSize)
	if _, err := f.ReadAt(buf, int64(index)*shares.ShareSize); err != nil {
		return shares.Share{}, fmt.Errorf("reading share %d: %w", index, err)
	}
	var s shares.Share
	if err := s.UnmarshalBinary(buf); err != nil {
		return shares.Share{}, err
	}
	if s.Index != index {
		return shares.Share{}, fmt.Errorf("share file holds index %d at %d", s.Index, index)
	}
	return s, nil
}

// commitmentsOf returns a shards campaign's checked commitments, fetching
// them once.
func (n *Node) commitmentsOf(ctx context.Context, e catalog.Entry) (*shares.Commitments, error) {
	n.shards.mu.Lock()
	c := n.shards.commitments[e.ID]
	n.shards.mu.Unlock()
	if c != nil {
		return c, nil
	}
	f, err := n.Open(ctx, e.Manifest.Commitments)
	if err != nil {
		return nil, fmt.Errorf("fetching the commitments of %s: %w", e.ID, err)
	}
	data, err := io.ReadAll(f.NewReader(ctx, 0, -1))
	if err != nil {
		return nil, fmt.Errorf("fetching the commitments of %s: %w", e.ID, err)
	}
	c, err = e.Manifest.OpenCommitments(data)
	if err != nil {
		return nil, err
	}
	n.shards.mu.Lock()
	n.shards.commitments[e.ID] = c
	n.shards.mu.Unlock()
	return c, nil
}

// track starts following a shards campaign's pool, retrying until its
// commitments can be fetched.
func (n *Node) track(e catalog.Entry) {
	if e.Manifest.Model != campaign.ModelShards || n.pool == nil {
		return
	}
	n.shards.mu.Lock()
	if n.shards.tracking[e.ID] {
		n.shards.mu.Unlock()
		return
	}
	n.shards.tracking[e.ID] = true
	n.shards.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for wait := 100 * time.Millisecond; ; wait = min(2*wait, 10*time.Second) {
			ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
			c, err := n.commitmentsOf(ctx, e)
			cancel()
			if err == nil {
				if err := n.pool.Track(e.ID, e.Manifest, c); err != nil {
					n.log.Warn("tracking the share pool", "campaign", e.ID, "err", err)
				}
				return
			}
			if errors.Is(err, campaign.ErrBadManifest) {
				n.log.Warn("campaign with bad commitments", "campaign", e.ID, "err", err)
				return
			}
			select {
			case <-n.ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}()
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
	for _, e := range n.catalog.List() {
		n.track(e)
	}
}
