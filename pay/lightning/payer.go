package lightning

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shardcast/shardcast/pay"
)

// Pay pays a BOLT 11 request over LND's router and returns once the
// payment succeeded or failed — for a hold invoice, once the payee
// settled or canceled it. Proof and Preimage are both the preimage.
// Paying a request again, or concurrently, returns the one payment.
func (r *Rail) Pay(ctx context.Context, request string) (pay.Payment, error) {
	inv, err := r.Decode(ctx, request)
	if err != nil {
		return pay.Payment{}, err
	}
	if !r.now().Before(inv.Expires) {
		return pay.Payment{}, fmt.Errorf("lightning: paying invoice %s: %w", inv.ID, pay.ErrExpired)
	}
	fee := r.opts.FeeLimitMsat
	if fee <= 0 {
		fee = inv.Amount.Minor/100 + 1000
	}
	timeout := r.opts.PayTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	in := map[string]any{"payment_request": request, "timeout_seconds": int32(timeout / time.Second),
		"fee_limit_msat": int64s(fee), "no_inflight_updates": true}
	p, err := r.follow(ctx, "paying invoice "+inv.ID, http.MethodPost, "/v2/router/send", in)
	if err != nil {
		msg := message(err)
		switch {
		case strings.Contains(msg, "already paid") || strings.Contains(msg, "in transition") ||
			strings.Contains(msg, "in flight") || strings.Contains(msg, "already exists"):
			p, err = r.track(ctx, inv.PaymentHash)
		case strings.Contains(msg, "expired"):
			return pay.Payment{}, fmt.Errorf("%w: %w", err, pay.ErrExpired)
		}
		if err != nil {
			return pay.Payment{}, err
		}
	}
	return r.payment(inv, p)
}

// payment turns the final state of a payment into a Payment or an error.
func (r *Rail) payment(inv pay.Invoice, p lndPayment) (pay.Payment, error) {
	if p.Status == "FAILED" {
		var kind error
		switch p.FailureReason {
		case "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS":
			kind = pay.ErrCanceled // the payee refused it: canceled, or not what it issued
		case "FAILURE_REASON_INSUFFICIENT_BALANCE":
			kind = pay.ErrInsufficientFunds
		default:
			kind = errors.New("no route paid it")
		}
		return pay.Payment{}, fmt.Errorf("lightning: paying invoice %s failed (%s): %w", inv.ID, p.FailureReason, kind)
	}
	pre, err := hex.DecodeString(p.PaymentPreimage)
	if err != nil || len(pre) != 32 {
		return pay.Payment{}, fmt.Errorf("lightning: paying invoice %s: LND returned preimage %.80q", inv.ID, p.PaymentPreimage)
	}
	return pay.Payment{Rail: Name, InvoiceID: inv.ID, Amount: inv.Amount, Proof: pre, Preimage: pre}, nil
}

// final says whether a payment status is final.
func final(status string) bool { return status == "SUCCEEDED" || status == "FAILED" }

// follow reads a payment stream until the payment is final.
func (r *Rail) follow(ctx context.Context, op, method, path string, in any) (lndPayment, error) {
	var p lndPayment
	err := r.stream(ctx, op, method, path, in, func(res json.RawMessage) (bool, error) {
		if err := json.Unmarshal(res, &p); err != nil {
			return false, fmt.Errorf("decoding a payment update: %w", err)
		}
		return final(p.Status), nil
	})
	return p, err
}

// track follows the node's payment of hash until it is final.
func (r *Rail) track(ctx context.Context, hash [32]byte) (lndPayment, error) {
	path := "/v2/router/track/" + base64.URLEncoding.EncodeToString(hash[:])
	return r.follow(ctx, fmt.Sprintf("tracking payment %x", hash), http.MethodGet, path, nil)
}

// Refund reports the refund of a payment whose hold invoice the payee
// canceled: the voucher is the payment hash, and the network has
// returned the funds when the payment failed. It returns the amount.
func (r *Rail) Refund(ctx context.Context, voucher []byte) (pay.Amount, error) {
	if len(voucher) != 32 {
		return pay.Amount{}, fmt.Errorf("lightning: refund voucher of %d bytes, want a 32-byte payment hash: %w", len(voucher), pay.ErrBadProof)
	}
	var h [32]byte
	copy(h[:], voucher)
	p, err := r.track(ctx, h)
	if err != nil {
		if notFound(err) {
			return pay.Amount{}, fmt.Errorf("%w: %w", err, pay.ErrBadProof)
		}
		return pay.Amount{}, err
	}
	if p.Status != "FAILED" {
		return pay.Amount{}, fmt.Errorf("lightning: refund of payment %x: it %s: %w", h, strings.ToLower(p.Status), pay.ErrState)
	}
	return pay.Amount{Minor: int64(p.ValueMsat), Currency: Currency}, nil
}

// Balance returns what the node's channels hold on its side, in msat.
func (r *Rail) Balance(ctx context.Context, currency string) (int64, error) {
	if currency != Currency {
		return 0, fmt.Errorf("lightning: balance in %q: only %s moves on Lightning: %w", currency, Currency, pay.ErrCurrency)
	}
	var out struct {
		LocalBalance struct {
			Msat int64s `json:"msat"`
		} `json:"local_balance"`
	}
	if err := r.call(ctx, "getting the channel balance", http.MethodGet, "/v1/balance/channels", nil, &out); err != nil {
		return 0, err
	}
	return int64(out.LocalBalance.Msat), nil
}
