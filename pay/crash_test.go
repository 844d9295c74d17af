package pay

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// crashEnv, when set to a directory, makes TestCrash the helper process:
// two rails in that directory selling to each other until killed.
const crashEnv = "PAY_CRASH_HELPER_DIR"

var crashCurrencies = []string{"USD", "EUR"}

// TestCrash kills a process that pays and claims on two ledgers with
// SIGKILL at random moments, and checks after each kill that both
// ledgers reopen, that each is consistent (no half-applied operation),
// and that money is conserved between them: the balances plus the
// payments still in flight (paid, not settled, not refunded) add up to
// exactly what the wallets started with. At the end it resolves what
// is in flight — claiming, settling or refunding it — and the balances
// alone add up.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashHelper(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	sold := 0
	for round := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		want := 1 + rng.IntN(120)
		sc := bufio.NewScanner(out)
		n := 0
		for n < want && sc.Scan() {
			if sc.Text() == "ok" {
				n++
			}
		}
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		if n < want {
			t.Fatalf("round %d: helper stopped after %d flows, want %d", round, n, want)
		}
		sold += n
		a, b := openCrashRails(t, dir)
		inflight := checkConserved(t, a, b)
		t.Logf("round %d: killed after %d flows, %v in flight", round, n, inflight)
		a.Close()
		b.Close()
	}
	a, b := openCrashRails(t, dir)
	defer a.Close()
	defer b.Close()
	resolve(t, a, b)
	resolve(t, b, a)
	if inflight := checkConserved(t, a, b); len(inflight) != 0 {
		t.Errorf("after resolving: %v still in flight", inflight)
	}
	t.Logf("%d flows in all", sold)
}

func openCrashRails(t *testing.T, dir string) (a, b *TestRail) {
	var err error
	if a, err = OpenTestRail(filepath.Join(dir, "a.db"), keyFrom(1), nil); err != nil {
		t.Fatal(err)
	}
	if b, err = OpenTestRail(filepath.Join(dir, "b.db"), keyFrom(2), nil); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// crashHelper sells between two rails, in four goroutines, printing "ok"
// after every completed flow, until it is killed (or a minute passes).
func crashHelper(t *testing.T, dir string) {
	a, b := openCrashRails(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(g)))
			for ctx.Err() == nil {
				payee, payer := a, b
				if rng.IntN(2) == 0 {
					payee, payer = b, a
				}
				amount := Amount{1 + rng.Int64N(10_000), crashCurrencies[rng.IntN(2)]}
				if err := crashFlow(ctx, payee, payer, amount, rng.IntN(5)); err != nil {
					fmt.Fprintln(os.Stderr, "crash helper:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Println("ok")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// crashFlow runs one sale: plain (kinds 0–2), hold settled (3) or hold
// canceled and refunded (4).
func crashFlow(ctx context.Context, payee, payer *TestRail, amount Amount, kind int) error {
	inv, err := payee.CreateInvoice(ctx, InvoiceRequest{Amount: amount, Memo: "crash test", Hold: kind >= 3})
	if err != nil {
		return err
	}
	p, err := payer.Pay(ctx, inv.Request)
	if err != nil {
		return err
	}
	if _, err := payee.Claim(ctx, inv.ID, p.Proof); err != nil {
		return err
	}
	switch kind {
	case 3:
		return payee.Settle(ctx, inv.ID, nil)
	case 4:
		if err := payee.Cancel(ctx, inv.ID); err != nil {
			return err
		}
		v, err := payee.RefundVoucher(ctx, inv.ID)
		if err != nil {
			return err
		}
		_, err = payer.Refund(ctx, v)
		return err
	}
	return nil
}

type ledgerPayment struct {
	digest, proof []byte
	id            string
	amount        Amount
	refunded      bool
}

func payments(t *testing.T, r *TestRail) []ledgerPayment {
	rows, err := r.st.r.Query("SELECT digest, proof, invoice_id, amount, currency, refunded FROM payments")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ps []ledgerPayment
	for rows.Next() {
		var p ledgerPayment
		if err := rows.Scan(&p.digest, &p.proof, &p.id, &p.amount.Minor, &p.amount.Currency, &p.refunded); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// invoiceStates maps the request digests of r's invoices to their state.
func invoiceStates(t *testing.T, r *TestRail) map[string]Status {
	rows, err := r.st.r.Query("SELECT digest, state FROM invoices")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := make(map[string]Status)
	for rows.Next() {
		var d []byte
		var s Status
		if err := rows.Scan(&d, &s); err != nil {
			t.Fatal(err)
		}
		m[string(d)] = s
	}
	return m
}

// checkConserved checks both ledgers and the money between them, and
// returns the amounts in flight per currency.
func checkConserved(t *testing.T, a, b *TestRail) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	for _, r := range []*TestRail{a, b} {
		if err := r.Check(ctx); err != nil {
			t.Fatalf("ledger of %x: %v", r.pub[:4], err)
		}
	}
	inflight := make(map[string]int64)
	for _, pair := range [][2]*TestRail{{a, b}, {b, a}} {
		payer, payee := pair[0], pair[1]
		states := invoiceStates(t, payee)
		paid := make(map[string]bool)
		for _, p := range payments(t, payer) {
			paid[string(p.digest)] = true
			st, ok := states[string(p.digest)]
			if !ok {
				t.Fatalf("payment of invoice %s that the payee never issued", p.id)
			}
			if p.refunded && st == Settled {
				t.Fatalf("invoice %s both settled and refunded", p.id)
			}
			if !p.refunded && st != Settled {
				inflight[p.amount.Currency] += p.amount.Minor
			}
		}
		for d, st := range states {
			if (st == Settled || st == Accepted) && !paid[d] {
				t.Fatalf("payee holds a %v invoice that its payer never paid", st)
			}
		}
	}
	for _, c := range crashCurrencies {
		ba, _ := a.Balance(ctx, c)
		bb, _ := b.Balance(ctx, c)
		if got, want := ba+bb+inflight[c], int64(2*DefaultTestBalance); got != want {
			t.Fatalf("%s: balances %d + %d + %d in flight = %d, want %d", c, ba, bb, inflight[c], got, want)
		}
	}
	return inflight
}

// resolve finishes what a kill left in flight from payer to payee: open
// invoices are claimed with the recorded proof, accepted ones settled,
// canceled ones refunded.
func resolve(t *testing.T, payer, payee *TestRail) {
	ctx := context.Background()
	states := invoiceStates(t, payee)
	for _, p := range payments(t, payer) {
		st := states[string(p.digest)]
		if p.refunded || st == Settled {
			continue
		}
		var err error
		if st == Open {
			st, err = payee.Claim(ctx, p.id, p.proof)
		}
		if err == nil && st == Accepted {
			err = payee.Settle(ctx, p.id, nil)
		}
		if err == nil && st == Canceled {
			var v []byte
			if v, err = payee.RefundVoucher(ctx, p.id); err == nil {
				_, err = payer.Refund(ctx, v)
			}
		}
		if err != nil {
			t.Fatalf("resolving invoice %s (%v): %v", p.id, st, err)
		}
	}
}
