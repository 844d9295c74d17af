package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
)

// What this node bought is its secret: the catalog, open on loopback,
// tells it only to a caller with a credential. A campaign this node owns
// offers no buy; failed purchases own nothing.
func TestCampaignOwned(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	id, err := cid.Decode(f.pay)
	if err != nil {
		t.Fatal(err)
	}
	offer := func(status string) market.PurchaseRecord {
		return market.PurchaseRecord{Status: status,
			Offer: &market.Offer{Campaign: id, Kind: market.KindBuy, Price: pay.Amount{Minor: 100, Currency: "USD"}}}
	}
	get := func(h ...string) CampaignInfo {
		t.Helper()
		w := f.do(req{method: "GET", path: "/api/v1/campaigns/" + f.pay, header: h})
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		var ci CampaignInfo
		if err := json.Unmarshal(w.Body.Bytes(), &ci); err != nil {
			t.Fatal(err)
		}
		return ci
	}
	f.node.receipts = []market.PurchaseRecord{offer("failed"), offer("expired")}
	if ci := get(bearer...); ci.Owned || ci.Bought != 0 || !ci.CanBuy || ci.Stage != "open" {
		t.Errorf("after failed purchases: owned %v bought %d can_buy %v stage %q", ci.Owned, ci.Bought, ci.CanBuy, ci.Stage)
	}
	f.node.receipts = append(f.node.receipts, offer("complete"))
	if ci := get(bearer...); !ci.Owned || ci.Bought != 1 || ci.CanBuy {
		t.Errorf("bought: owned %v bought %d can_buy %v", ci.Owned, ci.Bought, ci.CanBuy)
	}
	f.node.Calls()
	if ci := get(); ci.Owned || ci.Bought != 0 {
		t.Errorf("without a credential: owned %v bought %d, want nothing told", ci.Owned, ci.Bought)
	}
	if calls := f.node.Calls(); len(calls) != 0 {
		t.Errorf("without a credential the receipts were read: %v", calls)
	}
}
