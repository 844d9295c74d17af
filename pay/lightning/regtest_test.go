package lightning

import (
	"context"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/regtest"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
)

func TestMain(m *testing.M) { regtest.Main(m) }

// TestRegtest runs the rail suite against two LND nodes on a private
// regtest network (internal/regtest): bob is the payee, alice (who
// funded the channel) the payer. It skips when scripts/regtest/build.sh
// has not built the binaries.
func TestRegtest(t *testing.T) {
	bob, alice := regtestRails(t)
	paytest.Run(t, func(t *testing.T) paytest.Pair {
		return paytest.Pair{Payee: bob, Payer: alice, Currency: Currency, Amount: 250_000, Timeout: time.Minute}
	})
}

// BenchmarkRegtestSale measures one plain sale over the regtest channel:
// CreateInvoice at bob, Pay from alice, Wait at bob until Settled.
func BenchmarkRegtestSale(b *testing.B) {
	bob, alice := regtestRails(b)
	ctx := context.Background()
	settled := func(st pay.Status) bool { return st == pay.Settled }
	b.ResetTimer()
	for b.Loop() {
		inv, err := bob.CreateInvoice(ctx, pay.InvoiceRequest{Amount: pay.Amount{Minor: 10_000, Currency: Currency}, Memo: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := alice.Pay(ctx, inv.Request); err != nil {
			b.Fatal(err)
		}
		if _, err := bob.Wait(ctx, inv.ID, settled); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sales/s")
}

// regtestRails returns rails on bob (payee) and alice (payer, who funded
// the channel) of the test process's shared regtest network, skipping
// when the binaries are not built.
func regtestRails(tb testing.TB) (bob, alice *Rail) {
	tb.Helper()
	n := regtest.Shared(tb)
	rail := func(l regtest.LND) *Rail {
		r, err := New(Options{RESTAddr: l.REST, TLSCertPath: l.TLSCert, MacaroonPath: l.Macaroon})
		if err != nil {
			tb.Fatalf("New(%s): %v", l.REST, err)
		}
		return r
	}
	return rail(n.Bob), rail(n.Alice)
}
