package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
)

// Repo files of the market.
const (
	ledgerFile   = "ledger.db"
	testRailFile = "testrail.db"
	// peerAddrTTL is how long addresses found for a creator are kept.
	peerAddrTTL = time.Hour
)

// openMoney opens the ledger and the payment rails.
func (n *Node) openMoney() error {
	raw, err := n.repo.Key.Raw()
	if err != nil {
		return fmt.Errorf("reading peer key: %w", err)
	}
	if len(raw) != ed25519.PrivateKeySize {
		return fmt.Errorf("the peer key is not Ed25519: the test rail needs one")
	}
	if err := checkMoneyDBs(n.repo); err != nil {
		return err
	}
	if n.testRail, err = pay.OpenTestRail(n.repo.Path(testRailFile), ed25519.PrivateKey(raw), nil); err != nil {
		return err
	}
	if n.ledger, err = market.OpenLedger(n.repo.Path(ledgerFile)); err != nil {
		return err
	}
	if err := markMoneyDBs(n.repo); err != nil {
		return err
	}
	if n.lnd != nil {
		if n.lnRail, err = lightning.New(lightning.Options{RESTAddr: n.lnd.REST, TLSCertPath: n.lnd.TLSCert, MacaroonPath: n.lnd.Macaroon}); err != nil {
			return fmt.Errorf("the lightning rail: %w", err)
		}
	}
	return nil
}

// startMarket starts selling this node's campaigns and buying others'.
// The workflows hear what the market reports, and give it what the
// creator sells.
func (n *Node) startMarket() error {
	rails := []pay.Rail{n.testRail}
	if n.lnRail != nil {
		rails = append(rails, n.lnRail)
	}
	opts := &market.ServerOptions{Logger: n.log, Events: n.flow}
	var err error
	if n.seller, err = market.NewServer(n.host, n.repo.Key, n.ledger, rails, n.flow.Source(), opts); err != nil {
		return err
	}
	id, err := n.AgeIdentity()
	if err != nil {
		return err
	}
	copts := &market.ClientOptions{Events: n.flow}
	if n.buyer, err = market.NewClient(n.host, n.ledger, id, rails, copts); err != nil {
		return err
	}
	n.flow.SetMarket(n.seller, n.buyer)
	return nil
}

// Stats returns a campaign's sales: from this node's ledger when it is the
// creator, from the creator's newest signed state otherwise.
func (n *Node) Stats(ctx context.Context, id cid.Cid) (market.Stats, error) {
	if n.ledger == nil {
		return market.Stats{}, ErrOffline
	}
	return n.ledger.Stats(ctx, id)
}

// ReachCreator makes sure the creator of a campaign can be dialled: it is
// connected, or the DHT finds its addresses.
func (n *Node) ReachCreator(ctx context.Context, p peer.ID) error {
	if len(n.host.Network().ConnsToPeer(p)) > 0 {
		return nil
	}
	if len(n.host.Peerstore().Addrs(p)) == 0 {
		ai, err := n.dht.FindPeer(ctx, p)
		if err != nil {
			return fmt.Errorf("finding the creator %s: %w", p, err)
		}
		n.host.Peerstore().AddAddrs(p, ai.Addrs, peerAddrTTL)
	}
	if err := n.host.Connect(ctx, peer.AddrInfo{ID: p}); err != nil {
		return fmt.Errorf("connecting to the creator %s: %w", p, err)
	}
	return nil
}

// Receipts lists this node's purchases and donations for a campaign (all
// campaigns when id is cid.Undef).
func (n *Node) Receipts(ctx context.Context, id cid.Cid) ([]market.PurchaseRecord, error) {
	if n.ledger == nil {
		return nil, ErrOffline
	}
	return n.ledger.Purchases(ctx, id)
}

// BalanceRail names the rail whose wallet Balance reads for currency.
func (n *Node) BalanceRail(currency string) string {
	if currency == lightning.Currency && n.lnRail != nil {
		return lightning.Name
	}
	return pay.TestRailName
}

// Balance returns the node's balance in currency: its LND node's channel
// balance in msat for BTC when one is configured, test money otherwise.
func (n *Node) Balance(ctx context.Context, currency string) (int64, error) {
	if n.testRail == nil {
		return 0, ErrOffline
	}
	if currency == lightning.Currency && n.lnRail != nil {
		return n.lnRail.Balance(ctx, currency)
	}
	return n.testRail.Balance(ctx, currency)
}

// SalesOverTime returns a campaign's sales and donations in buckets, from
// this node's ledger (the creator's view).
func (n *Node) SalesOverTime(ctx context.Context, id cid.Cid, bucket time.Duration) ([]market.Point, error) {
	if n.ledger == nil {
		return nil, ErrOffline
	}
	return n.ledger.SalesOverTime(ctx, id, bucket)
}
