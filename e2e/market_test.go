package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/testnet"
)

// The creator publishes a pay film; B buys it and reads a Range in the
// middle; C, who did not pay, gets the ciphertext but 403 and an error; with
// the creator gone, B serves the ciphertext on to C.
func TestBuyPayFilm(t *testing.T) {
	net := testnet.New(t, binary)
	a, b, c := net.Node("creator"), net.Node("b"), net.Node("c")
	a.Start()
	b.Start()
	c.Start()
	b.MustRun("connect", a.Addr())
	c.MustRun("connect", a.Addr())
	path, data := randomFile(t, 20, 12<<20+4321)
	id := a.MustRun("publish", path, "--model", "pay", "--price", "2.50", "--media-type", "video/webm")
	waitCampaign(t, b, id)
	waitCampaign(t, c, id)

	before := walletBalance(t, b)
	offer := b.MustRun("buy", id)
	if offer == "" {
		t.Fatal("buy printed no offer ID")
	}
	if st := statusOf(t, b, id); !st.Unlocked {
		t.Fatal("B is still locked after buying")
	}
	if got := before - walletBalance(t, b); got != 250 {
		t.Fatalf("B's wallet went down by %d, want 250", got)
	}
	if st := statusOf(t, a, id); st.Sold != 1 || st.Raised != 250 {
		t.Fatalf("creator's status after one sale: sold %d raised %d; want 1, 250", st.Sold, st.Raised)
	}
	// The creator's signed figures reach the others.
	testnet.Eventually(t, 60*time.Second, "C sees the sale in the creator's signed state", func() error {
		if st := statusOf(t, c, id); st.Sold != 1 || st.Raised != 250 {
			return fmt.Errorf("C's status: sold %d raised %d", st.Sold, st.Raised)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mid := int64(len(data) / 2)
	resp, err := b.Get(ctx, "/watch/"+id, "Range", fmt.Sprintf("bytes=%d-%d", mid, mid+(1<<20)-1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[mid:mid+1<<20]) {
		t.Fatalf("B's Range in the middle: status %d, %d bytes, match %v", resp.StatusCode, len(body), bytes.Equal(body, data[mid:mid+1<<20]))
	}

	// C did not pay.
	resp, err = c.Get(ctx, "/watch/"+id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("C's /watch: status %d, want 403", resp.StatusCode)
	}
	if r := c.Run("cat", id); r.Code != 1 {
		t.Fatalf("C's cat: exit %d, want 1", r.Code)
	}

	// B has the whole ciphertext; with the creator stopped, C gets it from B.
	content := statusOf(t, a, id).Content
	b.MustRun("get", content, "-o", filepath.Join(t.TempDir(), "b.cipher"))
	a.Stop()
	c.MustRun("connect", b.Addr())
	out := filepath.Join(t.TempDir(), "c.cipher")
	c.MustRun("get", content, "-o", out, "--timeout", "60s")
	bc := b.Run("cat", content)
	mustEqualFile(t, out, []byte(bc.Stdout))
}

// A donation on an open campaign shows in the creator's ledger and the
// donor's receipts.
func TestDonateOpen(t *testing.T) {
	net := testnet.New(t, binary)
	a, d := net.Node("creator"), net.Node("donor")
	a.Start()
	d.Start()
	d.MustRun("connect", a.Addr())
	path, _ := randomFile(t, 21, 1<<20)
	id := a.MustRun("publish", path, "--model", "open", "--suggested", "1,5,10", "--goal", "1000")
	waitCampaign(t, d, id)
	d.MustRun("donate", id, "5.00")
	d.MustRun("donate", id, "0.25")
	if st := statusOf(t, a, id); st.Donated != 525 {
		t.Fatalf("creator's ledger shows %d donated, want 525", st.Donated)
	}
	var receipts []struct {
		Kind    string `json:"kind"`
		Amount  int64  `json:"amount"`
		Status  string `json:"status"`
		Receipt string `json:"receipt"`
	}
	if err := json.Unmarshal([]byte(d.MustRun("receipts", id, "--json")), &receipts); err != nil {
		t.Fatal(err)
	}
	if len(receipts) != 2 {
		t.Fatalf("donor has %d receipts, want 2", len(receipts))
	}
	total := int64(0)
	for _, r := range receipts {
		if r.Kind != "donate" || r.Status != "complete" || r.Receipt == "" {
			t.Fatalf("receipt %+v", r)
		}
		total += r.Amount
	}
	if total != 525 {
		t.Fatalf("donor's receipts add up to %d, want 525", total)
	}
}

func walletBalance(t *testing.T, n *testnet.Node) int64 {
	t.Helper()
	var w struct {
		Balance int64 `json:"balance"`
	}
	if err := json.Unmarshal([]byte(n.MustRun("wallet", "--json")), &w); err != nil {
		t.Fatal(err)
	}
	return w.Balance
}
