package market

import (
	"errors"
	"fmt"

	"github.com/shardcast/shardcast/campaign"
)

// Sentinel errors. Errors from a Client wrap one of them when it applies;
// a refusal by the creator is a *RemoteError, which also matches the
// sentinel of its code with errors.Is.
var (
	// ErrSoldOut: fewer unsold shares are left than asked for. It is
	// campaign.ErrSoldOut, so either package's name matches.
	ErrSoldOut = campaign.ErrSoldOut
	// ErrExpired: the offer expired before it was paid and claimed; any
	// payment made for it is refunded (the creator sends a voucher).
	ErrExpired = errors.New("offer expired")
	// ErrBadOffer: the creator's answer does not check out: a forged or
	// wrong signature, a price that is not the manifest's, shares that do
	// not match their commitments, an envelope that does not open. Keep the
	// offer and receipt: signed by the creator, they are evidence.
	ErrBadOffer = errors.New("creator's answer does not verify")
)

// Code says why a peer refused a request. It travels in Error messages.
type Code uint8

// Error codes. Busy and Internal are worth retrying; the others are not.
const (
	CodeBadRequest  Code = 1  // malformed or inconsistent request
	CodeNotFound    Code = 2  // unknown campaign or offer
	CodeUnsupported Code = 3  // model, kind or rail not offered
	CodeSoldOut     Code = 4  // fewer unsold shares than asked for
	CodeClosed      Code = 5  // the campaign's deadline has passed
	CodeExpired     Code = 6  // the offer expired; a refund voucher may come with it
	CodeRejected    Code = 7  // the proof of payment was refused (forged, underpaid, wrong currency)
	CodeUnpaid      Code = 8  // redelivery asked for an offer that is not paid
	CodeBusy        Code = 9  // too many requests at once, or the buyer peer used up its quotes or unpaid offers; retry later
	CodeInternal    Code = 10 // the creator failed (storage, rail); retry later
)

var codeNames = map[Code]string{
	CodeBadRequest: "bad request", CodeNotFound: "not found", CodeUnsupported: "unsupported",
	CodeSoldOut: "sold out", CodeClosed: "closed", CodeExpired: "expired", CodeRejected: "payment rejected",
	CodeUnpaid: "not paid", CodeBusy: "busy", CodeInternal: "internal error",
}

func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code %d", uint8(c))
}

// retryable reports whether a request refused with c may succeed later
// unchanged.
func (c Code) retryable() bool { return c == CodeBusy || c == CodeInternal }

// RemoteError is a refusal received from the other peer.
type RemoteError struct {
	Code    Code
	Message string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("creator refused (%v): %s", e.Code, e.Message)
}

// Is makes a refusal for sold-out shares match ErrSoldOut and one for an
// expired offer match ErrExpired.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrSoldOut:
		return e.Code == CodeSoldOut
	case ErrExpired:
		return e.Code == CodeExpired
	}
	return false
}

// refusal is what a server handler returns to refuse a request: the code
// and message sent to the peer, and a voucher for expired offers.
type refusal struct {
	code    Code
	msg     string
	voucher []byte
}

func (r *refusal) Error() string { return fmt.Sprintf("%v: %s", r.code, r.msg) }

func refuse(code Code, format string, args ...any) *refusal {
	return &refusal{code: code, msg: fmt.Sprintf(format, args...)}
}
