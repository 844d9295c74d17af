package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/internal/testnet"
)

// post sends a JSON body to the node's API, with its token if the repo
// holds one, and returns the status and the body. A timeout of 0 waits.
func post(t *testing.T, n *testnet.Node, path, body string, timeout time.Duration) (int, string, error) {
	t.Helper()
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+n.API+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok, _ := repo.ReadAPIToken(n.Repo); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// oneLine fails unless a CLI error is one line "shardcast: error: …".
func oneLine(t *testing.T, what string, r testnet.Result, code int) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if r.Code != code || len(lines) != 1 || !strings.HasPrefix(lines[0], "shardcast: error: ") {
		t.Fatalf("%s: exit %d, stderr %q; want exit %d and one error line", what, r.Code, r.Stderr, code)
	}
}

type receipt struct {
	Offer    string   `json:"offer"`
	Campaign string   `json:"campaign"`
	Kind     string   `json:"kind"`
	Status   string   `json:"status"`
	Amount   int64    `json:"amount"`
	Currency string   `json:"currency"`
	Indices  []uint32 `json:"indices"`
	Note     string   `json:"note"`
}

func receiptsOf(t *testing.T, n *testnet.Node) []receipt {
	t.Helper()
	var rs []receipt
	if err := json.Unmarshal([]byte(n.MustRun("receipts", "--json")), &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

// Buying what is already held or free, or a share count out of range,
// through the CLI or the API, charges nothing and says so in one line.
func TestOneChargePerThing(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("creator"), net.Node("buyer")
	a.Start()
	b.Start("--bootstrap", a.Addr())
	path, _ := randomFile(t, 50, 1<<20+5)
	payID := a.MustRun("publish", path, "--model", "pay", "--price", "2.50")
	shardsID := a.MustRun("publish", path, "--model", "shards", "--shards", "5", "--price", "1.00", "--deadline", "24h")
	waitCampaign(t, b, payID)
	waitCampaign(t, b, shardsID)

	b.MustRun("buy", payID)
	before := walletBalance(t, b)
	oneLine(t, "a second buy of a pay campaign", b.Run("buy", payID), 1)
	if code, body, err := post(t, b, "/api/v1/campaigns/"+payID+"/buy", `{}`, 0); err != nil || code != http.StatusConflict {
		t.Fatalf("API buy of a pay campaign held: %d %s %v; want 409", code, body, err)
	}

	for _, k := range []string{"-5", "0"} {
		oneLine(t, "buy --shards "+k, b.Run("buy", shardsID, "--shards", k), 2)
	}
	oneLine(t, "buy --shards 7 of 5", b.Run("buy", shardsID, "--shards", "7"), 1)
	for _, body := range []string{`{"shares":-5}`, `{"shares":0}`, `{"shares":7}`} {
		code, out, err := post(t, b, "/api/v1/campaigns/"+shardsID+"/buy", body, 0)
		if err != nil || code != http.StatusBadRequest || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Fatalf("API buy %s: %d %q %v; want 400 and one line", body, code, out, err)
		}
	}
	if code, out, err := post(t, b, "/api/v1/campaigns/"+payID+"/buy", `{"shares":7}`, 0); err != nil || code != http.StatusBadRequest {
		t.Fatalf("API buy of 7 shares of a pay campaign: %d %q %v; want 400", code, out, err)
	}
	if got := walletBalance(t, b); got != before {
		t.Fatalf("the refused buys moved %d", before-got)
	}

	// Released, the shards campaign is free: buying is refused.
	a.MustRun("release", shardsID)
	testnet.Eventually(t, 60*time.Second, "the buyer sees the campaign unlocked", func() error {
		if !statusOf(t, b, shardsID).Unlocked {
			return fmt.Errorf("still locked")
		}
		return nil
	})
	oneLine(t, "buying shares of a released campaign", b.Run("buy", shardsID, "--shards", "1"), 1)
	if code, out, err := post(t, b, "/api/v1/campaigns/"+shardsID+"/buy", `{"shares":1}`, 0); err != nil || code != http.StatusConflict {
		t.Fatalf("API buy of a released campaign: %d %q %v; want 409", code, out, err)
	}
	if got := walletBalance(t, b); got != before {
		t.Fatalf("the refused buys moved %d", before-got)
	}
	for _, r := range receiptsOf(t, b) {
		if r.Status != "complete" || r.Amount != 250 || r.Currency != "USD" {
			t.Fatalf("receipt %+v; want only the one complete purchase of 2.50 USD", r)
		}
	}

	// A request ID given again returns the first purchase, not a second.
	pay2 := a.MustRun("publish", path, "--model", "pay", "--price", "1.25", "--title", "another")
	waitCampaign(t, b, pay2)
	var first, again receipt
	for _, out := range []*receipt{&first, &again} {
		code, body, err := post(t, b, "/api/v1/campaigns/"+pay2+"/buy", `{"request_id":"e2e-1"}`, 0)
		if err != nil || code != http.StatusOK || json.Unmarshal([]byte(body), out) != nil {
			t.Fatalf("API buy with a request ID: %d %q %v", code, body, err)
		}
	}
	if first.Offer == "" || again.Offer != first.Offer {
		t.Fatalf("the same request ID twice: offers %q and %q; want one", first.Offer, again.Offer)
	}
	if got := before - walletBalance(t, b); got != 125 {
		t.Fatalf("the request twice cost %d, want 125", got)
	}
}

// The creator's daemon dies once a sale is durable, before it delivers,
// and stays down: the buyer's `buy` exits 1 saying the purchase is
// pending, and once the creator is back the buyer's daemon completes it
// by itself. A client that gives up at once and retries with the same
// request ID gets one purchase. Each is paid once.
func TestPurchasePendingThenComplete(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("creator"), net.Node("buyer")
	listen := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", testnet.FreePort(t))
	a.Env = []string{"SHARDCAST_CRASH_POINT=market-after-commit"}
	a.Start("--listen", listen)
	b.Start("--bootstrap", a.Addr())
	path, data := randomFile(t, 51, 1<<20+9)
	payID := a.MustRun("publish", path, "--model", "pay", "--price", "2.50")
	shardsID := a.MustRun("publish", path, "--model", "shards", "--shards", "6", "--price", "1.00", "--deadline", "24h")
	waitCampaign(t, b, payID)
	waitCampaign(t, b, shardsID)
	before := walletBalance(t, b)

	bought := make(chan testnet.Result, 1)
	go func() { bought <- b.Run("buy", payID) }()
	if err := a.WaitExit(60 * time.Second); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the creator's daemon ended with %v; want killed at the crash point", err)
	}
	r := <-bought // the API waits a minute, then answers pending
	oneLine(t, "buy with the creator down after the sale", r, 1)
	if !strings.Contains(r.Stderr, "is pending") || !strings.Contains(r.Stderr, "see shardcast receipts") {
		t.Fatalf("buy with the creator down: %q; want the purchase named as pending", r.Stderr)
	}
	rs := receiptsOf(t, b)
	if len(rs) != 1 || rs[0].Status != "paying" || rs[0].Amount != 250 || rs[0].Currency != "USD" {
		t.Fatalf("receipts while pending: %+v; want one, paying, 2.50 USD", rs)
	}

	a.Env = nil
	a.Start("--listen", listen)
	testnet.Eventually(t, 2*time.Minute, "the buyer's daemon completes the pending purchase", func() error {
		if rs := receiptsOf(t, b); rs[0].Status != "complete" {
			return fmt.Errorf("purchase %s is %s: %s", rs[0].Offer, rs[0].Status, rs[0].Note)
		}
		return nil
	})

	// An API client that gives up at once, then retries with the same
	// request ID: one purchase, its first outcome.
	post(t, b, "/api/v1/campaigns/"+shardsID+"/buy", `{"shares":2,"request_id":"abandoned-1"}`, 30*time.Millisecond)
	code, body, err := post(t, b, "/api/v1/campaigns/"+shardsID+"/buy", `{"shares":2,"request_id":"abandoned-1"}`, 0)
	var again receipt
	if err != nil || code != http.StatusOK || json.Unmarshal([]byte(body), &again) != nil || again.Status != "complete" || len(again.Indices) != 2 {
		t.Fatalf("the abandoned request again: %d %s %v; want its first outcome", code, body, err)
	}
	if rs := receiptsOf(t, b); len(rs) != 2 || rs[0].Status != "complete" || rs[1].Status != "complete" {
		t.Fatalf("receipts: %+v; want two, complete", rs)
	}
	if c := b.Run("cat", payID); c.Code != 0 || c.Stdout != string(data) {
		t.Fatalf("buyer's cat after the pending purchase completed: exit %d: %s", c.Code, c.Stderr)
	}
	if got := before - walletBalance(t, b); got != 250+200 {
		t.Fatalf("the buyer paid %d in all, want %d", got, 250+200)
	}
	if st := statusOf(t, a, shardsID); st.Sold != 2 {
		t.Fatalf("the creator sold %d shares, want 2", st.Sold)
	}
}
