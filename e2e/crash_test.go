package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/testnet"
)

// The creator's daemon dies (SIGKILL) after a payment settles and before the
// delivery is sent. After a restart the buyer's retry gets its key, and the
// ledgers hold exactly one sale.
func TestCreatorKilledAfterSaleBeforeDelivery(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("creator"), net.Node("buyer")
	listen := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", testnet.FreePort(t))
	a.Env = []string{"SHARDCAST_CRASH_POINT=market-after-commit"}
	a.Start("--listen", listen)
	b.Start()
	b.MustRun("connect", a.Addr())
	path, data := randomFile(t, 30, 3<<20+77)
	id := a.MustRun("publish", path, "--model", "pay", "--price", "2.50")
	waitCampaign(t, b, id)
	before := walletBalance(t, b)

	bought := make(chan testnet.Result, 1)
	go func() { bought <- b.Run("buy", id) }()
	err := a.WaitExit(60 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the creator's daemon ended with %v; want killed at the crash point", err)
	}
	a.Env = nil
	a.Start("--listen", listen)

	var r testnet.Result
	select {
	case r = <-bought:
	case <-time.After(2 * time.Minute):
		t.Fatal("buy did not return after the creator came back")
	}
	if r.Code != 0 {
		t.Fatalf("buy across the creator's crash: exit %d: %s", r.Code, r.Stderr)
	}
	if c := b.Run("cat", id); c.Code != 0 || c.Stdout != string(data) {
		t.Fatalf("buyer's cat after the crash: exit %d, %d bytes: %s", c.Code, len(c.Stdout), c.Stderr)
	}
	if st := statusOf(t, a, id); st.Sold != 1 || st.Raised != 250 {
		t.Fatalf("creator's ledger after the crash: sold %d raised %d; want 1 and 250", st.Sold, st.Raised)
	}
	if got := before - walletBalance(t, b); got != 250 {
		t.Fatalf("buyer paid %d in all, want 250", got)
	}
	var receipts []struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(b.MustRun("receipts", id, "--json")), &receipts); err != nil {
		t.Fatal(err)
	}
	if len(receipts) != 1 || receipts[0].Status != "complete" {
		t.Fatalf("buyer's receipts %+v; want one, complete", receipts)
	}
}
