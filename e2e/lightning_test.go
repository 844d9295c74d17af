package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/regtest"
	"github.com/shardcast/shardcast/internal/testnet"
	"github.com/shardcast/shardcast/pay/lightning"
)

// The Lightning tests run real daemons against a private regtest network
// (btcd and two LND nodes, one channel): the creator's daemon uses bob's
// LND, the buyer's alice's, who funded the channel. Prices are 1,000 sat
// (0.00001 BTC), 1,000,000 msat.
const lnPrice = 1_000_000 // msat

// lnNodes starts a regtest network, a creator on bob's LND (with extra
// environment for its daemon) and a buyer on alice's, connected.
func lnNodes(t *testing.T, creatorEnv ...string) (net *regtest.Network, creator, buyer *testnet.Node) {
	net = regtest.Start(t)
	tn := testnet.New(t, binary)
	creator, buyer = tn.Node("creator"), tn.Node("buyer")
	creator.Env = creatorEnv
	creator.Start(lndFlags(net.Bob)...)
	buyer.Start(lndFlags(net.Alice)...)
	buyer.MustRun("connect", creator.Addr())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("creator's daemon:\n%s\nbuyer's daemon:\n%s", creator.Logs(), buyer.Logs())
		}
	})
	return net, creator, buyer
}

func lndFlags(l regtest.LND) []string {
	return []string{"--lnd-rest", l.REST, "--lnd-cert", l.TLSCert, "--lnd-macaroon", l.Macaroon}
}

// lnBalance returns what an LND node holds in its channels, in msat.
func lnBalance(t *testing.T, l regtest.LND) int64 {
	t.Helper()
	r, err := lightning.New(lightning.Options{RESTAddr: l.REST, TLSCertPath: l.TLSCert, MacaroonPath: l.Macaroon})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := r.Balance(ctx, lightning.Currency)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitHeld waits until an LND node's balance is at most want: funds held
// in an HTLC also raise the commitment fee its funder pays.
func waitHeld(t *testing.T, who string, l regtest.LND, want int64) {
	t.Helper()
	testnet.Eventually(t, 90*time.Second, fmt.Sprintf("%s's LND balance to be at most %d msat", who, want), func() error {
		if got := lnBalance(t, l); got > want {
			return fmt.Errorf("%s's LND holds %d msat", who, got)
		}
		return nil
	})
}

// waitBalance waits until an LND node's balance is want.
func waitBalance(t *testing.T, who string, l regtest.LND, want int64) {
	t.Helper()
	testnet.Eventually(t, 90*time.Second, fmt.Sprintf("%s's LND balance to be %d msat", who, want), func() error {
		if got := lnBalance(t, l); got != want {
			return fmt.Errorf("%s's LND holds %d msat", who, got)
		}
		return nil
	})
}

type lnStatus struct {
	status
	Pledged  int64  `json:"pledged"`
	Rejected string `json:"rejected"`
}

func lnStatusOf(t *testing.T, n *testnet.Node, id string) lnStatus {
	t.Helper()
	var s lnStatus
	if err := json.Unmarshal([]byte(n.MustRun("status", id, "--json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A film sold for access and a share sold atomically, both paid over
// Lightning: the creator's LND balance rises by each price, the buyer
// reads the film and holds the share.
func TestLightningPayAndShard(t *testing.T) {
	net, creator, buyer := lnNodes(t)
	film, data := randomFile(t, 60, 3<<20+77)
	payID := creator.MustRun("publish", film, "--model", "pay", "--rail", "lightning", "--price", "0.00001")
	shardsID := creator.MustRun("publish", film, "--model", "shards", "--rail", "lightning", "--price", "0.00001",
		"--shards", "2", "--deadline", "1h")
	waitCampaign(t, buyer, payID)
	waitCampaign(t, buyer, shardsID)

	bob, alice := lnBalance(t, net.Bob), lnBalance(t, net.Alice)
	if r := buyer.Run("buy", payID); r.Code != 0 || r.Stdout == "" {
		t.Fatalf("buy over Lightning: exit %d\n%s", r.Code, r.Stderr)
	}
	waitBalance(t, "bob (creator)", net.Bob, bob+lnPrice)
	if got := alice - lnBalance(t, net.Alice); got != lnPrice {
		t.Errorf("alice (buyer) paid %d msat, want %d", got, lnPrice)
	}
	if r := buyer.Run("cat", payID); r.Code != 0 || r.Stdout != string(data) {
		t.Fatalf("cat of the film bought over Lightning: exit %d, %d bytes\n%s", r.Code, len(r.Stdout), r.Stderr)
	}

	bob = lnBalance(t, net.Bob)
	if r := buyer.Run("buy", shardsID, "--shards", "1"); r.Code != 0 {
		t.Fatalf("buying a share over Lightning: exit %d\n%s", r.Code, r.Stderr)
	}
	waitBalance(t, "bob (creator)", net.Bob, bob+lnPrice)
	if st := lnStatusOf(t, creator, shardsID); st.Sold != 1 || st.Raised != lnPrice || st.Currency != "BTC" {
		t.Fatalf("creator's status after a share sold: sold %d raised %d %s", st.Sold, st.Raised, st.Currency)
	}
	testnet.Eventually(t, 60*time.Second, "the bought share in the buyer's pool", func() error {
		if st := lnStatusOf(t, buyer, shardsID); st.Pooled < 1 {
			return fmt.Errorf("pooled %d", st.Pooled)
		}
		return nil
	})
}

// All or nothing, goal met: two pledges hold the buyer's funds without
// paying the creator; the second completes the goal, the creator settles
// both, and the work unlocks.
func TestLightningPledgesGoalMet(t *testing.T) {
	net, creator, buyer := lnNodes(t)
	film, data := randomFile(t, 61, 1<<20+5)
	id := creator.MustRun("publish", film, "--model", "shards", "--rail", "lightning", "--price", "0.00001",
		"--shards", "2", "--deadline", "2h", "--all-or-nothing")
	waitCampaign(t, buyer, id)
	bob, alice := lnBalance(t, net.Bob), lnBalance(t, net.Alice)

	r := buyer.Run("buy", id)
	if r.Code != 0 || !strings.Contains(r.Stderr, "pledged") {
		t.Fatalf("first pledge: exit %d\n%s", r.Code, r.Stderr)
	}
	if st := lnStatusOf(t, creator, id); st.Pledged != 1 || st.Sold != 0 {
		t.Fatalf("creator after one pledge: pledged %d sold %d, want 1, 0", st.Pledged, st.Sold)
	}
	waitHeld(t, "alice (buyer, funds held)", net.Alice, alice-lnPrice)
	if got := lnBalance(t, net.Bob); got != bob {
		t.Fatalf("bob (creator) got %d msat for a pledge held, want nothing yet", got-bob)
	}
	if st := lnStatusOf(t, buyer, id); st.Unlocked {
		t.Fatal("unlocked after one of two pledges")
	}
	testnet.Eventually(t, 60*time.Second, "the buyer sees the pledge in the creator's signed state", func() error {
		if st := lnStatusOf(t, buyer, id); st.Pledged != 1 || st.Sold != 0 {
			return fmt.Errorf("buyer's status: pledged %d sold %d", st.Pledged, st.Sold)
		}
		return nil
	})
	// The buyer's daemon dies holding the pledge; after a restart it
	// follows the payment again.
	buyer.Kill()
	buyer.Start(lndFlags(net.Alice)...)
	buyer.MustRun("connect", creator.Addr())

	if r := buyer.Run("buy", id); r.Code != 0 {
		t.Fatalf("second pledge: exit %d\n%s", r.Code, r.Stderr)
	}
	waitBalance(t, "bob (creator), both pledges settled", net.Bob, bob+2*lnPrice)
	waitBalance(t, "alice (buyer)", net.Alice, alice-2*lnPrice)
	testnet.Eventually(t, 90*time.Second, "the work unlocks on the buyer", func() error {
		if st := lnStatusOf(t, buyer, id); !st.Unlocked {
			return fmt.Errorf("pooled %d of %d", st.Pooled, st.Needed)
		}
		return nil
	})
	if r := buyer.Run("cat", id); r.Stdout != string(data) {
		t.Fatalf("cat after the goal: exit %d, %d bytes", r.Code, len(r.Stdout))
	}
	if st := lnStatusOf(t, creator, id); st.Sold != 2 || st.Pledged != 0 || st.Raised != 2*lnPrice {
		t.Fatalf("creator after the goal: sold %d pledged %d raised %d", st.Sold, st.Pledged, st.Raised)
	}
	testnet.Eventually(t, 60*time.Second, "both of the buyer's pledges complete, the first across its restart", func() error {
		if out := buyer.MustRun("receipts", id); strings.Count(out, "complete") != 2 {
			return fmt.Errorf("receipts:\n%s", out)
		}
		return nil
	})
}

// All or nothing, goal missed: at the deadline the pledge is canceled,
// the buyer's balance is restored and, the shortfall rule being "locked",
// the work stays locked.
func TestLightningPledgesShort(t *testing.T) {
	net, creator, buyer := lnNodes(t)
	film, _ := randomFile(t, 62, 1<<20+6)
	// Hold invoices expire by block height: a deadline they cannot outlive
	// is refused, and nothing is published.
	r := creator.Run("publish", film, "--model", "shards", "--rail", "lightning", "--price", "0.00001",
		"--shards", "3", "--deadline", "720h", "--all-or-nothing")
	if r.Code != 1 || !strings.Contains(r.Stderr, "too far") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Fatalf("an all-or-nothing deadline 30 days away: exit %d, want 1 and one line saying it is too far\n%s", r.Code, r.Stderr)
	}
	if out := creator.MustRun("campaigns", "--json"); out != "[]" {
		t.Fatalf("a refused campaign was published: %s", out)
	}
	// The limit it suggests is itself accepted.
	limit := regexp.MustCompile(`\((\w+) from now\)`).FindStringSubmatch(r.Stderr)
	if limit == nil {
		t.Fatalf("the refusal suggests no limit: %s", r.Stderr)
	}
	if r := creator.Run("publish", film, "--model", "shards", "--rail", "lightning", "--price", "0.00001",
		"--shards", "3", "--deadline", limit[1], "--all-or-nothing", "--title", "at the limit"); r.Code != 0 {
		t.Fatalf("publishing at the suggested limit %s: exit %d\n%s", limit[1], r.Code, r.Stderr)
	}
	id := creator.MustRun("publish", film, "--model", "shards", "--rail", "lightning", "--price", "0.00001",
		"--shards", "3", "--deadline", "30s", "--all-or-nothing", "--shortfall", "locked")
	waitCampaign(t, buyer, id)
	bob, alice := lnBalance(t, net.Bob), lnBalance(t, net.Alice)
	began := time.Now()
	if r := buyer.Run("buy", id); r.Code != 0 {
		t.Fatalf("pledge: exit %d\n%s", r.Code, r.Stderr)
	}
	t.Logf("pledged in %v", time.Since(began))
	waitHeld(t, "alice (buyer, funds held)", net.Alice, alice-lnPrice)
	t.Logf("held after %v", time.Since(began))
	waitBalance(t, "alice (buyer, refunded at the deadline)", net.Alice, alice)
	if got := lnBalance(t, net.Bob); got != bob {
		t.Fatalf("bob (creator) got %d msat from a canceled pledge", got-bob)
	}
	testnet.Eventually(t, 30*time.Second, "the buyer's receipt says refunded", func() error {
		if out := buyer.MustRun("receipts", id); !strings.Contains(out, "refunded") {
			return fmt.Errorf("receipts:\n%s", out)
		}
		return nil
	})
	if st := lnStatusOf(t, buyer, id); st.Unlocked {
		t.Fatal("a campaign short of its goal with shortfall locked unlocked")
	}
	if st := lnStatusOf(t, creator, id); st.Sold != 0 || st.Pledged != 0 || st.Raised != 0 {
		t.Fatalf("creator after the shortfall: sold %d pledged %d raised %d", st.Sold, st.Pledged, st.Raised)
	}
	// status says how it ended, on both nodes, in JSON and in words.
	for _, n := range []*testnet.Node{creator, buyer} {
		var o struct {
			Outcome string `json:"outcome"`
		}
		if err := json.Unmarshal([]byte(n.MustRun("status", id, "--json")), &o); err != nil || o.Outcome != "short" {
			t.Fatalf("%s: status --json outcome %q (%v), want short", n.Name, o.Outcome, err)
		}
		if out := n.MustRun("status", id); !strings.Contains(out, "the pledges were returned and the work stays locked") {
			t.Fatalf("%s: status does not say how the campaign ended:\n%s", n.Name, out)
		}
	}
	if r := buyer.Run("buy", id); r.Code != 1 {
		t.Fatalf("pledging after the deadline: exit %d, want 1", r.Code)
	}
}

// A creator that seals a bad share is caught: the buyer's buy fails and
// names its proof, verify-proof accepts the proof, and a third node that
// took no part rejects the creator's campaign.
func TestLightningCheaterCaught(t *testing.T) {
	_, creator, buyer := lnNodes(t, "SHARDCAST_TEST_CHEAT=bad-share")
	third := testnet.New(t, binary).Node("third")
	third.Start()
	third.MustRun("connect", creator.Addr())
	third.MustRun("connect", buyer.Addr())
	film, _ := randomFile(t, 63, 1<<20+7)
	id := creator.MustRun("publish", film, "--model", "shards", "--rail", "lightning", "--price", "0.00001",
		"--shards", "3", "--deadline", "1h")
	waitCampaign(t, buyer, id)
	waitCampaign(t, third, id)

	r := buyer.Run("buy", id)
	if r.Code != 1 || !strings.Contains(r.Stderr, "bad shares") {
		t.Fatalf("buying a bad share: exit %d, want 1 naming the bad shares\n%s", r.Code, r.Stderr)
	}
	m := regexp.MustCompile(`the proof is in (\S+\.proof)`).FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("buy's error names no proof file:\n%s", r.Stderr)
	}
	proof := m[1]
	if v := buyer.Run("verify-proof", proof); v.Code != 0 || !strings.Contains(v.Stdout, "fail") {
		t.Fatalf("verify-proof on the buyer: exit %d\n%s%s", v.Code, v.Stdout, v.Stderr)
	}
	testnet.Eventually(t, 60*time.Second, "the third node rejects the campaign", func() error {
		if st := lnStatusOf(t, third, id); st.Rejected == "" {
			return fmt.Errorf("third node's status has no rejection")
		}
		return nil
	})
	if r := third.Run("buy", id); r.Code != 1 || !strings.Contains(r.Stderr, "rejected") {
		t.Fatalf("third node buying from a proven cheat: exit %d\n%s", r.Code, r.Stderr)
	}
	// The proof checks on the third node too, and a tampered one does not.
	if v := third.Run("verify-proof", proof); v.Code != 0 {
		t.Fatalf("verify-proof on the third node: exit %d\n%s", v.Code, v.Stderr)
	}
	raw, err := os.ReadFile(proof)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1 // the key
	bad := t.TempDir() + "/tampered.proof"
	if err := os.WriteFile(bad, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if v := third.Run("verify-proof", bad); v.Code != 1 || strings.Count(strings.TrimSpace(v.Stderr), "\n") != 0 {
		t.Fatalf("verify-proof of a tampered proof: exit %d, want 1 and one line\n%s", v.Code, v.Stderr)
	}
}

// The creator's daemon is killed with SIGKILL while it holds pledges,
// twice: once in the middle of settling them at the goal (a crash point
// right after the first settlement is recorded), and once holding a
// pledge when the deadline passes while it is down. After each restart
// every pledge is settled or canceled: the balances say so.
func TestLightningKilledHoldingPledges(t *testing.T) {
	net, creator, buyer := lnNodes(t, "SHARDCAST_CRASH_POINT=market-after-commit")
	film, _ := randomFile(t, 64, 1<<20+8)
	met := creator.MustRun("publish", film, "--model", "shards", "--rail", "lightning", "--price", "0.00001",
		"--shards", "2", "--deadline", "2h", "--all-or-nothing")
	short := creator.MustRun("publish", film, "--model", "shards", "--rail", "lightning", "--price", "0.00001",
		"--shards", "3", "--deadline", "40s", "--all-or-nothing")
	waitCampaign(t, buyer, met)
	waitCampaign(t, buyer, short)
	bob, alice := lnBalance(t, net.Bob), lnBalance(t, net.Alice)

	if r := buyer.Run("buy", short); r.Code != 0 {
		t.Fatalf("pledge to the campaign that will fall short: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := buyer.Run("buy", met); r.Code != 0 {
		t.Fatalf("first pledge: exit %d\n%s", r.Code, r.Stderr)
	}
	// The second pledge meets the goal; settling the first of the two
	// kills the creator, maybe before it answers this buy, which then
	// waits for it to come back.
	second := make(chan testnet.Result, 1)
	go func() { second <- buyer.Run("buy", met) }()
	if err := creator.WaitExit(90 * time.Second); err == nil {
		t.Fatal("the creator's daemon exited cleanly; the crash point did not fire")
	}
	creator.Env = nil
	creator.Start(lndFlags(net.Bob)...)
	buyer.MustRun("connect", creator.Addr())
	if r := <-second; r.Code != 0 {
		t.Fatalf("second pledge, across the creator's crash: exit %d\n%s", r.Code, r.Stderr)
	}
	waitBalance(t, "bob (creator), both pledges of the goal settled", net.Bob, bob+2*lnPrice)
	testnet.Eventually(t, 90*time.Second, "the campaign whose goal was met unlocks on the buyer", func() error {
		if st := lnStatusOf(t, buyer, met); !st.Unlocked {
			return fmt.Errorf("pooled %d of %d", st.Pooled, st.Needed)
		}
		return nil
	})

	// Now kill it holding the other pledge, and let the deadline pass
	// while it is down.
	if st := lnStatusOf(t, creator, short); st.Pledged != 1 {
		t.Fatalf("creator holds %d pledges of the short campaign, want 1", st.Pledged)
	}
	creator.Kill()
	deadline, err := time.Parse(time.RFC3339, lnStatusOf(t, buyer, short).Deadline)
	if err != nil {
		t.Fatal(err)
	}
	testnet.Eventually(t, 2*time.Minute, "the deadline to pass", func() error {
		if time.Now().Before(deadline) {
			return fmt.Errorf("deadline %v not reached", deadline)
		}
		return nil
	})
	creator.Start(lndFlags(net.Bob)...)
	waitBalance(t, "alice (buyer), the short campaign's pledge refunded", net.Alice, alice-2*lnPrice)
	if st := lnStatusOf(t, creator, short); st.Pledged != 0 || st.Sold != 0 {
		t.Fatalf("creator after restart: short campaign pledged %d sold %d", st.Pledged, st.Sold)
	}
	if got := lnBalance(t, net.Bob); got != bob+2*lnPrice {
		t.Fatalf("bob (creator) holds %d msat more, want %d", got-bob, 2*lnPrice)
	}
}

// A buy over Lightning that the buyer's own LND refuses (a read-only
// macaroon) fails at once, in one line naming the buyer's LND and
// without the invoice; its receipt says failed, with the price and the
// currency; restarted with the right macaroon, the daemon never pays it,
// and a new buy pays once.
func TestLightningFailedBuy(t *testing.T) {
	net := regtest.Start(t)
	tn := testnet.New(t, binary)
	creator, buyer := tn.Node("creator"), tn.Node("buyer")
	creator.Start(lndFlags(net.Bob)...)
	readOnly := regtest.LND{REST: net.Alice.REST, TLSCert: net.Alice.TLSCert,
		Macaroon: filepath.Join(filepath.Dir(net.Alice.Macaroon), "readonly.macaroon")}
	buyer.Start(lndFlags(readOnly)...)
	buyer.MustRun("connect", creator.Addr())
	film, _ := randomFile(t, 61, 1<<20)
	payID := creator.MustRun("publish", film, "--model", "pay", "--rail", "lightning", "--price", "0.00001")
	waitCampaign(t, buyer, payID)
	alice := lnBalance(t, net.Alice)

	r := buyer.Run("buy", payID)
	oneLine(t, "a buy the buyer's LND refuses", r, 1)
	t.Logf("the failed buy says: %s", strings.TrimSpace(r.Stderr))
	if !strings.Contains(r.Stderr, "this node's lightning rail") || strings.Contains(r.Stderr, "lnbc") || len(r.Stderr) > 400 {
		t.Fatalf("the failed buy's error %q: want one short line naming this node's LND, without the invoice", r.Stderr)
	}
	rs := receiptsOf(t, buyer)
	if len(rs) != 1 || rs[0].Status != "failed" || rs[0].Amount != lnPrice || rs[0].Currency != "BTC" {
		t.Fatalf("receipts after the failed buy: %+v; want one, failed, %d BTC msat", rs, lnPrice)
	}

	buyer.Stop()
	buyer.Start(lndFlags(net.Alice)...)
	buyer.MustRun("connect", creator.Addr())
	if r := buyer.Run("buy", payID); r.Code != 0 {
		t.Fatalf("buy with the right macaroon: exit %d: %s", r.Code, r.Stderr)
	}
	if got := alice - lnBalance(t, net.Alice); got != lnPrice {
		t.Fatalf("alice paid %d msat in all, want %d: the failed buy must never be paid", got, lnPrice)
	}
	for _, rc := range receiptsOf(t, buyer) {
		if rc.Status != "failed" && rc.Status != "complete" {
			t.Fatalf("receipt %+v after the restart", rc)
		}
	}
}
