package pay_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/shardcast/shardcast/pay"
)

// BenchmarkPayClaim measures the test rail on this machine's disk, every
// commit fsync'd: "claim" times Claim alone on invoices created and paid
// beforehand; "sale" a whole sale (CreateInvoice and Claim on the payee's
// ledger, Pay on the payer's), one at a time; "sale-parallel" whole sales
// from 64 goroutines at once, as many buyers of one creator would run
// them, sharing commits. The market's target is 500 sales/s (docs/BENCHMARKS.md, target 6).
func BenchmarkPayClaim(b *testing.B) {
	ctx := context.Background()
	amount := pay.Amount{Minor: 250, Currency: "USD"}
	rails := func(b *testing.B) (payee, payer *pay.TestRail) {
		dir := b.TempDir()
		return openRail(b, filepath.Join(dir, "payee.db"), nil), openRail(b, filepath.Join(dir, "payer.db"), nil)
	}
	sale := func(payee, payer pay.Rail) error {
		inv, err := payee.CreateInvoice(ctx, pay.InvoiceRequest{Amount: amount})
		if err != nil {
			return err
		}
		p, err := payer.Pay(ctx, inv.Request)
		if err != nil {
			return err
		}
		_, err = payee.Claim(ctx, inv.ID, p.Proof)
		return err
	}

	b.Run("claim", func(b *testing.B) {
		payee, payer := rails(b)
		ids := make([]string, b.N)
		proofs := make([][]byte, b.N)
		for i := range b.N {
			inv, err := payee.CreateInvoice(ctx, pay.InvoiceRequest{Amount: amount})
			if err != nil {
				b.Fatal(err)
			}
			p, err := payer.Pay(ctx, inv.Request)
			if err != nil {
				b.Fatal(err)
			}
			ids[i], proofs[i] = inv.ID, p.Proof
		}
		b.ResetTimer()
		for i := range b.N {
			if st, err := payee.Claim(ctx, ids[i], proofs[i]); err != nil || st != pay.Settled {
				b.Fatalf("Claim: %v, %v", st, err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	})
	b.Run("sale", func(b *testing.B) {
		payee, payer := rails(b)
		for b.Loop() {
			if err := sale(payee, payer); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sales/s")
	})
	b.Run("sale-parallel", func(b *testing.B) {
		payee, payer := rails(b)
		b.SetParallelism(32) // × GOMAXPROCS goroutines
		var failed atomic.Value
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := sale(payee, payer); err != nil {
					failed.Store(err)
				}
			}
		})
		if err := failed.Load(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sales/s")
	})
}
