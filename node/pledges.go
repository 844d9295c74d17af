package node

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
)

// Lightning: pledges of all-or-nothing campaigns, sealed (atomic) share
// sales, and proofs against creators who seal bad shares.

// checkRails checks that this node can take payments on every rail the
// terms name, and what the lightning rail and pledges ask of the terms.
func (n *Node) checkRails(m *campaign.Manifest) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", campaign.ErrBadManifest, fmt.Sprintf(format, args...))
	}
	for _, r := range m.Rails {
		switch r {
		case pay.TestRailName:
		case lightning.Name:
			if n.lnRail == nil {
				return fmt.Errorf("the lightning rail needs an LND node: set \"lightning\" in the repo's config.json or start the daemon with --lnd-rest, --lnd-cert and --lnd-macaroon")
			}
			if m.Currency != lightning.Currency {
				return bad("the lightning rail moves %s (amounts in msat): use --currency %s, not %s", lightning.Currency, lightning.Currency, m.Currency)
			}
		default:
			return bad("unknown rail %q: want test or lightning", r)
		}
	}
	if !m.AllOrNothing {
		return nil
	}
	if m.Model != campaign.ModelShards {
		return bad("--all-or-nothing takes pledges for shards campaigns only")
	}
	if len(m.Rails) != 1 || m.Rails[0] != lightning.Name {
		return bad("all-or-nothing pledges are Lightning hold invoices: use --rail lightning")
	}
	longest := n.lnRail.MaxHold() - market.PledgeGrace
	if limit := time.Now().Add(longest); m.Deadline.After(limit) {
		return bad("pledges are held by Lightning hold invoices, which expire by block height: the deadline %s is too far, the latest possible is %s (%s from now)",
			m.Deadline.UTC().Format(time.RFC3339), limit.UTC().Format(time.RFC3339), hoursMinutes(longest))
	}
	return nil
}

// delivered publishes the shares a locked purchase unsealed: a pledge
// settled at its campaign's goal, or a sale whose receipt is late.
func (n *Node) delivered(p *market.Purchase) {
	if len(p.Shares) == 0 || n.pool == nil {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.publishShares(n.ctx, p.Offer.Campaign, p.Shares); err != nil {
			n.log.Warn("publishing shares unsealed by a payment", "campaign", p.Offer.Campaign, "err", err)
			return
		}
		n.log.Info("shares unsealed by the payment", "campaign", p.Offer.Campaign, "offer", p.Offer.ID, "shares", len(p.Shares))
	}()
}

// caught keeps a proof that a creator sealed bad shares for this node,
// and tells the network.
func (n *Node) caught(p *market.Proof) {
	path, err := n.keys.SaveProof(p.Offer.ID.String(), p.Marshal())
	if err != nil {
		n.log.Error("saving a proof of misbehaviour", "offer", p.Offer.ID, "err", err)
	}
	n.log.Warn("caught a creator sealing bad shares", "campaign", p.Offer.Campaign, "offer", p.Offer.ID, "proof", path)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if _, err := n.AddProof(n.ctx, p.Marshal()); err != nil {
			n.log.Error("announcing a proof of misbehaviour", "offer", p.Offer.ID, "err", err)
		}
	}()
}

// ProofPath is where this node keeps its proof against an offer.
func (n *Node) ProofPath(id market.OfferID) string {
	return n.keys.ProofPath(id.String())
}

// verifyProof checks a proof of misbehaviour completely, fetching the
// campaign's commitments if this node does not hold them.
func (n *Node) verifyProof(ctx context.Context, raw []byte) (peer.ID, cid.Cid, string, error) {
	p, err := market.DecodeProof(raw)
	if err != nil {
		return "", cid.Undef, "", err
	}
	m, err := p.Check()
	if err != nil {
		return "", cid.Undef, "", err
	}
	c, err := n.commitmentsOf(ctx, catalog.Entry{ID: p.Campaign(), Manifest: m}, n.shareCap(p.Campaign()))
	if err != nil {
		// Not a verdict: the catalog tries again when the proof comes back.
		if ctx.Err() == nil {
			err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
		}
		return "", cid.Undef, "", fmt.Errorf("checking a proof against campaign %s: cannot fetch its commitments: %w", p.Campaign(), err)
	}
	reason, err := p.Verify(c)
	if err != nil {
		return "", cid.Undef, "", err
	}
	return m.Creator, p.Campaign(), reason, nil
}

// AddProof verifies a proof of misbehaviour, keeps it, rejects the
// creator's campaigns and announces it to the network. It returns why
// the proof convicts the creator.
func (n *Node) AddProof(ctx context.Context, raw []byte) (string, error) {
	p, err := market.DecodeProof(raw)
	if err != nil {
		return "", err
	}
	creator, err := p.Creator()
	if err != nil {
		return "", err
	}
	if n.gossip != nil {
		err = n.gossip.PublishProof(ctx, raw)
	} else {
		_, err = n.catalog.AddProof(ctx, raw)
	}
	if err != nil {
		return "", err
	}
	reason, _ := n.catalog.Banned(creator)
	return reason, nil
}

// endPledges ends the pledges of one of this node's all-or-nothing
// campaigns: settled if the goal is met, canceled otherwise. It reports
// whether the goal was met.
func (n *Node) endPledges(ctx context.Context, e catalog.Entry) (bool, error) {
	if n.seller == nil {
		return false, ErrOffline
	}
	met, err := n.seller.EndPledges(ctx, e.ID)
	if err != nil {
		return false, err
	}
	n.log.Info("pledges ended", "campaign", e.ID, "goal met", met)
	go n.publishState(n.ctx, e.ID)
	return met, nil
}

// hoursMinutes writes d rounded down to the minute as "240h50m", a
// --deadline that is accepted (rounding up would suggest one that is not).
func hoursMinutes(d time.Duration) string {
	d = d.Truncate(time.Minute)
	return fmt.Sprintf("%dh%02dm", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
}
