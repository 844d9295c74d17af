package flow

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
	"github.com/shardcast/shardcast/shares"
)

// Blocks is the node's block store and its reach into the network.
type Blocks interface {
	// Import stores r as a UnixFS file and returns its root and size.
	Import(ctx context.Context, r io.Reader) (cid.Cid, int64, error)
	// Fetch opens the file c, from the store or from peers, and returns
	// a reader of all of it and its size.
	Fetch(ctx context.Context, c cid.Cid) (io.Reader, int64, error)
	// Provide records that the node holds the whole file c, to announce.
	Provide(c cid.Cid)
}

// Catalog is the campaigns this node knows (see package catalog).
type Catalog interface {
	Get(id cid.Cid) (catalog.Entry, error)
	List() []catalog.Entry
	Followed(id cid.Cid) bool
	Follow(creator peer.ID)
	Banned(creator peer.ID) (reason string, ok bool)
}

// Announcer tells the network about manifests, states and proofs. An
// offline node's announcer keeps them in its catalog only.
type Announcer interface {
	PublishManifest(ctx context.Context, raw []byte) (catalog.Entry, error)
	PublishState(ctx context.Context, id cid.Cid, raw []byte) error
	PublishProof(ctx context.Context, raw []byte) error
}

// Pool is the share pool (see package pool), with its gossip.
type Pool interface {
	Add(id cid.Cid, list []shares.Share) (int, error)
	// Publish gossips shares already added; offline it does nothing.
	Publish(ctx context.Context, id cid.Cid, list []shares.Share) error
	Have(id cid.Cid, index uint32) bool
	Complete(id cid.Cid) bool
	Known(id cid.Cid) int
	Track(id cid.Cid, m *campaign.Manifest, c *shares.Commitments) error
	Forget(id cid.Cid) error
}

// Keystore is the repo's secret files (see package keystore).
type Keystore interface {
	ContentKey(c cid.Cid) (*age.X25519Identity, error)
	SaveContentKey(c cid.Cid, id *age.X25519Identity) error
	HasContentKey(c cid.Cid) bool
	SaveShares(c cid.Cid, list []shares.Share) error
	Share(c cid.Cid, index uint32) (shares.Share, error)
	SaveProof(offer string, raw []byte) (string, error)
	ProofPath(offer string) string
}

// Seller is the creator's side of the market.
type Seller interface {
	EndPledges(ctx context.Context, id cid.Cid) (met bool, err error)
}

// Buyer is the buyer's side of the market.
type Buyer interface {
	Buy(ctx context.Context, o market.Order) (*market.Purchase, error)
	Donate(ctx context.Context, o market.Order, amount int64) (*market.Purchase, error)
	ResumeAll(ctx context.Context, order func(context.Context, *market.Offer) (market.Order, error)) error
}

// Ledger is what flow reads of the market's ledger.
type Ledger interface {
	Purchases(ctx context.Context, id cid.Cid) ([]market.PurchaseRecord, error)
	PurchaseByRequest(ctx context.Context, request string) (*market.PurchaseRecord, error)
	Sold(ctx context.Context, id cid.Cid) ([]uint32, error)
	Stats(ctx context.Context, id cid.Cid) (market.Stats, error)
}

// Network reaches peers.
type Network interface {
	// ReachCreator makes sure peer p can be dialled: connected, or its
	// addresses found.
	ReachCreator(ctx context.Context, p peer.ID) error
}

// Rails is what this node's payment rails can do, as plain data.
type Rails struct {
	// Lightning says that an LND node is configured.
	Lightning bool
	// LightningMaxHold is the longest a hold invoice issued now can be
	// held (see lightning.Rail.MaxHold).
	LightningMaxHold time.Duration
}

// caps says what the rails can do in the terms campaign.Terms.Check
// reads: the test rail always; Lightning with its longest pledge (a hold
// invoice's life less the grace the market keeps), or why it is missing.
func (r Rails) caps() campaign.RailCaps {
	if !r.Lightning {
		return campaign.RailCaps{
			Available: []string{pay.TestRailName},
			Missing: map[string]string{lightning.Name: "the lightning rail needs an LND node: set \"lightning\" in the repo's " +
				"config.json or start the daemon with --lnd-rest, --lnd-cert and --lnd-macaroon"},
		}
	}
	return campaign.RailCaps{
		Available:     []string{pay.TestRailName, lightning.Name},
		LongestPledge: r.LightningMaxHold - market.PledgeGrace,
	}
}

// Parts are what a Flow works with. Seller, Buyer and Ledger are nil on
// an offline node; every other part is required.
type Parts struct {
	Self      peer.ID
	Key       crypto.PrivKey // the node's key: signs manifests and states
	Blocks    Blocks
	Catalog   Catalog
	Announcer Announcer
	Pool      Pool
	Keys      Keystore
	Seller    Seller
	Buyer     Buyer
	Ledger    Ledger
	Network   Network
	Rails     Rails
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tick is how often the deadline loop looks at the clock; 0 means a
	// second.
	Tick time.Duration
	// Log receives what went wrong in the background; nil discards.
	Log *slog.Logger
}

// ErrOffline is returned for what needs the network on an offline node.
var ErrOffline = errors.New("node is offline")

// Flow runs the workflows of one node. Make it with New, start its
// background work with Start, stop it with Close.
type Flow struct {
	p Parts

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup

	stateMu sync.Mutex // serialises publishState

	// paying holds the lock of each pay campaign a Buy is checking and
	// buying (see lockPay); payMu guards it.
	payMu  sync.Mutex
	paying map[cid.Cid]*payLock

	shards shardsState

	// ended lists the all-or-nothing campaigns whose pledges the deadline
	// ended; only checkDeadlines touches it.
	ended map[cid.Cid]bool
}

// New returns a Flow over the given parts. It starts nothing.
func New(p Parts) *Flow {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Tick <= 0 {
		p.Tick = time.Second
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	f := &Flow{p: p, paying: map[cid.Cid]*payLock{}, ended: map[cid.Cid]bool{},
		shards: shardsState{commitments: map[cid.Cid]*shares.Commitments{}, tracking: map[cid.Cid]*tracked{}}}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	return f
}

// Start follows the creators this node bought from, tracks the pools of
// the shards campaigns the catalog holds, and on an online node starts
// the deadline loop and drives on the purchases that were under way. The
// caller routes the catalog's new and evicted campaigns to Track and
// Untrack, and the pool's unlocks to Unlocked.
func (f *Flow) Start(ctx context.Context) {
	f.followPurchases(ctx)
	for _, e := range f.p.Catalog.List() {
		f.Track(e)
	}
	if f.p.Seller != nil {
		f.goAsync(f.deadlineLoop)
	}
	if f.p.Buyer != nil {
		f.goAsync(f.resumePurchases)
	}
}

// Stop tells the background work to end, without waiting for it.
func (f *Flow) Stop() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
}

// Close stops the background work and waits for it.
func (f *Flow) Close() {
	f.Stop()
	f.wg.Wait()
}

// goAsync runs fn in the background until Close, unless Close began.
func (f *Flow) goAsync(fn func(ctx context.Context)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn(f.ctx)
	}()
}

// CanRead reports whether this node can decrypt a campaign's content.
func (f *Flow) CanRead(e catalog.Entry) bool {
	return e.Manifest.Model == campaign.ModelOpen || f.p.Keys.HasContentKey(e.Manifest.Content)
}

// Follows returns what the catalog asks of each campaign to know whether
// the node follows it, keeping it outside the budget of campaigns from
// strangers: its own, and those it can decrypt (bought, or unlocked).
// Creators bought from are followed at Start, and when the user buys or
// opens a work. It needs no Flow: the catalog asks before one exists.
func Follows(self peer.ID, keys interface{ HasContentKey(cid.Cid) bool }) func(catalog.Entry) bool {
	return func(e catalog.Entry) bool {
		if e.Manifest.Creator == self {
			return true
		}
		return e.Manifest.Model != campaign.ModelOpen && keys.HasContentKey(e.Manifest.Content)
	}
}

// followPurchases follows the creators this node bought from or donated
// to.
func (f *Flow) followPurchases(ctx context.Context) {
	if f.p.Ledger == nil {
		return
	}
	list, err := f.p.Ledger.Purchases(ctx, cid.Undef)
	if err != nil {
		f.p.Log.Warn("reading purchases to follow their creators", "err", err)
		return
	}
	seen := map[peer.ID]bool{}
	for _, p := range list {
		if !seen[p.Creator] {
			seen[p.Creator] = true
			f.p.Catalog.Follow(p.Creator)
		}
	}
}

// SetMarket gives an online node's Flow its market, which is made after
// the Flow (the market reports to it). Call it before Start.
func (f *Flow) SetMarket(s Seller, b Buyer) {
	f.p.Seller, f.p.Buyer = s, b
}
