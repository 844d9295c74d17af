//go:build lightning

package lightning

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
)

// TestRegtest runs the rail suite against two LND nodes on a private
// regtest network that scripts/regtest/start.sh starts: bob is the payee,
// alice (who funded the channel) the payer. It skips when build.sh has
// not built the binaries.
func TestRegtest(t *testing.T) {
	bob, alice := startRegtest(t)
	paytest.Run(t, func(t *testing.T) paytest.Pair {
		return paytest.Pair{Payee: bob, Payer: alice, Currency: Currency, Amount: 250_000, Timeout: time.Minute}
	})
}

// BenchmarkRegtestSale measures one plain sale over the regtest channel:
// CreateInvoice at bob, Pay from alice, Wait at bob until Settled.
func BenchmarkRegtestSale(b *testing.B) {
	bob, alice := startRegtest(b)
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

// startRegtest starts a regtest network for the test and returns rails
// on bob (payee) and alice (payer, who funded the channel), skipping when
// the binaries or tools are missing.
func startRegtest(t testing.TB) (bob, alice *Rail) {
	bin := os.Getenv("SHARDCAST_TOOLS")
	if bin == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Skipf("no tools directory: %v", err)
		}
		bin = filepath.Join(home, ".cache", "shardcast-tools")
	}
	for _, tool := range []string{"btcd", "lnd"} {
		if _, err := os.Stat(filepath.Join(bin, "bin", tool)); err != nil {
			t.Skipf("%s not built (scripts/regtest/build.sh): %v", tool, err)
		}
	}
	for _, tool := range []string{"curl", "jq", "xxd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("start.sh needs %s: %v", tool, err)
		}
	}
	scripts, err := filepath.Abs(filepath.Join("..", "..", "scripts", "regtest"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if out, err := exec.Command(filepath.Join(scripts, "stop.sh"), dir).CombinedOutput(); err != nil {
			t.Errorf("stop.sh: %v\n%s", err, out)
		}
	})
	start := time.Now()
	if out, err := exec.CommandContext(ctx, filepath.Join(scripts, "start.sh"), dir).CombinedOutput(); err != nil {
		t.Fatalf("start.sh: %v\n%s", err, out)
	}
	t.Logf("regtest network ready in %v", time.Since(start).Round(time.Millisecond))
	env := readEnv(t, filepath.Join(dir, "env"))
	rail := func(name string) *Rail {
		r, err := New(Options{RESTAddr: env[name+"_REST"], TLSCertPath: env[name+"_CERT"], MacaroonPath: env[name+"_MACAROON"]})
		if err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		return r
	}
	return rail("BOB"), rail("ALICE")
}

// readEnv reads the KEY=value lines start.sh writes.
func readEnv(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}
