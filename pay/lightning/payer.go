package lightning

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
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
			kind = pay.ErrNoRoute
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

// Balance returns what the node's channels hold on its side, in msat,
// counting as already resolved the HTLCs whose outcome the node knows
// but whose commitment update is still under way: an incoming one whose
// invoice is settled counts, an outgoing one whose payment failed is
// given back. So a payee's balance includes an invoice as soon as Wait
// reports it Settled. The reads repeat (a few times at most) until the
// set of pending HTLCs is the same before and after the balance.
func (r *Rail) Balance(ctx context.Context, currency string) (int64, error) {
	if currency != Currency {
		return 0, fmt.Errorf("lightning: balance in %q: only %s moves on Lightning: %w", currency, Currency, pay.ErrCurrency)
	}
	var lastErr error
	for range 5 {
		before, err := r.pendingHTLCs(ctx)
		if err != nil {
			return 0, err
		}
		var out struct {
			LocalBalance struct {
				Msat int64s `json:"msat"`
			} `json:"local_balance"`
		}
		if err := r.call(ctx, "getting the channel balance", http.MethodGet, "/v1/balance/channels", nil, &out); err != nil {
			return 0, err
		}
		after, err := r.pendingHTLCs(ctx)
		if err != nil {
			return 0, err
		}
		if !slices.Equal(before, after) {
			lastErr = errors.New("the pending HTLCs kept changing")
			continue
		}
		bal := int64(out.LocalBalance.Msat)
		for _, h := range uniqueHashes(after) {
			extra, err := r.resolved(ctx, h)
			if err != nil {
				return 0, err
			}
			bal += extra
		}
		return bal, nil
	}
	return 0, fmt.Errorf("lightning: getting the channel balance: %w", lastErr)
}

// pendingHTLC is one HTLC on a channel's local commitment.
type pendingHTLC struct {
	chanID   string
	index    int64
	incoming bool
	hash     string // base64, as LND sends it
}

// pendingHTLCs lists the HTLCs on the node's channels, in LND's order.
func (r *Rail) pendingHTLCs(ctx context.Context) ([]pendingHTLC, error) {
	var out struct {
		Channels []struct {
			ChanID       string `json:"chan_id"`
			PendingHTLCs []struct {
				Incoming  bool   `json:"incoming"`
				HashLock  []byte `json:"hash_lock"`
				HTLCIndex int64s `json:"htlc_index"`
			} `json:"pending_htlcs"`
		} `json:"channels"`
	}
	if err := r.call(ctx, "listing channels", http.MethodGet, "/v1/channels", nil, &out); err != nil {
		return nil, err
	}
	var hs []pendingHTLC
	for _, c := range out.Channels {
		for _, h := range c.PendingHTLCs {
			hs = append(hs, pendingHTLC{c.ChanID, int64(h.HTLCIndex), h.Incoming, string(h.HashLock)})
		}
	}
	return hs, nil
}

// uniqueHashes returns each (direction, hash) once.
func uniqueHashes(hs []pendingHTLC) []pendingHTLC {
	seen := make(map[[2]string]bool)
	var out []pendingHTLC
	for _, h := range hs {
		k := [2]string{fmt.Sprint(h.incoming), h.hash}
		if len(h.hash) == 32 && !seen[k] {
			seen[k] = true
			out = append(out, h)
		}
	}
	return out
}

// resolved returns what a pending HTLC adds to the local balance once
// its commitment update completes, as far as the node already knows.
func (r *Rail) resolved(ctx context.Context, h pendingHTLC) (int64, error) {
	var hash [32]byte
	copy(hash[:], h.hash)
	if h.incoming {
		li, _, err := r.lookup(ctx, hex.EncodeToString(hash[:]))
		if errors.Is(err, pay.ErrUnknownInvoice) {
			return 0, nil // forwarded, not ours
		}
		if err != nil || li.State != "SETTLED" {
			return 0, err
		}
		return int64(li.AmtPaidMsat), nil
	}
	var p lndPayment
	path := "/v2/router/track/" + base64.URLEncoding.EncodeToString(hash[:])
	err := r.stream(ctx, fmt.Sprintf("tracking payment %x", hash), http.MethodGet, path, nil, func(res json.RawMessage) (bool, error) {
		return true, json.Unmarshal(res, &p)
	})
	if notFound(err) {
		return 0, nil // forwarded, not ours
	}
	if err != nil || p.Status != "FAILED" {
		return 0, err
	}
	return int64(p.ValueMsat), nil
}
