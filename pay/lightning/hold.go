package lightning

import (
	"fmt"
	"time"

	"github.com/shardcast/shardcast/pay"
)

// A held payment is an HTLC, and an HTLC expires at a block height: the
// payee's LND cancels a held HTLC holdExpiryDelta blocks before its
// expiry, and the HTLC's expiry is the payment's block height plus the
// invoice's final CLTV delta (cltv_expiry) plus the route's own deltas.
// So a hold invoice meant to be held until HoldUntil asks for a
// cltv_expiry that outlasts it in blocks, and a payer's LND caps the
// whole route's time lock.
const (
	// blockInterval is Bitcoin's target time between blocks.
	blockInterval = 10 * time.Minute
	// fastBlocksPercent is how many more blocks than one per
	// blockInterval a hold asks for: blocks come faster on average while
	// hash rate grows (about 9.5–9.8 minutes in recent years), and by
	// chance n blocks come a few √n early; 15% covers both, with room,
	// for every hold up to maxHoldCLTV.
	fastBlocksPercent = 15
	// holdExpiryDelta is LND's default invoices.holdexpirydelta: the
	// payee's node cancels a held HTLC this many blocks before it expires,
	// to settle or fail it safely off chain.
	holdExpiryDelta = 12
	// holdSlackBlocks is two more hours of blocks, so that a short hold
	// also outlasts a burst of blocks.
	holdSlackBlocks = 12
	// defaultCLTV is LND's default cltv_expiry (bitcoin.timelockdelta),
	// what a hold invoice without HoldUntil gets. No hold asks for less,
	// so HoldUntil only ever lengthens a hold.
	defaultCLTV = 80
	// payerMaxCLTV is the longest time lock, in blocks from the current
	// height, that a payer's LND accepts for a whole route by default
	// (--max-cltv-expiry, 2016 blocks: two weeks); a payment needing more
	// fails at the payer with "cltv limit 2016 should be greater than …".
	payerMaxCLTV = 2016
	// routeHeadroom is what a hold leaves of payerMaxCLTV for the route:
	// LND pads the final hop by 3 blocks and every intermediate hop adds
	// its own time-lock delta (80 blocks by default in LND, 144 at many
	// nodes), so 288 blocks (two days) leave room for two or three hops.
	routeHeadroom = 288
	// maxHoldCLTV is the largest cltv_expiry the rail asks for: 1728
	// blocks, which a payer's node accepts over a route of a few hops.
	maxHoldCLTV = payerMaxCLTV - routeHeadroom
)

// holdCLTV returns the cltv_expiry, in blocks, of a hold invoice to be
// held for d: d in blocks, fastBlocksPercent more, holdExpiryDelta and
// holdSlackBlocks, and at least defaultCLTV.
func holdCLTV(d time.Duration) int64 {
	n := int64((d + blockInterval - 1) / blockInterval)
	return max(n+(n*fastBlocksPercent+99)/100+holdExpiryDelta+holdSlackBlocks, defaultCLTV)
}

// MaxHold is the longest a hold invoice issued now can be held: 10 days,
// 6 hours and 50 minutes, the longest hold whose cltv_expiry is at most
// 1728 blocks (what a payer's LND accepts by default, less room for the
// route). A HoldUntil further away is refused with pay.ErrHoldTooLong.
func (r *Rail) MaxHold() time.Duration { return maxHold() }

var _ pay.HoldLimiter = (*Rail)(nil)

// maxHold returns the longest d, in whole blocks, whose holdCLTV is at
// most maxHoldCLTV.
func maxHold() time.Duration {
	n := int64(maxHoldCLTV)
	for n > 0 && holdCLTV(time.Duration(n)*blockInterval) > maxHoldCLTV {
		n--
	}
	return time.Duration(n) * blockInterval
}

// holdCLTVUntil returns the cltv_expiry of a hold invoice held until
// until, 0 when until is zero or past (LND's default then), or an
// ErrHoldTooLong error.
func holdCLTVUntil(until, now time.Time) (int64, error) {
	if until.IsZero() || !until.After(now) {
		return 0, nil
	}
	cltv := holdCLTV(until.Sub(now))
	if cltv > maxHoldCLTV {
		return 0, fmt.Errorf("lightning: holding a payment until %s takes a time lock of %d blocks, more than the %d a payer's node accepts with room for its route; the longest hold possible is %s: %w",
			until.UTC().Format(time.RFC3339), cltv, maxHoldCLTV, days(maxHold()), pay.ErrHoldTooLong)
	}
	return cltv, nil
}

// days writes d, rounded down to the hour, as "10 days 6 hours".
func days(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	dd, hh := int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour)
	switch {
	case dd == 0:
		return plural(hh, "hour")
	case hh == 0:
		return plural(dd, "day")
	}
	return plural(dd, "day") + " " + plural(hh, "hour")
}
