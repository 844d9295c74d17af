package campaign

import (
	"reflect"
	"testing"
	"time"
)

func TestFiguresOf(t *testing.T) {
	open, pay, shards := testManifest(ModelOpen), testManifest(ModelPay), testManifest(ModelShards)
	plain := testManifest(ModelShards) // not all or nothing, no schedule
	plain.AllOrNothing, plain.Schedule, plain.Goal = false, nil, 0
	before, after := testCreated.Add(time.Hour), shards.Deadline.Add(time.Second)
	steps := []PriceStep{{First: 0, Count: 100, Price: 150}, {First: 100, Count: 340, Price: 250}}
	tests := []struct {
		name string
		m    *Manifest
		seen Seen
		now  time.Time
		want Figures
	}{
		{"open, nothing seen", open, Seen{Unlocked: true}, before,
			Figures{Goal: 100_000, Unlocked: true}},
		{"open: the state counts donations", open, Seen{State: &State{Sold: 2, Raised: 700}, Unlocked: true}, before,
			Figures{Donated: 700, Goal: 100_000, Unlocked: true}},
		{"open, on the creator's node", open, Seen{State: &State{Sold: 2, Raised: 700}, Ledger: &Sales{Donated: 900}}, before,
			Figures{Donated: 900, Goal: 100_000}},
		{"pay, nothing seen", pay, Seen{Pooled: 3}, before,
			Figures{PriceNow: 250, Shows: Shown{Sold: true, Raised: true}}},
		{"pay, state", pay, Seen{State: &State{Sold: 3, Raised: 750}}, before,
			Figures{PriceNow: 250, Sold: 3, Raised: 750, Shows: Shown{Sold: true, Raised: true}}},
		{"pay, the ledger over the state", pay, Seen{State: &State{Sold: 3, Raised: 750}, Ledger: &Sales{Sold: 4, Raised: 1000, Donated: 50}}, before,
			Figures{PriceNow: 250, Sold: 4, Raised: 1000, Donated: 50, Shows: Shown{Sold: true, Raised: true}}},
		{"shards, early tier", shards, Seen{State: &State{Sold: 3, Raised: 450, Pledged: 1}, Pooled: 2}, before,
			Figures{PriceNow: 150, Sold: 3, Raised: 450, Pledged: 1, Pooled: 2, Needed: 440, Goal: 100_000,
				Deadline: shards.Deadline, Steps: steps, Shows: Shown{Sold: true, Pledged: true, Pooled: true, Needed: true, Raised: true}}},
		{"shards, past the tier: the pledged share counts", shards, Seen{State: &State{Sold: 99, Pledged: 1}}, before,
			Figures{PriceNow: 250, Sold: 99, Pledged: 1, Needed: 440, Goal: 100_000,
				Deadline: shards.Deadline, Steps: steps, Shows: Shown{Sold: true, Pledged: true, Pooled: true, Needed: true, Raised: true}}},
		{"shards, sold out", plain, Seen{State: &State{Sold: 440}, Pooled: 440, Unlocked: true}, before,
			Figures{PriceNow: 250, SoldOut: true, Sold: 440, Pooled: 440, Needed: 440, Unlocked: true,
				Deadline: plain.Deadline, Steps: []PriceStep{{Count: 440, Price: 250}}, Shows: Shown{Sold: true, Pooled: true, Needed: true, Raised: true}}},
		{"shards not all or nothing, after the deadline: no outcome", plain, Seen{State: &State{Sold: 1}}, after,
			Figures{PriceNow: 250, Sold: 1, Needed: 440,
				Deadline: plain.Deadline, Steps: []PriceStep{{Count: 440, Price: 250}}, Shows: Shown{Sold: true, Pooled: true, Needed: true, Raised: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FiguresOf(tt.m, tt.seen, tt.now)
			got.Stands, got.Left, got.Totals = Standing{}, nil, nil // TestFiguresStanding and TestFiguresQuote check them
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFiguresOutcome(t *testing.T) {
	m := testManifest(ModelShards) // all or nothing, N = 440
	locked := testManifest(ModelShards)
	locked.Shortfall = ShortfallLocked
	before, after := m.Deadline.Add(-time.Second), m.Deadline
	tests := []struct {
		name         string
		m            *Manifest
		sold, pledge int64
		now          time.Time
		want         Outcome
		note         string
	}{
		{"before the deadline", m, 10, 5, before, OutcomeNone, ""},
		{"pledges still held", m, 10, 5, after, OutcomeDeciding, "the deadline passed with 5 of 440 shares pledged: the creator's node is settling or returning the pledges"},
		{"goal met", m, 440, 0, after, OutcomeMet, "every share was pledged by the deadline: the pledges were settled and the work unlocks for everyone"},
		{"short, released", m, 10, 0, after, OutcomeShort, "the deadline passed short of the goal: the pledges were returned and the unsold shares released, so the work unlocks for everyone"},
		{"short, locked", locked, 10, 0, after, OutcomeShort, "the deadline passed short of the goal: the pledges were returned and the work stays locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FiguresOf(tt.m, Seen{State: &State{Sold: tt.sold, Pledged: tt.pledge}}, tt.now)
			if f.Outcome != tt.want || f.OutcomeNote != tt.note {
				t.Errorf("got %q %q, want %q %q", f.Outcome, f.OutcomeNote, tt.want, tt.note)
			}
		})
	}
}

func TestShows(t *testing.T) {
	tests := []struct {
		model Model
		aon   bool
		want  Shown
	}{
		{ModelOpen, false, Shown{}},
		{ModelPay, false, Shown{Sold: true, Raised: true}},
		{ModelShards, false, Shown{Sold: true, Pooled: true, Needed: true, Raised: true}},
		{ModelShards, true, Shown{Sold: true, Pledged: true, Pooled: true, Needed: true, Raised: true}},
	}
	for _, tt := range tests {
		if got := Shows(tt.model, tt.aon); got != tt.want {
			t.Errorf("Shows(%s, %v): got %+v, want %+v", tt.model, tt.aon, got, tt.want)
		}
	}
}

// Each stage a campaign can be in, what a node owns of it and whether a
// buy is offered: only where it can succeed.
func TestFiguresStanding(t *testing.T) {
	open, pay, aon := testManifest(ModelOpen), testManifest(ModelPay), testManifest(ModelShards)
	plain := testManifest(ModelShards) // not all or nothing: releases at the deadline
	plain.AllOrNothing, plain.Schedule = false, nil
	locked := testManifest(ModelShards)
	locked.AllOrNothing, locked.Shortfall = false, ShortfallLocked
	aonLocked := testManifest(ModelShards)
	aonLocked.Shortfall = ShortfallLocked
	before, after := aon.Deadline.Add(-time.Hour), aon.Deadline.Add(time.Second)
	tests := []struct {
		name string
		m    *Manifest
		seen Seen
		now  time.Time
		want Standing
	}{
		{"open model: donations, nothing to buy", open, Seen{Unlocked: true}, before, Standing{Stage: StageOpen}},
		{"open model past a deadline still takes donations", open, Seen{Unlocked: true}, after, Standing{Stage: StageOpen}},
		{"pay, on sale", pay, Seen{}, before, Standing{Stage: StageOpen, CanBuy: true}},
		{"pay, bought", pay, Seen{Bought: 1, Unlocked: true}, before, Standing{Stage: StageOpen, Bought: 1, Owned: true}},
		{"pay, unlocked without a receipt here", pay, Seen{Unlocked: true}, before, Standing{Stage: StageOpen, Owned: true}},
		{"pay, the creator's own", pay, Seen{Mine: true, Unlocked: true}, before, Standing{Stage: StageOpen}},
		{"shards, on sale", plain, Seen{State: &State{Sold: 3}}, before, Standing{Stage: StageOpen, CanBuy: true}},
		{"shards, this node holds shares", plain, Seen{State: &State{Sold: 3}, Bought: 2, Pooled: 2}, before,
			Standing{Stage: StageOpen, Bought: 2, Owned: true}},
		{"shards, the creator's own", plain, Seen{State: &State{Sold: 3}, Mine: true}, before, Standing{Stage: StageOpen}},
		{"shards, every share sold: funded", plain, Seen{State: &State{Sold: 440, Unlocked: true}, Unlocked: true}, before,
			Standing{Stage: StageFunded}},
		{"shards, every share pledged before the deadline", aon, Seen{State: &State{Sold: 0, Pledged: 440}}, before,
			Standing{Stage: StageSoldOut}},
		{"all or nothing, met", aon, Seen{State: &State{Sold: 440}}, after, Standing{Stage: StageFunded}},
		{"all or nothing, pledges held past the deadline", aonLocked, Seen{State: &State{Pledged: 5}}, after,
			Standing{Stage: StageDeciding}},
		{"all or nothing, short and locked", aonLocked, Seen{State: &State{Sold: 0}}, after, Standing{Stage: StageLocked}},
		{"all or nothing, short, releasing", aon, Seen{State: &State{Sold: 0}}, after, Standing{Stage: StageDeciding}},
		{"all or nothing, short, released", aon, Seen{State: &State{Released: true, Unlocked: true}, Unlocked: true}, after,
			Standing{Stage: StageReleased, Released: true}},
		{"shards past the deadline, release on its way", plain, Seen{State: &State{Sold: 3}}, after, Standing{Stage: StageDeciding}},
		{"shards released at the deadline", plain, Seen{State: &State{Sold: 3, Released: true, Unlocked: true}}, after,
			Standing{Stage: StageReleased, Released: true}},
		{"shards released early by the creator", plain, Seen{State: &State{Sold: 1, Released: true}, Bought: 1}, before,
			Standing{Stage: StageReleased, Released: true, Bought: 1, Owned: true}},
		{"shards released, seen before the creator's state says so", plain, Seen{State: &State{Sold: 3}, Pooled: 440, Unlocked: true}, after,
			Standing{Stage: StageReleased}},
		{"shards, the creator reads its own work while on sale", plain, Seen{State: &State{Sold: 3}, Mine: true, Unlocked: true}, before,
			Standing{Stage: StageOpen}},
		{"shards short and locked", locked, Seen{State: &State{Sold: 3}, Bought: 1}, after,
			Standing{Stage: StageLocked, Bought: 1, Owned: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FiguresOf(tt.m, tt.seen, tt.now).Stands; got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// The quote: what is left at each price, and the total of k more shares
// as the creator's node charges it, across the early tier's end.
func TestFiguresQuote(t *testing.T) {
	m := testManifest(ModelShards) // 100 at 1.50, then 340 at 2.50
	before, after := m.Deadline.Add(-time.Hour), m.Deadline.Add(time.Second)
	tests := []struct {
		name   string
		seen   Seen
		now    time.Time
		left   []int64
		totals []int64 // the first three
		n      int
	}{
		{"nothing sold", Seen{}, before, []int64{100, 340}, []int64{150, 300, 450}, MaxQuoted},
		{"the tier's last share", Seen{State: &State{Sold: 98, Pledged: 1}}, before, []int64{1, 340}, []int64{150, 400, 650}, MaxQuoted},
		{"past the tier", Seen{State: &State{Sold: 100}}, before, []int64{0, 340}, []int64{250, 500, 750}, MaxQuoted},
		{"two left", Seen{State: &State{Sold: 438}}, before, []int64{0, 2}, []int64{250, 500}, 2},
		{"sold out: no quote", Seen{State: &State{Pledged: 440}}, before, []int64{0, 0}, nil, 0},
		{"after the deadline: no quote", Seen{State: &State{Sold: 3}}, after, []int64{97, 340}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FiguresOf(m, tt.seen, tt.now)
			if !reflect.DeepEqual(f.Left, tt.left) {
				t.Errorf("left %v, want %v", f.Left, tt.left)
			}
			if len(f.Totals) != tt.n || (tt.n > 0 && !reflect.DeepEqual(f.Totals[:len(tt.totals)], tt.totals)) {
				t.Errorf("totals %v, want %d starting %v", f.Totals, tt.n, tt.totals)
			}
			for k, total := range f.Totals {
				if want, err := m.PriceFor(int(f.Sold+f.Pledged), k+1); err != nil || total != want {
					t.Errorf("total of %d: %d, PriceFor says %d (%v)", k+1, total, want, err)
				}
			}
		})
	}
}
