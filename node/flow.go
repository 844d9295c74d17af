package node

import (
	"context"
	"io"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/flow"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pool"
	"github.com/shardcast/shardcast/shares"
)

// The node's parts as package flow sees them.

// newFlow builds the node's workflows over its parts; the market, if
// any, joins with SetMarket before Start.
func (n *Node) newFlow() *flow.Flow {
	p := flow.Parts{Self: n.ID(), Key: n.repo.Key, Blocks: blocks{n}, Catalog: n.catalog,
		Announcer: announcer{n}, Pool: sharePool{n.pool, n}, Keys: n.keys, Network: n, Log: n.log}
	if n.ledger != nil {
		p.Ledger = n.ledger
	}
	if n.lnRail != nil {
		p.Rails = flow.Rails{Lightning: true, LightningMaxHold: n.lnRail.MaxHold()}
	}
	return flow.New(p)
}

// blocks is the node's block store and block service.
type blocks struct{ n *Node }

func (b blocks) Import(ctx context.Context, r io.Reader) (cid.Cid, int64, error) {
	return content.Import(ctx, b.n.store.Blocks, r)
}

func (b blocks) Fetch(ctx context.Context, c cid.Cid) (io.Reader, int64, error) {
	f, err := b.n.Open(ctx, c)
	if err != nil {
		return nil, 0, err
	}
	return f.NewReader(ctx, 0, -1), f.Size(), nil
}

func (b blocks) Provide(c cid.Cid) {
	if err := b.n.prov.add(c); err != nil {
		b.n.log.Warn("recording root to announce", "cid", c, "err", err)
	}
}

// announcer gossips manifests, states and proofs; offline it keeps them
// in the catalog.
type announcer struct{ n *Node }

func (a announcer) PublishManifest(ctx context.Context, raw []byte) (catalog.Entry, error) {
	if a.n.gossip == nil {
		e, _, err := a.n.catalog.Add(raw)
		return e, err
	}
	return a.n.gossip.PublishManifest(ctx, raw)
}

func (a announcer) PublishState(ctx context.Context, id cid.Cid, raw []byte) error {
	if a.n.gossip == nil {
		return nil
	}
	return a.n.gossip.PublishState(ctx, id, raw)
}

func (a announcer) PublishProof(ctx context.Context, raw []byte) error {
	if a.n.gossip == nil {
		_, err := a.n.catalog.AddProof(ctx, raw)
		return err
	}
	return a.n.gossip.PublishProof(ctx, raw)
}

// sharePool is the pool with its gossip, which starts after the Flow is
// built and before anything publishes (none offline).
type sharePool struct {
	*pool.Pool
	n *Node
}

func (p sharePool) Publish(ctx context.Context, id cid.Cid, list []shares.Share) error {
	if p.n.poolGossip == nil {
		return nil
	}
	return p.n.poolGossip.Publish(ctx, id, list)
}

// Publish imports content under the terms' model, signs the manifest and
// announces it: see flow.Flow.Publish.
func (n *Node) Publish(ctx context.Context, terms campaign.Terms, r io.Reader) (catalog.Entry, error) {
	return n.flow.Publish(ctx, terms, r)
}

// Buy buys access to a campaign or k of its shares: see flow.Flow.Buy.
func (n *Node) Buy(ctx context.Context, id cid.Cid, k int, request string) (*market.Purchase, error) {
	return n.flow.Buy(ctx, id, k, request)
}

// Donate donates to a campaign's creator: see flow.Flow.Donate.
func (n *Node) Donate(ctx context.Context, id cid.Cid, amount int64, request string) (*market.Purchase, error) {
	return n.flow.Donate(ctx, id, amount, request)
}

// Release publishes the unsold shares of one of this node's shards
// campaigns: see flow.Flow.Release.
func (n *Node) Release(ctx context.Context, id cid.Cid) (int, error) {
	return n.flow.Release(ctx, id)
}

// AddProof verifies a proof of misbehaviour, keeps it and tells the
// network: see flow.Flow.AddProof.
func (n *Node) AddProof(ctx context.Context, raw []byte) (string, error) {
	return n.flow.AddProof(ctx, raw)
}

// CanRead reports whether this node can decrypt a campaign's content.
func (n *Node) CanRead(e catalog.Entry) bool { return n.flow.CanRead(e) }

// Pooled returns how many of a campaign's shares this node's pool holds.
func (n *Node) Pooled(id cid.Cid) int { return n.pool.Known(id) }

// ProofPath is where this node keeps its proof against an offer.
func (n *Node) ProofPath(id market.OfferID) string { return n.keys.ProofPath(id.String()) }

// verifyProof is the catalog's proof verifier; the catalog asks only once
// the node runs, when n.flow is set.
func (n *Node) verifyProof(ctx context.Context, raw []byte) (peer.ID, cid.Cid, string, error) {
	return n.flow.VerifyProof(ctx, raw)
}

// unlocked is the pool's unlock callback.
func (n *Node) unlocked(id cid.Cid, ident *age.X25519Identity) { n.flow.Unlocked(id, ident) }
