package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/internal/testnet"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
)

// The chaos test's knobs: the seed of every random choice, and how many
// purchases the buyers start.
const (
	chaosSeedEnv      = "SHARDCAST_CHAOS_SEED"
	chaosPurchasesEnv = "SHARDCAST_CHAOS_PURCHASES"
)

func envInt(t *testing.T, name string, def uint64) uint64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// chaosNode is a daemon the chaos test kills and restarts; api is its
// API address of the moment, for the buyers' goroutines.
type chaosNode struct {
	n     *testnet.Node
	flags []string
	api   atomic.Value // string
	kills int
}

func (c *chaosNode) start() {
	c.n.Start(c.flags...)
	c.api.Store(c.n.API)
}

// One creator, three buyers buying shares, access and donations at once,
// with requests abandoned by short client timeouts and daemons killed
// (SIGKILL) at random and restarted; then every purchase ends, the
// creator releases the work, and: the test wallets sum to what they held
// at the start, every debit has a delivery or a refund, and no share
// index is sold twice. SHARDCAST_CHAOS_SEED repeats a run,
// SHARDCAST_CHAOS_PURCHASES sets its size.
func TestChaos(t *testing.T) {
	seed := envInt(t, chaosSeedEnv, uint64(time.Now().UnixNano()))
	total := int(envInt(t, chaosPurchasesEnv, 150))
	t.Logf("chaos: seed %d, %d purchases (%s=%d %s=%d to repeat)", seed, total, chaosSeedEnv, seed, chaosPurchasesEnv, total)
	rng := rand.New(rand.NewPCG(seed, 1))
	began := time.Now()

	net := testnet.New(t, binary)
	creator := &chaosNode{n: net.Node("creator")}
	creator.flags = []string{"--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", testnet.FreePort(t))}
	creator.start()
	var buyers []*chaosNode
	for i := range 3 {
		b := &chaosNode{n: net.Node(fmt.Sprintf("buyer%d", i+1))}
		b.flags = []string{"--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", testnet.FreePort(t)), "--bootstrap", creator.n.Addr()}
		b.start()
		buyers = append(buyers, b)
	}
	all := append([]*chaosNode{creator}, buyers...)

	path, _ := randomFile(t, 60, 256<<10+3)
	nShares := 3*total + 10
	shardsID := creator.n.MustRun("publish", path, "--model", "shards", "--shards", fmt.Sprint(nShares), "--price", "1.00",
		"--early", "10:0.50", "--deadline", "24h")
	payID := creator.n.MustRun("publish", path, "--model", "pay", "--price", "2.50")
	openID := creator.n.MustRun("publish", path, "--model", "open", "--suggested", "1,5", "--goal", "1000")
	for _, b := range buyers {
		for _, id := range []string{shardsID, payID, openID} {
			waitCampaign(t, b.n, id)
		}
	}
	start := make(map[*chaosNode]int64)
	var sumStart int64
	for _, n := range all {
		start[n] = walletBalance(t, n.n)
		sumStart += start[n]
	}

	// The buyers' goroutines: each purchase a fresh request, a third of
	// them abandoned after a short timeout.
	// started counts the requests a daemon received (answered, or
	// abandoned by the client): a request to a dead daemon is tried anew.
	var started, abandoned atomic.Int64
	var wg sync.WaitGroup
	for i, b := range buyers {
		r := rand.New(rand.NewPCG(seed, uint64(i+2)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for started.Load() < int64(total) {
				time.Sleep(time.Duration(100+r.IntN(700)) * time.Millisecond)
				path, body := chaosPurchase(r, shardsID, payID, openID)
				timeout := 30 * time.Second
				if r.IntN(3) == 0 {
					timeout = time.Duration(2+r.IntN(80)) * time.Millisecond
				}
				_, err := chaosPost(b.api.Load().(string), b.n.Repo, path, body, timeout)
				switch {
				case err == nil:
				case errors.Is(err, context.DeadlineExceeded):
					abandoned.Add(1)
				default:
					continue // the daemon is down, or died under the request: it comes back
				}
				started.Add(1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// Meanwhile, SIGKILL a daemon every second or few and restart it.
	kills := 0
chaos:
	for {
		select {
		case <-done:
			break chaos
		case <-time.After(time.Duration(1000+rng.IntN(3000)) * time.Millisecond):
		}
		victim := creator // half the kills hit the creator, the rest a buyer
		if rng.IntN(2) == 0 {
			victim = buyers[rng.IntN(len(buyers))]
		}
		victim.n.Kill()
		victim.kills++
		kills++
		time.Sleep(time.Duration(rng.IntN(1000)) * time.Millisecond)
		victim.start()
	}

	// Every purchase ends once everyone is up.
	testnet.Eventually(t, 3*time.Minute, "every purchase ends", func() error {
		for _, b := range buyers {
			for _, r := range receiptsOf(t, b.n) {
				if r.Status == "paying" || r.Status == "pledged" {
					return fmt.Errorf("%s: purchase %s still %s: %s", b.n.Name, r.Offer, r.Status, r.Note)
				}
			}
		}
		return nil
	})
	creator.n.MustRun("release", shardsID)
	for _, b := range buyers {
		testnet.Eventually(t, 2*time.Minute, b.n.Name+" sees the work unlocked", func() error {
			if !statusOf(t, b.n, shardsID).Unlocked {
				return fmt.Errorf("still locked")
			}
			return nil
		})
	}

	// The money adds up, purchase by purchase.
	var sumEnd, delivered int64
	var complete, refunded, failed, expired int
	sold := make(map[uint32]string)
	for _, n := range all {
		sumEnd += walletBalance(t, n.n)
	}
	for _, b := range buyers {
		var spent int64
		for _, r := range receiptsOf(t, b.n) {
			switch r.Status {
			case "complete":
				complete++
				spent += r.Amount
				if r.Campaign == shardsID {
					for _, i := range r.Indices {
						if other, dup := sold[i]; dup {
							t.Errorf("share %d sold twice: offers %s and %s", i, other, r.Offer)
						}
						sold[i] = r.Offer
					}
				}
			case "refunded":
				refunded++
			case "failed":
				failed++
			case "expired":
				expired++
			default:
				t.Errorf("%s: purchase %s ended %q", b.n.Name, r.Offer, r.Status)
			}
		}
		delivered += spent
		if got := start[b] - walletBalance(t, b.n); got != spent {
			t.Errorf("%s paid %d in all, and its complete purchases add up to %d", b.n.Name, got, spent)
		}
	}
	if sumEnd != sumStart {
		t.Errorf("the wallets sum to %d, they started at %d", sumEnd, sumStart)
	}
	if got := walletBalance(t, creator.n) - start[creator]; got != delivered {
		t.Errorf("the creator took %d, the buyers hold receipts for %d", got, delivered)
	}
	if st := statusOf(t, creator.n, shardsID); st.Sold != int64(len(sold)) {
		t.Errorf("the creator counts %d shares sold, the buyers hold %d", st.Sold, len(sold))
	}

	// Each buyer's ledger matches every debit of its rail with a delivery
	// or a refund.
	for _, n := range all {
		n.n.Stop()
	}
	for _, b := range buyers {
		checkBuyerLedger(t, b.n.Repo)
	}
	t.Logf("chaos: %d purchases started (%d abandoned by their client), %d kills (creator %d), %d complete, %d refunded, %d failed, %d expired, %d shares sold, in %v",
		total, abandoned.Load(), kills, creator.kills, complete, refunded, failed, expired, len(sold), time.Since(began).Round(time.Second))
}

// chaosPurchase picks a purchase: shares, access or a donation.
func chaosPurchase(r *rand.Rand, shardsID, payID, openID string) (string, string) {
	var id [8]byte
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	req := hex.EncodeToString(id[:])
	switch n := r.IntN(20); {
	case n < 10:
		return "/api/v1/campaigns/" + shardsID + "/buy", fmt.Sprintf(`{"shares":%d,"request_id":"%s"}`, 1+r.IntN(3), req)
	case n < 13:
		return "/api/v1/campaigns/" + payID + "/buy", fmt.Sprintf(`{"request_id":"%s"}`, req)
	default:
		return "/api/v1/campaigns/" + openID + "/donate", fmt.Sprintf(`{"amount":%d,"request_id":"%s"}`, 1+r.IntN(500), req)
	}
}

func chaosPost(api, repoDir, path, body string, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+api+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok, _ := repo.ReadAPIToken(repoDir); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// checkBuyerLedger opens a stopped buyer's ledger and test rail and
// matches every debit with a delivery or a refund.
func checkBuyerLedger(t *testing.T, dir string) {
	t.Helper()
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := r.Key.Raw()
	if err != nil {
		t.Fatal(err)
	}
	rail, err := pay.OpenTestRail(filepath.Join(dir, "testrail.db"), ed25519.PrivateKey(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rail.Close()
	l, err := market.OpenLedger(filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.CheckPurchases(context.Background(), rail); err != nil {
		t.Errorf("%s: %v", filepath.Base(dir), err)
	}
	if err := rail.Check(context.Background()); err != nil {
		t.Errorf("%s: %v", filepath.Base(dir), err)
	}
}
