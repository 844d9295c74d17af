package market

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
)

// The statements of the writer, prepared when the ledger opens.
const (
	sqlInsertOffer = `INSERT INTO offers (id, campaign, kind, buyer, shares, amount, currency, rail, invoice, created, expires, status, offer)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertReserved = "INSERT INTO reserved (campaign, idx, offer) VALUES (?, ?, ?)"
	sqlInsertSold     = "INSERT INTO sold (campaign, idx, offer) VALUES (?, ?, ?)"
	sqlUnreserve      = "DELETE FROM reserved WHERE campaign = ? AND idx = ? AND offer = ?"
	sqlOfferStatus    = "UPDATE offers SET status = ? WHERE id = ? AND status = ?"
	sqlInsertDonation = "INSERT INTO donations (offer, campaign, buyer, amount, currency, time) VALUES (?, ?, ?, ?, ?, ?)"
	sqlInsertSale     = "INSERT INTO sales (offer, campaign, buyer, shares, amount, currency, time) VALUES (?, ?, ?, ?, ?, ?, ?)"
	sqlInsertDelivery = "INSERT INTO deliveries (offer, role, delivery) VALUES (?, ?, ?)"
	sqlInsertReceipt  = "INSERT INTO receipts (offer, role, campaign, time, receipt) VALUES (?, ?, ?, ?, ?)"
	sqlInsertPurchase = `INSERT INTO purchases (offer, campaign, creator, kind, shares, amount, currency, status, created, updated, signed, request)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlCompletePurchase = "UPDATE purchases SET status = ?, updated = ? WHERE offer = ? RETURNING campaign"
	sqlReplaceDelivery  = "INSERT OR REPLACE INTO deliveries (offer, role, delivery) VALUES (?, ?, ?)"
	sqlReplaceReceipt   = "INSERT OR REPLACE INTO receipts (offer, role, campaign, time, receipt) VALUES (?, ?, ?, ?, ?)"
	sqlExpirePurchase   = "UPDATE purchases SET status = ?, updated = ? WHERE offer = ? AND status = ?"
)

var writeStatements = []string{
	sqlInsertOffer, sqlInsertReserved, sqlInsertSold, sqlUnreserve, sqlOfferStatus, sqlInsertDonation,
	sqlInsertSale, sqlInsertDelivery, sqlInsertReceipt, sqlInsertPurchase, sqlCompletePurchase,
	sqlReplaceDelivery, sqlReplaceReceipt, sqlExpirePurchase,
}

type offerStatus int

const (
	offerOpen    offerStatus = 1
	offerSettled offerStatus = 2
	offerExpired offerStatus = 3
)

var (
	errNoOffer  = errors.New("no such offer")
	errNotOpen  = errors.New("offer is not open")
	errNoRecord = errors.New("no such record")
)

// offerRow is an offer as the creator's ledger holds it.
type offerRow struct {
	offer   *Offer
	invoice string
	status  offerStatus
}

// putOffer records a new offer, with the key of its lock if it has one,
// and reserves its shares.
func (l *Ledger) putOffer(ctx context.Context, o *Offer, invoice string, key []byte, now time.Time) error {
	return l.insertOffer(ctx, o, invoice, key, now, nil)
}

// insertOffer is putOffer after check, if not nil, passes in the same
// transaction.
func (l *Ledger) insertOffer(ctx context.Context, o *Offer, invoice string, key []byte, now time.Time, check func(*wtx) error) error {
	raw, camp := o.Marshal(), o.Campaign.Bytes()
	err := l.write(ctx, func(tx *wtx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		_, err := tx.exec(sqlInsertOffer,
			o.ID[:], camp, int(o.Kind), []byte(o.Buyer), len(o.Indices), o.Price.Minor, o.Price.Currency,
			o.Rail, invoice, now.UnixNano(), o.Expires.UnixNano(), int(offerOpen), raw)
		if err != nil {
			return err
		}
		if key != nil {
			if _, err := tx.exec("INSERT INTO locks (offer, key) VALUES (?, ?)", o.ID[:], key); err != nil {
				return err
			}
		}
		return insertIndices(tx, "reserved", camp, o.ID, o.Indices)
	})
	if err != nil {
		return fmt.Errorf("market: recording offer %v: %w", o.ID, err)
	}
	return nil
}

// insertIndices inserts (campaign, idx, offer) rows.
func insertIndices(tx *wtx, table string, camp []byte, id OfferID, indices []uint32) error {
	q := sqlInsertReserved
	if table == "sold" {
		q = sqlInsertSold
	}
	for _, idx := range indices {
		if _, err := tx.exec(q, camp, int64(idx), id[:]); err != nil {
			return fmt.Errorf("%s share %d: %w", table, idx, err)
		}
	}
	return nil
}

// unreserve deletes an offer's reservations; they must all exist.
func unreserve(tx *wtx, o *Offer) error {
	camp := o.Campaign.Bytes()
	var n int64
	for _, idx := range o.Indices {
		res, err := tx.exec(sqlUnreserve, camp, int64(idx), o.ID[:])
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n += k
	}
	if n != int64(len(o.Indices)) {
		return fmt.Errorf("offer %v held %d of its %d reservations", o.ID, n, len(o.Indices))
	}
	return nil
}

// transition moves an offer from open to status; errNotOpen if it is not
// open.
func transition(tx *wtx, id OfferID, status offerStatus) error {
	res, err := tx.exec(sqlOfferStatus, int(status), id[:], int(offerOpen))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(errNotOpen, err)
	}
	return nil
}

// settle records, in one transaction, that an open offer was paid: the
// sale (or donation), its shares as sold, the delivery and the receipt.
func (l *Ledger) settle(ctx context.Context, o *Offer, v *delivery) error {
	camp, r := o.Campaign.Bytes(), v.Receipt
	enc, rb, t := v.encode(), r.Marshal(), r.Time.UnixNano()
	err := l.write(ctx, func(tx *wtx) error {
		if err := transition(tx, o.ID, offerSettled); err != nil {
			return err
		}
		if err := unpledge(tx, o.ID); err != nil {
			return err
		}
		var err error
		if o.Kind == KindDonate {
			_, err = tx.exec(sqlInsertDonation,
				o.ID[:], camp, []byte(o.Buyer), o.Price.Minor, o.Price.Currency, t)
		} else {
			_, err = tx.exec(sqlInsertSale,
				o.ID[:], camp, []byte(o.Buyer), max(len(o.Indices), 1), o.Price.Minor, o.Price.Currency, t)
		}
		if err != nil {
			return err
		}
		if err := unreserve(tx, o); err != nil {
			return err
		}
		if err := insertIndices(tx, "sold", camp, o.ID, o.Indices); err != nil {
			return err
		}
		if _, err := tx.exec(sqlInsertDelivery, o.ID[:], roleCreator, enc); err != nil {
			return err
		}
		_, err = tx.exec(sqlInsertReceipt, o.ID[:], roleCreator, camp, t, rb)
		return err
	})
	if err != nil {
		return fmt.Errorf("market: recording sale of offer %v: %w", o.ID, err)
	}
	return nil
}

// expire marks an open offer expired and frees its shares. It reports
// false, without error, if the offer was not open.
func (l *Ledger) expire(ctx context.Context, o *Offer) (bool, error) {
	changed := false
	err := l.write(ctx, func(tx *wtx) error {
		changed = false
		if err := transition(tx, o.ID, offerExpired); err != nil {
			if errors.Is(err, errNotOpen) {
				return nil
			}
			return err
		}
		changed = true
		if err := unpledge(tx, o.ID); err != nil {
			return err
		}
		return unreserve(tx, o)
	})
	if err != nil {
		return false, fmt.Errorf("market: expiring offer %v: %w", o.ID, err)
	}
	return changed, nil
}

func scanOffer(row interface{ Scan(...any) error }) (*offerRow, error) {
	var raw []byte
	var r offerRow
	if err := row.Scan(&raw, &r.invoice, &r.status); err != nil {
		return nil, err
	}
	o, err := DecodeOffer(raw)
	if err != nil {
		return nil, fmt.Errorf("corrupt offer: %w", err)
	}
	r.offer = o
	return &r, nil
}

// loadOffer returns an offer this node made.
func (l *Ledger) loadOffer(ctx context.Context, id OfferID) (*offerRow, error) {
	r, err := scanOffer(l.queryRow("SELECT offer, invoice, status FROM offers WHERE id = ?", id[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("market: offer %v: %w", id, errNoOffer)
	}
	if err != nil {
		return nil, fmt.Errorf("market: reading offer %v: %w", id, err)
	}
	return r, nil
}

// dueOffers returns up to limit open offers that expired at or before now.
func (l *Ledger) dueOffers(ctx context.Context, now time.Time, limit int) ([]*offerRow, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT offer, invoice, status FROM offers WHERE status = ? AND expires <= ?
		AND NOT EXISTS (SELECT 1 FROM pledges p WHERE p.offer = offers.id) ORDER BY expires LIMIT ?`,
		int(offerOpen), now.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("market: listing expired offers: %w", err)
	}
	defer rows.Close()
	var due []*offerRow
	for rows.Next() {
		r, err := scanOffer(rows)
		if err != nil {
			return nil, fmt.Errorf("market: listing expired offers: %w", err)
		}
		due = append(due, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("market: listing expired offers: %w", err)
	}
	return due, nil
}

// loadDelivery returns the stored Delivery message of an offer.
func (l *Ledger) loadDelivery(ctx context.Context, id OfferID, role int) (*delivery, error) {
	var b []byte
	err := l.queryRow("SELECT delivery FROM deliveries WHERE offer = ? AND role = ?", id[:], role).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("market: delivery of offer %v: %w", id, errNoRecord)
	}
	if err != nil {
		return nil, fmt.Errorf("market: reading delivery of offer %v: %w", id, err)
	}
	v, err := decodeDelivery(b)
	if err != nil {
		return nil, fmt.Errorf("market: reading delivery of offer %v: corrupt: %w", id, err)
	}
	return v, nil
}

// taken returns the indices of campaign that are sold or reserved.
func (l *Ledger) taken(ctx context.Context, c cid.Cid) ([]uint32, error) {
	camp := c.Bytes()
	rows, err := l.r.QueryContext(ctx, "SELECT idx FROM sold WHERE campaign = ? UNION ALL SELECT idx FROM reserved WHERE campaign = ?", camp, camp)
	if err != nil {
		return nil, fmt.Errorf("market: reading shares of %v: %w", c, err)
	}
	return scanIndices(rows, c)
}

func scanIndices(rows *sql.Rows, c cid.Cid) ([]uint32, error) {
	defer rows.Close()
	var v []uint32
	for rows.Next() {
		var idx int64
		if err := rows.Scan(&idx); err != nil {
			return nil, fmt.Errorf("market: reading shares of %v: %w", c, err)
		}
		v = append(v, uint32(idx))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("market: reading shares of %v: %w", c, err)
	}
	return v, nil
}
