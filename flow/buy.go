package flow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
)

// Buy buys access to a campaign (pay) or k of its shares (shards), under
// the caller's request ID if it gives one ("" for none): a request ID
// already used returns that purchase's outcome. The purchase belongs to
// the node: it goes on if ctx ends, and Buy then returns a
// *market.PendingError. Buying what is already held or free is refused
// with market.ErrHeld, a share count out of range with
// market.ErrBadOrder; neither charges anything.
func (f *Flow) Buy(ctx context.Context, id cid.Cid, k int, request string) (*market.Purchase, error) {
	e, err := f.paidCampaign(id, "nothing to buy")
	if err != nil {
		return nil, err
	}
	if e.Rejected != "" {
		return nil, fmt.Errorf("campaign %s: %w: %s", id, catalog.ErrRejected, e.Rejected)
	}
	f.follow(e)
	var unlock func()
	if e.Manifest.Model == campaign.ModelPay {
		// Checked and bought under one lock, held until the purchase
		// ends: two requests at once would both find access neither held
		// nor pending, and both pay.
		if unlock, err = f.lockPay(ctx, id, request); err != nil {
			return nil, err
		}
		defer func() {
			if unlock != nil {
				unlock()
			}
		}()
	}
	again, err := f.knownRequest(ctx, request)
	if err != nil {
		return nil, err
	}
	if !again {
		if err := f.checkBuy(ctx, e, k); err != nil {
			return nil, err
		}
	}
	if err := f.p.Network.ReachCreator(ctx, e.Manifest.Creator); err != nil && !again {
		return nil, err
	}
	order := market.Order{Campaign: id, Manifest: e.Manifest, Shares: k, Request: request}
	if e.Manifest.Model == campaign.ModelShards {
		if order.Commitments, err = f.commitmentsOf(ctx, e, campaign.MaxShares); err != nil {
			return nil, err
		}
	}
	var p *market.Purchase
	if unlock != nil {
		p, err = f.buyLocked(ctx, order, unlock)
		unlock = nil
	} else {
		p, err = f.p.Buyer.Buy(ctx, order)
	}
	var cheat *market.CheatError
	if errors.As(err, &cheat) {
		return nil, fmt.Errorf("%w; the proof is in %s", err, f.p.Keys.ProofPath(cheat.Proof.Offer.ID.String()))
	}
	return p, err
}

// payLock is the lock of one pay campaign's purchase under way.
type payLock struct {
	done    chan struct{} // closed when it ends
	request string        // its request ID, if any
}

// lockPay waits until no other Buy of the pay campaign id is under way
// in this node and returns the function that lets the next one in. A
// retry under the request ID of the purchase under way is let through
// without the lock (nil, nil): the market joins it to that purchase. If
// ctx ends first, the purchase under way is the caller's answer: it
// refuses with market.ErrHeld.
func (f *Flow) lockPay(ctx context.Context, id cid.Cid, request string) (unlock func(), err error) {
	for {
		f.payMu.Lock()
		busy, ok := f.paying[id]
		if !ok {
			l := &payLock{done: make(chan struct{}), request: request}
			f.paying[id] = l
			f.payMu.Unlock()
			return func() {
				f.payMu.Lock()
				delete(f.paying, id)
				f.payMu.Unlock()
				close(l.done)
			}, nil
		}
		f.payMu.Unlock()
		if request != "" && busy.request == request {
			return nil, nil
		}
		select {
		case <-busy.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("campaign %s: another purchase of it is under way (see receipts): %w", id, market.ErrHeld)
		}
	}
}

// buyLocked makes a purchase that holds a pay campaign's lock, and lets
// the lock go when the purchase ends, not when the caller stops waiting:
// a caller that gives up before the creator's offer is in leaves nothing
// in the ledger for the next check to see. If ctx ends first it returns a
// *market.PendingError, naming the offer once the ledger has it.
func (f *Flow) buyLocked(ctx context.Context, order market.Order, unlock func()) (*market.Purchase, error) {
	type outcome struct {
		p   *market.Purchase
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer unlock()
		p, err := f.p.Buyer.Buy(f.ctx, order)
		done <- outcome{p, err}
	}()
	select {
	case o := <-done:
		return o.p, o.err
	case <-ctx.Done():
	}
	select {
	case o := <-done: // both ready: the outcome wins
		return o.p, o.err
	default:
	}
	pe := &market.PendingError{Err: fmt.Errorf("still under way when the request ended (%w)", ctx.Err())}
	lctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	if recs, err := f.p.Ledger.Purchases(lctx, order.Campaign); err == nil {
		for _, r := range recs {
			if r.Offer.Kind == market.KindBuy && r.Pending() {
				pe.Offer = r.Offer
			}
		}
	}
	return nil, pe
}

// knownRequest says whether a request ID is already recorded with a
// purchase: its retry returns that purchase's outcome, unchecked.
func (f *Flow) knownRequest(ctx context.Context, request string) (bool, error) {
	if request == "" {
		return false, nil
	}
	rec, err := f.p.Ledger.PurchaseByRequest(ctx, request)
	return rec != nil, err
}

// checkBuy refuses a purchase that would charge for nothing — access
// already held, a campaign already free — or whose share count is out
// of range.
func (f *Flow) checkBuy(ctx context.Context, e catalog.Entry, k int) error {
	m := e.Manifest
	switch m.Model {
	case campaign.ModelOpen:
		return fmt.Errorf("campaign %s is free to watch: donate instead: %w", e.ID, market.ErrHeld)
	case campaign.ModelPay:
		if k < 0 || k > 1 {
			return fmt.Errorf("campaign %s sells access, not %d shares: %w", e.ID, k, market.ErrBadOrder)
		}
		if f.CanRead(e) {
			return fmt.Errorf("campaign %s: this node already holds its key: %w", e.ID, market.ErrHeld)
		}
		recs, err := f.p.Ledger.Purchases(ctx, e.ID)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Offer.Kind == market.KindBuy && r.Pending() {
				return fmt.Errorf("campaign %s: purchase %s of it is pending (see receipts): %w", e.ID, r.Offer.ID, market.ErrHeld)
			}
		}
		return nil
	}
	most := min(market.MaxSharesPerOffer, m.Shards)
	if k < 1 || k > most {
		return fmt.Errorf("%d shares of campaign %s: want 1 to %d: %w", k, e.ID, most, market.ErrBadOrder)
	}
	if f.CanRead(e) || f.p.Pool.Complete(e.ID) {
		return fmt.Errorf("campaign %s is unlocked for everyone: nothing to buy: %w", e.ID, market.ErrHeld)
	}
	if st := e.State; st != nil {
		left := max(int64(m.Shards)-st.Sold-st.Pledged, 0)
		switch {
		case left == 0:
			return fmt.Errorf("campaign %s: all %d shares are sold or pledged: %w", e.ID, m.Shards, market.ErrSoldOut)
		case int64(k) > left:
			return fmt.Errorf("%d shares of campaign %s: only %d left: %w", k, e.ID, left, market.ErrBadOrder)
		}
	}
	return nil
}

// Donate donates amount (minor units of the campaign's currency) to a
// campaign's creator, under the caller's request ID if it gives one, as
// Buy does.
func (f *Flow) Donate(ctx context.Context, id cid.Cid, amount int64, request string) (*market.Purchase, error) {
	e, err := f.paidCampaign(id, "it cannot donate to itself")
	if err != nil {
		return nil, err
	}
	f.follow(e)
	again, err := f.knownRequest(ctx, request)
	if err != nil {
		return nil, err
	}
	if err := f.p.Network.ReachCreator(ctx, e.Manifest.Creator); err != nil && !again {
		return nil, err
	}
	return f.p.Buyer.Donate(ctx, market.Order{Campaign: id, Manifest: e.Manifest, Request: request}, amount)
}

// paidCampaign returns the campaign a Buy or Donate pays for, refusing on an
// offline node and for this node's own campaigns (why says what it
// cannot do then).
func (f *Flow) paidCampaign(id cid.Cid, why string) (catalog.Entry, error) {
	if f.p.Buyer == nil {
		return catalog.Entry{}, ErrOffline
	}
	e, err := f.p.Catalog.Get(id)
	if err != nil {
		return catalog.Entry{}, err
	}
	if e.Manifest.Creator == f.p.Self {
		return catalog.Entry{}, fmt.Errorf("this node is the campaign's creator: %s", why)
	}
	return e, nil
}
