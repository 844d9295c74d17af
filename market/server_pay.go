package market

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"filippo.io/age"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// pay answers a payment of an offer (proof set) or a request to deliver
// it again (proof nil). A settled offer gets the delivery stored when it
// was settled, whatever the proof; an open one is claimed on its rail,
// settled in the ledger and delivered.
func (s *Server) pay(ctx context.Context, remote peer.ID, id OfferID, proof []byte) (answer, error) {
	unlock := s.locks.lock(id)
	defer unlock()
	row, err := s.ledger.loadOffer(ctx, id)
	if errors.Is(err, errNoOffer) {
		return nil, refuse(CodeNotFound, "no offer %v here", id)
	}
	if err != nil {
		return nil, err
	}
	if row.offer.Buyer != remote {
		return nil, refuse(CodeBadRequest, "offer %v was made to another peer", id)
	}
	switch row.status {
	case offerSettled:
		return asAnswer(s.ledger.loadDelivery(ctx, id, roleCreator))
	case offerExpired:
		return nil, s.expiredRefusal(ctx, row)
	}
	rail := s.rails[row.offer.Rail]
	if rail == nil {
		return nil, fmt.Errorf("offer %v: rail %q is gone", id, row.offer.Rail)
	}
	if row.offer.Lock != nil {
		return s.payLocked(ctx, row, rail)
	}
	var st pay.Status
	if proof != nil {
		st, err = rail.Claim(ctx, row.invoice, proof)
	} else {
		_, st, err = rail.Lookup(ctx, row.invoice)
	}
	switch {
	case err == nil:
	case errors.Is(err, pay.ErrExpired), errors.Is(err, pay.ErrCanceled):
		st = pay.Expired
	case errors.Is(err, pay.ErrBadProof), errors.Is(err, pay.ErrUnderpaid), errors.Is(err, pay.ErrCurrency), errors.Is(err, pay.ErrState):
		return nil, refuse(CodeRejected, "payment of offer %v refused: %v", id, err)
	default:
		return nil, fmt.Errorf("claiming offer %v: %w", id, err)
	}
	if st == pay.Open && proof != nil {
		// A rail that observes payments itself may see this one a moment
		// after the payer's proof arrives; Wait also ends at expiry.
		if st, err = rail.Wait(ctx, row.invoice, func(st pay.Status) bool { return st != pay.Open }); err != nil {
			return nil, fmt.Errorf("waiting for payment of offer %v: %w", id, err)
		}
	}
	return s.conclude(ctx, row, rail, st)
}

// conclude acts on the rail's status of an open offer's invoice.
func (s *Server) conclude(ctx context.Context, row *offerRow, rail pay.Rail, st pay.Status) (answer, error) {
	if row.offer.Lock != nil {
		return s.concludeLocked(ctx, row, rail, st)
	}
	switch st {
	case pay.Accepted: // the market issues no hold invoices, but take the funds if one was paid
		if err := rail.Settle(ctx, row.invoice, nil); err != nil {
			return nil, fmt.Errorf("settling offer %v: %w", row.offer.ID, err)
		}
		return asAnswer(s.settle(ctx, row))
	case pay.Settled:
		return asAnswer(s.settle(ctx, row))
	case pay.Open:
		if s.opts.Now().Before(row.offer.Expires) {
			return nil, refuse(CodeUnpaid, "offer %v is not paid", row.offer.ID)
		}
	}
	v, err := s.expire(ctx, row)
	if v != nil || err != nil {
		return v, err
	}
	return nil, s.expiredRefusal(ctx, row)
}

// settle records the sale of a paid offer durably, then returns its
// delivery. A sale the rail settled is recorded even if ctx ends.
func (s *Server) settle(ctx context.Context, row *offerRow) (*delivery, error) {
	o := row.offer
	payload, err := s.payload(o)
	if err != nil {
		return nil, fmt.Errorf("delivering offer %v: %w", o.ID, err)
	}
	r := &Receipt{Offer: o.ID, Campaign: o.Campaign, Buyer: o.Buyer, Kind: o.Kind, Indices: o.Indices,
		Amount: o.Price, Time: s.opts.Now()}
	if err := r.sign(s.key); err != nil {
		return nil, fmt.Errorf("signing receipt of offer %v: %w", o.ID, err)
	}
	v := &delivery{ID: o.ID, Payload: payload, Receipt: r}
	if err := s.ledger.settle(context.WithoutCancel(ctx), o, v); err != nil {
		return nil, err
	}
	if s.hooks.afterCommit != nil {
		s.hooks.afterCommit()
	}
	s.opts.Events.Committed(o.Campaign, o.ID)
	return v, nil
}

// payload builds what a paid offer delivers, encrypted to the buyer.
func (s *Server) payload(o *Offer) ([]byte, error) {
	if o.Kind == KindDonate {
		return nil, nil
	}
	rcpt, err := age.ParseX25519Recipient(o.Recipient)
	if err != nil {
		return nil, err
	}
	m, err := s.src.Campaign(o.Campaign)
	if err != nil {
		return nil, err
	}
	switch m.Model {
	case campaign.ModelPay:
		id, err := s.src.ContentIdentity(o.Campaign)
		if err != nil {
			return nil, err
		}
		return seal.WrapIdentity(id, rcpt)
	case campaign.ModelShards:
		plain, err := s.sharesPlain(o)
		if err != nil {
			return nil, err
		}
		defer clear(plain)
		var out bytes.Buffer
		w, err := age.Encrypt(&out, rcpt)
		if err != nil {
			return nil, err
		}
		w.Write(plain) // writes to a bytes.Buffer cannot fail
		if err := w.Close(); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	return nil, fmt.Errorf("campaign %v of model %s delivers nothing", o.Campaign, m.Model)
}

// sharesPlain returns the encodings of an offer's shares in its order.
func (s *Server) sharesPlain(o *Offer) ([]byte, error) {
	plain := make([]byte, 0, len(o.Indices)*shares.ShareSize)
	for _, i := range o.Indices {
		sh, err := s.src.Share(o.Campaign, i)
		if err != nil {
			clear(plain)
			return nil, err
		}
		if sh.Index != i {
			clear(plain)
			return nil, fmt.Errorf("source returned share %d for index %d", sh.Index, i)
		}
		plain, _ = sh.AppendBinary(plain)
	}
	return plain, nil
}

// expire ends an open offer whose time is up: it cancels the invoice
// first, so that no late payment can settle it, then marks the offer
// expired and frees its shares. If the rail says the invoice was paid
// after all, the sale stands: expire settles it and returns its delivery.
func (s *Server) expire(ctx context.Context, row *offerRow) (answer, error) {
	o := row.offer
	rail := s.rails[o.Rail]
	if rail == nil {
		return nil, fmt.Errorf("expiring offer %v: rail %q is gone", o.ID, o.Rail)
	}
	if err := rail.Cancel(ctx, row.invoice); err != nil && !errors.Is(err, pay.ErrUnknownInvoice) {
		_, st, lerr := rail.Lookup(ctx, row.invoice)
		// A held invoice of a locked offer settles only with its key, on
		// purpose: a failed cancel of one is retried, never settled here.
		if lerr == nil && (st == pay.Settled || (st == pay.Accepted && o.Lock == nil)) {
			return s.conclude(ctx, row, rail, st)
		}
		return nil, fmt.Errorf("expiring offer %v: canceling its invoice: %w", o.ID, err)
	}
	changed, err := s.ledger.expire(context.WithoutCancel(ctx), o)
	if err != nil {
		return nil, err
	}
	if changed {
		s.release(o.Campaign, o.Indices)
	}
	return nil, nil
}

// expiredRefusal refuses an expired offer, with the rail's refund voucher
// for whatever the buyer paid.
func (s *Server) expiredRefusal(ctx context.Context, row *offerRow) *refusal {
	r := refuse(CodeExpired, "offer %v expired at %s", row.offer.ID, row.offer.Expires.Format(time.RFC3339))
	if rail := s.rails[row.offer.Rail]; rail != nil {
		if v, err := rail.RefundVoucher(ctx, row.invoice); err == nil && len(v) <= maxProof {
			r.voucher = v
		}
	}
	return r
}

// sweepBatch is how many expired offers one ledger query returns.
const sweepBatch = 256

func (s *Server) sweepLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.SweepInterval)
	defer t.Stop()
	for {
		if _, err := s.sweep(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Error("market: sweeping expired offers", "err", err)
		}
		if _, err := s.prune(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Error("market: pruning expired offers", "err", err)
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep expires every open offer past its expiry and returns how many it
// ended (expired, or settled after all).
func (s *Server) sweep(ctx context.Context) (int, error) {
	n := 0
	for {
		due, err := s.ledger.dueOffers(ctx, s.opts.Now(), sweepBatch)
		if err != nil {
			return n, err
		}
		for _, row := range due {
			ended, err := s.sweepOne(ctx, row.offer.ID)
			if err != nil {
				return n, err
			}
			if ended {
				n++
			}
		}
		if len(due) < sweepBatch {
			return n, nil
		}
	}
}

func (s *Server) sweepOne(ctx context.Context, id OfferID) (bool, error) {
	unlock := s.locks.lock(id)
	defer unlock()
	row, err := s.ledger.loadOffer(ctx, id)
	if err != nil || row.status != offerOpen || s.opts.Now().Before(row.offer.Expires) {
		return false, err
	}
	_, err = s.expire(ctx, row)
	return err == nil, err
}
