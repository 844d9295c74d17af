package market

import (
	"context"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// limitsSchema adds the indexes that make the per-buyer caps and the
// pruning of expired offers cheap; it runs after schema.
const limitsSchema = `
CREATE INDEX IF NOT EXISTS offers_buyer ON offers (campaign, buyer) WHERE status = 1;
CREATE INDEX IF NOT EXISTS offers_expired ON offers (expires) WHERE status = 3;
`

// buyerCaps bound one buyer peer's unpaid offers in one campaign: at most
// offers of them, holding at most shares shares. A bound ≤ 0 is no bound.
type buyerCaps struct {
	offers, shares int
}

// errBuyerLimit is returned by putOfferCapped when the offer would take
// its buyer over a cap.
var errBuyerLimit = errors.New("buyer holds too many unpaid offers")

// sqlOpenBy counts a buyer's unpaid open offers in a campaign, and their
// shares; pledges (paid and held) do not count.
const sqlOpenBy = `SELECT count(*), coalesce(sum(shares), 0) FROM offers
	WHERE campaign = ? AND buyer = ? AND status = 1 AND id NOT IN (SELECT offer FROM pledges)`

// openBy returns how many unpaid offers buyer holds in campaign, and how
// many shares they reserve.
func (l *Ledger) openBy(ctx context.Context, camp cid.Cid, buyer peer.ID) (offers, shares int, err error) {
	if err := l.queryRow(sqlOpenBy, camp.Bytes(), []byte(buyer)).Scan(&offers, &shares); err != nil {
		return 0, 0, fmt.Errorf("market: counting the open offers of %s: %w", buyer, err)
	}
	return offers, shares, nil
}

// over reports whether a buyer holding offers offers of shares shares may
// not take one more of k shares.
func (c buyerCaps) over(offers, shares, k int) bool {
	return (c.offers > 0 && offers+1 > c.offers) || (c.shares > 0 && shares+k > c.shares)
}

// putOfferCapped is putOffer, refused with errBuyerLimit if the offer
// would take its buyer over caps. The count and the insert happen in one
// transaction of the single writer, so concurrent quotes of one buyer
// cannot both slip under a cap.
func (l *Ledger) putOfferCapped(ctx context.Context, o *Offer, invoice string, key []byte, now time.Time, caps buyerCaps) error {
	check := func(tx *wtx) error {
		if caps.offers <= 0 && caps.shares <= 0 {
			return nil
		}
		var offers, shares int
		if err := tx.queryRow(sqlOpenBy, o.Campaign.Bytes(), []byte(o.Buyer)).Scan(&offers, &shares); err != nil {
			return err
		}
		if caps.over(offers, shares, len(o.Indices)) {
			return fmt.Errorf("%w: %d offers holding %d shares", errBuyerLimit, offers, shares)
		}
		return nil
	}
	return l.insertOffer(ctx, o, invoice, key, now, check)
}

// pruneExpired deletes up to limit offers that expired unpaid before
// before, with the keys of their locks, and returns how many it deleted.
// Nothing else refers to an expired offer: its reservations and pledge
// went when it expired, and it was never sold.
func (l *Ledger) pruneExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := l.write(ctx, func(tx *wtx) error {
		rows, err := tx.tx.Query(`SELECT id FROM offers WHERE status = ? AND expires < ? ORDER BY expires LIMIT ?`,
			int(offerExpired), before.UnixNano(), limit)
		if err != nil {
			return err
		}
		var ids [][]byte
		for rows.Next() {
			var id []byte
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n = 0
		for _, id := range ids {
			if _, err := tx.exec("DELETE FROM locks WHERE offer = ?", id); err != nil {
				return err
			}
			if _, err := tx.exec("DELETE FROM offers WHERE id = ? AND status = ?", id, int(offerExpired)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("market: pruning expired offers: %w", err)
	}
	return n, nil
}
