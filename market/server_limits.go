package market

import (
	"context"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// caps returns the per-buyer bounds of the server's options.
func (s *Server) caps() buyerCaps {
	return buyerCaps{offers: s.opts.MaxOpenOffers, shares: s.opts.MaxReservedShares}
}

// checkCaps refuses, with CodeBusy, a quote for k shares that would take
// buyer over its bounds of unpaid offers in a campaign. It runs before
// any share is reserved or invoice issued; putOfferCapped checks again,
// exactly, when the offer is recorded.
func (s *Server) checkCaps(ctx context.Context, buyer peer.ID, camp cid.Cid, k int) error {
	c := s.caps()
	if c.offers <= 0 && c.shares <= 0 {
		return nil
	}
	offers, shares, err := s.ledger.openBy(ctx, camp, buyer)
	if err != nil {
		return err
	}
	if c.over(offers, shares, k) {
		return s.capRefusal(camp)
	}
	return nil
}

func (s *Server) capRefusal(camp cid.Cid) *refusal {
	return refuse(CodeBusy, "too many unpaid offers in campaign %v (at most %d, holding at most %d shares); pay or let them expire",
		camp, s.opts.MaxOpenOffers, s.opts.MaxReservedShares)
}

// pruneBatch is how many expired offers one sweep deletes per transaction.
const pruneBatch = 256

// prune deletes the rows of offers that expired unpaid more than
// PruneAfter ago, and returns how many it deleted.
func (s *Server) prune(ctx context.Context) (int, error) {
	if s.opts.PruneAfter < 0 {
		return 0, nil
	}
	before := s.opts.Now().Add(-s.opts.PruneAfter)
	total := 0
	for {
		n, err := s.ledger.pruneExpired(ctx, before, pruneBatch)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}
