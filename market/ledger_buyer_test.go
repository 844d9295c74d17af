package market

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestMigratePurchases opens a ledger whose purchases table has the
// first layout (statuses 1 to 3, no request ID): its purchases are kept,
// and they can end in the new states.
func TestMigratePurchases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "market.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	camp := rawCID("old")
	o := campOffer(t, camp, 1, KindBuy, []uint32{0}, 100, t0, nil)
	creator := testPeer(t)
	for _, q := range []string{
		`CREATE TABLE purchases (
	offer    BLOB PRIMARY KEY,
	campaign BLOB NOT NULL,
	creator  BLOB NOT NULL,
	kind     INTEGER NOT NULL,
	shares   INTEGER NOT NULL,
	amount   INTEGER NOT NULL,
	currency TEXT NOT NULL,
	status   INTEGER NOT NULL CHECK (status IN (1, 2, 3)),
	created  INTEGER NOT NULL,
	updated  INTEGER NOT NULL,
	signed   BLOB NOT NULL
) STRICT`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO purchases VALUES (?, ?, ?, 1, 1, 100, 'USD', 1, ?, ?, ?)`,
		o.ID[:], camp.Bytes(), []byte(creator), t0.UnixNano(), t0.UnixNano(), o.Marshal()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	l := openLedger(t, path)
	recs, err := l.payingPurchases(ctx)
	if err != nil || len(recs) != 1 || recs[0].Offer.ID != o.ID || recs[0].Status != "paying" || recs[0].Creator != creator {
		t.Fatalf("the old purchase after migrating: %+v, %v", recs, err)
	}
	if ok, err := l.endPurchase(ctx, o.ID, purchaseFailed, "nothing paid", t0); err != nil || !ok {
		t.Fatalf("failing the old purchase: %v, %v", ok, err)
	}
	if rec, err := l.Purchase(ctx, o.ID); err != nil || rec.Status != "failed" || rec.Note != "nothing paid" {
		t.Fatalf("after failing it: %+v, %v", rec, err)
	}
	o2 := campOffer(t, camp, 2, KindBuy, []uint32{1}, 100, t0, nil)
	if err := l.putPurchase(ctx, o2, creator, "req", t0); err != nil {
		t.Fatal(err)
	}
	if rec, err := l.PurchaseByRequest(ctx, "req"); err != nil || rec == nil || rec.Offer.ID != o2.ID {
		t.Fatalf("by request ID: %+v, %v", rec, err)
	}
	if err := l.putPurchase(ctx, campOffer(t, camp, 3, KindBuy, []uint32{2}, 100, t0, nil), creator, "req", t0); err == nil {
		t.Error("a second purchase under one request ID was recorded")
	}
}
