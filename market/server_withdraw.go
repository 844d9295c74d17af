package market

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/pay"
)

// withdraw answers a buyer whose payment of an offer failed for good: an
// offer still open and unpaid ends at once, as at its expiry (its
// invoice canceled first, then its shares freed), and the answer is the
// refusal of an expired offer with its voucher. An offer paid after all
// is answered as a redelivery would be: a paid offer is never withdrawn.
//
// The invoice of an unpaid offer is canceled before the offer's lock is
// taken: a request waiting for that payment holds the lock, and the
// cancellation is what ends its wait. Canceling can only give money
// back, so it needs no lock.
func (s *Server) withdraw(ctx context.Context, remote peer.ID, id OfferID) (answer, error) {
	row, rail, err := s.withdrawable(ctx, remote, id)
	if err != nil || row == nil {
		return nil, err
	}
	if row.status == offerOpen {
		_, st, err := rail.Lookup(ctx, row.invoice)
		if err == nil && st == pay.Open {
			if err := rail.Cancel(ctx, row.invoice); err != nil && !errors.Is(err, pay.ErrUnknownInvoice) {
				return nil, fmt.Errorf("withdrawing offer %v: canceling its invoice: %w", id, err)
			}
		}
	}
	unlock := s.locks.lock(id)
	defer unlock()
	if row, rail, err = s.withdrawable(ctx, remote, id); err != nil || row == nil {
		return nil, err
	}
	switch row.status {
	case offerSettled:
		return asAnswer(s.ledger.loadDelivery(ctx, id, roleCreator))
	case offerExpired:
		return nil, s.expiredRefusal(ctx, row)
	}
	_, st, err := rail.Lookup(ctx, row.invoice)
	switch {
	case err != nil && !errors.Is(err, pay.ErrExpired) && !errors.Is(err, pay.ErrCanceled):
		return nil, fmt.Errorf("withdrawing offer %v: %w", id, err)
	case err != nil: // expired or canceled on the rail: end it here too
	case st == pay.Settled:
		return s.conclude(ctx, row, rail, st)
	case st == pay.Accepted:
		return nil, refuse(CodeBadRequest, "offer %v is paid and held: it cannot be withdrawn", id)
	}
	v, err := s.expire(ctx, row)
	if v != nil || err != nil {
		return v, err
	}
	return nil, s.expiredRefusal(ctx, row)
}

// withdrawable loads an offer made to remote, with its rail.
func (s *Server) withdrawable(ctx context.Context, remote peer.ID, id OfferID) (*offerRow, pay.Rail, error) {
	row, err := s.ledger.loadOffer(ctx, id)
	if errors.Is(err, errNoOffer) {
		return nil, nil, refuse(CodeNotFound, "no offer %v here", id)
	}
	if err != nil {
		return nil, nil, err
	}
	if row.offer.Buyer != remote {
		return nil, nil, refuse(CodeBadRequest, "offer %v was made to another peer", id)
	}
	rail := s.rails[row.offer.Rail]
	if rail == nil {
		return nil, nil, fmt.Errorf("offer %v: rail %q is gone", id, row.offer.Rail)
	}
	return row, rail, nil
}
