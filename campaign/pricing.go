package campaign

import (
	"errors"
	"fmt"
	"math"
)

// ErrSoldOut is wrapped by PriceFor when fewer shares are left than asked
// for.
var ErrSoldOut = errors.New("sold out")

// PriceOf returns the price in minor units of the share sold at position
// index (0 for the first share sold): the price of the schedule tier that
// covers index, or Price after the last tier. In model pay it is Price for
// every index, in model open 0.
func (m *Manifest) PriceOf(index int) int64 {
	if index < 0 {
		return 0
	}
	for _, t := range m.Schedule {
		if index < t.Count {
			return t.Price
		}
		index -= t.Count
	}
	return m.Price
}

// PriceFor returns the total price of k shares bought when sold shares are
// already sold, summing tier by tier. In model shards it fails with an
// error wrapping ErrSoldOut if sold+k exceeds Shards. It fails on negative
// arguments and on totals that overflow int64.
func (m *Manifest) PriceFor(sold, k int) (int64, error) {
	if sold < 0 || k < 0 {
		return 0, fmt.Errorf("pricing %d shares after %d: negative count", k, sold)
	}
	if m.Model == ModelShards && (sold > m.Shards || k > m.Shards-sold) {
		return 0, fmt.Errorf("pricing %d shares after %d of %d: %w", k, sold, m.Shards, ErrSoldOut)
	}
	var total int64
	add := func(n int, price int64) error {
		if n <= 0 {
			return nil
		}
		if price != 0 && int64(n) > (math.MaxInt64-total)/price {
			return fmt.Errorf("pricing %d shares after %d: total overflows", k, sold)
		}
		total += int64(n) * price
		return nil
	}
	pos := 0 // first index of the current tier
	for _, t := range m.Schedule {
		if k == 0 {
			return total, nil
		}
		end := pos + t.Count
		if sold < end {
			n := min(k, end-sold)
			if err := add(n, t.Price); err != nil {
				return 0, err
			}
			sold += n
			k -= n
		}
		pos = end
	}
	if err := add(k, m.Price); err != nil {
		return 0, err
	}
	return total, nil
}

// SharesForGoal returns N = ceil(goal/price), the number of shares of a
// campaign without a schedule that raises at least goal. Both must be
// positive and N at most MaxShares.
func SharesForGoal(goal, price int64) (int, error) {
	if goal <= 0 || price <= 0 {
		return 0, fmt.Errorf("shares for goal %d at price %d: both must be positive", goal, price)
	}
	n := goal / price
	if goal%price != 0 {
		n++
	}
	if n > MaxShares {
		return 0, fmt.Errorf("shares for goal %d at price %d: %d shares, at most %d allowed", goal, price, n, MaxShares)
	}
	return int(n), nil
}
