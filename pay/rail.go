package pay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardcast/shardcast/money"
)

// Rail is one way of moving money: the payee side issues invoices and
// learns that they were paid, the payer side pays them. Every method is
// safe for concurrent use, blocks at most until ctx is done, and returns
// only once what it changed is durable.
//
// A sale on any rail runs the same way (the paytest package checks it):
//
//	payee: inv := CreateInvoice(...)            → send inv.Request to the payer
//	payer: Decode(inv.Request), check amount and payee, then p := Pay(inv.Request)
//	                                            → send p.Proof to the payee
//	payee: Claim(inv.ID, proof) and/or Wait(inv.ID, ...) until Settled
//	       (Accepted for a hold invoice: then Settle or Cancel)
//
// The payee should Wait concurrently with waiting for the proof: on a rail
// that sees payments itself (Lightning), Pay of a hold invoice returns only
// once the payee has settled or canceled it.
type Rail interface {
	// Name is the rail's name as manifests and the CLI spell it: "test",
	// "lightning".
	Name() string

	// CreateInvoice issues an invoice payable once, before it expires.
	CreateInvoice(ctx context.Context, req InvoiceRequest) (Invoice, error)
	// Claim hands the payer's proof of payment to the payee's rail. A rail
	// that verifies proofs (test) settles the invoice, or accepts it if it
	// is a hold invoice; a rail that observes payments itself (lightning)
	// may ignore proof and report the status. Claiming again with the same
	// proof returns the same status and never credits twice.
	Claim(ctx context.Context, invoiceID string, proof []byte) (Status, error)
	// Lookup returns an invoice this rail issued and its status.
	Lookup(ctx context.Context, invoiceID string) (Invoice, Status, error)
	// Wait blocks until until(status) holds and returns that status. It
	// is woken by the rail's own notifications, never by polling.
	Wait(ctx context.Context, invoiceID string, until func(Status) bool) (Status, error)
	// Settle takes the funds of an Accepted hold invoice. When the invoice
	// has a PaymentHash, preimage must hash to it. Settling a settled
	// invoice again is a no-op.
	Settle(ctx context.Context, invoiceID string, preimage []byte) error
	// Cancel cancels an invoice that is not settled: an Open one can no
	// longer be paid, and the payer of an Accepted hold invoice gets the
	// funds back (see RefundVoucher). Canceling again is a no-op.
	Cancel(ctx context.Context, invoiceID string) error
	// RefundVoucher returns what the payer's rail needs to get back what it
	// paid for a Canceled or Expired invoice; the payee hands it to the
	// payer, who passes it to Refund. It is the same bytes every time.
	RefundVoucher(ctx context.Context, invoiceID string) ([]byte, error)

	// Decode parses and verifies a payment request without paying it, so
	// that the payer can check the amount and the payee first.
	Decode(ctx context.Context, request string) (Invoice, error)
	// Pay pays a request from this rail's wallet. Paying the same request
	// again charges nothing and returns the first payment.
	Pay(ctx context.Context, request string) (Payment, error)
	// Refund takes back a payment whose invoice the payee canceled (or let
	// expire unclaimed), given the payee's voucher, and returns the amount.
	// Redeeming a voucher again returns the same amount and credits nothing.
	Refund(ctx context.Context, voucher []byte) (Amount, error)
	// Balance returns what this rail's wallet holds in currency, in minor
	// units.
	Balance(ctx context.Context, currency string) (int64, error)
}

// InvoiceRequest says what invoice to issue.
type InvoiceRequest struct {
	Amount Amount
	Memo   string        // shown to the payer; at most MaxMemo bytes of UTF-8
	Expiry time.Duration // how long the invoice can be paid; 0 means DefaultExpiry
	// Hold makes a hold invoice: payment only locks the funds (Accepted)
	// until the payee calls Settle or Cancel.
	Hold bool
	// PaymentHash, for a hold invoice, is SHA-256 of a preimage only the
	// payee knows; Settle must then present that preimage. A rail that
	// reveals preimages (lightning) reveals it to the payer on settlement,
	// which makes payment and delivery of a key atomic.
	PaymentHash *[32]byte
	// HoldUntil, for a hold invoice, is how long the payee means to keep
	// it Accepted before it settles or cancels: a rail whose held payments
	// time out sooner (Lightning's expire by block height) makes the
	// payment outlive it, or refuses with ErrHoldTooLong. Zero means a
	// short hold, settled or canceled within minutes.
	HoldUntil time.Time
}

// A Revealer is a rail that reveals the preimage of a hold invoice to
// its payer when the payee settles it (Payment.Preimage), so that a key
// sold as the preimage arrives with the payment: the market delivers
// shares atomically that way, and takes all-or-nothing pledges only on
// such a rail.
type Revealer interface {
	RevealsPreimage() bool
}

// A HoldLimiter is a rail whose hold invoices cannot stay Accepted for
// ever. MaxHold is the longest a hold invoice issued now can be held; a
// campaign whose pledges must be held longer is refused before it is
// published.
type HoldLimiter interface {
	MaxHold() time.Duration
}

// DefaultExpiry is the lifetime of an invoice whose request says none.
const DefaultExpiry = time.Hour

// MaxMemo is the longest memo an invoice carries, in bytes.
const MaxMemo = 512

// An Invoice is a request for one payment, as the payee issued it.
type Invoice struct {
	ID               string // unique on the payee's rail
	Rail             string // the issuing rail's Name
	Amount           Amount
	Memo             string
	Created, Expires time.Time
	// PaymentHash is SHA-256 of the preimage that settles a hold invoice,
	// all zero if there is none.
	PaymentHash [32]byte
	Hold        bool
	// Payee is the payee's public key in the rail's own form: Ed25519 on
	// the test rail, the node's secp256k1 key on Lightning.
	Payee []byte
	// Request is what the payer passes to Pay. It is opaque and safe to
	// send over the network.
	Request string
}

// String describes the invoice in one line; test-rail invoices say TEST
// MONEY.
func (i Invoice) String() string {
	return fmt.Sprintf("%s invoice %s: %s%s, expires %s", i.Rail, i.ID, i.Amount, testLabel(i.Rail), i.Expires.UTC().Format(time.RFC3339))
}

// A Payment is the payer's record of a paid invoice.
type Payment struct {
	Rail      string
	InvoiceID string
	Amount    Amount
	// Proof is what the payer hands to the payee's Claim.
	Proof []byte
	// Preimage is the hold invoice's preimage, on rails that reveal it to
	// the payer (lightning) once the payee settles; nil otherwise.
	Preimage []byte
}

// String describes the payment in one line; test-rail payments say TEST
// MONEY.
func (p Payment) String() string {
	return fmt.Sprintf("%s payment of invoice %s: %s%s", p.Rail, p.InvoiceID, p.Amount, testLabel(p.Rail))
}

func testLabel(rail string) string {
	if rail == TestRailName {
		return " (TEST MONEY)"
	}
	return ""
}

// Status is where an invoice stands.
type Status int

const (
	// Open: issued, not paid yet, not expired.
	Open Status = iota + 1
	// Accepted: a hold invoice was paid; the funds are locked until the
	// payee settles or cancels it.
	Accepted
	// Settled: the payee has the funds. Final.
	Settled
	// Canceled: the payee canceled it; the payer gets back anything paid.
	// Final.
	Canceled
	// Expired: it was not paid before it expired. Final.
	Expired
)

func (s Status) String() string {
	switch s {
	case Open:
		return "open"
	case Accepted:
		return "accepted"
	case Settled:
		return "settled"
	case Canceled:
		return "canceled"
	case Expired:
		return "expired"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// MarshalText makes statuses readable in JSON.
func (s Status) MarshalText() ([]byte, error) {
	if s < Open || s > Expired {
		return nil, fmt.Errorf("pay: marshaling unknown %v", s)
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses what MarshalText wrote.
func (s *Status) UnmarshalText(b []byte) error {
	for i := Open; i <= Expired; i++ {
		if string(b) == i.String() {
			*s = i
			return nil
		}
	}
	return fmt.Errorf("pay: unknown invoice status %q", b)
}

// Errors every rail reports with errors.Is-comparable wrapping. Each call
// wraps them with what failed and on which invoice.
var (
	ErrBadRequest        = errors.New("malformed or forged payment request")
	ErrBadProof          = errors.New("malformed or forged proof of payment or voucher")
	ErrUnknownInvoice    = errors.New("unknown invoice")
	ErrExpired           = errors.New("invoice expired")
	ErrCanceled          = errors.New("invoice canceled")
	ErrUnderpaid         = errors.New("payment short of the invoice amount")
	ErrCurrency          = money.ErrCurrency // a malformed code, or one the rail does not move
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrPreimage          = errors.New("preimage does not match the payment hash")
	ErrState             = errors.New("invoice is not in a state that allows this")
	ErrHoldTooLong       = errors.New("the rail cannot hold a payment that long")
)
