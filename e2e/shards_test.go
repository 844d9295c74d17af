package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/testnet"
)

// waitUnlocked waits until n can read campaign id and serves its plaintext.
func waitUnlocked(t *testing.T, n *testnet.Node, id string, data []byte) {
	t.Helper()
	testnet.Eventually(t, 90*time.Second, n.Name+" unlocks "+id, func() error {
		st := statusOf(t, n, id)
		if !st.Unlocked {
			return fmt.Errorf("locked, %d of %d shares pooled", st.Pooled, st.Needed)
		}
		return nil
	})
	r := n.Run("cat", id)
	if r.Code != 0 || r.Stdout != string(data) {
		t.Fatalf("%s's cat after the unlock: exit %d, %d bytes: %s", n.Name, r.Code, len(r.Stdout), r.Stderr)
	}
}

// A 20-share campaign: three buyers buy 5, 7 and 7 and nobody but the
// creator can decrypt; the fourth buys the last one and all six nodes, the
// bystander too, serve the plaintext. The released identity decrypts the
// ciphertext with the stock age CLI when it is installed.
func TestShardsUnlockForEveryone(t *testing.T) {
	net := testnet.New(t, binary)
	creator := net.Node("creator")
	creator.Start()
	var buyers []*testnet.Node
	for i := range 4 {
		b := net.Node(fmt.Sprintf("buyer%d", i+1))
		b.Start("--bootstrap", creator.Addr())
		buyers = append(buyers, b)
	}
	bystander := net.Node("bystander")
	bystander.Start("--bootstrap", creator.Addr())
	all := append([]*testnet.Node{creator, bystander}, buyers...)

	path, data := randomFile(t, 40, 2<<20+333)
	id := creator.MustRun("publish", path, "--model", "shards", "--shards", "20", "--price", "1.00",
		"--early", "5:0.50", "--deadline", "24h")
	for _, n := range all[1:] {
		waitCampaign(t, n, id)
	}
	st := statusOf(t, creator, id)
	if st.Needed != 20 || st.Model != "shards" || !st.Unlocked {
		t.Fatalf("creator's status: %+v", st)
	}
	for i, k := range []int{5, 7, 7} {
		buyers[i].MustRun("buy", id, "--shards", fmt.Sprint(k))
	}
	testnet.Eventually(t, 60*time.Second, "19 shares in the bystander's pool", func() error {
		if p := statusOf(t, bystander, id).Pooled; p != 19 {
			return fmt.Errorf("pooled %d", p)
		}
		return nil
	})
	for _, n := range all[1:] {
		if st := statusOf(t, n, id); st.Unlocked {
			t.Fatalf("%s can decrypt with 19 of 20 shares public", n.Name)
		}
		if r := n.Run("cat", id); r.Code == 0 {
			t.Fatalf("%s's cat succeeded with 19 of 20 shares public", n.Name)
		}
	}
	if st := statusOf(t, creator, id); st.Sold != 19 || st.Raised != 5*50+14*100 {
		t.Fatalf("creator's ledger after 19 shares: sold %d raised %d; want 19, %d", st.Sold, st.Raised, 5*50+14*100)
	}
	if r := buyers[3].Run("buy", id, "--shards", "2"); r.Code == 0 {
		t.Fatal("buying 2 shares when 1 is left succeeded")
	}
	buyers[3].MustRun("buy", id, "--shards", "1")
	for _, n := range all {
		waitUnlocked(t, n, id, data)
	}

	// The released identity opens the ciphertext with the stock age CLI.
	age, err := exec.LookPath("age")
	if err != nil {
		if os.Getenv("SHARDCAST_REQUIRE_TOOLS") != "" {
			t.Fatal("the age CLI is not installed (scripts/test.sh installs it)")
		}
		t.Skip("the age CLI is not installed; scripts/test.sh installs it")
	}
	key := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(key, []byte(bystander.MustRun("key", id)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cipher := filepath.Join(t.TempDir(), "film.age")
	bystander.MustRun("get", statusOf(t, bystander, id).Content, "-o", cipher)
	out, err := exec.Command(age, "-d", "-i", key, cipher).Output()
	if err != nil {
		t.Fatalf("age -d with the released identity: %v", err)
	}
	if string(out) != string(data) {
		t.Fatalf("age -d gave %d bytes that differ from the %d published", len(out), len(data))
	}
}

// A campaign whose deadline passes with shares unsold unlocks everywhere;
// a node that starts after the unlock catches up.
func TestShardsDeadlineRelease(t *testing.T) {
	net := testnet.New(t, binary)
	creator, b := net.Node("creator"), net.Node("b")
	creator.Start()
	b.Start("--bootstrap", creator.Addr())
	path, data := randomFile(t, 41, 1<<20+5)
	id := creator.MustRun("publish", path, "--model", "shards", "--shards", "8", "--price", "1", "--deadline", "3s")
	waitCampaign(t, b, id)
	b.MustRun("buy", id, "--shards", "3")
	waitUnlocked(t, b, id, data)
	late := net.Node("late")
	late.Start("--bootstrap", creator.Addr())
	waitCampaign(t, late, id)
	waitUnlocked(t, late, id, data)
	// A restarted node keeps its pool.
	late.Stop()
	late.Start("--offline")
	if st := statusOf(t, late, id); st.Pooled != 8 || !st.Unlocked {
		t.Fatalf("after a restart: pooled %d unlocked %v; want 8, true", st.Pooled, st.Unlocked)
	}
}

// The creator's release publishes the unsold shares at once; a buyer's
// node cannot release.
func TestShardsReleaseNow(t *testing.T) {
	net := testnet.New(t, binary)
	creator, b := net.Node("creator"), net.Node("b")
	creator.Start()
	b.Start("--bootstrap", creator.Addr())
	path, data := randomFile(t, 42, 300_000)
	id := creator.MustRun("publish", path, "--model", "shards", "--goal", "10", "--price", "2.50", "--deadline", "720h")
	waitCampaign(t, b, id)
	if st := statusOf(t, b, id); st.Needed != 4 || st.Unlocked {
		t.Fatalf("status before release: needed %d unlocked %v; want 4 (goal 10 / price 2.50), false", st.Needed, st.Unlocked)
	}
	if r := b.Run("release", id); r.Code != 1 {
		t.Fatalf("release by a node that is not the creator: exit %d, want 1", r.Code)
	}
	if got := creator.MustRun("release", id); got != "4" {
		t.Fatalf("release printed %q, want 4", got)
	}
	waitUnlocked(t, b, id, data)
}
