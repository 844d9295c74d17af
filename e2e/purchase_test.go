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
