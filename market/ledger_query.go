package market

import (
	"context"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/pay"
)

// Stats sums up one campaign in a creator's ledger.
type Stats struct {
	Sales     int    // settled purchases
	Sold      int    // shares sold (model shards) or accesses sold (model pay)
	Reserved  int    // shares held by open offers not yet paid (pledges apart)
	Raised    int64  // minor units paid for purchases
	Donations int    // settled donations
	Donated   int64  // minor units donated
	Currency  string // of Raised and Donated; "" before the first sale or donation
	// Pledged counts the shares of held pledges (all-or-nothing
	// campaigns), worth PledgedAmount: not sold until the goal is met.
	Pledged       int
	PledgedAmount int64
}

// Stats returns the campaign's sales and donations as this node, its
// creator, recorded them.
func (l *Ledger) Stats(ctx context.Context, campaign cid.Cid) (Stats, error) {
	var s Stats
	err := l.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM sales WHERE campaign = ?1),
		(SELECT coalesce(sum(shares), 0) FROM sales WHERE campaign = ?1),
		(SELECT count(*) FROM reserved WHERE campaign = ?1 AND offer NOT IN (SELECT offer FROM pledges)),
		(SELECT coalesce(sum(amount), 0) FROM sales WHERE campaign = ?1),
		(SELECT count(*) FROM donations WHERE campaign = ?1),
		(SELECT coalesce(sum(amount), 0) FROM donations WHERE campaign = ?1),
		coalesce((SELECT currency FROM sales WHERE campaign = ?1 LIMIT 1),
			(SELECT currency FROM donations WHERE campaign = ?1 LIMIT 1), ''),
		(SELECT coalesce(sum(o.shares), 0) FROM pledges p JOIN offers o ON o.id = p.offer WHERE p.campaign = ?1),
		(SELECT coalesce(sum(o.amount), 0) FROM pledges p JOIN offers o ON o.id = p.offer WHERE p.campaign = ?1)`, campaign.Bytes()).
		Scan(&s.Sales, &s.Sold, &s.Reserved, &s.Raised, &s.Donations, &s.Donated, &s.Currency, &s.Pledged, &s.PledgedAmount)
	if err != nil {
		return Stats{}, fmt.Errorf("market: reading stats of %v: %w", campaign, err)
	}
	return s, nil
}

// Sold returns the indices of the campaign's shares sold, in increasing
// order: the shares a creator must not release as unsold.
func (l *Ledger) Sold(ctx context.Context, campaign cid.Cid) ([]uint32, error) {
	rows, err := l.r.QueryContext(ctx, "SELECT idx FROM sold WHERE campaign = ? ORDER BY idx", campaign.Bytes())
	if err != nil {
		return nil, fmt.Errorf("market: reading shares of %v: %w", campaign, err)
	}
	return scanIndices(rows, campaign)
}

// Point is one bucket of a campaign's sales over time.
type Point struct {
	Start     time.Time // the bucket covers [Start, Start+bucket)
	Sales     int
	Shares    int // shares (model shards) or accesses (model pay) sold
	Raised    int64
	Donations int
	Donated   int64
}

// SalesOverTime returns the campaign's sales and donations in buckets of
// the given width since the Unix epoch, oldest first, leaving out empty
// buckets: the data of a dashboard chart.
func (l *Ledger) SalesOverTime(ctx context.Context, campaign cid.Cid, bucket time.Duration) ([]Point, error) {
	if bucket <= 0 {
		return nil, fmt.Errorf("market: sales of %v over time: bucket %v is not positive", campaign, bucket)
	}
	rows, err := l.r.QueryContext(ctx, `SELECT b, sum(s), sum(sh), sum(r), sum(d), sum(dn) FROM (
			SELECT time / ?2 AS b, 1 AS s, shares AS sh, amount AS r, 0 AS d, 0 AS dn FROM sales WHERE campaign = ?1
			UNION ALL
			SELECT time / ?2, 0, 0, 0, 1, amount FROM donations WHERE campaign = ?1)
		GROUP BY b ORDER BY b`, campaign.Bytes(), int64(bucket))
	if err != nil {
		return nil, fmt.Errorf("market: sales of %v over time: %w", campaign, err)
	}
	defer rows.Close()
	var pts []Point
	for rows.Next() {
		var p Point
		var b int64
		if err := rows.Scan(&b, &p.Sales, &p.Shares, &p.Raised, &p.Donations, &p.Donated); err != nil {
			return nil, fmt.Errorf("market: sales of %v over time: %w", campaign, err)
		}
		p.Start = time.Unix(0, b*int64(bucket)).UTC()
		pts = append(pts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("market: sales of %v over time: %w", campaign, err)
	}
	return pts, nil
}

// PurchaseRecord is a purchase or donation as the buyer's ledger holds it.
type PurchaseRecord struct {
	Offer   *Offer
	Creator peer.ID // the peer it was bought from
	// Status is "paying" (it may still complete: the client drives it
	// to an end), "pledged", "complete", "expired" (the offer ended
	// unpaid), "failed" (nothing was or ever will be paid) or
	// "refunded" (paid, and the payment came back).
	Status string
	// Request is the client's request ID the purchase was made under,
	// if any; Note says why it failed or what holds it up.
	Request, Note string
	// Receipt and Payload are set once complete. Payload is the delivery
	// as received, encrypted to the buyer (see Client.Buy).
	Receipt          *Receipt
	Payload          []byte
	Created, Updated time.Time
}

// Amount is what the purchase moves, or moved: the offer's price.
func (r PurchaseRecord) Amount() pay.Amount { return r.Offer.Price }

// Pending says whether the purchase may still move money or deliver.
func (r PurchaseRecord) Pending() bool { return r.Status == "paying" || r.Status == "pledged" }

var purchaseStatusNames = map[purchaseStatus]string{
	purchasePaying: "paying", purchaseComplete: "complete", purchaseExpired: "expired",
	purchaseFailed: "failed", purchaseRefunded: "refunded",
}

const purchaseQuery = `SELECT p.signed, p.creator, p.status, p.created, p.updated, d.delivery, coalesce(h.status, 0),
		coalesce(p.request, ''), p.note
		FROM purchases p LEFT JOIN deliveries d ON d.offer = p.offer AND d.role = ?1
		LEFT JOIN held h ON h.offer = p.offer`

// Purchases returns this node's purchases and donations as buyer, of one
// campaign or, if campaign is cid.Undef, of all, newest first.
func (l *Ledger) Purchases(ctx context.Context, campaign cid.Cid) ([]PurchaseRecord, error) {
	q, args := purchaseQuery, []any{roleBuyer}
	if campaign.Defined() {
		q += " WHERE p.campaign = ?2"
		args = append(args, campaign.Bytes())
	}
	return l.purchases(ctx, q+" ORDER BY p.created DESC, p.offer", args...)
}

// Purchase returns one of this node's purchases, or nil if there is no
// such purchase.
func (l *Ledger) Purchase(ctx context.Context, id OfferID) (*PurchaseRecord, error) {
	recs, err := l.purchases(ctx, purchaseQuery+" WHERE p.offer = ?2", roleBuyer, id[:])
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return &recs[0], nil
}

// payingPurchases returns the purchases still paying, oldest first.
func (l *Ledger) payingPurchases(ctx context.Context) ([]PurchaseRecord, error) {
	return l.purchases(ctx, purchaseQuery+" WHERE p.status = ?2 ORDER BY p.created, p.offer", roleBuyer, int(purchasePaying))
}

func (l *Ledger) purchases(ctx context.Context, q string, args ...any) ([]PurchaseRecord, error) {
	rows, err := l.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("market: listing purchases: %w", err)
	}
	defer rows.Close()
	var out []PurchaseRecord
	for rows.Next() {
		var signed, creator, del []byte
		var st purchaseStatus
		var created, updated int64
		var held int
		var p PurchaseRecord
		if err := rows.Scan(&signed, &creator, &st, &created, &updated, &del, &held, &p.Request, &p.Note); err != nil {
			return nil, fmt.Errorf("market: listing purchases: %w", err)
		}
		p.Status, p.Created, p.Updated = purchaseStatusNames[st], time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
		switch {
		case held == heldPledged && st == purchasePaying:
			p.Status = "pledged"
		case held == heldCanceled:
			p.Status = "refunded"
		}
		if p.Offer, err = DecodeOffer(signed); err == nil {
			p.Creator, err = peer.IDFromBytes(creator)
		}
		if err == nil && del != nil {
			var v *delivery
			if v, err = decodeDelivery(del); err == nil {
				p.Receipt, p.Payload = v.Receipt, v.Payload
			}
		}
		if err != nil {
			return nil, fmt.Errorf("market: listing purchases: corrupt record: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("market: listing purchases: %w", err)
	}
	return out, nil
}

// Check verifies the creator ledger's invariants: every sold share
// belongs to a settled offer of its campaign and every reserved one to an
// open offer; each settled offer has exactly its sale or donation, its
// shares sold, a delivery and a receipt, for the offer's amount.
func (l *Ledger) Check(ctx context.Context) error {
	checks := []struct{ what, query string }{
		{"sold shares outside settled offers", `SELECT count(*) FROM sold s LEFT JOIN offers o ON o.id = s.offer
			WHERE o.status IS NOT 2 OR o.campaign != s.campaign`},
		{"reserved shares outside open offers", `SELECT count(*) FROM reserved r LEFT JOIN offers o ON o.id = r.offer
			WHERE o.status IS NOT 1 OR o.campaign != r.campaign`},
		{"open offers without all their reservations", `SELECT count(*) FROM offers o WHERE o.status = 1
			AND o.shares != (SELECT count(*) FROM reserved r WHERE r.offer = o.id)`},
		{"settled offers without all their shares sold", `SELECT count(*) FROM offers o WHERE o.status = 2
			AND o.shares != (SELECT count(*) FROM sold s WHERE s.offer = o.id)`},
		{"settled purchases without their sale", `SELECT count(*) FROM offers o WHERE o.status = 2 AND o.kind = 1
			AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.offer = o.id AND s.amount = o.amount AND s.currency = o.currency)`},
		{"settled donations without their record", `SELECT count(*) FROM offers o WHERE o.status = 2 AND o.kind = 2
			AND NOT EXISTS (SELECT 1 FROM donations d WHERE d.offer = o.id AND d.amount = o.amount AND d.currency = o.currency)`},
		{"sales or donations of unsettled offers", `SELECT count(*) FROM (SELECT offer FROM sales UNION ALL SELECT offer FROM donations) x
			LEFT JOIN offers o ON o.id = x.offer WHERE o.status IS NOT 2`},
		{"pledges outside open offers", `SELECT count(*) FROM pledges p LEFT JOIN offers o ON o.id = p.offer
			WHERE o.status IS NOT 1 OR o.campaign != p.campaign`},
		{"locked offers without their key", `SELECT count(*) FROM offers o WHERE substr(o.offer, 1, 1) = x'08'
			AND NOT EXISTS (SELECT 1 FROM locks k WHERE k.offer = o.id)`},
		{"settled offers without delivery or receipt", `SELECT count(*) FROM offers o WHERE o.status = 2
			AND (NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.offer = o.id AND d.role = 1)
			  OR NOT EXISTS (SELECT 1 FROM receipts r WHERE r.offer = o.id AND r.role = 1))`},
	}
	var errs []error
	for _, c := range checks {
		var n int
		if err := l.r.QueryRowContext(ctx, c.query).Scan(&n); err != nil {
			return fmt.Errorf("market: checking ledger %s: %w", l.path, err)
		}
		if n != 0 {
			errs = append(errs, fmt.Errorf("market: ledger %s: %d %s", l.path, n, c.what))
		}
	}
	return errors.Join(errs...)
}
