package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/testnet"
)

// Several buys of one pay campaign sent at once (a double click, a
// retrying client without a request ID, two tabs) charge once: one is
// answered 200, the others 409, and one receipt is kept.
func TestConcurrentBuysChargeOnce(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("creator"), net.Node("buyer")
	a.Start()
	b.Start("--bootstrap", a.Addr())
	path, _ := randomFile(t, 51, 300_000)
	payID := a.MustRun("publish", path, "--model", "pay", "--price", "3.00")
	waitCampaign(t, b, payID)
	before := walletBalance(t, b)

	const n = 5
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, err := post(t, b, "/api/v1/campaigns/"+payID+"/buy", `{}`, 0)
			if err != nil {
				t.Errorf("buy %d: %v", i, err)
			}
			if code != http.StatusOK && code != http.StatusConflict {
				t.Errorf("buy %d: %d %s; want 200 or 409", i, code, body)
			}
			codes[i] = code
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d buys at once: answers %v; want one 200", n, codes)
	}
	if got := before - walletBalance(t, b); got != 300 {
		t.Errorf("%d buys at once cost %d; want 300", n, got)
	}
	if rs := receiptsOf(t, b); len(rs) != 1 {
		t.Errorf("receipts %+v; want one", rs)
	}

	// Requests abandoned while the creator is slow to answer, before its
	// offer is in and so before the ledger holds anything: once it
	// answers, one purchase is made, not one per request.
	pay2 := a.MustRun("publish", path, "--model", "pay", "--price", "2.00", "--title", "another")
	waitCampaign(t, b, pay2)
	before = walletBalance(t, b)
	a.Pause()
	defer a.Resume()
	for range 3 {
		post(t, b, "/api/v1/campaigns/"+pay2+"/buy", `{}`, 2*time.Second) // gives up
	}
	a.Resume()
	testnet.Eventually(t, 60*time.Second, "the abandoned purchase completes", func() error {
		for _, r := range receiptsOf(t, b) {
			if r.Campaign == pay2 && r.Status != "complete" {
				return fmt.Errorf("receipt %+v", r)
			}
		}
		if got := before - walletBalance(t, b); got != 200 {
			return fmt.Errorf("paid %d so far", got)
		}
		return nil
	})
	n2 := 0
	for _, r := range receiptsOf(t, b) {
		if r.Campaign == pay2 {
			n2++
		}
	}
	if got := before - walletBalance(t, b); n2 != 1 || got != 200 {
		t.Errorf("3 abandoned requests: %d purchases costing %d; want one of 200", n2, got)
	}
}
