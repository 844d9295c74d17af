package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
)

// Error kinds: the machine-readable "kind" of an API error answer, so a
// client can say what went wrong in its own words without reading the
// message, which names IDs and the chain of what failed.
const (
	KindInsufficientFunds = "insufficient_funds" // the buyer's wallet is short
	KindSoldOut           = "sold_out"           // fewer shares left than asked for
	KindEnded             = "ended"              // the campaign's deadline passed: nothing more is sold
	KindCreatorOffline    = "creator_offline"    // the creator's node could not be reached
	KindRailUnreachable   = "rail_unreachable"   // this node's own payment rail (its LND) could not be reached
	KindPaymentFailed     = "payment_failed"     // the payment failed for good; nothing was paid
	KindRejected          = "rejected"           // the campaign's creator is proven to have sold bad shares
	KindOwn               = "own"                // this node's own campaign: it cannot buy from itself
	KindBadTerm           = "bad_term"           // a publish term breaks a rule; "term" names the field
	KindTimeout           = "timeout"            // the node gave up waiting
	KindBadRequest        = "bad_request"
	KindUnauthorized      = "unauthorized"
	KindForbidden         = "forbidden"
	KindNotFound          = "not_found"
	KindConflict          = "conflict"
	KindTooLarge          = "too_large"
	KindInternal          = "internal"
)

// errorKind says what kind of error err is, from the sentinels and types
// it wraps, else from the HTTP status it is answered with.
func errorKind(status int, err error) string {
	var (
		re  *market.RemoteError
		te  *campaign.TermError
		de  *swarm.DialError
		ue  *url.Error
		own *ownError
	)
	switch {
	case errors.As(err, &own):
		return KindOwn
	case errors.As(err, &te):
		return KindBadTerm
	case errors.Is(err, pay.ErrInsufficientFunds):
		return KindInsufficientFunds
	case errors.Is(err, market.ErrSoldOut):
		return KindSoldOut
	case errors.As(err, &re) && re.Code == market.CodeClosed:
		return KindEnded
	case errors.Is(err, catalog.ErrRejected):
		return KindRejected
	case errors.Is(err, pay.ErrNoRoute), errors.Is(err, pay.ErrDenied), errors.Is(err, market.ErrFailed):
		return KindPaymentFailed
	case errors.As(err, &de), errors.Is(err, swarm.ErrNoAddresses), errors.Is(err, swarm.ErrDialBackoff),
		errors.Is(err, swarm.ErrDialTimeout), errors.Is(err, swarm.ErrNoGoodAddresses), errors.Is(err, routing.ErrNotFound):
		return KindCreatorOffline
	case errors.As(err, &ue):
		return KindRailUnreachable // the rail speaks HTTP to the node's LND; peers speak libp2p
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return KindBadRequest
	case status == http.StatusUnauthorized:
		return KindUnauthorized
	case status == http.StatusForbidden:
		return KindForbidden
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusConflict:
		return KindConflict
	case status == http.StatusRequestEntityTooLarge:
		return KindTooLarge
	case status == http.StatusGatewayTimeout:
		return KindTimeout
	}
	return KindInternal
}

// ownError refuses a purchase from a campaign's own creator.
type ownError struct{ id string }

func (e *ownError) Error() string { return "campaign " + e.id + " is this node's own" }
