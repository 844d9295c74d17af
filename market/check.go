package market

import (
	"context"
	"fmt"
)

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
