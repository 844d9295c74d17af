package market

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/shardcast/shardcast/pay"
)

// CheckPurchases checks the buyer's side of the ledger against what a rail
// paid from this node's wallet: every payment not refunded belongs to a
// purchase of the ledger, for the purchase's amount, that received its
// delivery. It returns one error per problem, joined. A purchase being paid
// at the moment of the check shows as a payment without delivery: run it
// again to tell a transient state from a lost delivery.
func (l *Ledger) CheckPurchases(ctx context.Context, rail pay.Rail, debits []pay.Debit) error {
	rows, err := l.r.QueryContext(ctx, `SELECT p.offer, p.amount, p.currency, p.signed,
		EXISTS (SELECT 1 FROM deliveries d WHERE d.offer = p.offer AND d.role = ?)
		FROM purchases p`, roleBuyer)
	if err != nil {
		return fmt.Errorf("market: checking purchases in %s: %w", l.path, err)
	}
	defer rows.Close()
	type purchase struct {
		offer     []byte
		amount    pay.Amount
		delivered bool
	}
	byInvoice := map[string]purchase{}
	var errs []error
	for rows.Next() {
		var p purchase
		var signed []byte
		if err := rows.Scan(&p.offer, &p.amount.Minor, &p.amount.Currency, &signed, &p.delivered); err != nil {
			return fmt.Errorf("market: checking purchases in %s: %w", l.path, err)
		}
		o, err := DecodeOffer(signed)
		if err != nil {
			errs = append(errs, fmt.Errorf("market: purchase %x: the offer stored does not decode: %w", p.offer, err))
			continue
		}
		if o.Rail != rail.Name() {
			continue
		}
		inv, err := rail.Decode(ctx, o.Request)
		if err != nil {
			errs = append(errs, fmt.Errorf("market: purchase %x: its payment request does not decode: %w", p.offer, err))
			continue
		}
		byInvoice[inv.ID] = p
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("market: checking purchases in %s: %w", l.path, err)
	}
	for _, d := range debits {
		if d.Refunded {
			continue
		}
		p, ok := byInvoice[d.InvoiceID]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("market: %s paid %v for invoice %s, which no purchase in the ledger names", rail.Name(), d.Amount, d.InvoiceID))
		case p.amount != d.Amount:
			errs = append(errs, fmt.Errorf("market: %s paid %v for purchase %s, which cost %v", rail.Name(), d.Amount, hex.EncodeToString(p.offer), p.amount))
		case !p.delivered:
			errs = append(errs, fmt.Errorf("market: %s paid %v for purchase %s, which has neither a delivery nor a refund", rail.Name(), d.Amount, hex.EncodeToString(p.offer)))
		}
	}
	return errors.Join(errs...)
}

// CheckSold checks that no share index of a campaign was sold twice. The
// table's primary key forbids it; this finds a ledger whose key was lost.
func (l *Ledger) CheckSold(ctx context.Context) error {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM sold GROUP BY campaign, idx HAVING count(*) > 1)`).Scan(&n)
	if err != nil {
		return fmt.Errorf("market: checking sold shares in %s: %w", l.path, err)
	}
	if n != 0 {
		return fmt.Errorf("market: ledger %s: %d share indices sold more than once", l.path, n)
	}
	return nil
}
