// Package node wires one shardcast peer together: the libp2p host (TCP and
// QUIC), the Kademlia DHT, bitswap client and server, the block store, the
// providing of what the peer holds, and the HTTP API and gateway.
//
// It is the only package that knows about all the others, and it holds no
// workflow of its own: it builds the parts, hands them to a flow.Flow (which
// publishes, buys, releases, keeps deadlines and hears the market's events)
// and closes them. Its methods that httpapi calls delegate to the Flow or
// read a part. A Node is made by New from an opened repo and runs until
// Close; Serve runs its HTTP side.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"

	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/flow"
	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/keystore"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
	"github.com/shardcast/shardcast/pool"
	"github.com/shardcast/shardcast/xfer"
)

// Options configure a Node. The zero value runs online with the repo's
// config.
type Options struct {
	// Listen overrides the repo's libp2p listen addresses when not empty.
	Listen []string
	// Bootstrap adds peers to dial at start, beside the repo's.
	Bootstrap []string
	// Offline runs without any network: no host, no DHT, no bitswap. Only
	// blocks in the local store can be read.
	Offline bool
	// Logger receives the node's logs; nil means slog.Default().
	Logger *slog.Logger
	// Lightning, if set, overrides the repo's LND settings.
	Lightning *repo.Lightning
	// RefetchTimeout bounds the fetch from peers of a block found corrupt
	// in the store; 0 means content.DefaultRefetchTimeout.
	RefetchTimeout time.Duration
}

// Node is a running peer.
type Node struct {
	repo   *repo.Repo
	keys   *keystore.Store
	store  *content.Store
	log    *slog.Logger
	host   host.Host // nil when offline
	dht    *dht.IpfsDHT
	bswap  *bitswap.Bitswap
	blocks blockservice.BlockService
	cache  *content.WriteBehind // nil when offline
	local  *content.Refetching  // the block service's store: verified, corrupt blocks fetched again
	prov   *provider

	lnd  *repo.Lightning
	xfer *xfer.Server // nil when offline

	// flow runs the workflows across the parts below.
	flow *flow.Flow

	catalog *catalog.Catalog
	gossip  *catalog.Gossip // nil when offline

	// The share pool, nil when offline.
	pool       *pool.Pool
	poolGossip *pool.Gossip // nil when offline

	// The market, nil when offline.
	testRail *pay.TestRail
	lnRail   *lightning.Rail // nil unless an LND node is configured
	ledger   *market.Ledger
	seller   *market.Server
	buyer    *market.Client

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New starts a node on an opened (and locked) repo.
func New(ctx context.Context, r *repo.Repo, opts Options) (_ *Node, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	store, err := content.OpenStore(r.Path(repo.BlocksDir), opts.Logger)
	if err != nil {
		return nil, err
	}
	nctx, cancel := context.WithCancel(context.Background())
	n := &Node{repo: r, keys: keystore.New(r.Dir), store: store, log: opts.Logger, ctx: nctx, cancel: cancel, lnd: opts.Lightning}
	if n.lnd == nil {
		n.lnd = r.Config.Lightning
	}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if n.catalog, err = catalog.Open(r.Path(catalogDir), catalog.WithProofVerifier(n.verifyProof),
		catalog.WithFollowed(flow.Follows(n.ID(), n.keys))); err != nil {
		return nil, err
	}
	if n.pool, err = pool.Open(r.Path(poolDir)); err != nil {
		return nil, err
	}
	if opts.Offline {
		n.local = content.NewRefetching(store.Blocks, nil, 0, n.log)
		n.blocks = blockservice.New(n.local, nil)
		n.prov = newProvider(n, nil)
		n.flow = n.newFlow()
		n.startFlow(ctx)
		return n, nil
	}
	listen := r.Config.Listen
	if len(opts.Listen) > 0 {
		listen = opts.Listen
	}
	boot, err := parsePeers(append(append([]string{}, r.Config.Bootstrap...), opts.Bootstrap...))
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(100, 400)
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	n.host, err = libp2p.New(
		libp2p.Identity(r.Key),
		libp2p.ListenAddrStrings(listen...),
		libp2p.ConnectionManager(cm),
		libp2p.DefaultTransports,
		libp2p.DefaultMuxers,
		libp2p.DefaultSecurity,
	)
	if err != nil {
		return nil, fmt.Errorf("starting libp2p host on %v: %w", listen, err)
	}
	n.dht, err = dht.New(n.host, dht.Mode(dht.ModeServer), dht.BootstrapPeers(boot...))
	if err != nil {
		return nil, fmt.Errorf("starting DHT: %w", err)
	}
	n.bswap = bitswap.New(n.ctx, bsnet.NewFromIpfsHost(n.host), n.dht, store.Blocks,
		bitswap.SetSendDontHaves(true),
		// The default of 1 MiB holds one of our leaves at a time per peer:
		// a reader with a window of 32 would wait on each block in turn.
		bitswap.MaxOutstandingBytesPerPeer(64<<20),
		bitswap.EngineTaskWorkerCount(8),
		bitswap.TaskWorkerCount(8),
		bitswap.WithTargetMessageSize(2<<20),
		bitswap.ProviderSearchDelay(200*time.Millisecond),
	)
	// Between shardcast peers blocks move over xfer; bitswap stays for
	// everyone else and for finding providers.
	// Blocks fetched from peers are written behind the reader: they are a
	// cache, and an fsync per block would sit between a seek and its
	// first byte.
	n.cache = content.NewWriteBehind(store.Blocks)
	n.xfer = xfer.Serve(n.host, n.cache, n.log)
	// A block that does not hash to its CID is dropped by the store and
	// fetched again from peers by n.local.
	ex := xfer.NewExchange(n.host, n.bswap)
	n.local = content.NewRefetching(n.cache, ex, opts.RefetchTimeout, n.log)
	n.blocks = blockservice.New(n.local, ex)
	n.prov = newProvider(n, n.dht)
	if err := n.openMoney(); err != nil {
		return nil, err
	}
	// Built before anything can report to it: gossip, the market.
	n.flow = n.newFlow()
	ps, err := pubsub.NewGossipSub(n.ctx, n.host, pool.PubSubOptions()...)
	if err != nil {
		return nil, fmt.Errorf("starting gossipsub: %w", err)
	}
	if n.gossip, err = catalog.StartGossip(n.ctx, n.catalog, n.host, ps, n.log); err != nil {
		return nil, err
	}
	if n.poolGossip, err = pool.StartGossip(n.ctx, n.pool, n.host, ps, n.log); err != nil {
		return nil, err
	}
	if err := n.startMarket(); err != nil {
		return nil, err
	}
	n.startFlow(ctx)
	n.wg.Add(2)
	go func() { defer n.wg.Done(); n.bootstrapLoop(boot) }()
	go func() { defer n.wg.Done(); n.prov.run(n.ctx) }()
	return n, nil
}

// Add imports r as a UnixFS file and announces it.
func (n *Node) Add(ctx context.Context, r io.Reader) (cid.Cid, int64, error) {
	c, size, err := content.Import(ctx, n.store.Blocks, r)
	if err != nil {
		return cid.Undef, 0, err
	}
	if err := n.prov.add(c); err != nil {
		n.log.Warn("recording root to announce", "cid", c, "err", err)
	}
	return c, size, nil
}

// Open opens a file for reading from the local store and the network. The
// file's fetches share one bitswap session and are bounded by ctx.
func (n *Node) Open(ctx context.Context, c cid.Cid) (*content.File, error) {
	return content.Open(ctx, blockservice.NewSession(ctx, n.blocks), c)
}

// Fetched records that the whole file c is now held locally, so the node
// announces it as a provider.
func (n *Node) Fetched(c cid.Cid) {
	if err := n.prov.add(c); err != nil {
		n.log.Warn("recording root to announce", "cid", c, "err", err)
	}
}

// FindProviders asks the DHT for up to max peers that provide c.
func (n *Node) FindProviders(ctx context.Context, c cid.Cid, max int) ([]peer.ID, error) {
	if n.dht == nil {
		return nil, ErrOffline
	}
	var out []peer.ID
	for ai := range n.dht.FindProvidersAsync(ctx, c, max) {
		out = append(out, ai.ID)
	}
	if len(out) == 0 && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return out, nil
}

// BlockService returns the node's block service (local store + bitswap).
func (n *Node) BlockService() blockservice.BlockService { return n.blocks }

// startFlow routes the catalog's and the pool's news to the workflows and
// starts them.
func (n *Node) startFlow(ctx context.Context) {
	n.pool.OnUnlock(n.unlocked)
	n.catalog.OnNew(n.flow.Track)
	n.catalog.OnEvict(n.flow.Untrack)
	n.flow.Start(ctx)
}

// Close stops the node.
func (n *Node) Close() error {
	n.cancel()
	if n.flow != nil {
		n.flow.Stop()
	}
	var errs []error
	if n.seller != nil {
		errs = append(errs, n.seller.Close())
	}
	if n.buyer != nil {
		errs = append(errs, n.buyer.Close())
	}
	if n.bswap != nil {
		errs = append(errs, n.bswap.Close())
	}
	if n.dht != nil {
		errs = append(errs, n.dht.Close())
	}
	if n.host != nil {
		errs = append(errs, n.host.Close())
	}
	n.wg.Wait()
	if n.flow != nil {
		n.flow.Close()
	}
	if n.cache != nil {
		n.cache.Close()
	}
	if n.pool != nil {
		errs = append(errs, n.pool.Close())
	}
	if n.ledger != nil {
		errs = append(errs, n.ledger.Close())
	}
	if n.testRail != nil {
		errs = append(errs, n.testRail.Close())
	}
	errs = append(errs, n.store.Close())
	return errors.Join(errs...)
}
