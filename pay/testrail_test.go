package pay_test

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
)

func newKey(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openRail(t testing.TB, path string, opts *pay.TestOptions) *pay.TestRail {
	t.Helper()
	r, err := pay.OpenTestRail(path, newKey(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// TestConformance runs the rail suite on two test rails, each with its
// own ledger, sharing a manual clock.
func TestConformance(t *testing.T) {
	paytest.Run(t, func(t *testing.T) paytest.Pair {
		clock := paytest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
		opts := &pay.TestOptions{Now: clock.Now}
		dir := t.TempDir()
		payee := openRail(t, filepath.Join(dir, "payee.db"), opts)
		payer := openRail(t, filepath.Join(dir, "payer.db"), opts)
		t.Cleanup(func() {
			for _, r := range []*pay.TestRail{payee, payer} {
				if err := r.Check(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
		return paytest.Pair{Payee: payee, Payer: payer, Currency: "USD", Other: "EUR", Advance: clock.Advance}
	})
}
