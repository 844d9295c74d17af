package flow

import (
	"context"
	"fmt"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/shares"
)

// Flow is what the market reports to.
var _ market.Events = (*Flow)(nil)

// Committed announces, on the creator's node, the shares a sale made
// public and the campaign's new figures.
func (f *Flow) Committed(c cid.Cid, _ market.OfferID) {
	f.goAsync(func(ctx context.Context) {
		f.publishSold(ctx, c)
		f.publishState(ctx, c)
	})
}

// Pledged announces a campaign's figures after a pledge or the end of its
// pledges.
func (f *Flow) Pledged(c cid.Cid) {
	f.goAsync(func(ctx context.Context) { f.publishState(ctx, c) })
}

// Delivered publishes the shares a locked purchase unsealed: a pledge
// settled at its campaign's goal, or a sale whose receipt is late.
func (f *Flow) Delivered(p *market.Purchase) {
	if len(p.Shares) == 0 {
		return
	}
	f.goAsync(func(ctx context.Context) {
		if err := f.publishShares(ctx, p.Offer.Campaign, p.Shares); err != nil {
			f.p.Log.Warn("publishing shares unsealed by a payment", "campaign", p.Offer.Campaign, "err", err)
			return
		}
		f.p.Log.Info("shares unsealed by the payment", "campaign", p.Offer.Campaign, "offer", p.Offer.ID, "shares", len(p.Shares))
	})
}

// Caught keeps a proof that a creator sealed bad shares for this node,
// and tells the network.
func (f *Flow) Caught(p *market.Proof) {
	raw := p.Marshal()
	path, err := f.p.Keys.SaveProof(p.Offer.ID.String(), raw)
	if err != nil {
		f.p.Log.Error("saving a proof of misbehaviour", "offer", p.Offer.ID, "err", err)
	}
	f.p.Log.Warn("caught a creator sealing bad shares", "campaign", p.Offer.Campaign, "offer", p.Offer.ID, "proof", path)
	f.goAsync(func(ctx context.Context) {
		if _, err := f.AddProof(ctx, raw); err != nil {
			f.p.Log.Error("announcing a proof of misbehaviour", "offer", p.Offer.ID, "err", err)
		}
	})
}

// Completed keeps what a purchase bought, whether or not anyone still
// waits for it: the content key on disk, the shares in the pool.
func (f *Flow) Completed(ctx context.Context, p *market.Purchase) error {
	if p.Identity != nil {
		e, err := f.p.Catalog.Get(p.Offer.Campaign)
		if err != nil {
			return fmt.Errorf("storing the key bought: %w", err)
		}
		if err := f.p.Keys.SaveContentKey(e.Manifest.Content, p.Identity); err != nil {
			return fmt.Errorf("storing the key bought: %w", err)
		}
	}
	if len(p.Shares) > 0 {
		// The buyer's node publishes what it bought: once all N are out,
		// everyone can decrypt.
		ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
		defer cancel()
		if err := f.publishShares(ctx, p.Offer.Campaign, p.Shares); err != nil {
			f.p.Log.Warn("publishing bought shares", "campaign", p.Offer.Campaign, "err", err)
		}
	}
	f.p.Log.Info("purchase complete", "campaign", p.Offer.Campaign, "offer", p.Offer.ID, "kind", p.Offer.Kind, "amount", p.Offer.Price)
	return nil
}

// resumePurchases drives to their end the purchases of this node that
// were under way when it stopped, on every rail: pledges, paid offers
// not yet delivered, offers not yet paid.
func (f *Flow) resumePurchases(ctx context.Context) {
	err := f.p.Buyer.ResumeAll(ctx, func(ctx context.Context, o *market.Offer) (market.Order, error) {
		e, err := f.p.Catalog.Get(o.Campaign)
		if err != nil {
			return market.Order{}, err
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := f.p.Network.ReachCreator(ctx, e.Manifest.Creator); err != nil {
			f.p.Log.Warn("resuming a purchase: the creator is not reachable yet", "campaign", o.Campaign, "offer", o.ID, "err", err)
		}
		order := market.Order{Campaign: o.Campaign, Manifest: e.Manifest}
		if o.Kind == market.KindBuy && e.Manifest.Model == campaign.ModelShards {
			if order.Commitments, err = f.commitmentsOf(ctx, e, campaign.MaxShares); err != nil {
				return market.Order{}, err
			}
		}
		return order, nil
	})
	if err != nil && ctx.Err() == nil {
		f.p.Log.Error("resuming purchases", "err", err)
	}
}

// VerifyProof checks a proof of misbehaviour completely, fetching the
// campaign's commitments if this node does not hold them: the catalog's
// proof verifier.
func (f *Flow) VerifyProof(ctx context.Context, raw []byte) (peer.ID, cid.Cid, string, error) {
	p, err := market.DecodeProof(raw)
	if err != nil {
		return "", cid.Undef, "", err
	}
	m, err := p.Check()
	if err != nil {
		return "", cid.Undef, "", err
	}
	c, err := f.commitmentsOf(ctx, catalog.Entry{ID: p.Campaign(), Manifest: m}, f.shareCap(p.Campaign()))
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
func (f *Flow) AddProof(ctx context.Context, raw []byte) (string, error) {
	p, err := market.DecodeProof(raw)
	if err != nil {
		return "", err
	}
	creator, err := p.Creator()
	if err != nil {
		return "", err
	}
	if err := f.p.Announcer.PublishProof(ctx, raw); err != nil {
		return "", err
	}
	reason, _ := f.p.Catalog.Banned(creator)
	return reason, nil
}

// publishState signs the creator's current figures for one of its
// campaigns and announces them, so that peers' status shows sales. Seq is
// the time in nanoseconds: it grows across restarts without a counter on
// disk.
func (f *Flow) publishState(ctx context.Context, id cid.Cid) {
	if f.p.Ledger == nil {
		return
	}
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	e, err := f.p.Catalog.Get(id)
	if err != nil || e.Manifest.Creator != f.p.Self {
		return
	}
	st, err := f.p.Ledger.Stats(ctx, id)
	if err != nil {
		f.p.Log.Warn("reading sales for the campaign state", "campaign", id, "err", err)
		return
	}
	now := f.p.Now()
	s := &campaign.State{Campaign: id, Seq: uint64(now.UnixNano()), Sold: int64(st.Sold), Raised: st.Raised, Time: now}
	if e.Manifest.Model == campaign.ModelOpen {
		s.Sold, s.Raised = int64(st.Donations), st.Donated
	}
	if e.Manifest.Model == campaign.ModelShards {
		s.Pledged = int64(st.Pledged)
		// Every share known: the work is open to everyone, and if fewer
		// than N were sold, this node released the rest.
		if f.p.Pool.Complete(id) {
			s.Unlocked = true
			s.Released = s.Sold < int64(e.Manifest.Shards)
		}
	}
	if err := s.Sign(f.p.Key); err != nil {
		f.p.Log.Warn("signing campaign state", "campaign", id, "err", err)
		return
	}
	raw, err := campaign.EncodeState(s)
	if err != nil {
		f.p.Log.Warn("encoding campaign state", "campaign", id, "err", err)
		return
	}
	if err := f.p.Announcer.PublishState(ctx, id, raw); err != nil {
		f.p.Log.Warn("announcing campaign state", "campaign", id, "err", err)
	}
}

// Source is what the creator's market sells: this node's own campaigns
// and their secrets.
func (f *Flow) Source() market.Source { return source{f} }

type source struct{ f *Flow }

func (s source) Campaign(id cid.Cid) (*campaign.Manifest, error) {
	e, err := s.f.p.Catalog.Get(id)
	if err != nil {
		return nil, err
	}
	if e.Manifest.Creator != s.f.p.Self {
		return nil, fmt.Errorf("campaign %s is not this node's", id)
	}
	return e.Manifest, nil
}

func (s source) ContentIdentity(id cid.Cid) (*age.X25519Identity, error) {
	m, err := s.Campaign(id)
	if err != nil {
		return nil, err
	}
	return s.f.p.Keys.ContentKey(m.Content)
}

func (s source) Share(id cid.Cid, index uint32) (shares.Share, error) {
	m, err := s.Campaign(id)
	if err != nil {
		return shares.Share{}, err
	}
	return s.f.p.Keys.Share(m.Content, index)
}
