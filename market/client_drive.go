package market

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
)

// A purchase belongs to the client, not to whoever asked for it: it is
// recorded before any money moves and then driven, under the client's
// own context, to one end — complete, failed (nothing paid), expired
// (the offer ended unpaid) or refunded — across restarts (ResumeAll).
// Callers only wait for the outcome.

// ErrPending is matched by the error of a purchase that has not ended
// and may still complete: see PendingError.
var ErrPending = errors.New("purchase pending")

// ErrBadOrder: the order itself is wrong (a share count out of range, an
// amount that is not positive, a request ID reused for another
// purchase). Nothing was asked of anyone.
var ErrBadOrder = errors.New("bad order")

// ErrHeld: the order would charge for nothing: the buyer already holds
// the access, or the campaign is free (open, released, unlocked).
var ErrHeld = errors.New("nothing to buy")

// ErrFailed is matched by the error of a purchase that failed for good:
// nothing was paid, and nothing ever will be for it.
var ErrFailed = errors.New("purchase failed; nothing was paid")

// PendingError is the error of a purchase that has not ended when its
// caller stopped waiting, or that is held up: the client keeps driving
// it, and the ledger (Purchases) says how it ends.
type PendingError struct {
	// Offer is the purchase's offer; nil if the caller stopped waiting
	// before the creator's offer came (then nothing was paid yet).
	Offer *Offer
	// Err says what holds it up, or why the caller stopped waiting.
	Err error
}

func (e *PendingError) Error() string {
	if e.Offer == nil {
		return fmt.Sprintf("purchase is pending, the creator's offer not in yet: %v", e.Err)
	}
	return fmt.Sprintf("purchase %v is pending: %v", e.Offer.ID, e.Err)
}

func (e *PendingError) Unwrap() error { return e.Err }

// Is makes a PendingError match ErrPending.
func (e *PendingError) Is(target error) bool { return target == ErrPending }

// FailedError is the error of a purchase that failed for good: its
// record says failed (or expired), and no money moved.
type FailedError struct {
	Offer OfferID
	Err   error // what failed, naming the side
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("purchase %v failed; nothing was paid: %v", e.Offer, e.Err)
}

func (e *FailedError) Unwrap() error { return e.Err }

// Is makes a FailedError match ErrFailed.
func (e *FailedError) Is(target error) bool { return target == ErrFailed }

// flight is a purchase under way; waiters wait on done.
type flight struct {
	done  chan struct{}
	offer *Offer // set once recorded, under Client.mu
	p     *Purchase
	err   error
}

// start runs a purchase (or finds the one already made under the same
// request ID) in the background and waits for it.
func (c *Client) start(ctx context.Context, o Order, q *quote) (*Purchase, error) {
	if len(o.Request) > MaxRequestID || !printable(o.Request) {
		return nil, fmt.Errorf("market: request ID of %d bytes: want at most %d printable ASCII: %w", len(o.Request), MaxRequestID, ErrBadOrder)
	}
	rail, err := c.rail(o)
	if err != nil {
		return nil, err
	}
	q.Rail = rail.Name()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("market: buying from %v: the client is closed", o.Campaign)
	}
	if f := c.requests[o.Request]; o.Request != "" && f != nil {
		c.mu.Unlock()
		return c.wait(ctx, f)
	}
	f := &flight{done: make(chan struct{})}
	if o.Request != "" {
		c.requests[o.Request] = f
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		p, err := c.purchase(c.ctx, o, q, rail, f)
		c.mu.Lock()
		f.p, f.err = p, err
		if o.Request != "" {
			delete(c.requests, o.Request)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	return c.wait(ctx, f)
}

// wait waits for a flight's outcome until ctx ends.
func (c *Client) wait(ctx context.Context, f *flight) (*Purchase, error) {
	select {
	case <-f.done:
		return f.p, f.err
	case <-ctx.Done():
	}
	select {
	case <-f.done: // both ready: the outcome wins
		return f.p, f.err
	default:
	}
	c.mu.Lock()
	o := f.offer
	c.mu.Unlock()
	return nil, &PendingError{Offer: o, Err: fmt.Errorf("still under way when the request ended (%w)", ctx.Err())}
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// purchase asks for an offer, records it and drives it; or, for a
// request ID already recorded, returns that purchase's outcome.
func (c *Client) purchase(ctx context.Context, o Order, q *quote, rail pay.Rail, f *flight) (*Purchase, error) {
	if o.Request != "" {
		rec, err := c.ledger.PurchaseByRequest(ctx, o.Request)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			if !rec.Offer.Campaign.Equals(o.Campaign) || rec.Offer.Kind != q.Kind {
				return nil, fmt.Errorf("market: request ID %q was used for another purchase (offer %v): %w", o.Request, rec.Offer.ID, ErrBadOrder)
			}
			c.mu.Lock()
			f.offer = rec.Offer
			c.mu.Unlock()
			return c.outcome(ctx, o, rec)
		}
	}
	m := o.Manifest
	creator := o.Creator
	if creator == "" {
		creator = m.Creator
	}
	resp, err := c.exchange(ctx, creator, q.encode(), false)
	if err != nil {
		return nil, fmt.Errorf("market: asking the creator %v for an offer on %v: %w", creator, o.Campaign, err)
	}
	offer, ok := resp.(*Offer)
	if !ok {
		return nil, fmt.Errorf("market: asking the creator %v for an offer on %v: %w", creator, o.Campaign, unexpected(resp))
	}
	if err := c.checkOffer(o, q, offer); err != nil {
		return nil, fmt.Errorf("market: offer from the creator %v: %w", creator, err)
	}
	inv, err := rail.Decode(ctx, offer.Request)
	if err != nil {
		if errors.Is(err, pay.ErrBadRequest) {
			return nil, fmt.Errorf("market: offer %v: the creator's invoice: %v: %w", offer.ID, err, ErrBadOffer)
		}
		c.withdraw(creator, offer)
		return nil, fmt.Errorf("market: offer %v: this node's %s rail cannot read the creator's invoice: %w", offer.ID, rail.Name(), err)
	}
	if inv.Amount != offer.Price || inv.Rail != offer.Rail || inv.Hold != (offer.Lock != nil) ||
		(offer.Lock != nil && [32]byte(offer.Lock) != inv.PaymentHash) {
		return nil, fmt.Errorf("market: offer %v: invoice for %v on %s (hold %v) does not match the offer's %v: %w",
			offer.ID, inv.Amount, inv.Rail, inv.Hold, offer.Price, ErrBadOffer)
	}
	if err := c.ledger.putPurchase(ctx, offer, creator, o.Request, c.opts.Now()); err != nil {
		return nil, err
	}
	c.mu.Lock()
	f.offer = offer
	c.driving[offer.ID] = f
	c.mu.Unlock()
	defer c.undrive(offer.ID, f)
	return c.drive(ctx, o, creator, rail, offer)
}

func (c *Client) undrive(id OfferID, f *flight) {
	c.mu.Lock()
	if c.driving[id] == f {
		delete(c.driving, id)
	}
	c.mu.Unlock()
}

// outcome returns what a recorded purchase came to, driving it if it is
// still paying and nobody drives it.
func (c *Client) outcome(ctx context.Context, o Order, rec *PurchaseRecord) (*Purchase, error) {
	switch rec.Status {
	case "complete":
		v := &delivery{ID: rec.Offer.ID, Payload: rec.Payload, Receipt: rec.Receipt}
		p, err := c.verifyDelivery(o, rec.Offer, v)
		if err != nil {
			return nil, fmt.Errorf("market: purchase %v: the stored delivery: %w", rec.Offer.ID, err)
		}
		return p, c.completed(ctx, p)
	case "failed", "expired":
		return nil, &FailedError{Offer: rec.Offer.ID, Err: errors.New(orDefault(rec.Note, rec.Status))}
	case "refunded":
		return nil, fmt.Errorf("market: purchase %v: %w", rec.Offer.ID, ErrRefunded)
	case "pledged":
		return &Purchase{Offer: rec.Offer, Pledged: true, Until: o.Manifest.Deadline}, nil
	}
	c.mu.Lock()
	f := c.driving[rec.Offer.ID]
	c.mu.Unlock()
	if f != nil {
		return c.wait(ctx, f)
	}
	return c.resume(ctx, o, rec)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// resume drives a recorded purchase that nobody drives.
func (c *Client) resume(ctx context.Context, o Order, rec *PurchaseRecord) (*Purchase, error) {
	rail := c.rails[rec.Offer.Rail]
	if rail == nil {
		return nil, &PendingError{Offer: rec.Offer, Err: fmt.Errorf("this node has no %s rail now", rec.Offer.Rail)}
	}
	f := &flight{done: make(chan struct{}), offer: rec.Offer}
	c.mu.Lock()
	if g := c.driving[rec.Offer.ID]; g != nil {
		c.mu.Unlock()
		return c.wait(ctx, g)
	}
	c.driving[rec.Offer.ID] = f
	c.mu.Unlock()
	defer c.undrive(rec.Offer.ID, f)
	p, err := c.drive(ctx, o, rec.Creator, rail, rec.Offer)
	c.mu.Lock()
	f.p, f.err = p, err
	c.mu.Unlock()
	close(f.done)
	return p, err
}

// drive pays a recorded offer and collects what it bought, until the
// purchase ends or ctx (the client's) ends.
func (c *Client) drive(ctx context.Context, o Order, creator peer.ID, rail pay.Rail, offer *Offer) (*Purchase, error) {
	var p *Purchase
	var err error
	if offer.Lock != nil {
		p, err = c.payLocked(ctx, o, creator, rail, offer)
	} else {
		p, err = c.payAndCollect(ctx, o, creator, rail, offer)
	}
	if err == nil && !p.Pledged {
		err = c.completed(ctx, p)
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrPending) {
		err = &PendingError{Offer: offer, Err: err}
	}
	return p, err
}

func (c *Client) completed(ctx context.Context, p *Purchase) error {
	return c.opts.Events.Completed(context.WithoutCancel(ctx), p)
}

func (c *Client) payAndCollect(ctx context.Context, o Order, creator peer.ID, rail pay.Rail, offer *Offer) (*Purchase, error) {
	pm, err := c.payOffer(ctx, creator, rail, offer)
	if err != nil {
		return nil, err
	}
	return c.collect(ctx, o, creator, rail, offer, pm, (&payment{ID: offer.ID, Proof: pm.Proof}).encode())
}

// payOffer pays an offer's request. A definitive failure ends the
// purchase (failed, or expired) and tells the creator; after an
// ambiguous one it asks the rail again, pausing between attempts — the
// rail pays a request once, so asking again is how it learns whether
// the first attempt paid.
func (c *Client) payOffer(ctx context.Context, creator peer.ID, rail pay.Rail, offer *Offer) (pay.Payment, error) {
	pause := c.opts.RetryMin
	for {
		pm, err := rail.Pay(ctx, offer.Request)
		if err == nil {
			return pm, nil
		}
		if pay.Definitive(err) && ctx.Err() == nil {
			return pay.Payment{}, c.fail(ctx, creator, rail, offer, err)
		}
		c.ledger.notePurchase(context.WithoutCancel(ctx), offer.ID, fmt.Sprintf("this node's %s rail: %v", rail.Name(), err))
		if pause, err = c.backoff(ctx, pause, err); err != nil {
			return pay.Payment{}, &PendingError{Offer: offer, Err: fmt.Errorf("paying on this node's %s rail: %w", rail.Name(), err)}
		}
	}
}

// fail ends a purchase whose payment failed for good: expired if the
// offer ran out, failed otherwise, after which the creator is told to
// cancel the invoice and free the shares.
func (c *Client) fail(ctx context.Context, creator peer.ID, rail pay.Rail, offer *Offer, cause error) error {
	st := purchaseFailed
	if errors.Is(cause, pay.ErrExpired) {
		st = purchaseExpired
	}
	cause = fmt.Errorf("this node's %s rail: %w", rail.Name(), cause)
	if _, err := c.ledger.endPurchase(context.WithoutCancel(ctx), offer.ID, st, cause.Error(), c.opts.Now()); err != nil {
		return &PendingError{Offer: offer, Err: err}
	}
	if st == purchaseFailed {
		c.withdraw(creator, offer)
	}
	return &FailedError{Offer: offer.ID, Err: cause}
}

// withdraw tells the creator, in the background and once, that this
// client will never pay an offer. A creator that does not hear it lets
// the offer expire.
func (c *Client) withdraw(creator peer.ID, offer *Offer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		// A creator may hold the offer for up to its request timeout
		// while it waits for a payment that will not come: try a few
		// times.
		pause := c.opts.RetryMin
		for attempt := range withdrawAttempts {
			resp, err := c.exchange(c.ctx, creator, (&withdraw{ID: offer.ID}).encode(), attempt > 0)
			if e, ok := resp.(*errorMsg); err == nil && (!ok || !e.Code.retryable()) {
				return
			}
			if pause, err = c.backoff(c.ctx, pause, err); err != nil {
				return
			}
		}
	}()
}

// withdrawAttempts bounds the attempts to tell a creator of a withdrawn
// offer; one it never hears lets the offer expire.
const withdrawAttempts = 4

// collect sends req (a payment or a redelivery) until the creator answers
// with a delivery or refuses for good, then verifies and records it.
func (c *Client) collect(ctx context.Context, o Order, creator peer.ID, rail pay.Rail, offer *Offer, pm pay.Payment, req []byte) (*Purchase, error) {
	var p *Purchase
	err := c.ask(ctx, creator, offer, req, "paid; the creator's delivery not received yet", func(resp any) (bool, error) {
		switch r := resp.(type) {
		case *delivery:
			var err error
			if p, err = c.accept(ctx, o, creator, offer, r); p != nil {
				p.Payment = pm
			}
			return true, err
		case *errorMsg:
			rerr := &RemoteError{Code: r.Code, Message: r.Message}
			switch {
			case r.Code.retryable():
				return false, rerr
			case r.Code == CodeExpired:
				return c.refund(ctx, rail, offer, r.Voucher, rerr)
			}
			// Paid, and refused: the purchase stays paying, with the
			// creator's word, and is asked again at the next start.
			c.ledger.notePurchase(context.WithoutCancel(ctx), offer.ID, "the creator refused: "+rerr.Error())
			return true, &PendingError{Offer: offer, Err: rerr}
		}
		return true, fmt.Errorf("market: offer %v: %w", offer.ID, unexpected(resp))
	})
	return p, err
}

// refund redeems the creator's voucher for an offer that expired before
// the creator took its payment, and ends the purchase: refunded, or
// expired if it was never paid. A voucher the rail cannot redeem yet is
// asked for again.
func (c *Client) refund(ctx context.Context, rail pay.Rail, offer *Offer, voucher []byte, refusal error) (bool, error) {
	st, note := purchaseRefunded, "the offer expired before the creator took the payment; the payment came back"
	if len(voucher) == 0 {
		st, note = purchaseExpired, "the offer expired unpaid"
	} else if _, err := rail.Refund(ctx, voucher); errors.Is(err, pay.ErrUnknownInvoice) {
		st, note = purchaseExpired, "the offer expired unpaid"
	} else if err != nil {
		c.ledger.notePurchase(context.WithoutCancel(ctx), offer.ID, "redeeming the refund voucher: "+err.Error())
		return false, err
	}
	if _, err := c.ledger.endPurchase(context.WithoutCancel(ctx), offer.ID, st, note, c.opts.Now()); err != nil {
		return false, err
	}
	if st == purchaseExpired {
		return true, &FailedError{Offer: offer.ID, Err: fmt.Errorf("%s: %w", note, ErrExpired)}
	}
	return true, fmt.Errorf("market: offer %v: %w (%w; %w)", offer.ID, ErrRefunded, ErrExpired, refusal)
}

// Resume completes a purchase this client recorded but did not finish
// (its node stopped, or nobody drives it), as Buy does, and returns its
// outcome. For a complete purchase it asks for the delivery again.
func (c *Client) Resume(ctx context.Context, o Order, id OfferID) (*Purchase, error) {
	rec, err := c.ledger.Purchase(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec == nil || !rec.Offer.Campaign.Equals(o.Campaign) {
		return nil, fmt.Errorf("market: resuming offer %v: no such purchase of %v", id, o.Campaign)
	}
	if o.Manifest == nil || (rec.Offer.Kind == KindBuy && o.Manifest.Model == campaign.ModelShards && o.Commitments == nil) {
		return nil, fmt.Errorf("market: resuming offer %v: missing manifest or commitments", id)
	}
	rail := c.rails[rec.Offer.Rail]
	if rail == nil {
		return nil, fmt.Errorf("market: resuming offer %v: no rail %q", id, rec.Offer.Rail)
	}
	if rec.Status == "complete" {
		return c.collect(ctx, o, rec.Creator, rail, rec.Offer, pay.Payment{}, (&redeliver{ID: id}).encode())
	}
	return c.outcome(ctx, o, rec)
}

// ResumeAll drives, in the background, every purchase this client
// recorded that has not ended — on every rail: offers not yet paid (the
// rail pays a request once, so paying again is safe), paid ones not yet
// delivered, held pledges. order returns the order of a campaign (its
// manifest and, for shares, its commitments); while it fails, it is
// asked again with the client's backoff. It returns once the purchases
// are started.
func (c *Client) ResumeAll(ctx context.Context, order func(context.Context, *Offer) (Order, error)) error {
	recs, err := c.ledger.payingPurchases(ctx)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		c.mu.Lock()
		if c.closed || c.driving[rec.Offer.ID] != nil {
			c.mu.Unlock()
			continue
		}
		c.wg.Add(1)
		c.mu.Unlock()
		go func() {
			defer c.wg.Done()
			pause := c.opts.RetryMin
			for {
				o, err := order(c.ctx, rec.Offer)
				if err == nil && (o.Manifest == nil || (rec.Offer.Kind == KindBuy && o.Manifest.Model == campaign.ModelShards && o.Commitments == nil)) {
					err = errors.New("no manifest or commitments")
				}
				if err == nil {
					c.resume(c.ctx, o, &rec)
					return
				}
				c.ledger.notePurchase(c.ctx, rec.Offer.ID, "resuming: "+err.Error())
				if pause, err = c.backoff(c.ctx, pause, err); err != nil {
					return
				}
			}
		}()
	}
	return nil
}
