package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
	"github.com/shardcast/shardcast/shares"
)

// Repo files of the market.
const (
	ledgerFile   = "ledger.db"
	testRailFile = "testrail.db"
	// peerAddrTTL is how long addresses found for a creator are kept.
	peerAddrTTL = time.Hour
)

// events is what the market reports to the node.
type events struct{ n *Node }

func (e events) Committed(c cid.Cid, _ market.OfferID) {
	go func() {
		e.n.publishSold(e.n.ctx, c)
		e.n.publishState(e.n.ctx, c)
	}()
}

func (e events) Pledged(c cid.Cid) { go e.n.publishState(e.n.ctx, c) }

func (e events) Delivered(p *market.Purchase) { e.n.delivered(p) }

func (e events) Caught(p *market.Proof) { e.n.caught(p) }

func (e events) Completed(ctx context.Context, p *market.Purchase) error {
	return e.n.completed(ctx, p)
}

// startMarket opens the ledger and the test rail and starts selling this
// node's campaigns and buying others'.
func (n *Node) startMarket() error {
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
	rails := []pay.Rail{n.testRail}
	if n.lnd != nil {
		if n.lnRail, err = lightning.New(lightning.Options{RESTAddr: n.lnd.REST, TLSCertPath: n.lnd.TLSCert, MacaroonPath: n.lnd.Macaroon}); err != nil {
			return fmt.Errorf("the lightning rail: %w", err)
		}
		rails = append(rails, n.lnRail)
	}
	opts := &market.ServerOptions{Logger: n.log, Events: events{n}}
	if n.seller, err = market.NewServer(n.host, n.repo.Key, n.ledger, rails, marketSource{n}, opts); err != nil {
		return err
	}
	id, err := n.AgeIdentity()
	if err != nil {
		return err
	}
	copts := &market.ClientOptions{Events: events{n}}
	if n.buyer, err = market.NewClient(n.host, n.ledger, id, rails, copts); err != nil {
		return err
	}
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.resumePurchases() }()
	return nil
}

// resumePurchases drives to their end the purchases of this node that
// were under way when it stopped, on every rail: pledges, paid offers
// not yet delivered, offers not yet paid.
func (n *Node) resumePurchases() {
	err := n.buyer.ResumeAll(n.ctx, func(ctx context.Context, o *market.Offer) (market.Order, error) {
		e, err := n.catalog.Get(o.Campaign)
		if err != nil {
			return market.Order{}, err
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := n.reachCreator(ctx, e.Manifest.Creator); err != nil {
			n.log.Warn("resuming a purchase: the creator is not reachable yet", "campaign", o.Campaign, "offer", o.ID, "err", err)
		}
		order := market.Order{Campaign: o.Campaign, Manifest: e.Manifest}
		if o.Kind == market.KindBuy && e.Manifest.Model == campaign.ModelShards {
			if order.Commitments, err = n.commitmentsOf(ctx, e, campaign.MaxShares); err != nil {
				return market.Order{}, err
			}
		}
		return order, nil
	})
	if err != nil && n.ctx.Err() == nil {
		n.log.Error("resuming purchases", "err", err)
	}
}

// completed keeps what a purchase bought, whether or not anyone still
// waits for it: the content key on disk, the shares in the pool.
func (n *Node) completed(ctx context.Context, p *market.Purchase) error {
	if p.Identity != nil {
		e, err := n.catalog.Get(p.Offer.Campaign)
		if err != nil {
			return fmt.Errorf("storing the key bought: %w", err)
		}
		if err := n.SaveContentKey(e.Manifest.Content, p.Identity); err != nil {
			return fmt.Errorf("storing the key bought: %w", err)
		}
	}
	if len(p.Shares) > 0 && n.pool != nil {
		// The buyer's node publishes what it bought: once all N are out,
		// everyone can decrypt.
		ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
		defer cancel()
		if err := n.publishShares(ctx, p.Offer.Campaign, p.Shares); err != nil {
			n.log.Warn("publishing bought shares", "campaign", p.Offer.Campaign, "err", err)
		}
	}
	n.log.Info("purchase complete", "campaign", p.Offer.Campaign, "offer", p.Offer.ID, "kind", p.Offer.Kind, "amount", p.Offer.Price)
	return nil
}

// marketSource gives the market this node's own campaigns and their secrets.
type marketSource struct{ n *Node }

func (s marketSource) Campaign(id cid.Cid) (*campaign.Manifest, error) {
	e, err := s.n.catalog.Get(id)
	if err != nil {
		return nil, err
	}
	if e.Manifest.Creator != s.n.ID() {
		return nil, fmt.Errorf("campaign %s is not this node's", id)
	}
	return e.Manifest, nil
}

func (s marketSource) ContentIdentity(id cid.Cid) (*age.X25519Identity, error) {
	m, err := s.Campaign(id)
	if err != nil {
		return nil, err
	}
	return s.n.ContentKey(m.Content)
}

func (s marketSource) Share(id cid.Cid, index uint32) (shares.Share, error) {
	m, err := s.Campaign(id)
	if err != nil {
		return shares.Share{}, err
	}
	return s.n.ownShare(m, index)
}

// Stats returns a campaign's sales: from this node's ledger when it is the
// creator, from the creator's newest signed state otherwise.
func (n *Node) Stats(ctx context.Context, id cid.Cid) (market.Stats, error) {
	if n.ledger == nil {
		return market.Stats{}, ErrOffline
	}
	return n.ledger.Stats(ctx, id)
}

// reachCreator makes sure the creator of a campaign can be dialled: it is
// connected, or the DHT finds its addresses.
func (n *Node) reachCreator(ctx context.Context, p peer.ID) error {
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

// Buy buys access to a campaign (pay) or k of its shares (shards), under
// the caller's request ID if it gives one ("" for none): a request ID
// already used returns that purchase's outcome. The purchase belongs to
// the node: it goes on if ctx ends, and Buy then returns a
// *market.PendingError. Buying what is already held or free is refused
// with market.ErrHeld, a share count out of range with
// market.ErrBadOrder; neither charges anything.
func (n *Node) Buy(ctx context.Context, id cid.Cid, k int, request string) (*market.Purchase, error) {
	if n.buyer == nil {
		return nil, ErrOffline
	}
	e, err := n.catalog.Get(id)
	if err != nil {
		return nil, err
	}
	if e.Manifest.Creator == n.ID() {
		return nil, errors.New("this node is the campaign's creator: nothing to buy")
	}
	if e.Rejected != "" {
		return nil, fmt.Errorf("campaign %s: %w: %s", id, catalog.ErrRejected, e.Rejected)
	}
	n.follow(e)
	var unlock func()
	if e.Manifest.Model == campaign.ModelPay {
		// Checked and bought under one lock, held until the purchase
		// ends: two requests at once would both find access neither held
		// nor pending, and both pay.
		if unlock, err = n.lockPay(ctx, id, request); err != nil {
			return nil, err
		}
		defer func() {
			if unlock != nil {
				unlock()
			}
		}()
	}
	again, err := n.knownRequest(ctx, request)
	if err != nil {
		return nil, err
	}
	if !again {
		if err := n.checkBuy(ctx, e, k); err != nil {
			return nil, err
		}
	}
	if err := n.reachCreator(ctx, e.Manifest.Creator); err != nil && !again {
		return nil, err
	}
	order := market.Order{Campaign: id, Manifest: e.Manifest, Shares: k, Request: request}
	if e.Manifest.Model == campaign.ModelShards {
		if order.Commitments, err = n.commitmentsOf(ctx, e, campaign.MaxShares); err != nil {
			return nil, err
		}
	}
	var p *market.Purchase
	if unlock != nil {
		p, err = n.buyLocked(ctx, order, unlock)
		unlock = nil
	} else {
		p, err = n.buyer.Buy(ctx, order)
	}
	var cheat *market.CheatError
	if errors.As(err, &cheat) {
		return nil, fmt.Errorf("%w; the proof is in %s", err, n.ProofPath(cheat.Proof.Offer.ID))
	}
	return p, err
}

// payLock is the lock of one pay campaign's purchase under way.
type payLock struct {
	done    chan struct{} // closed when it ends
	request string        // its request ID, if any
}

// lockPay waits until no other Buy of the pay campaign id is under way
// in this node and returns the function that lets the next one in. A
// retry under the request ID of the purchase under way is let through
// without the lock (nil, nil): the market joins it to that purchase. If
// ctx ends first, the purchase under way is the caller's answer: it
// refuses with market.ErrHeld.
func (n *Node) lockPay(ctx context.Context, id cid.Cid, request string) (unlock func(), err error) {
	for {
		n.payMu.Lock()
		busy, ok := n.paying[id]
		if !ok {
			if n.paying == nil {
				n.paying = map[cid.Cid]*payLock{}
			}
			l := &payLock{done: make(chan struct{}), request: request}
			n.paying[id] = l
			n.payMu.Unlock()
			return func() {
				n.payMu.Lock()
				delete(n.paying, id)
				n.payMu.Unlock()
				close(l.done)
			}, nil
		}
		n.payMu.Unlock()
		if request != "" && busy.request == request {
			return nil, nil
		}
		select {
		case <-busy.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("campaign %s: another purchase of it is under way (see receipts): %w", id, market.ErrHeld)
		}
	}
}

// buyLocked makes a purchase that holds a pay campaign's lock, and lets
// the lock go when the purchase ends, not when the caller stops waiting:
// a caller that gives up before the creator's offer is in leaves nothing
// in the ledger for the next check to see. If ctx ends first it returns a
// *market.PendingError, naming the offer once the ledger has it.
func (n *Node) buyLocked(ctx context.Context, order market.Order, unlock func()) (*market.Purchase, error) {
	type outcome struct {
		p   *market.Purchase
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer unlock()
		p, err := n.buyer.Buy(n.ctx, order)
		done <- outcome{p, err}
	}()
	select {
	case o := <-done:
		return o.p, o.err
	case <-ctx.Done():
	}
	select {
	case o := <-done: // both ready: the outcome wins
		return o.p, o.err
	default:
	}
	pe := &market.PendingError{Err: fmt.Errorf("still under way when the request ended (%w)", ctx.Err())}
	lctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
	defer cancel()
	if recs, err := n.ledger.Purchases(lctx, order.Campaign); err == nil {
		for _, r := range recs {
			if r.Offer.Kind == market.KindBuy && r.Pending() {
				pe.Offer = r.Offer
			}
		}
	}
	return nil, pe
}

// knownRequest says whether a request ID is already recorded with a
// purchase: its retry returns that purchase's outcome, unchecked.
func (n *Node) knownRequest(ctx context.Context, request string) (bool, error) {
	if request == "" {
		return false, nil
	}
	rec, err := n.ledger.PurchaseByRequest(ctx, request)
	return rec != nil, err
}

// checkBuy refuses a purchase that would charge for nothing — access
// already held, a campaign already free — or whose share count is out
// of range.
func (n *Node) checkBuy(ctx context.Context, e catalog.Entry, k int) error {
	m := e.Manifest
	switch m.Model {
	case campaign.ModelOpen:
		return fmt.Errorf("campaign %s is free to watch: donate instead: %w", e.ID, market.ErrHeld)
	case campaign.ModelPay:
		if k < 0 || k > 1 {
			return fmt.Errorf("campaign %s sells access, not %d shares: %w", e.ID, k, market.ErrBadOrder)
		}
		if n.CanRead(e) {
			return fmt.Errorf("campaign %s: this node already holds its key: %w", e.ID, market.ErrHeld)
		}
		recs, err := n.ledger.Purchases(ctx, e.ID)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if r.Offer.Kind == market.KindBuy && r.Pending() {
				return fmt.Errorf("campaign %s: purchase %s of it is pending (see receipts): %w", e.ID, r.Offer.ID, market.ErrHeld)
			}
		}
		return nil
	}
	most := min(market.MaxSharesPerOffer, m.Shards)
	if k < 1 || k > most {
		return fmt.Errorf("%d shares of campaign %s: want 1 to %d: %w", k, e.ID, most, market.ErrBadOrder)
	}
	if n.CanRead(e) || (n.pool != nil && n.pool.Complete(e.ID)) {
		return fmt.Errorf("campaign %s is unlocked for everyone: nothing to buy: %w", e.ID, market.ErrHeld)
	}
	if st := e.State; st != nil {
		left := max(int64(m.Shards)-st.Sold-st.Pledged, 0)
		switch {
		case left == 0:
			return fmt.Errorf("campaign %s: all %d shares are sold or pledged: %w", e.ID, m.Shards, market.ErrSoldOut)
		case int64(k) > left:
			return fmt.Errorf("%d shares of campaign %s: only %d left: %w", k, e.ID, left, market.ErrBadOrder)
		}
	}
	return nil
}

// Donate donates amount (minor units of the campaign's currency) to a
// campaign's creator, under the caller's request ID if it gives one, as
// Buy does.
func (n *Node) Donate(ctx context.Context, id cid.Cid, amount int64, request string) (*market.Purchase, error) {
	if n.buyer == nil {
		return nil, ErrOffline
	}
	e, err := n.catalog.Get(id)
	if err != nil {
		return nil, err
	}
	if e.Manifest.Creator == n.ID() {
		return nil, errors.New("this node is the campaign's creator: it cannot donate to itself")
	}
	n.follow(e)
	again, err := n.knownRequest(ctx, request)
	if err != nil {
		return nil, err
	}
	if err := n.reachCreator(ctx, e.Manifest.Creator); err != nil && !again {
		return nil, err
	}
	return n.buyer.Donate(ctx, market.Order{Campaign: id, Manifest: e.Manifest, Request: request}, amount)
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

// publishState signs the creator's current figures for one of its
// campaigns and announces them, so that peers' status shows sales. Seq is
// the time in nanoseconds: it grows across restarts without a counter on
// disk.
func (n *Node) publishState(ctx context.Context, id cid.Cid) {
	if n.gossip == nil {
		return
	}
	n.stateMu.Lock()
	defer n.stateMu.Unlock()
	e, err := n.catalog.Get(id)
	if err != nil || e.Manifest.Creator != n.ID() {
		return
	}
	st, err := n.ledger.Stats(ctx, id)
	if err != nil {
		n.log.Warn("reading sales for the campaign state", "campaign", id, "err", err)
		return
	}
	s := &campaign.State{Campaign: id, Seq: uint64(time.Now().UnixNano()), Sold: int64(st.Sold), Raised: st.Raised, Time: time.Now()}
	if e.Manifest.Model == campaign.ModelOpen {
		s.Sold, s.Raised = int64(st.Donations), st.Donated
	}
	if e.Manifest.Model == campaign.ModelShards {
		s.Pledged = int64(st.Pledged)
	}
	if err := s.Sign(n.repo.Key); err != nil {
		n.log.Warn("signing campaign state", "campaign", id, "err", err)
		return
	}
	raw, err := campaign.EncodeState(s)
	if err != nil {
		n.log.Warn("encoding campaign state", "campaign", id, "err", err)
		return
	}
	if err := n.gossip.PublishState(ctx, id, raw); err != nil {
		n.log.Warn("announcing campaign state", "campaign", id, "err", err)
	}
}

// SalesOverTime returns a campaign's sales and donations in buckets, from
// this node's ledger (the creator's view).
func (n *Node) SalesOverTime(ctx context.Context, id cid.Cid, bucket time.Duration) ([]market.Point, error) {
	if n.ledger == nil {
		return nil, ErrOffline
	}
	return n.ledger.SalesOverTime(ctx, id, bucket)
}
