package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/campaign"
)

// lines collects the demo's output; Run writes from one goroutine only.
type lines struct{ strings.Builder }

// One full run on a short duration: every model's outcome as the report
// states it.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	var out lines
	rep, err := Run(context.Background(), Options{Dir: t.TempDir(), Duration: 20 * time.Second, Out: &out})
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := len(rep.Nodes), len(names); got != want {
		t.Fatalf("nodes: got %d, want %d", got, want)
	}
	for _, n := range rep.Nodes {
		if !strings.HasPrefix(n.URL, "http://127.0.0.1:") {
			t.Errorf("%s's URL: got %q, want http://127.0.0.1:PORT/", n.Name, n.URL)
		}
	}
	tests := []struct {
		res               Result
		model             campaign.Model
		sales, sold, dons int
		raised, donated   int64
		readers, locked   int
	}{
		{rep.Open, campaign.ModelOpen, 0, 0, 2, 0, 800, 1, 0},
		{rep.Pay, campaign.ModelPay, 2, 2, 0, 500, 0, 2, 3},
		{rep.Shards, campaign.ModelShards, 4, 12, 0, 1000, 0, 6, 0},
	}
	for _, tt := range tests {
		r := tt.res
		if r.Model != tt.model {
			t.Errorf("model: got %v, want %v", r.Model, tt.model)
		}
		if r.Sales != tt.sales || r.Sold != tt.sold || r.Donations != tt.dons || r.Raised != tt.raised || r.Donated != tt.donated {
			t.Errorf("%s ledger: got sales %d sold %d donations %d raised %d donated %d, want %d %d %d %d %d",
				r.Model, r.Sales, r.Sold, r.Donations, r.Raised, r.Donated, tt.sales, tt.sold, tt.dons, tt.raised, tt.donated)
		}
		if len(r.Readers) != tt.readers || len(r.Locked) != tt.locked {
			t.Errorf("%s: got readers %v locked %v, want %d and %d", r.Model, r.Readers, r.Locked, tt.readers, tt.locked)
		}
		for _, c := range r.Checks {
			if c.Err != nil {
				t.Errorf("%s: %s: %v", r.Model, c.What, c.Err)
			}
		}
		if !strings.Contains(r.Watch, "/watch/"+r.Campaign.String()) {
			t.Errorf("%s watch URL: got %q", r.Model, r.Watch)
		}
	}
	if rep.Err() != nil {
		t.Errorf("Report.Err: got %v, want nil", rep.Err())
	}
	if !strings.Contains(out.String(), "TEST MONEY") {
		t.Error("output never says TEST MONEY")
	}
}

func TestStory(t *testing.T) {
	tests := []struct {
		d, want time.Duration
	}{
		{0, fullStory},
		{5 * time.Second, minStory},
		{20 * time.Second, 10 * time.Second},
		{90 * time.Second, 45 * time.Second},
		{10 * time.Minute, fullStory},
	}
	for _, tt := range tests {
		if got := story(tt.d); got != tt.want {
			t.Errorf("story(%s): got %s, want %s", tt.d, got, tt.want)
		}
	}
}

// A directory that already holds the demo's repos is refused before any
// node starts, and the summary of a run that published nothing is empty.
func TestRunDirInUse(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "creator"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "creator", "config.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Dir: dir, Duration: time.Second})
	if err == nil {
		t.Fatal("Run in a directory holding a repo: got nil error")
	}
	if got := rep.Summary(); got != "" {
		t.Errorf("summary: got %q, want empty", got)
	}
}
