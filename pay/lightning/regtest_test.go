package lightning

import (
	"context"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
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

// leastPermissions are the macaroon permissions the rail needs, as
// docs/LIGHTNING.md lists them.
var leastPermissions = []map[string]string{
	{"entity": "invoices", "action": "read"}, {"entity": "invoices", "action": "write"},
	{"entity": "offchain", "action": "read"}, {"entity": "offchain", "action": "write"},
	{"entity": "info", "action": "read"},
}

// TestRegtestLeastMacaroon runs the rail suite with macaroons baked with
// leastPermissions only, which is what docs/LIGHTNING.md tells users to
// bake.
func TestRegtestLeastMacaroon(t *testing.T) {
	n := regtest.Shared(t)
	rail := func(l regtest.LND) *Rail {
		admin, err := New(Options{RESTAddr: l.REST, TLSCertPath: l.TLSCert, MacaroonPath: l.Macaroon})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Macaroon string `json:"macaroon"`
		}
		if err := admin.call(context.Background(), "baking a macaroon", http.MethodPost, "/v1/macaroon",
			map[string]any{"permissions": leastPermissions}, &out); err != nil {
			t.Fatal(err)
		}
		mac, err := hex.DecodeString(out.Macaroon)
		if err != nil {
			t.Fatalf("baked macaroon %.40q: %v", out.Macaroon, err)
		}
		path := filepath.Join(t.TempDir(), "shardcast.macaroon")
		if err := os.WriteFile(path, mac, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := New(Options{RESTAddr: l.REST, TLSCertPath: l.TLSCert, MacaroonPath: path})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	bob, alice := rail(n.Bob), rail(n.Alice)
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
