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

// PriceOfShares returns the total price of the shares at indices, given
// in increasing order: share i costs PriceOf(i), whoever asks. It is the
// one price of a sale: the creator's quote charges it, the buyer checks the
// offer against it, and NextPrice shows it before anyone buys. It fails on
// an index beyond the campaign's shares and on totals that overflow int64.
func (m *Manifest) PriceOfShares(indices []uint32) (int64, error) {
	var total int64
	for i := 0; i < len(indices); {
		j := i + 1
		for j < len(indices) && indices[j] == indices[j-1]+1 {
			j++
		}
		p, err := m.PriceFor(int(indices[i]), j-i)
		if err != nil {
			return 0, err
		}
		if p > math.MaxInt64-total {
			return 0, fmt.Errorf("pricing %d shares: total overflows", len(indices))
		}
		total += p
		i = j
	}
	return total, nil
}

// NextPrice returns what the next buyer pays for one share (or, in model
// pay, one access) when taken shares are sold or pledged, and whether one is
// left. A creator hands out the lowest free index, which is taken while the
// shares before it are sold in order, so the next share costs
// PriceOfShares of that index: the figure status shows is the one charged.
// A sold-out campaign reports its last share's price and false.
func (m *Manifest) NextPrice(taken int64) (int64, bool) {
	switch m.Model {
	case ModelOpen:
		return 0, true
	case ModelPay:
		return m.Price, true
	}
	if taken < 0 {
		taken = 0
	}
	if taken >= int64(m.Shards) {
		return m.PriceOf(m.Shards - 1), false
	}
	return m.PriceOf(int(taken)), true
}

// PriceStep is one run of shares at one price, as NextPrice walks them.
type PriceStep struct {
	First int   // index of the first share of the run (0 for the first sold)
	Count int   // shares in the run
	Price int64 // minor units of the manifest's currency, each
}

// PriceSteps returns the campaign's price schedule as runs of shares: each
// tier, then the remaining shares at Price. Empty tiers and shares past
// Shards are left out; model pay gives one open-ended step (Count 0).
func (m *Manifest) PriceSteps() []PriceStep {
	if m.Model == ModelPay {
		return []PriceStep{{Price: m.Price}}
	}
	if m.Model != ModelShards {
		return nil
	}
	var out []PriceStep
	pos := 0
	for _, t := range m.Schedule {
		n := min(t.Count, m.Shards-pos)
		if n <= 0 {
			break
		}
		out = append(out, PriceStep{First: pos, Count: n, Price: t.Price})
		pos += n
	}
	if pos < m.Shards {
		out = append(out, PriceStep{First: pos, Count: m.Shards - pos, Price: m.Price})
	}
	return out
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
