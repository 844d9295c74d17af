package market

import (
	"context"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
)

// answer is what a creator sends back to a payment or a redelivery: a
// delivery, or a pledge held.
type answer interface{ encode() []byte }

// asAnswer turns a delivery and an error into an answer without letting a
// nil *delivery become a non-nil interface.
func asAnswer(v *delivery, err error) (answer, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

// payLocked answers the buyer of a locked offer, who asks once its rail
// is paying the hold invoice: it waits until the invoice is held, then
// settles it (the preimage reaches the buyer with the money) and records
// the sale, or, in an all-or-nothing campaign, records the pledge.
func (s *Server) payLocked(ctx context.Context, row *offerRow, rail pay.Rail) (answer, error) {
	o := row.offer
	held, err := s.ledger.pledged(o.ID)
	if err != nil {
		return nil, err
	}
	if held {
		return s.pledgeAnswer(o)
	}
	st, err := rail.Wait(ctx, row.invoice, func(st pay.Status) bool { return st != pay.Open })
	switch {
	case err == nil:
	case errors.Is(err, pay.ErrState), errors.Is(err, pay.ErrExpired), errors.Is(err, pay.ErrCanceled):
		st = pay.Expired
	case ctx.Err() != nil:
		return nil, refuse(CodeUnpaid, "offer %v is not paid yet", o.ID)
	default:
		return nil, fmt.Errorf("waiting for payment of offer %v: %w", o.ID, err)
	}
	return s.concludeLocked(ctx, row, rail, st)
}

// concludeLocked acts on the status of a locked offer's hold invoice.
func (s *Server) concludeLocked(ctx context.Context, row *offerRow, rail pay.Rail, st pay.Status) (answer, error) {
	o := row.offer
	switch st {
	case pay.Accepted:
		m, err := s.src.Campaign(o.Campaign)
		if err != nil {
			return nil, fmt.Errorf("offer %v: %w", o.ID, err)
		}
		if m.AllOrNothing {
			oc, err := s.ledger.outcomeOf(o.Campaign)
			if err != nil {
				return nil, err
			}
			switch oc {
			case outcomeShort:
				return s.cancelOffer(ctx, row)
			case outcomeNone:
				if err := s.ledger.pledge(context.WithoutCancel(ctx), o, s.opts.Now()); err != nil {
					return nil, err
				}
				s.log.Info("market: pledge held", "campaign", o.Campaign, "offer", o.ID, "shares", len(o.Indices))
				s.opts.Events.Pledged(o.Campaign)
				s.goAsync(func(ctx context.Context) { s.checkGoal(ctx, o.Campaign, m) })
				return s.pledgeAnswer(o)
			}
		}
		return s.settleLocked(ctx, row, rail)
	case pay.Settled:
		return asAnswer(s.settle(ctx, row))
	case pay.Open:
		if s.opts.Now().Before(o.Expires) {
			return nil, refuse(CodeUnpaid, "offer %v is not paid", o.ID)
		}
	}
	return s.cancelOffer(ctx, row)
}

// cancelOffer expires an open offer, canceling its invoice (which returns
// held funds), and refuses it.
func (s *Server) cancelOffer(ctx context.Context, row *offerRow) (answer, error) {
	a, err := s.expire(ctx, row)
	if a != nil || err != nil {
		return a, err
	}
	return nil, s.expiredRefusal(ctx, row)
}

// settleLocked takes the funds of a held invoice with the offer's key,
// which reveals the key to the buyer, then records the sale.
func (s *Server) settleLocked(ctx context.Context, row *offerRow, rail pay.Rail) (answer, error) {
	key, err := s.ledger.lockKey(row.offer.ID)
	if err != nil {
		return nil, err
	}
	if err := rail.Settle(ctx, row.invoice, key); err != nil {
		if errors.Is(err, pay.ErrCanceled) {
			return s.cancelOffer(ctx, row)
		}
		return nil, fmt.Errorf("settling offer %v: %w", row.offer.ID, err)
	}
	return asAnswer(s.settle(ctx, row))
}

func (s *Server) pledgeAnswer(o *Offer) (answer, error) {
	m, err := s.src.Campaign(o.Campaign)
	if err != nil {
		return nil, err
	}
	p := &pledged{ID: o.ID, Until: m.Deadline}
	if err := p.sign(s.key); err != nil {
		return nil, fmt.Errorf("signing pledge of offer %v: %w", o.ID, err)
	}
	return p, nil
}

// goAsync runs fn in the background until the server closes.
func (s *Server) goAsync(fn func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.ctx)
	}()
}

// checkGoal settles every pledge of an all-or-nothing campaign once all
// its shares are pledged or sold.
func (s *Server) checkGoal(ctx context.Context, id cid.Cid, m *campaign.Manifest) {
	n, err := s.ledger.committed(ctx, id)
	if err != nil {
		s.log.Error("market: checking a campaign's goal", "campaign", id, "err", err)
		return
	}
	if n < m.Shards {
		return
	}
	if _, err := s.finish(ctx, id, outcomeMet); err != nil {
		s.log.Error("market: settling pledges", "campaign", id, "err", err)
	}
}

// EndPledges ends an all-or-nothing campaign at its deadline (or at once,
// if the creator releases it early): if every share is pledged or sold it
// settles every pledge, otherwise it cancels every pledge and open offer,
// which returns the buyers' funds. The outcome is recorded before it is
// acted on, so that a node that stops half-way finishes the same way when
// it starts again. It reports whether the goal was met.
func (s *Server) EndPledges(ctx context.Context, id cid.Cid) (met bool, err error) {
	m, err := s.src.Campaign(id)
	if err != nil {
		return false, err
	}
	if !m.AllOrNothing {
		return false, fmt.Errorf("market: campaign %v takes no pledges", id)
	}
	want := outcomeShort
	if n, err := s.ledger.committed(ctx, id); err != nil {
		return false, err
	} else if n >= m.Shards {
		want = outcomeMet
	}
	oc, err := s.finish(ctx, id, want)
	return oc == outcomeMet, err
}

// finish records want as a campaign's outcome unless one is recorded,
// then settles or cancels its offers accordingly. It returns the outcome
// that stands.
func (s *Server) finish(ctx context.Context, id cid.Cid, want outcome) (outcome, error) {
	oc, err := s.ledger.decide(ctx, id, want, s.opts.Now())
	if err != nil {
		return oc, err
	}
	rows, err := s.ledger.openOffers(ctx, id, oc == outcomeMet)
	if err != nil {
		return oc, err
	}
	var errs []error
	for _, r := range rows {
		if err := s.endOffer(ctx, r.offer.ID, oc); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return oc, fmt.Errorf("market: ending pledges of %v (%d left for later): %w", id, len(errs), err)
	}
	s.log.Info("market: pledges ended", "campaign", id, "goal met", oc == outcomeMet, "offers", len(rows))
	if len(rows) > 0 {
		s.opts.Events.Pledged(id)
	}
	return oc, nil
}

// endOffer settles (outcome met) or cancels one open offer.
func (s *Server) endOffer(ctx context.Context, id OfferID, oc outcome) error {
	unlock := s.locks.lock(id)
	defer unlock()
	row, err := s.ledger.loadOffer(ctx, id)
	if err != nil || row.status != offerOpen {
		return err
	}
	rail := s.rails[row.offer.Rail]
	if rail == nil {
		return fmt.Errorf("offer %v: rail %q is gone", id, row.offer.Rail)
	}
	if oc == outcomeMet {
		_, err = s.settleLocked(ctx, row, rail)
	} else {
		_, err = s.expire(ctx, row)
	}
	var r *refusal
	if errors.As(err, &r) {
		return nil // the offer ended otherwise (its invoice was canceled)
	}
	return err
}

// outcomeLoop finishes, at start and then at every sweep, the outcomes
// the node recorded but did not finish acting on: a node killed while it
// settled or canceled pledges completes the job.
func (s *Server) outcomeLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SweepInterval)
	defer t.Stop()
	// A node stopped between recording the last pledge of a campaign and
	// recording its outcome settles at start, not at the deadline.
	if ids, err := s.ledger.pledgedCampaigns(s.ctx); err == nil {
		for _, id := range ids {
			if m, err := s.src.Campaign(id); err == nil && m.AllOrNothing {
				s.checkGoal(s.ctx, id, m)
			}
		}
	} else if s.ctx.Err() == nil {
		s.log.Error("market: listing pledged campaigns", "err", err)
	}
	for {
		ids, err := s.ledger.unfinished(s.ctx)
		if err != nil && s.ctx.Err() == nil {
			s.log.Error("market: listing unfinished pledges", "err", err)
		}
		for _, id := range ids {
			oc, err := s.ledger.outcomeOf(id)
			if err == nil {
				_, err = s.finish(s.ctx, id, oc)
			}
			if err != nil && s.ctx.Err() == nil {
				s.log.Error("market: finishing pledges", "campaign", id, "err", err)
			}
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}
