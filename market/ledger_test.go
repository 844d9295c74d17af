package market

import (
	"context"
	"errors"
	"go/build"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
)

// ledgerOffer returns an offer of shares of campaign "c" made at time t.
func ledgerOffer(t *testing.T, id byte, kind Kind, indices []uint32, amount int64, at time.Time) *Offer {
	o := &Offer{ID: OfferID{id}, Campaign: rawCID("c"), Kind: kind, Buyer: testPeer(t), Recipient: "age1x", Indices: indices,
		Price: pay.Amount{Minor: amount, Currency: "USD"}, Rail: "test", Request: "testmoney:x", Expires: at.Add(time.Minute)}
	if err := o.sign(testKey(t, "creator")); err != nil {
		t.Fatal(err)
	}
	return o
}

func settleOffer(t *testing.T, l *Ledger, o *Offer, at time.Time) error {
	r := &Receipt{Offer: o.ID, Campaign: o.Campaign, Buyer: o.Buyer, Kind: o.Kind, Indices: o.Indices, Amount: o.Price, Time: at}
	if err := r.sign(testKey(t, "creator")); err != nil {
		t.Fatal(err)
	}
	return l.settle(context.Background(), o, &delivery{ID: o.ID, Payload: []byte("payload"), Receipt: r})
}

func TestLedger(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "market.db")
	l := openLedger(t, path)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	offers := []*Offer{
		ledgerOffer(t, 1, KindBuy, []uint32{0, 1}, 200, t0),
		ledgerOffer(t, 2, KindBuy, []uint32{2}, 250, t0.Add(90*time.Minute)),
		ledgerOffer(t, 3, KindDonate, nil, 1000, t0.Add(2*time.Hour)),
		ledgerOffer(t, 4, KindBuy, []uint32{3, 4}, 500, t0),
	}
	for _, o := range offers {
		if err := l.putOffer(ctx, o, o.ID.String(), nil, t0); err != nil {
			t.Fatal(err)
		}
	}
	// A second offer of a reserved share fails: the key forbids it.
	if err := l.putOffer(ctx, ledgerOffer(t, 5, KindBuy, []uint32{1}, 100, t0), "x", nil, t0); err == nil {
		t.Error("reserved share 1 twice")
	}
	for i, o := range offers[:3] {
		if err := settleOffer(t, l, o, t0.Add(time.Duration(i)*90*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := settleOffer(t, l, offers[0], t0); !errors.Is(err, errNotOpen) {
		t.Errorf("settling twice: got %v, want errNotOpen", err)
	}
	if changed, err := l.expire(ctx, offers[3]); err != nil || !changed {
		t.Errorf("expire: got %v, %v, want true", changed, err)
	}
	if changed, err := l.expire(ctx, offers[0]); err != nil || changed {
		t.Errorf("expiring a settled offer: got %v, %v, want false", changed, err)
	}
	// Share 3 is free again; share 0 is sold and cannot be reserved.
	if err := l.putOffer(ctx, ledgerOffer(t, 6, KindBuy, []uint32{3}, 250, t0), "y", nil, t0); err != nil {
		t.Error(err)
	}
	if err := l.putOffer(ctx, ledgerOffer(t, 7, KindBuy, []uint32{0}, 250, t0), "z", nil, t0); err != nil {
		t.Fatal(err) // a reservation of a sold share is possible, a sale is not:
	}
	if err := settleOffer(t, l, ledgerOffer(t, 7, KindBuy, []uint32{0}, 250, t0), t0); err == nil {
		t.Error("sold share 0 twice")
	}

	camp := rawCID("c")
	if got, want := stats(t, l, camp), (Stats{Sales: 2, Sold: 3, Reserved: 2, Raised: 450, Donations: 1, Donated: 1000, Currency: "USD"}); got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
	sold, err := l.Sold(ctx, camp)
	if err != nil || !slices.Equal(sold, []uint32{0, 1, 2}) {
		t.Errorf("sold: got %v, %v", sold, err)
	}
	taken, err := l.taken(ctx, camp)
	slices.Sort(taken)
	if err != nil || !slices.Equal(taken, []uint32{0, 0, 1, 2, 3}) {
		t.Errorf("taken: got %v, %v", taken, err)
	}
	pts, err := l.SalesOverTime(ctx, camp, time.Hour)
	want := []Point{
		{Start: t0, Sales: 1, Shares: 2, Raised: 200},
		{Start: t0.Add(time.Hour), Sales: 1, Shares: 1, Raised: 250},
		{Start: t0.Add(3 * time.Hour), Donations: 1, Donated: 1000},
	}
	if err != nil || !slices.Equal(pts, want) {
		t.Errorf("sales over time: got %+v, %v, want %+v", pts, err, want)
	}
	if _, err := l.SalesOverTime(ctx, camp, 0); err == nil {
		t.Error("a zero bucket was accepted")
	}
	due, err := l.dueOffers(ctx, t0.Add(time.Minute), 10)
	if err != nil || len(due) != 2 {
		t.Errorf("due offers: got %d, %v, want the two open ones", len(due), err)
	}
	checkLedger(t, l)

	// Everything survives closing and reopening.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLedger(t, path)
	if got, want := stats(t, l, camp).Raised, int64(450); got != want {
		t.Errorf("raised after reopening: got %d, want %d", got, want)
	}
	v, err := l.loadDelivery(ctx, offers[1].ID, roleCreator)
	if err != nil || string(v.Payload) != "payload" || v.Receipt.Amount.Minor != 250 {
		t.Errorf("delivery after reopening: got %+v, %v", v, err)
	}
	if _, err := l.loadOffer(ctx, OfferID{99}); !errors.Is(err, errNoOffer) {
		t.Errorf("unknown offer: got %v, want errNoOffer", err)
	}
	checkLedger(t, l)
}

func TestLedgerCheckFindsDamage(t *testing.T) {
	l := openLedger(t, filepath.Join(t.TempDir(), "market.db"))
	t0 := time.Now()
	o := ledgerOffer(t, 1, KindBuy, []uint32{0}, 100, t0)
	if err := l.putOffer(context.Background(), o, "x", nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := settleOffer(t, l, o, t0); err != nil {
		t.Fatal(err)
	}
	err := l.write(context.Background(), func(w *wtx) error {
		_, err := w.tx.Exec("DELETE FROM sold")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "without all their shares sold") {
		t.Errorf("check of a damaged ledger: got %v", err)
	}
}

func TestLedgerClosed(t *testing.T) {
	l, err := OpenLedger(filepath.Join(t.TempDir(), "market.db"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := l.putOffer(context.Background(), ledgerOffer(t, 1, KindDonate, nil, 1, time.Now()), "x", nil, time.Now()); !errors.Is(err, errClosed) {
		t.Errorf("writing to a closed ledger: got %v, want errClosed", err)
	}
	if _, err := OpenLedger("bad?path"); err == nil {
		t.Error("a path with ? was accepted")
	}
}

func TestShareBook(t *testing.T) {
	var b shareBook
	b.load(130, []uint32{0, 2, 64, 200})
	if got, want := b.free, 127; got != want {
		t.Fatalf("free: got %d, want %d", got, want)
	}
	tests := []struct {
		k    int
		want []uint32
	}{
		{2, []uint32{1, 3}},
		{3, []uint32{4, 5, 6}},
		{58, nil}, // indices 7–63 and 65: checked below by count
	}
	for _, tt := range tests {
		got, ok := b.take(tt.k)
		if !ok || len(got) != tt.k || (tt.want != nil && !slices.Equal(got, tt.want)) {
			t.Errorf("take(%d): got %v, %v, want %v", tt.k, got, ok, tt.want)
		}
	}
	if _, ok := b.take(b.free + 1); ok {
		t.Error("took more than is free")
	}
	b.release([]uint32{5, 129, 999})
	if got, ok := b.take(1); !ok || !slices.Equal(got, []uint32{5}) {
		t.Errorf("after releasing 5: got %v", got)
	}
	rest, ok := b.take(b.free)
	if !ok || rest[len(rest)-1] != 129 || b.free != 0 {
		t.Errorf("taking the rest: got %v, free %d", rest, b.free)
	}
	if _, ok := b.take(1); ok {
		t.Error("took from an empty book")
	}
}

// TestShareBookRandom checks take and release against a plain set.
func TestShareBookRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1000
	var b shareBook
	b.load(n, nil)
	taken := map[uint32]bool{}
	for range 2000 {
		if rng.IntN(2) == 0 {
			k := rng.IntN(20) + 1
			got, ok := b.take(k)
			if ok != (k <= n-len(taken)) {
				t.Fatalf("take(%d) with %d free: %v", k, n-len(taken), ok)
			}
			for i, x := range got {
				if taken[x] || (i > 0 && x <= got[i-1]) {
					t.Fatalf("take(%d) returned %v: %d is taken or out of order", k, got, x)
				}
				taken[x] = true
			}
			// The lowest free indices were taken.
			for x := uint32(0); len(got) > 0 && x < got[len(got)-1]; x++ {
				if !taken[x] {
					t.Fatalf("take(%d) returned %v, skipping free index %d", k, got, x)
				}
			}
		} else {
			var rel []uint32
			for x := range taken {
				if rng.IntN(10) == 0 {
					rel = append(rel, x)
					delete(taken, x)
				}
			}
			b.release(rel)
		}
		if b.free != n-len(taken) {
			t.Fatalf("free: got %d, want %d", b.free, n-len(taken))
		}
	}
}

// TestImports keeps the market above the payment rails and below the
// node (docs/ARCHITECTURE.md).
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{
		"filippo.io/age", "github.com/ipfs/go-cid", "github.com/libp2p/go-libp2p/core/", "modernc.org/sqlite", "golang.org/x/crypto/chacha20poly1305",
		"github.com/shardcast/shardcast/campaign", "github.com/shardcast/shardcast/pay",
		"github.com/shardcast/shardcast/seal", "github.com/shardcast/shardcast/shares",
		"github.com/shardcast/shardcast/internal/peerlimit",
		"github.com/shardcast/shardcast/internal/private",
		"github.com/shardcast/shardcast/internal/sqlwriter",
	}
	for _, imp := range pkg.Imports {
		if !strings.Contains(strings.Split(imp, "/")[0], ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			ok = ok || imp == a || strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a)
		}
		if !ok {
			t.Errorf("imports %s, want only the standard library and %v", imp, allowed)
		}
	}
}

// TestLedgerFilesPrivate: the ledger and its WAL files hold money and are
// readable by the owner alone, also when an older version left them 0644.
func TestLedgerFilesPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	check := func(when string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if got := st.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", when, filepath.Base(p), got)
			}
		}
	}
	l, err := OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.putOffer(context.Background(), ledgerOffer(t, 1, KindDonate, nil, 1, time.Now()), "x", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	check("new ledger")
	l.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if l, err = OpenLedger(path); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	check("reopened ledger")
}
