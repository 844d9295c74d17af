package flow

import (
	"context"
	"testing"

	"github.com/shardcast/shardcast/seal"
)

// TestTrackFollowsPool: a shards campaign the catalog learns has its
// commitments fetched and its pool tracked, once; other models are left
// alone.
func TestTrackFollowsPool(t *testing.T) {
	creator, buyer := pair(t)
	shards := creator.publish(t, shardsTerms(3))
	pay := creator.publish(t, payTerms())
	buyer.f.Track(shards)
	buyer.f.Track(shards)
	buyer.f.Track(pay)
	eventually(t, "the pool to be tracked", func() bool { return buyer.pool.trackedCount(shards.ID) > 0 })
	buyer.idle()
	if got := buyer.pool.trackedCount(shards.ID); got != 1 {
		t.Errorf("the pool of the shards campaign was tracked %d times, want once", got)
	}
	if got := buyer.pool.trackedCount(pay.ID); got != 0 {
		t.Errorf("a pay campaign's pool was tracked %d times", got)
	}
}

// TestStartTracksCatalog: Start tracks the pools of the shards campaigns
// the catalog already holds.
func TestStartTracksCatalog(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, shardsTerms(2))
	buyer.f.Start(context.Background())
	eventually(t, "the pool to be tracked", func() bool { return buyer.pool.trackedCount(e.ID) == 1 })
}

// TestTrackBadCommitments: a campaign whose commitments do not match
// its manifest has no pool tracked.
func TestTrackBadCommitments(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, shardsTerms(3))
	creator.blocks.mu.Lock()
	creator.blocks.files[e.Manifest.Commitments] = make([]byte, len(creator.blocks.files[e.Manifest.Commitments]))
	creator.blocks.mu.Unlock()
	buyer.f.Track(e)
	eventually(t, "the attempt to end", func() bool {
		buyer.f.shards.mu.Lock()
		defer buyer.f.shards.mu.Unlock()
		return buyer.f.shards.workers == 0
	})
	if got := buyer.pool.trackedCount(e.ID); got != 0 {
		t.Errorf("a pool with bad commitments was tracked %d times", got)
	}
}

func TestUntrackForgetsPool(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, shardsTerms(2))
	buyer.f.Track(e)
	eventually(t, "the pool to be tracked", func() bool { return buyer.pool.trackedCount(e.ID) == 1 })
	buyer.f.Untrack(e.ID)
	if len(buyer.pool.forgotten) != 1 || buyer.pool.forgotten[0] != e.ID {
		t.Errorf("forgotten %v, want the evicted campaign", buyer.pool.forgotten)
	}
	buyer.f.Track(e) // heard of again: tracked anew
	eventually(t, "the pool to be tracked again after the eviction", func() bool { return buyer.pool.trackedCount(e.ID) == 2 })
}

// TestUnlockedStoresKey: a pool that rebuilt a campaign's key has it
// stored: the node can read the campaign from then on.
func TestUnlockedStoresKey(t *testing.T) {
	creator, buyer := pair(t)
	e := creator.publish(t, shardsTerms(2))
	ident, err := creator.keys.ContentKey(e.Manifest.Content)
	if err != nil {
		t.Fatal(err)
	}
	buyer.f.Unlocked(e.ID, ident)
	if !buyer.f.CanRead(e) {
		t.Error("after the unlock the node cannot read the campaign")
	}
	other, _ := seal.NewIdentity()
	buyer.f.Unlocked(rawCID([]byte("not in the catalog")), other) // logged, nothing stored
}

func TestAddProofRefusesGarbage(t *testing.T) {
	n := newPeer(t, nil, nil)
	if _, err := n.f.AddProof(context.Background(), []byte("not a proof")); err == nil {
		t.Error("got nil, want an error")
	}
	if _, _, _, err := n.f.VerifyProof(context.Background(), []byte("not a proof")); err == nil {
		t.Error("VerifyProof: got nil, want an error")
	}
	if got := n.ann.proofCount(); got != 0 {
		t.Errorf("%d proofs announced, want none", got)
	}
}
