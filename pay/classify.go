package pay

import (
	"context"
	"errors"
)

// More errors rails report from the payer's side.
var (
	// ErrDenied: the payer's own rail refused the call (LND answered
	// "permission denied": a macaroon that may not pay). Nothing was paid.
	ErrDenied = errors.New("the payer's rail refused: permission denied")
	// ErrNoRoute: the payment failed for good (no route, or the
	// network gave up); nothing was paid, and nothing will be for this
	// attempt.
	ErrNoRoute = errors.New("the payment failed: no route paid it")
)

// Definitive reports whether an error of Pay means that nothing was paid
// and nothing ever will be for that call: the wallet is short
// (ErrInsufficientFunds), the rail refused the payer (ErrDenied), the
// request is bad or expired (ErrBadRequest, ErrCurrency, ErrExpired), or
// the payment failed for good (ErrCanceled, ErrNoRoute). Any other error
// — a context that ended, a rail that cannot be reached, a disk that
// failed — is ambiguous: the payment may be under way, and the payer must
// ask the rail again (Pay is idempotent) before it reports anything.
func Definitive(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, e := range []error{ErrInsufficientFunds, ErrDenied, ErrBadRequest, ErrCurrency, ErrExpired, ErrCanceled, ErrNoRoute} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// PaymentRecord is a payment as the payer's rail recorded it.
type PaymentRecord struct {
	Request  string // as passed to Pay
	Amount   Amount
	Refunded bool
}

// A PaymentLister is a payer's rail that lists every payment it made,
// so that an audit can match each debit with what it bought.
type PaymentLister interface {
	Payments(ctx context.Context) ([]PaymentRecord, error)
}
