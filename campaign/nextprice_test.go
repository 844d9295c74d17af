package campaign

import (
	"reflect"
	"testing"
	"time"
)

// TestNextPriceIsCharged walks a schedule share by share: the price shown
// before each sale is what PriceOfShares charges for the index handed out.
func TestNextPriceIsCharged(t *testing.T) {
	m := &Manifest{Model: ModelShards, Price: 100, Shards: 5, Schedule: []Tier{{Count: 2, Price: 50}}}
	want := []int64{50, 50, 100, 100, 100}
	for taken := range 5 {
		shown, ok := m.NextPrice(int64(taken))
		charged, err := m.PriceOfShares([]uint32{uint32(taken)})
		if err != nil || !ok || shown != want[taken] || charged != shown {
			t.Errorf("after %d: shown %d (left %v), charged %d (%v); want %d", taken, shown, ok, charged, err, want[taken])
		}
	}
	if p, ok := m.NextPrice(5); ok || p != 100 {
		t.Errorf("sold out: got %d, %v; want 100, false", p, ok)
	}
	for _, tc := range []struct {
		name    string
		indices []uint32
		want    int64
	}{
		{"none", nil, 0},
		{"a run across the tier", []uint32{1, 2, 3}, 250},
		{"gaps", []uint32{0, 3}, 150},
		{"all", []uint32{0, 1, 2, 3, 4}, 400},
	} {
		if got, err := m.PriceOfShares(tc.indices); err != nil || got != tc.want {
			t.Errorf("%s: got %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	if _, err := m.PriceOfShares([]uint32{5}); err == nil {
		t.Error("an index past the last share was priced")
	}
	pay := &Manifest{Model: ModelPay, Price: 250}
	if p, ok := pay.NextPrice(1000); p != 250 || !ok {
		t.Errorf("pay: got %d, %v", p, ok)
	}
}

func TestPriceSteps(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *Manifest
		want []PriceStep
	}{
		{"early", &Manifest{Model: ModelShards, Price: 100, Shards: 5, Schedule: []Tier{{Count: 2, Price: 50}}},
			[]PriceStep{{0, 2, 50}, {2, 3, 100}}},
		{"flat", &Manifest{Model: ModelShards, Price: 100, Shards: 3}, []PriceStep{{0, 3, 100}}},
		{"tiers cover all", &Manifest{Model: ModelShards, Price: 100, Shards: 3, Schedule: []Tier{{Count: 3, Price: 10}}},
			[]PriceStep{{0, 3, 10}}},
		{"pay", &Manifest{Model: ModelPay, Price: 7}, []PriceStep{{0, 0, 7}}},
		{"open", &Manifest{Model: ModelOpen}, nil},
	} {
		if got := tc.m.PriceSteps(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOutcomeAt(t *testing.T) {
	deadline := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	aon := &Manifest{Model: ModelShards, Shards: 3, Deadline: deadline, AllOrNothing: true, Shortfall: ShortfallLocked}
	after, before := deadline.Add(time.Second), deadline.Add(-time.Second)
	for _, tc := range []struct {
		name          string
		m             *Manifest
		sold, pledged int64
		now           time.Time
		want          Outcome
	}{
		{"before the deadline", aon, 0, 2, before, OutcomeNone},
		{"pledges still held", aon, 0, 2, after, OutcomeDeciding},
		{"settling", aon, 1, 2, after, OutcomeDeciding},
		{"met", aon, 3, 0, after, OutcomeMet},
		{"short", aon, 0, 0, after, OutcomeShort},
		{"not all or nothing", &Manifest{Model: ModelShards, Shards: 3, Deadline: deadline}, 0, 0, after, OutcomeNone},
	} {
		if got := tc.m.OutcomeAt(tc.sold, tc.pledged, tc.now); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if s := aon.Describe(OutcomeShort, 0); s != "the deadline passed short of the goal: the pledges were returned and the work stays locked" {
		t.Errorf("short, locked: %q", s)
	}
	release := *aon
	release.Shortfall = ShortfallRelease
	if s := release.Describe(OutcomeShort, 0); s == aon.Describe(OutcomeShort, 0) {
		t.Errorf("short, release says the work stays locked: %q", s)
	}
}
