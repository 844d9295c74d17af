package market

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/pay"
)

// The buyer's side of the ledger: each purchase is recorded before any
// money moves, then driven to one end (see Client).

type purchaseStatus int

const (
	purchasePaying   purchaseStatus = 1 // may still complete: driven until it ends
	purchaseComplete purchaseStatus = 2 // delivered and verified
	purchaseExpired  purchaseStatus = 3 // the offer ended unpaid
	purchaseFailed   purchaseStatus = 4 // nothing was or ever will be paid
	purchaseRefunded purchaseStatus = 5 // paid, and the payment came back
)

// maxNote bounds the note kept with a purchase.
const maxNote = 300

// putPurchase records, before paying, an offer this node accepted, with
// the client's request ID if it gave one ("" for none).
func (l *Ledger) putPurchase(ctx context.Context, o *Offer, creator peer.ID, request string, now time.Time) error {
	var req any
	if request != "" {
		req = request
	}
	err := l.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(sqlInsertPurchase,
			o.ID[:], o.Campaign.Bytes(), []byte(creator), int(o.Kind), len(o.Indices), o.Price.Minor, o.Price.Currency,
			int(purchasePaying), now.UnixNano(), now.UnixNano(), o.Marshal(), req)
		return err
	})
	if err != nil {
		return fmt.Errorf("market: recording purchase of offer %v: %w", o.ID, err)
	}
	return nil
}

// completePurchase records the verified delivery and receipt of a purchase.
func (l *Ledger) completePurchase(ctx context.Context, v *delivery, now time.Time) error {
	id, enc, rb := v.ID, v.encode(), v.Receipt.Marshal()
	err := l.write(ctx, func(tx *wtx) error {
		var camp []byte
		err := tx.queryRow(sqlCompletePurchase,
			int(purchaseComplete), now.UnixNano(), id[:]).Scan(&camp)
		if err != nil {
			return err
		}
		if _, err := tx.exec(sqlReplaceDelivery, id[:], roleBuyer, enc); err != nil {
			return err
		}
		_, err = tx.exec(sqlReplaceReceipt,
			id[:], roleBuyer, camp, v.Receipt.Time.UnixNano(), rb)
		return err
	})
	if err != nil {
		return fmt.Errorf("market: recording delivery of offer %v: %w", id, err)
	}
	return nil
}

// endPurchase ends a purchase that is still paying: expired, failed or
// refunded, with a note saying why. It reports whether it changed the
// record (false: it had already ended).
func (l *Ledger) endPurchase(ctx context.Context, id OfferID, st purchaseStatus, note string, now time.Time) (bool, error) {
	changed := false
	err := l.write(ctx, func(tx *wtx) error {
		res, err := tx.exec("UPDATE purchases SET status = ?, updated = ?, note = ? WHERE offer = ? AND status = ?",
			int(st), now.UnixNano(), shortNote(note), id[:], int(purchasePaying))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("market: recording the end of purchase %v: %w", id, err)
	}
	return changed, nil
}

// notePurchase records what holds up a purchase still paying.
func (l *Ledger) notePurchase(ctx context.Context, id OfferID, note string) error {
	err := l.write(ctx, func(tx *wtx) error {
		_, err := tx.exec("UPDATE purchases SET note = ? WHERE offer = ? AND status = ?", shortNote(note), id[:], int(purchasePaying))
		return err
	})
	if err != nil {
		return fmt.Errorf("market: noting purchase %v: %w", id, err)
	}
	return nil
}

func shortNote(s string) string {
	if len(s) <= maxNote {
		return s
	}
	s = s[:maxNote]
	for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// PurchaseByRequest returns the purchase recorded with a client's
// request ID, or nil if there is none.
func (l *Ledger) PurchaseByRequest(ctx context.Context, request string) (*PurchaseRecord, error) {
	var b []byte
	err := l.queryRow("SELECT offer FROM purchases WHERE request = ?", request).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("market: finding request %q: %w", request, err)
	}
	var id OfferID
	copy(id[:], b)
	return l.Purchase(ctx, id)
}

// CheckPurchases verifies the buyer side of the ledger: each complete
// purchase holds its delivery and a receipt for its offer's terms, and
// no other purchase holds one. Given the node's rails, it also matches
// every debit of each rail that lists its payments (pay.PaymentLister)
// with a purchase: a complete purchase was paid once and not refunded, a
// refunded one was paid and refunded, a failed or expired one was never
// paid (or refunded), and no payment lacks its purchase. Purchases still
// paying or pledged may be either way. It returns every breach found.
func (l *Ledger) CheckPurchases(ctx context.Context, rails ...pay.Rail) error {
	recs, err := l.Purchases(ctx, cid.Undef)
	if err != nil {
		return err
	}
	var errs []error
	bad := func(r PurchaseRecord, format string, args ...any) {
		errs = append(errs, fmt.Errorf("market: ledger %s: purchase %v (%s): %s", l.path, r.Offer.ID, r.Status, fmt.Sprintf(format, args...)))
	}
	for _, r := range recs {
		o, rc := r.Offer, r.Receipt
		switch {
		case r.Status == "complete" && rc == nil:
			bad(r, "complete without its delivery and receipt")
		case r.Status == "complete" && (rc.Offer != o.ID || rc.Amount != o.Price || rc.Kind != o.Kind || len(rc.Indices) != len(o.Indices)):
			bad(r, "its receipt does not match its offer")
		case r.Status != "complete" && rc != nil:
			bad(r, "holds a delivery but is not complete")
		}
	}
	for _, rail := range rails {
		lister, ok := rail.(pay.PaymentLister)
		if !ok {
			continue
		}
		pms, err := lister.Payments(ctx)
		if err != nil {
			return err
		}
		paid := make(map[string]pay.PaymentRecord, len(pms))
		for _, p := range pms {
			paid[p.Request] = p
		}
		for _, r := range recs {
			if r.Offer.Rail != rail.Name() {
				continue
			}
			p, ok := paid[r.Offer.Request]
			delete(paid, r.Offer.Request)
			switch {
			case ok && p.Amount != r.Offer.Price:
				bad(r, "paid %v, its price is %v", p.Amount, r.Offer.Price)
			case r.Status == "complete" && (!ok || p.Refunded):
				bad(r, "delivered, but the %s rail holds no payment of it (paid %v, refunded %v)", rail.Name(), ok, p.Refunded)
			case r.Status == "refunded" && (!ok || !p.Refunded):
				bad(r, "refunded, but the %s rail says paid %v, refunded %v", rail.Name(), ok, p.Refunded)
			case (r.Status == "failed" || r.Status == "expired") && ok && !p.Refunded:
				bad(r, "ended without delivery, but the %s rail paid it and holds no refund", rail.Name())
			}
		}
		for _, p := range paid {
			errs = append(errs, fmt.Errorf("market: ledger %s: the %s rail paid %v for a request no purchase names", l.path, rail.Name(), p.Amount))
		}
	}
	return errors.Join(errs...)
}
