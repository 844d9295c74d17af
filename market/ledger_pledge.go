package market

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
)

// Pledges and locks in the ledger. A pledge is an open offer whose hold
// invoice was paid and is held: it keeps its shares reserved and is not
// swept at its expiry, until the campaign's outcome settles it (a sale)
// or cancels it (the offer expires and frees its shares).

// outcome is how an all-or-nothing campaign ended.
type outcome int

const (
	outcomeNone  outcome = 0
	outcomeMet   outcome = 1 // settle every pledge
	outcomeShort outcome = 2 // cancel every pledge
	heldPledged          = 1 // buyer side: the funds are held
	heldSettled          = 2
	heldCanceled         = 3
)

func unpledge(tx *wtx, id OfferID) error {
	_, err := tx.exec("DELETE FROM pledges WHERE offer = ?", id[:])
	return err
}

// lockKey returns the key of a locked offer.
func (l *Ledger) lockKey(id OfferID) ([]byte, error) {
	var k []byte
	err := l.queryRow("SELECT key FROM locks WHERE offer = ?", id[:]).Scan(&k)
	if err != nil {
		return nil, fmt.Errorf("market: reading the lock of offer %v: %w", id, err)
	}
	return k, nil
}

// pledge records that an open offer's hold invoice is paid and held. It
// is a no-op if it is already recorded, and fails if the offer is not
// open.
func (l *Ledger) pledge(ctx context.Context, o *Offer, now time.Time) error {
	err := l.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`INSERT OR IGNORE INTO pledges (offer, campaign, time)
			SELECT id, campaign, ? FROM offers WHERE id = ? AND status = ?`, now.UnixNano(), o.ID[:], int(offerOpen))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var one int
		err = tx.queryRow("SELECT 1 FROM pledges WHERE offer = ?", o.ID[:]).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errNotOpen
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("market: recording pledge of offer %v: %w", o.ID, err)
	}
	return nil
}

// pledged reports whether an offer is a held pledge.
func (l *Ledger) pledged(id OfferID) (bool, error) {
	var one int
	err := l.queryRow("SELECT 1 FROM pledges WHERE offer = ?", id[:]).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("market: reading pledge of offer %v: %w", id, err)
	}
	return true, nil
}

// committed returns how many of a campaign's shares are sold or pledged.
func (l *Ledger) committed(ctx context.Context, c cid.Cid) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM sold WHERE campaign = ?1) +
		(SELECT coalesce(sum(o.shares), 0) FROM pledges p JOIN offers o ON o.id = p.offer WHERE p.campaign = ?1)`,
		c.Bytes()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("market: counting pledges of %v: %w", c, err)
	}
	return n, nil
}

// decide records the outcome of an all-or-nothing campaign unless one is
// recorded, and returns the one that stands.
func (l *Ledger) decide(ctx context.Context, c cid.Cid, want outcome, now time.Time) (outcome, error) {
	got := outcomeNone
	err := l.write(ctx, func(tx *wtx) error {
		if _, err := tx.exec("INSERT OR IGNORE INTO outcomes (campaign, outcome, time) VALUES (?, ?, ?)",
			c.Bytes(), int(want), now.UnixNano()); err != nil {
			return err
		}
		return tx.queryRow("SELECT outcome FROM outcomes WHERE campaign = ?", c.Bytes()).Scan(&got)
	})
	if err != nil {
		return outcomeNone, fmt.Errorf("market: recording the outcome of %v: %w", c, err)
	}
	return got, nil
}

// outcomeOf returns the recorded outcome of a campaign, outcomeNone if
// none is.
func (l *Ledger) outcomeOf(c cid.Cid) (outcome, error) {
	var o outcome
	err := l.queryRow("SELECT outcome FROM outcomes WHERE campaign = ?", c.Bytes()).Scan(&o)
	if errors.Is(err, sql.ErrNoRows) {
		return outcomeNone, nil
	}
	if err != nil {
		return outcomeNone, fmt.Errorf("market: reading the outcome of %v: %w", c, err)
	}
	return o, nil
}

// openOffers returns a campaign's open offers; pledgesOnly keeps the held
// pledges alone.
func (l *Ledger) openOffers(ctx context.Context, c cid.Cid, pledgesOnly bool) ([]*offerRow, error) {
	q := "SELECT offer, invoice, status FROM offers WHERE campaign = ? AND status = ? AND kind = 1"
	if pledgesOnly {
		q += " AND id IN (SELECT offer FROM pledges)"
	}
	rows, err := l.r.QueryContext(ctx, q+" ORDER BY created", c.Bytes(), int(offerOpen))
	if err != nil {
		return nil, fmt.Errorf("market: listing open offers of %v: %w", c, err)
	}
	defer rows.Close()
	var out []*offerRow
	for rows.Next() {
		r, err := scanOffer(rows)
		if err != nil {
			return nil, fmt.Errorf("market: listing open offers of %v: %w", c, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("market: listing open offers of %v: %w", c, err)
	}
	return out, nil
}

// unfinished returns the campaigns whose outcome is recorded but which
// still have open offers: an outcome the node did not finish acting on.
func (l *Ledger) unfinished(ctx context.Context) ([]cid.Cid, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT campaign FROM outcomes x
		WHERE EXISTS (SELECT 1 FROM offers o WHERE o.campaign = x.campaign AND o.status = ? AND o.kind = 1)`, int(offerOpen))
	if err != nil {
		return nil, fmt.Errorf("market: listing unfinished outcomes: %w", err)
	}
	out, err := scanCIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("market: listing unfinished outcomes: %w", err)
	}
	return out, nil
}

// scanCIDs reads rows of one binary CID each, and closes them.
func scanCIDs(rows *sql.Rows) ([]cid.Cid, error) {
	defer rows.Close()
	var out []cid.Cid
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		c, err := cid.Cast(b)
		if err != nil {
			return nil, fmt.Errorf("corrupt campaign ID: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// pledgedCampaigns returns the campaigns with held pledges and no
// outcome yet.
func (l *Ledger) pledgedCampaigns(ctx context.Context) ([]cid.Cid, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT DISTINCT campaign FROM pledges
		WHERE campaign NOT IN (SELECT campaign FROM outcomes)`)
	if err != nil {
		return nil, fmt.Errorf("market: listing pledged campaigns: %w", err)
	}
	out, err := scanCIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("market: listing pledged campaigns: %w", err)
	}
	return out, nil
}

// setHeld records the state of one of this node's pledges as buyer.
func (l *Ledger) setHeld(ctx context.Context, id OfferID, status int, now time.Time) error {
	err := l.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO held (offer, status, time) VALUES (?, ?, ?)
			ON CONFLICT (offer) DO UPDATE SET status = excluded.status, time = excluded.time`, id[:], status, now.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("market: recording pledge of offer %v: %w", id, err)
	}
	return nil
}

// putProof keeps a proof that a creator cheated this node.
func (l *Ledger) putProof(ctx context.Context, p *Proof) error {
	raw := p.Marshal()
	err := l.write(ctx, func(tx *wtx) error {
		_, err := tx.exec("INSERT OR IGNORE INTO proofs (offer, campaign, proof) VALUES (?, ?, ?)",
			p.Offer.ID[:], p.Offer.Campaign.Bytes(), raw)
		return err
	})
	if err != nil {
		return fmt.Errorf("market: recording proof against offer %v: %w", p.Offer.ID, err)
	}
	return nil
}

// Proofs returns the proofs of misbehaviour this node collected as buyer.
func (l *Ledger) Proofs(ctx context.Context) ([]*Proof, error) {
	rows, err := l.r.QueryContext(ctx, "SELECT proof FROM proofs ORDER BY offer")
	if err != nil {
		return nil, fmt.Errorf("market: listing proofs: %w", err)
	}
	defer rows.Close()
	var out []*Proof
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("market: listing proofs: %w", err)
		}
		p, err := DecodeProof(b)
		if err != nil {
			return nil, fmt.Errorf("market: listing proofs: corrupt: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
