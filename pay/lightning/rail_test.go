package lightning

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
)

// TestConformance runs the rail suite against two rails on the imitation
// of LND's REST API.
func TestConformance(t *testing.T) {
	paytest.Run(t, func(t *testing.T) paytest.Pair {
		clock := paytest.NewClock(time.Unix(1_700_000_000, 0))
		n := newFakeNet(t, clock.Now, 0, 100_000_000)
		return paytest.Pair{Payee: n.rail(t, 0), Payer: n.rail(t, 1), Currency: Currency,
			Amount: 250_000, Advance: clock.Advance, Timeout: 20 * time.Second}
	})
}

// TestBalancePending: HTLCs still on a channel whose outcome the node
// knows count as resolved, so the balance does not lag behind Wait and
// Pay; pending HTLCs of unknown or open outcome count as the channel
// says.
func TestBalancePending(t *testing.T) {
	ctx := context.Background()
	clock := paytest.NewClock(time.Unix(1_700_000_000, 0))
	n := newFakeNet(t, clock.Now, 0, 100_000_000)
	payee, payer := n.rail(t, 0), n.rail(t, 1)
	amount := pay.Amount{Minor: 250_000, Currency: Currency}
	settled, err := payee.CreateInvoice(ctx, pay.InvoiceRequest{Amount: amount, Memo: "settled"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := payer.Pay(ctx, settled.Request); err != nil {
		t.Fatalf("Pay: %v", err)
	}
	canceled, err := payee.CreateInvoice(ctx, pay.InvoiceRequest{Amount: amount, Memo: "canceled"})
	if err != nil {
		t.Fatal(err)
	}
	if err := payee.Cancel(ctx, canceled.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := payer.Pay(ctx, canceled.Request); !errors.Is(err, pay.ErrCanceled) {
		t.Fatalf("Pay of a canceled invoice: got %v, want %v", err, pay.ErrCanceled)
	}
	open, err := payee.CreateInvoice(ctx, pay.InvoiceRequest{Amount: amount, Memo: "open"})
	if err != nil {
		t.Fatal(err)
	}
	htlc := func(incoming bool, hash [32]byte, index int) any {
		return map[string]any{"incoming": incoming, "hash_lock": hash[:], "amount": "250", "htlc_index": index}
	}
	var unknown [32]byte
	unknown[0] = 7
	n.mu.Lock()
	n.nodes[0].lagMsat = -amount.Minor // the settled HTLC is not in the balance yet
	n.nodes[0].pending = []any{htlc(true, settled.PaymentHash, 1), htlc(true, open.PaymentHash, 2), htlc(true, unknown, 3)}
	n.nodes[1].lagMsat = -amount.Minor // the failed HTLC is not back yet
	n.nodes[1].pending = []any{htlc(false, canceled.PaymentHash, 4), htlc(false, unknown, 5)}
	n.mu.Unlock()
	for _, tt := range []struct {
		name string
		r    *Rail
		want int64
	}{
		{"payee", payee, amount.Minor},
		{"payer", payer, 100_000_000 - amount.Minor},
	} {
		if got, err := tt.r.Balance(ctx, Currency); err != nil || got != tt.want {
			t.Errorf("%s Balance: got %d, %v, want %d", tt.name, got, err, tt.want)
		}
	}
}
