package market

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
)

// ErrCheated is wrapped by the error of a purchase whose creator sealed
// bad shares; the proof went to Events.Caught and the ledger.
var ErrCheated = errors.New("the creator sealed bad shares")

// CheatError is the error of a purchase whose creator sealed bad shares.
// It wraps ErrCheated and carries the proof.
type CheatError struct {
	Proof  *Proof
	Reason string // what was wrong with the shares
}

func (e *CheatError) Error() string {
	return fmt.Sprintf("market: offer %v of campaign %v: %v: %v", e.Proof.Offer.ID, e.Proof.Campaign(), ErrCheated, e.Reason)
}

func (e *CheatError) Unwrap() error { return ErrCheated }

// ErrRefunded is wrapped by the error of a pledge or locked purchase
// whose invoice the creator canceled: the funds came back.
var ErrRefunded = errors.New("canceled by the creator; the payment came back")

// paid is what the background payment of a locked offer ends with.
type paid struct {
	p   *Purchase
	err error
}

// payLocked buys a locked offer: the rail pays its hold invoice in the
// background while the client asks the creator to take it. For a sale,
// it returns once the payment revealed the key and the shares it unseals
// are verified (with the creator's receipt, unless the creator vanished
// after taking the money). For a pledge, it returns once the creator
// holds it; the shares come later through Events.Delivered.
func (c *Client) payLocked(ctx context.Context, o Order, creator peer.ID, rail pay.Rail, offer *Offer) (*Purchase, error) {
	done := c.payInBackground(o, creator, rail, offer)
	prodCtx, stop := context.WithCancel(ctx)
	defer stop()
	asked := make(chan paid, 1)
	go func() {
		p, err := c.prod(prodCtx, o, creator, rail, offer)
		asked <- paid{p, err}
	}()
	var fromCreator *paid
	for {
		select {
		case r := <-done:
			if r.err != nil {
				return nil, r.err
			}
			if fromCreator == nil {
				// The key is here: the receipt normally follows within
				// milliseconds; do not wait for ever on a creator that
				// took the money and vanished.
				t := time.NewTimer(c.opts.AttemptTimeout)
				select {
				case a := <-asked:
					fromCreator = &a
				case <-t.C:
				case <-ctx.Done():
				}
				t.Stop()
			}
			if fromCreator != nil && fromCreator.err == nil && fromCreator.p.Receipt != nil {
				r.p.Receipt = fromCreator.p.Receipt
			}
			return r.p, nil
		case a := <-asked:
			fromCreator = &a
			if a.err == nil && a.p.Pledged {
				return a.p, nil
			}
			if a.err != nil && !errors.Is(a.err, context.Canceled) {
				// The creator refused for good (expired, closed): the
				// payment will fail or come back; report that.
				select {
				case r := <-done:
					if r.err != nil {
						return nil, r.err
					}
					return r.p, nil
				case <-ctx.Done():
					return nil, a.err
				}
			}
		case <-ctx.Done():
			return nil, &PendingError{Offer: offer, Err: fmt.Errorf("the payment is under way, not settled yet (%w)", ctx.Err())}
		}
	}
}

// prod asks the creator to take the payment of a locked offer until it
// answers with a pledge held or a delivery, or refuses for good.
func (c *Client) prod(ctx context.Context, o Order, creator peer.ID, rail pay.Rail, offer *Offer) (*Purchase, error) {
	var p *Purchase
	err := c.ask(ctx, creator, offer, (&redeliver{ID: offer.ID}).encode(), "creator not reached", func(resp any) (bool, error) {
		var err error
		switch r := resp.(type) {
		case *delivery:
			p, err = c.accept(ctx, o, creator, offer, r)
			return true, err
		case *pledged:
			if r.ID != offer.ID {
				return true, fmt.Errorf("market: pledge for offer %v, want %v: %w", r.ID, offer.ID, ErrBadOffer)
			}
			if err := r.verify(o.Manifest); err != nil {
				return true, err
			}
			if err := c.ledger.setHeld(context.WithoutCancel(ctx), offer.ID, heldPledged, c.opts.Now()); err != nil {
				return true, err
			}
			p = &Purchase{Offer: offer, Pledged: true, Until: r.Until}
			return true, nil
		case *errorMsg:
			rerr := &RemoteError{Code: r.Code, Message: r.Message}
			if r.Code.retryable() || r.Code == CodeUnpaid {
				return false, rerr // not held yet: the payment is on its way
			}
			return true, fmt.Errorf("market: offer %v: %w", offer.ID, rerr)
		}
		return true, fmt.Errorf("market: offer %v: %w", offer.ID, unexpected(resp))
	})
	return p, err
}

// payInBackground pays a locked offer's hold invoice for as long as the
// client runs, and acts on the outcome: the key unseals the shares, a bad
// share yields a proof, a canceled invoice marks the purchase refunded.
// The channel receives the outcome once; nobody needs to read it.
func (c *Client) payInBackground(o Order, creator peer.ID, rail pay.Rail, offer *Offer) <-chan paid {
	out := make(chan paid, 1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		p, err := c.payLockedOffer(c.ctx, o, creator, rail, offer)
		out <- paid{p, err}
		if err != nil {
			return
		}
		c.opts.Events.Delivered(p)
		// Collect the receipt, as for any sale. The creator answers once
		// its ledger has the sale; a creator that never does leaves the
		// purchase paying, with its shares already delivered.
		if _, err := c.collect(c.ctx, o, creator, rail, offer, p.Payment, (&redeliver{ID: offer.ID}).encode()); err != nil && c.ctx.Err() == nil {
			return
		}
	}()
	return out
}

func (c *Client) payLockedOffer(ctx context.Context, o Order, creator peer.ID, rail pay.Rail, offer *Offer) (*Purchase, error) {
	now := c.opts.Now
	var pm pay.Payment
	for pause := c.opts.RetryMin; ; {
		var err error
		if pm, err = rail.Pay(ctx, offer.Request); err == nil {
			break
		}
		if errors.Is(err, pay.ErrCanceled) && ctx.Err() == nil {
			// The creator canceled the hold invoice: the funds came back.
			ctx := context.WithoutCancel(ctx)
			c.ledger.setHeld(ctx, offer.ID, heldCanceled, now())
			c.ledger.endPurchase(ctx, offer.ID, purchaseRefunded, "the creator canceled the invoice; the payment came back", now())
			return nil, fmt.Errorf("market: offer %v: %w (%w)", offer.ID, ErrRefunded, err)
		}
		if pay.Definitive(err) && ctx.Err() == nil {
			return nil, c.fail(ctx, creator, rail, offer, err)
		}
		c.ledger.notePurchase(context.WithoutCancel(ctx), offer.ID, fmt.Sprintf("this node's %s rail: %v", rail.Name(), err))
		if pause, err = c.backoff(ctx, pause, err); err != nil {
			return nil, &PendingError{Offer: offer, Err: fmt.Errorf("paying on this node's %s rail: %w", rail.Name(), err)}
		}
	}
	sh, err := openLocked(offer, pm.Preimage, o.Commitments)
	if err != nil {
		raw, _, merr := campaign.Encode(o.Manifest)
		if merr != nil {
			return nil, fmt.Errorf("market: offer %v: sealed shares fail (%v), and the manifest does not encode: %w", offer.ID, err, merr)
		}
		proof := &Proof{Manifest: raw, Offer: offer, Key: pm.Preimage}
		if perr := c.ledger.putProof(context.WithoutCancel(ctx), proof); perr != nil {
			return nil, perr
		}
		c.opts.Events.Caught(proof)
		return nil, &CheatError{Proof: proof, Reason: err.Error()}
	}
	if o.Manifest.AllOrNothing {
		if err := c.ledger.setHeld(context.WithoutCancel(ctx), offer.ID, heldSettled, now()); err != nil {
			return nil, err
		}
	}
	return &Purchase{Offer: offer, Payment: pm, Shares: sh}, nil
}
