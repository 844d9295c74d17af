package flow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/shares"
)

// aonTerms are the terms of an all-or-nothing shards campaign.
func aonTerms(n int) campaign.Terms {
	m := shardsTerms(n)
	m.AllOrNothing, m.Rails, m.Currency = true, []string{"lightning"}, "BTC"
	return m
}

func TestDeadlineReleasesUnsoldShares(t *testing.T) {
	for _, tc := range []struct {
		name      string
		at        time.Duration // from the start, where the deadline is an hour on
		shortfall campaign.Shortfall
		want      int // shares in the pool afterwards
	}{
		{"a minute before", 59 * time.Minute, campaign.ShortfallRelease, 1},
		{"a nanosecond before", time.Hour - time.Nanosecond, campaign.ShortfallRelease, 1},
		{"at the deadline", time.Hour, campaign.ShortfallRelease, 4},
		{"a day after", 25 * time.Hour, campaign.ShortfallRelease, 4},
		{"after, shortfall locked", 25 * time.Hour, campaign.ShortfallLocked, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newPeer(t, nil, nil)
			terms := shardsTerms(4)
			terms.Shortfall = tc.shortfall
			e := n.publish(t, terms)
			n.pool.n[e.ID] = 4
			// One share sold and in the pool already.
			s, _ := n.keys.Share(e.Manifest.Content, 2)
			n.pool.Add(e.ID, []shares.Share{s})
			n.clock.Set(start.Add(tc.at))
			n.f.checkDeadlines(context.Background())
			if got := n.pool.Known(e.ID); got != tc.want {
				t.Errorf("the pool holds %d shares, want %d", got, tc.want)
			}
			if got := n.seller.endedCount(); got != 0 {
				t.Errorf("pledges of a campaign that takes none ended %d times", got)
			}
		})
	}
}

func TestDeadlineLeavesOthersCampaigns(t *testing.T) {
	creator, other := pair(t)
	e := creator.publish(t, shardsTerms(3))
	other.pool.n[e.ID] = 3
	other.clock.Set(start.Add(2 * time.Hour))
	other.f.checkDeadlines(context.Background())
	if got := other.pool.Known(e.ID); got != 0 {
		t.Errorf("another node's deadline released %d shares of the creator's campaign", got)
	}
}

func TestDeadlineCompletePoolReleasesNothing(t *testing.T) {
	n := newPeer(t, nil, nil)
	e := n.publish(t, shardsTerms(2))
	n.pool.n[e.ID] = 2
	n.pool.Add(e.ID, []shares.Share{{Index: 0}, {Index: 1}})
	n.clock.Set(start.Add(2 * time.Hour))
	n.f.checkDeadlines(context.Background())
	if got := n.pool.publishedCount(e.ID); got != 0 {
		t.Errorf("published %d shares of a complete pool, want none", got)
	}
}

// TestDeadlineEndsPledges: at the deadline, not before, the pledges of an
// all-or-nothing campaign end; met, the shares come from the settled
// pledges; short, the unsold shares are released (Release ends the
// pledges again, which changes nothing).
func TestDeadlineEndsPledges(t *testing.T) {
	for _, tc := range []struct {
		name string
		met  bool
		want int
	}{
		{"goal met", true, 0},
		{"goal missed", false, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newPeer(t, nil, nil)
			e := n.publish(t, aonTerms(4))
			n.pool.n[e.ID] = 4
			n.seller.met = tc.met
			n.f.checkDeadlines(context.Background())
			if got := n.seller.endedCount(); got != 0 {
				t.Fatalf("pledges ended %d times before the deadline", got)
			}
			n.clock.Set(start.Add(time.Hour))
			n.f.checkDeadlines(context.Background())
			if got := n.seller.endedCount(); got < 1 {
				t.Errorf("pledges ended %d times at the deadline, want at least once", got)
			}
			if got := n.pool.Known(e.ID); got != tc.want {
				t.Errorf("the pool holds %d shares, want %d", got, tc.want)
			}
		})
	}
}

func TestDeadlinePledgesRetriedAfterError(t *testing.T) {
	n := newPeer(t, nil, nil)
	e := n.publish(t, aonTerms(4))
	n.pool.n[e.ID] = 4
	n.seller.err = errors.New("LND away")
	n.clock.Set(start.Add(time.Hour))
	n.f.checkDeadlines(context.Background())
	if got := n.pool.Known(e.ID); got != 0 {
		t.Fatalf("released %d shares while the pledges could not end", got)
	}
	n.seller.err = nil
	n.f.checkDeadlines(context.Background())
	if got := n.seller.endedCount(); got < 1 {
		t.Errorf("pledges ended %d times once the seller answered, want at least once", got)
	}
	if got := n.pool.Known(e.ID); got != 4 {
		t.Errorf("the pool holds %d shares once the pledges ended short, want 4", got)
	}
}

// TestDeadlineLoop: the loop started by Start acts on the clock.
func TestDeadlineLoop(t *testing.T) {
	n := newPeer(t, nil, nil)
	n.f.p.Tick = time.Millisecond
	e := n.publish(t, shardsTerms(3))
	n.pool.n[e.ID] = 3
	n.f.Start(context.Background())
	n.clock.Set(start.Add(time.Hour))
	eventually(t, "the deadline loop to release the shares", func() bool { return n.pool.Known(e.ID) == 3 })
}

func TestRelease(t *testing.T) {
	n := newPeer(t, nil, nil)
	e := n.publish(t, shardsTerms(5))
	k, err := n.f.Release(context.Background(), e.ID)
	if err != nil || k != 5 {
		t.Fatalf("Release: got %d, %v; want 5 shares", k, err)
	}
	if got := n.pool.publishedCount(e.ID); got != 5 {
		t.Errorf("gossiped %d shares, want 5", got)
	}
	if k, err := n.f.Release(context.Background(), e.ID); err != nil || k != 0 {
		t.Errorf("a second Release: got %d, %v; want 0 shares", k, err)
	}
	eventually(t, "the state after the release", func() bool { return n.ann.stateCount() > 0 })
}

// TestReleaseStateSaysReleased: once every share is known, the creator's
// state says the work is unlocked and, short of a sell-out, released, so
// that nodes holding no share show it as it is.
func TestReleaseStateSaysReleased(t *testing.T) {
	for _, tc := range []struct {
		name         string
		sold         int
		released     bool
		release      bool
		wantUnlocked bool
	}{
		{"released short of a sell-out", 2, true, true, true},
		{"sold out", 5, false, false, true},
		{"neither", 2, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newPeer(t, nil, nil)
			e := n.publish(t, shardsTerms(5))
			n.ledger.stats[e.ID] = market.Stats{Sold: tc.sold}
			if err := n.pool.Track(e.ID, e.Manifest, nil); err != nil {
				t.Fatal(err)
			}
			if tc.release {
				if _, err := n.f.Release(context.Background(), e.ID); err != nil {
					t.Fatal(err)
				}
			} else if tc.sold == 5 {
				var list []shares.Share
				for i := range uint32(5) {
					sh, err := n.keys.Share(e.Manifest.Content, i)
					if err != nil {
						t.Fatal(err)
					}
					list = append(list, sh)
				}
				if _, err := n.pool.Add(e.ID, list); err != nil {
					t.Fatal(err)
				}
			}
			n.f.publishState(context.Background(), e.ID)
			// The fake announcer keeps only states that decode and fit
			// their campaign (campaign.DecodeState).
			s := n.ann.lastState()
			if s == nil || s.Unlocked != tc.wantUnlocked || s.Released != tc.released {
				t.Fatalf("state: %+v; want unlocked %v, released %v", s, tc.wantUnlocked, tc.released)
			}
		})
	}
}

func TestReleaseEndsPledgesFirst(t *testing.T) {
	n := newPeer(t, nil, nil)
	e := n.publish(t, aonTerms(2))
	if _, err := n.f.Release(context.Background(), e.ID); err != nil {
		t.Fatal(err)
	}
	if got := n.seller.endedCount(); got != 1 {
		t.Errorf("pledges ended %d times, want once", got)
	}
	n.f.p.Seller = nil
	if _, err := n.f.Release(context.Background(), e.ID); !errors.Is(err, ErrOffline) {
		t.Errorf("releasing an all-or-nothing campaign offline: got %v, want ErrOffline", err)
	}
}

func TestReleaseRefused(t *testing.T) {
	creator, other := pair(t)
	pay := creator.publish(t, payTerms())
	shards := creator.publish(t, shardsTerms(2))
	for _, tc := range []struct {
		name string
		n    *peerNode
		e    catalog.Entry
		want string
	}{
		{"a pay campaign", creator, pay, "only shards campaigns"},
		{"another's campaign", other, shards, "only its creator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.n.f.Release(context.Background(), tc.e.ID); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
