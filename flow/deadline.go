package flow

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
)

// Release publishes every share of one of this node's shards campaigns
// that the pool does not hold yet: the work unlocks for everyone. Released
// early, an all-or-nothing campaign's pledges end first. It returns how
// many shares it published.
func (f *Flow) Release(ctx context.Context, id cid.Cid) (int, error) {
	e, err := f.p.Catalog.Get(id)
	if err != nil {
		return 0, err
	}
	if e.Manifest.Model != campaign.ModelShards {
		return 0, fmt.Errorf("campaign %s is a %s campaign: only shards campaigns have shares to release", id, e.Manifest.Model)
	}
	if e.Manifest.Creator != f.p.Self {
		return 0, fmt.Errorf("campaign %s is not this node's: only its creator can release it", id)
	}
	if e.Manifest.AllOrNothing {
		// Released early, the work is free: pledges short of the goal are
		// canceled and their funds go back.
		if _, err := f.endPledges(ctx, e); err != nil {
			return 0, err
		}
	}
	all := make([]uint32, e.Manifest.Shards)
	for i := range all {
		all[i] = uint32(i)
	}
	k := f.publishOwn(ctx, e, all)
	f.p.Log.Info("released shares", "campaign", id, "shares", k)
	f.goAsync(func(ctx context.Context) { f.publishState(ctx, id) })
	return k, nil
}

// endPledges ends the pledges of one of this node's all-or-nothing
// campaigns: settled if the goal is met, canceled otherwise. It reports
// whether the goal was met.
func (f *Flow) endPledges(ctx context.Context, e catalog.Entry) (bool, error) {
	if f.p.Seller == nil {
		return false, ErrOffline
	}
	met, err := f.p.Seller.EndPledges(ctx, e.ID)
	if err != nil {
		return false, err
	}
	f.p.Log.Info("pledges ended", "campaign", e.ID, "goal met", met)
	f.goAsync(func(ctx context.Context) { f.publishState(ctx, e.ID) })
	return met, nil
}

// deadlineLoop looks at the clock every Parts.Tick and acts on the
// deadlines that passed (checkDeadlines).
func (f *Flow) deadlineLoop(ctx context.Context) {
	t := time.NewTicker(f.p.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.checkDeadlines(ctx)
	}
}

// checkDeadlines ends the pledges of this node's all-or-nothing campaigns
// whose deadline has passed, and releases the unsold shares of its shards
// campaigns that missed their goal (shortfall "release"). A campaign
// whose deadline is still ahead is left alone.
func (f *Flow) checkDeadlines(ctx context.Context) {
	now := f.p.Now()
	for _, e := range f.p.Catalog.List() {
		m := e.Manifest
		if m.Model != campaign.ModelShards || m.Creator != f.p.Self || now.Before(m.Deadline) {
			continue
		}
		if m.AllOrNothing && !f.ended[e.ID] {
			met, err := f.endPledges(ctx, e)
			if err != nil {
				f.p.Log.Error("deadline passed: ending pledges", "campaign", e.ID, "err", err)
				continue
			}
			f.ended[e.ID] = true
			if met {
				continue // the settled pledges publish their shares
			}
		}
		if m.Shortfall != campaign.ShortfallRelease || f.p.Pool.Complete(e.ID) {
			continue
		}
		if k, err := f.Release(ctx, e.ID); err == nil && k > 0 {
			f.p.Log.Info("deadline passed: released the unsold shares", "campaign", e.ID, "shares", k)
		}
	}
}
