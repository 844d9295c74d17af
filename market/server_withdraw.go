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
func (s *Server) withdraw(ctx context.Context, remote peer.ID, id OfferID) (answer, error) {
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
	_, st, err := rail.Lookup(ctx, row.invoice)
	if err != nil && !errors.Is(err, pay.ErrExpired) && !errors.Is(err, pay.ErrCanceled) {
		return nil, fmt.Errorf("withdrawing offer %v: %w", id, err)
	}
	if err == nil && st != pay.Open {
		return nil, refuse(CodeBadRequest, "offer %v is %v on its rail: it cannot be withdrawn", id, st)
	}
	v, err := s.expire(ctx, row)
	if v != nil || err != nil {
		return v, err
	}
	return nil, s.expiredRefusal(ctx, row)
}
