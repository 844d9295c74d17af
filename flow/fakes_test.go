package flow

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/keystore"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/shares"
)

// The parts of a node, in memory. Each records what flow asked of it.

var errInjected = errors.New("injected failure")

// fakeBlocks is a block store holding whole files by a hash of their bytes.
type fakeBlocks struct {
	mu       sync.Mutex
	files    map[cid.Cid][]byte
	provided []cid.Cid
	fail     bool // Import fails
}

func newFakeBlocks() *fakeBlocks { return &fakeBlocks{files: map[cid.Cid][]byte{}} }

func (b *fakeBlocks) Import(ctx context.Context, r io.Reader) (cid.Cid, int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return cid.Undef, 0, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return cid.Undef, 0, errInjected
	}
	c := rawCID(data)
	b.files[c] = data
	return c, int64(len(data)), nil
}

func (b *fakeBlocks) Fetch(ctx context.Context, c cid.Cid) (io.Reader, int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.files[c]
	if !ok {
		return nil, 0, fmt.Errorf("fetching %s: %w", c, errInjected)
	}
	return bytes.NewReader(data), int64(len(data)), nil
}

func (b *fakeBlocks) Provide(c cid.Cid) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.provided = append(b.provided, c)
}

func (b *fakeBlocks) get(c cid.Cid) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.files[c]
}

func rawCID(data []byte) cid.Cid {
	h, err := multihash.Sum(data, multihash.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// fakeCatalog holds entries in a map.
type fakeCatalog struct {
	mu       sync.Mutex
	entries  map[cid.Cid]catalog.Entry
	followed map[cid.Cid]bool
	follows  []peer.ID
	banned   map[peer.ID]string
}

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{entries: map[cid.Cid]catalog.Entry{}, followed: map[cid.Cid]bool{}, banned: map[peer.ID]string{}}
}

func (c *fakeCatalog) Get(id cid.Cid) (catalog.Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return catalog.Entry{}, fmt.Errorf("campaign %s: %w", id, catalog.ErrUnknown)
	}
	return e, nil
}

func (c *fakeCatalog) List() []catalog.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []catalog.Entry
	for _, e := range c.entries {
		out = append(out, e)
	}
	return out
}

func (c *fakeCatalog) Followed(id cid.Cid) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.followed[id]
}

func (c *fakeCatalog) Follow(p peer.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.follows = append(c.follows, p)
}

func (c *fakeCatalog) Banned(p peer.ID) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.banned[p]
	return r, ok
}

func (c *fakeCatalog) put(e catalog.Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[e.ID] = e
}

func (c *fakeCatalog) followsOf() []peer.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.follows)
}

// fakeAnnouncer adds manifests to a catalog, and records states and
// proofs. before, if set, runs as a manifest is announced.
type fakeAnnouncer struct {
	cat    *fakeCatalog
	before func(m *campaign.Manifest)

	mu     sync.Mutex
	states []*campaign.State
	proofs [][]byte
	fail   bool
}

func (a *fakeAnnouncer) PublishManifest(ctx context.Context, raw []byte) (catalog.Entry, error) {
	m, err := campaign.Decode(raw)
	if err != nil {
		return catalog.Entry{}, err
	}
	if a.before != nil {
		a.before(m)
	}
	a.mu.Lock()
	fail := a.fail
	a.mu.Unlock()
	if fail {
		return catalog.Entry{}, errInjected
	}
	e := catalog.Entry{ID: campaign.ID(raw), Manifest: m, Raw: raw}
	a.cat.put(e)
	return e, nil
}

func (a *fakeAnnouncer) PublishState(ctx context.Context, id cid.Cid, raw []byte) error {
	e, err := a.cat.Get(id)
	if err != nil {
		return err
	}
	s, err := campaign.DecodeState(raw, id, e.Manifest)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.states = append(a.states, s)
	return nil
}

func (a *fakeAnnouncer) lastState() *campaign.State {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.states) == 0 {
		return nil
	}
	return a.states[len(a.states)-1]
}

func (a *fakeAnnouncer) PublishProof(ctx context.Context, raw []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.proofs = append(a.proofs, raw)
	return nil
}

func (a *fakeAnnouncer) stateCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.states)
}

func (a *fakeAnnouncer) proofCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.proofs)
}

// fakePool holds shares by campaign; a campaign is complete when it holds
// as many as n[id].
type fakePool struct {
	mu        sync.Mutex
	held      map[cid.Cid]map[uint32]shares.Share
	n         map[cid.Cid]int
	published map[cid.Cid]int
	tracked   map[cid.Cid]int
	forgotten []cid.Cid
}

func newFakePool() *fakePool {
	return &fakePool{held: map[cid.Cid]map[uint32]shares.Share{}, n: map[cid.Cid]int{},
		published: map[cid.Cid]int{}, tracked: map[cid.Cid]int{}}
}

func (p *fakePool) Add(id cid.Cid, list []shares.Share) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held[id] == nil {
		p.held[id] = map[uint32]shares.Share{}
	}
	added := 0
	for _, s := range list {
		if _, ok := p.held[id][s.Index]; !ok {
			p.held[id][s.Index] = s
			added++
		}
	}
	return added, nil
}

func (p *fakePool) Publish(ctx context.Context, id cid.Cid, list []shares.Share) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published[id] += len(list)
	return nil
}

func (p *fakePool) Have(id cid.Cid, i uint32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.held[id][i]
	return ok
}

func (p *fakePool) Complete(id cid.Cid) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[id] > 0 && len(p.held[id]) >= p.n[id]
}

func (p *fakePool) Known(id cid.Cid) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.held[id])
}

func (p *fakePool) Track(id cid.Cid, m *campaign.Manifest, c *shares.Commitments) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tracked[id]++
	p.n[id] = m.Shards
	return nil
}

func (p *fakePool) Forget(id cid.Cid) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.held, id)
	p.forgotten = append(p.forgotten, id)
	return nil
}

func (p *fakePool) trackedCount(id cid.Cid) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tracked[id]
}

func (p *fakePool) publishedCount(id cid.Cid) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.published[id]
}

// keys is a keystore on a test directory, with failures to inject.
type keys struct {
	*keystore.Store
	failKey, failShares bool
}

func (k *keys) SaveContentKey(c cid.Cid, id *age.X25519Identity) error {
	if k.failKey {
		return errInjected
	}
	return k.Store.SaveContentKey(c, id)
}

func (k *keys) SaveShares(c cid.Cid, list []shares.Share) error {
	if k.failShares {
		return errInjected
	}
	return k.Store.SaveShares(c, list)
}

// fakeSeller ends pledges with the outcome met.
type fakeSeller struct {
	mu    sync.Mutex
	met   bool
	ended []cid.Cid
	err   error
}

func (s *fakeSeller) EndPledges(ctx context.Context, id cid.Cid) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false, s.err
	}
	s.ended = append(s.ended, id)
	return s.met, nil
}

func (s *fakeSeller) endedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ended)
}

// fakeBuyer is the market's client: a Buy of a pay campaign delivers the
// identity in identities, one of shards campaign K shares from shares.
// Completed runs as the real client runs it. gate, if set, holds each Buy
// until it is closed.
type fakeBuyer struct {
	events     market.Events
	identities map[cid.Cid]*age.X25519Identity
	shares     map[cid.Cid][]shares.Share
	gate       chan struct{}
	resume     []*market.Offer

	mu       sync.Mutex
	buys     int
	donated  int64
	orders   []market.Order
	resumed  []market.Order
	inflight int
	most     int // most Buys in flight at once
}

func (b *fakeBuyer) Buy(ctx context.Context, o market.Order) (*market.Purchase, error) {
	b.mu.Lock()
	b.buys++
	b.orders = append(b.orders, o)
	b.inflight++
	b.most = max(b.most, b.inflight)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inflight--
		b.mu.Unlock()
	}()
	if b.gate != nil {
		select {
		case <-b.gate:
		case <-ctx.Done():
			return nil, &market.PendingError{Err: ctx.Err()}
		}
	}
	p := &market.Purchase{Offer: &market.Offer{ID: newOfferID(), Campaign: o.Campaign, Kind: market.KindBuy}}
	switch o.Manifest.Model {
	case campaign.ModelPay:
		p.Identity = b.identities[o.Campaign]
	case campaign.ModelShards:
		p.Shares = b.shares[o.Campaign][:o.Shares]
	}
	if err := b.events.Completed(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (b *fakeBuyer) Donate(ctx context.Context, o market.Order, amount int64) (*market.Purchase, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.donated += amount
	b.orders = append(b.orders, o)
	return &market.Purchase{Offer: &market.Offer{ID: newOfferID(), Campaign: o.Campaign, Kind: market.KindDonate}}, nil
}

func (b *fakeBuyer) ResumeAll(ctx context.Context, order func(context.Context, *market.Offer) (market.Order, error)) error {
	for _, o := range b.resume {
		ord, err := order(ctx, o)
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.resumed = append(b.resumed, ord)
		b.mu.Unlock()
	}
	return nil
}

func (b *fakeBuyer) counts() (buys, most int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buys, b.most
}

func newOfferID() market.OfferID {
	var id market.OfferID
	rand.Read(id[:])
	return id
}

// fakeLedger answers from lists set by the test.
type fakeLedger struct {
	mu        sync.Mutex
	purchases []market.PurchaseRecord
	requests  map[string]*market.PurchaseRecord
	sold      map[cid.Cid][]uint32
	stats     map[cid.Cid]market.Stats
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{requests: map[string]*market.PurchaseRecord{}, sold: map[cid.Cid][]uint32{}, stats: map[cid.Cid]market.Stats{}}
}

func (l *fakeLedger) Purchases(ctx context.Context, id cid.Cid) ([]market.PurchaseRecord, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []market.PurchaseRecord
	for _, r := range l.purchases {
		if !id.Defined() || r.Offer.Campaign == id {
			out = append(out, r)
		}
	}
	return out, nil
}

func (l *fakeLedger) PurchaseByRequest(ctx context.Context, request string) (*market.PurchaseRecord, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests[request], nil
}

func (l *fakeLedger) Sold(ctx context.Context, id cid.Cid) ([]uint32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sold[id]), nil
}

func (l *fakeLedger) Stats(ctx context.Context, id cid.Cid) (market.Stats, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats[id], nil
}

// fakeNetwork reaches every creator but those in down.
type fakeNetwork struct {
	mu      sync.Mutex
	down    map[peer.ID]bool
	reached []peer.ID
}

func (n *fakeNetwork) ReachCreator(ctx context.Context, p peer.ID) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.reached = append(n.reached, p)
	if n.down[p] {
		return fmt.Errorf("connecting to the creator %s: %w", p, errInjected)
	}
	return nil
}
