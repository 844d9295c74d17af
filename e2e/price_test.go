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

	"github.com/shardcast/shardcast/internal/testnet"
)

// priced is what every surface says about the next share's price.
type priced struct {
	ID       string `json:"id"`
	Sold     int64  `json:"sold"`
	PriceNow int64  `json:"price_now"`
	SoldOut  bool   `json:"sold_out"`
	Tiers    []struct {
		First int   `json:"first"`
		Count int   `json:"count"`
		Price int64 `json:"price"`
	} `json:"tiers"`
}

// surfaces returns the price shown for campaign id on node n by status
// --json, campaigns --json and the API.
func surfaces(t *testing.T, n *testnet.Node, id string) map[string]priced {
	t.Helper()
	out := map[string]priced{}
	var st priced
	if err := json.Unmarshal([]byte(n.MustRun("status", id, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	out[n.Name+" status --json"] = st
	var list []priced
	if err := json.Unmarshal([]byte(n.MustRun("campaigns", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.ID == id {
			out[n.Name+" campaigns --json"] = c
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := n.Get(ctx, "/api/v1/campaigns/"+id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var api priced
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &api) != nil {
		t.Fatalf("%s GET /api/v1/campaigns/%s: %s %s", n.Name, id, resp.Status, raw)
	}
	out[n.Name+" API"] = api
	if len(out) != 3 {
		t.Fatalf("%s: campaigns --json does not list %s", n.Name, id)
	}
	return out
}

// The price each surface shows before a share is bought is what the
// receipt says was charged for it, tier by tier: --early 2:0.50 on five
// shares at 1.00 shows 0.50, 0.50, 1.00, 1.00, 1.00, then sold out.
func TestPriceShownIsPriceCharged(t *testing.T) {
	net := testnet.New(t, binary)
	creator, buyer := net.Node("creator"), net.Node("buyer")
	creator.Start()
	buyer.Start()
	buyer.MustRun("connect", creator.Addr())
	film, _ := randomFile(t, 70, 256<<10+3)
	id := creator.MustRun("publish", film, "--model", "shards", "--price", "1.00", "--shards", "5",
		"--early", "2:0.50", "--deadline", "1h")
	waitCampaign(t, buyer, id)

	want := []int64{50, 50, 100, 100, 100}
	for i, price := range want {
		// The buyer's figures come from the creator's signed state.
		testnet.Eventually(t, 60*time.Second, fmt.Sprintf("the buyer sees %d shares sold", i), func() error {
			if st := statusOf(t, buyer, id); st.Sold != int64(i) {
				return fmt.Errorf("sold %d", st.Sold)
			}
			return nil
		})
		for _, n := range []*testnet.Node{creator, buyer} {
			for where, p := range surfaces(t, n, id) {
				if p.PriceNow != price || p.SoldOut {
					t.Errorf("before share %d: %s shows price_now %d sold_out %v, want %d", i+1, where, p.PriceNow, p.SoldOut, price)
				}
				if len(p.Tiers) != 2 || p.Tiers[0].Count != 2 || p.Tiers[0].Price != 50 || p.Tiers[1].First != 2 || p.Tiers[1].Price != 100 {
					t.Errorf("%s: tiers %+v, want 2 at 50 then 3 at 100", where, p.Tiers)
				}
			}
		}
		if i == 2 {
			// The text shows the same figure and the schedule.
			out := buyer.MustRun("status", id)
			if !strings.Contains(out, "price now  1.00 USD") || !strings.Contains(out, "shares 1-2 at 0.50, 3-5 at 1.00 USD") {
				t.Errorf("status after 2 sold:\n%s", out)
			}
		}
		before := walletBalance(t, buyer)
		var r struct {
			Amount   int64    `json:"amount"`
			Currency string   `json:"currency"`
			Indices  []uint32 `json:"indices"`
		}
		if err := json.Unmarshal([]byte(buyer.MustRun("buy", id, "--json")), &r); err != nil {
			t.Fatal(err)
		}
		if r.Amount != price || r.Currency != "USD" || len(r.Indices) != 1 || r.Indices[0] != uint32(i) {
			t.Fatalf("share %d: receipt %+v, want %d USD for index %d", i+1, r, price, i)
		}
		if paid := before - walletBalance(t, buyer); paid != price {
			t.Fatalf("share %d: the wallet went down by %d, want %d", i+1, paid, price)
		}
	}
	testnet.Eventually(t, 60*time.Second, "every surface says sold out", func() error {
		for _, n := range []*testnet.Node{creator, buyer} {
			for where, p := range surfaces(t, n, id) {
				if !p.SoldOut {
					return fmt.Errorf("%s: sold %d, sold_out false", where, p.Sold)
				}
			}
		}
		return nil
	})
	if out := creator.MustRun("campaigns"); !strings.Contains(out, "sold out") {
		t.Errorf("campaigns after the last share:\n%s", out)
	}
}
