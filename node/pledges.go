package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
)

// Lightning: pledges of all-or-nothing campaigns, sealed (atomic) share
// sales, and proofs against creators who seal bad shares.

// CheatBadShare is the cheat (Options.Cheat) with which a creator's node
// seals a corrupted first share into every locked offer, while its
// deliveries stay honest. Tests use it to check that buyers catch the
// creator and that every node then rejects its campaigns.
const CheatBadShare = "bad-share"

// proofsDir holds the proofs this node made as a buyer, one file per
// offer, ready for `shardcast verify-proof`.
const proofsDir = "proofs"

func (n *Node) sealHook() func(*market.Offer, []byte) {
	if n.cheat != CheatBadShare {
		return nil
	}
	return func(o *market.Offer, plain []byte) {
		if len(plain) > 4 {
			plain[4] ^= 1 // the low byte of the first share's value
		}
	}
}

// railCaps says what this node's rails can do, for campaign.Terms.Check.
func (n *Node) railCaps() campaign.RailCaps {
	if n.lnRail == nil {
		return campaign.RailCaps{
			Available: []string{pay.TestRailName},
			Missing:   map[string]string{lightning.Name: "the lightning rail needs an LND node: set \"lightning\" in the repo's config.json or start the daemon with --lnd-rest, --lnd-cert and --lnd-macaroon"},
		}
	}
	return campaign.RailCaps{
		Available:     []string{pay.TestRailName, lightning.Name},
		LongestPledge: n.lnRail.MaxHold() - market.PledgeGrace,
	}
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
	path := n.ProofPath(p.Offer.ID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
		err = atomicfile.WriteFile(path, p.Marshal(), 0o600)
		if err != nil {
			n.log.Error("saving a proof of misbehaviour", "offer", p.Offer.ID, "err", err)
		}
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
	return filepath.Join(n.repo.Path(proofsDir), id.String()+".proof")
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
