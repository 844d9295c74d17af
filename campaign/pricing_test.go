package campaign

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestPriceOf(t *testing.T) {
	early := testManifest(ModelShards) // first 100 at 150, then 250
	steps := &Manifest{Model: ModelShards, Price: 40, Shards: 10,
		Schedule: []Tier{{Count: 2, Price: 10}, {Count: 3, Price: 20}, {Count: 1, Price: 30}}}
	tests := []struct {
		name  string
		m     *Manifest
		index int
		want  int64
	}{
		{"early bird first", early, 0, 150},
		{"early bird last", early, 99, 150},
		{"after early bird", early, 100, 250},
		{"last share", early, 439, 250},
		{"negative index", early, -1, 0},
		{"tier 1", steps, 1, 10},
		{"tier 2 start", steps, 2, 20},
		{"tier 2 end", steps, 4, 20},
		{"tier 3", steps, 5, 30},
		{"base", steps, 6, 40},
		{"pay", testManifest(ModelPay), 12345, 250},
		{"open", testManifest(ModelOpen), 0, 0},
	}
	for _, tt := range tests {
		if got := tt.m.PriceOf(tt.index); got != tt.want {
			t.Errorf("%s: PriceOf(%d): got %d, want %d", tt.name, tt.index, got, tt.want)
		}
	}
}

func TestPriceFor(t *testing.T) {
	early := testManifest(ModelShards)
	steps := &Manifest{Model: ModelShards, Price: 40, Shards: 10,
		Schedule: []Tier{{Count: 2, Price: 10}, {Count: 3, Price: 20}, {Count: 1, Price: 30}}}
	huge := &Manifest{Model: ModelPay, Price: math.MaxInt64 / 2}
	tests := []struct {
		name    string
		m       *Manifest
		sold, k int
		want    int64
		err     string
	}{
		{"nothing", early, 0, 0, 0, ""},
		{"one early", early, 0, 1, 150, ""},
		{"all early", early, 0, 100, 15_000, ""},
		{"across the tier", early, 98, 4, 2*150 + 2*250, ""},
		{"after the tier", early, 200, 3, 750, ""},
		{"everything", early, 0, 440, 100_000, ""},
		{"the last one", early, 439, 1, 250, ""},
		{"one too many", early, 439, 2, 0, "sold out"},
		{"sold beyond N", early, 441, 0, 0, "sold out"},
		{"negative k", early, 0, -1, 0, "negative"},
		{"negative sold", early, -1, 1, 0, "negative"},
		{"steps whole", steps, 0, 10, 2*10 + 3*20 + 30 + 4*40, ""},
		{"steps middle", steps, 1, 5, 10 + 3*20 + 30, ""},
		{"steps from tier 3", steps, 5, 2, 30 + 40, ""},
		{"pay many", testManifest(ModelPay), 1_000_000, 3, 750, ""},
		{"pay overflow", huge, 0, 3, 0, "overflows"},
		{"pay at the limit", huge, 0, 2, math.MaxInt64 - 1, ""},
	}
	for _, tt := range tests {
		got, err := tt.m.PriceFor(tt.sold, tt.k)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: PriceFor(%d, %d): got %d, %v; want error %q", tt.name, tt.sold, tt.k, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: PriceFor(%d, %d): got %d, %v; want %d", tt.name, tt.sold, tt.k, got, err, tt.want)
		}
	}
	if _, err := early.PriceFor(439, 2); !errors.Is(err, ErrSoldOut) {
		t.Errorf("got %v, want ErrSoldOut", err)
	}
}

// TestPriceForSums checks PriceFor against the sum of PriceOf over every
// window of a small schedule.
func TestPriceForSums(t *testing.T) {
	m := &Manifest{Model: ModelShards, Price: 7, Shards: 12,
		Schedule: []Tier{{Count: 3, Price: 1}, {Count: 1, Price: 100}, {Count: 4, Price: 5}}}
	for sold := 0; sold <= m.Shards; sold++ {
		for k := 0; sold+k <= m.Shards; k++ {
			var want int64
			for i := sold; i < sold+k; i++ {
				want += m.PriceOf(i)
			}
			if got, err := m.PriceFor(sold, k); err != nil || got != want {
				t.Errorf("PriceFor(%d, %d): got %d, %v; want %d", sold, k, got, err, want)
			}
		}
	}
}

func TestSharesForGoal(t *testing.T) {
	tests := []struct {
		goal, price int64
		want        int
		ok          bool
	}{
		{100_000, 250, 400, true},
		{100_001, 250, 401, true},
		{1, 250, 1, true},
		{250, 250, 1, true},
		{10_000_000, 1, 10_000_000, true},
		{10_000_001, 1, 0, false},
		{math.MaxInt64, 1, 0, false},
		{0, 250, 0, false},
		{100, 0, 0, false},
		{-5, 2, 0, false},
	}
	for _, tt := range tests {
		got, err := SharesForGoal(tt.goal, tt.price)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("SharesForGoal(%d, %d): got %d, %v; want %d, ok %v", tt.goal, tt.price, got, err, tt.want, tt.ok)
		}
	}
}

// TestGoalRule checks that a manifest built with SharesForGoal passes the
// goal rule.
func TestGoalRule(t *testing.T) {
	for _, price := range []int64{1, 3, 250, 999} {
		for _, goal := range []int64{1, 2, 999, 1000, 1001, 100_000} {
			n, err := SharesForGoal(goal, price)
			if err != nil {
				t.Fatal(err)
			}
			m := testManifest(ModelShards)
			m.Schedule, m.Price, m.Goal, m.Shards = nil, price, goal, n
			m.Deadline = testCreated.Add(time.Hour)
			if err := m.Validate(); err != nil {
				t.Errorf("goal %d, price %d, N %d: got %v, want valid", goal, price, n, err)
			}
		}
	}
}
