package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/internal/peerlimit"
)

func has(t *testing.T, c *Catalog, id cid.Cid) bool {
	t.Helper()
	_, err := c.Get(id)
	_, ferr := os.Stat(filepath.Join(c.dir, id.String()+".manifest"))
	if (err == nil) != (ferr == nil) {
		t.Fatalf("%s: in memory %v, on disk %v", id, err == nil, ferr == nil)
	}
	return err == nil
}

// TestBudget fills the budget of campaigns not followed from one source:
// the oldest go (from memory and disk), one creator gets at most its
// share, a campaign from another source evicts the flooder's oldest,
// followed campaigns are outside the budget, and an evicted campaign
// comes back once its cooldown is over.
func TestBudget(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_700_000_000, 0)
	fk, followedRaw := testManifest(t, "followed")
	followed := creatorOf(t, fk)
	c, err := Open(dir, WithBudget(Budget{Campaigns: 4, PerCreator: 2, Cooldown: time.Hour}),
		WithFollowed(func(e Entry) bool { return e.Manifest.Creator == followed }))
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return now }
	var evicted []cid.Cid
	c.OnEvict(func(id cid.Cid) { evicted = append(evicted, id) })

	var flood []cid.Cid
	for i := range 6 {
		_, raw := testManifest(t, fmt.Sprint("flood ", i))
		e, isNew, err := c.add(raw, "flooder")
		if err != nil || !isNew {
			t.Fatalf("flood %d: %v, new %v", i, err, isNew)
		}
		flood = append(flood, e.ID)
	}
	if n, _ := c.Usage(); n != 4 {
		t.Errorf("campaigns held after the flood: got %d, want 4", n)
	}
	for i, id := range flood {
		if got, want := has(t, c, id), i >= 2; got != want {
			t.Errorf("flood %d held: got %v, want %v", i, got, want)
		}
	}
	if len(evicted) != 2 || evicted[0] != flood[0] || evicted[1] != flood[1] {
		t.Errorf("OnEvict: got %v, want %v", evicted, flood[:2])
	}

	// Followed: kept, outside the budget.
	fe, _, err := c.add(followedRaw, "flooder")
	if err != nil || !c.Followed(fe.ID) {
		t.Fatalf("followed campaign: %v, followed %v", err, c.Followed(fe.ID))
	}
	if n, _ := c.Usage(); n != 4 {
		t.Errorf("campaigns held with a followed one: got %d, want 4", n)
	}

	// Another source: the flooder's oldest makes room.
	k, raw := testManifest(t, "honest")
	honest, _, err := c.add(raw, "relay")
	if err != nil {
		t.Fatal(err)
	}
	if !has(t, c, honest.ID) || has(t, c, flood[2]) {
		t.Errorf("after a campaign from another source: held %v, flooder's oldest held %v; want true, false",
			has(t, c, honest.ID), has(t, c, flood[2]))
	}
	// One creator: at most PerCreator campaigns.
	if _, _, err := c.add(signWith(t, k, "honest 2"), "relay"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.add(signWith(t, k, "honest 3"), "relay"); !errors.Is(err, ErrBudget) {
		t.Errorf("a creator's third campaign: got %v, want %v", err, ErrBudget)
	}
	if has(t, c, flood[3]) || !has(t, c, flood[4]) {
		t.Errorf("after the relay's second campaign: flood 3 held %v, flood 4 held %v; want false, true",
			has(t, c, flood[3]), has(t, c, flood[4]))
	}
	if n, _ := c.Usage(); n != 4 {
		t.Errorf("campaigns held: got %d, want 4", n)
	}

	// Reopened, the catalog holds what it held.
	c2, err := Open(dir, WithBudget(Budget{Campaigns: 4, PerCreator: 2}),
		WithFollowed(func(e Entry) bool { return e.Manifest.Creator == followed }))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(c2.List()), len(c.List()); got != want {
		t.Errorf("reopened: %d campaigns, want %d", got, want)
	}
	// A smaller budget trims the oldest on opening.
	c3, err := Open(dir, WithBudget(Budget{Campaigns: 1, PerCreator: 2}))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c3.Usage(); n != 1 {
		t.Errorf("reopened with a budget of 1: %d held", n)
	}
}

// TestBudgetCooldown: an evicted campaign offered again while the budget
// is full is refused until its cooldown ends, then evicts another.
func TestBudgetCooldown(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c, err := Open(t.TempDir(), WithBudget(Budget{Campaigns: 2, Cooldown: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return now }
	var raws [][]byte
	for i := range 3 {
		_, raw := testManifest(t, fmt.Sprint("c", i))
		raws = append(raws, raw)
		if _, _, err := c.add(raw, "p"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := c.add(raws[0], "p"); !errors.Is(err, ErrBudget) {
		t.Errorf("evicted campaign within its cooldown: got %v, want %v", err, ErrBudget)
	}
	now = now.Add(time.Minute)
	if _, isNew, err := c.add(raws[0], "p"); err != nil || !isNew {
		t.Errorf("evicted campaign after its cooldown: got %v, new %v; want it back", err, isNew)
	}
	if n, _ := c.Usage(); n != 2 {
		t.Errorf("held: got %d, want 2", n)
	}
}

// TestBudgetBytes evicts by bytes as well as by count.
func TestBudgetBytes(t *testing.T) {
	_, raw := testManifest(t, "size")
	c, err := Open(t.TempDir(), WithBudget(Budget{Campaigns: 100, Bytes: int64(2*len(raw) + len(raw)/2)}))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_, raw := testManifest(t, fmt.Sprintf("size%d", i)) // same length
		if _, _, err := c.add(raw, peer.ID(fmt.Sprint("p", i))); err != nil {
			t.Fatal(err)
		}
	}
	if n, b := c.Usage(); n != 2 || b > int64(2*len(raw)+len(raw)/2) {
		t.Errorf("held: %d campaigns of %d bytes, want 2 within %d", n, b, 2*len(raw)+len(raw)/2)
	}
}

// TestProofRoom stores proofs against creators the catalog knows up to
// the cap, and only a few against strangers; a valid proof beyond is
// neither stored nor an error.
func TestProofRoom(t *testing.T) {
	c, err := Open(t.TempDir(), WithProofVerifier(fakeVerify))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range peerlimit.UnknownCreatorProofs + 2 {
		k, raw := testManifest(t, fmt.Sprint("stranger ", i))
		added, err := c.AddProof(ctx, fakeProof(creatorOf(t, k), campaign.ID(raw), "bad"))
		if err != nil || added != (i < peerlimit.UnknownCreatorProofs) {
			t.Errorf("proof %d against a stranger: added %v, %v", i, added, err)
		}
	}
	k, raw := testManifest(t, "known")
	e, _, err := c.Add(raw)
	if err != nil {
		t.Fatal(err)
	}
	if added, err := c.AddProof(ctx, fakeProof(creatorOf(t, k), e.ID, "bad")); err != nil || !added {
		t.Errorf("proof against a known creator: added %v, %v", added, err)
	}
	if got, want := len(c.Proofs()), peerlimit.UnknownCreatorProofs+1; got != want {
		t.Errorf("proofs held: got %d, want %d", got, want)
	}
}

// TestBudgetKeepsRelaysOwnWorks: a peer that relays a flood brings the
// most, but its own works (brought by their creator) go only after
// everything it relayed, so a flooder cannot make a neighbour forget an
// honest peer's campaigns by pushing junk through it.
func TestBudgetKeepsRelaysOwnWorks(t *testing.T) {
	c, err := Open(t.TempDir(), WithBudget(Budget{Campaigns: 4, PerCreator: 4, Cooldown: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	k, raw := testManifest(t, "the relay's own film")
	relay := creatorOf(t, k)
	own, _, err := c.add(raw, relay)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		_, raw := testManifest(t, fmt.Sprint("junk ", i))
		if _, _, err := c.add(raw, relay); err != nil {
			t.Fatalf("junk %d: %v", i, err)
		}
	}
	if !has(t, c, own.ID) {
		t.Error("the relay's own campaign was evicted before the junk it relayed")
	}
	if n, _ := c.Usage(); n != 4 {
		t.Errorf("campaigns held: got %d, want 4", n)
	}
}
