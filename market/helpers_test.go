package market

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// testKey returns a fixed Ed25519 key: the seed is SHA-256 of
// "shardcast market test key " followed by name.
func testKey(t testing.TB, name string) crypto.PrivKey {
	t.Helper()
	seed := sha256.Sum256([]byte("shardcast market test key " + name))
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// railKey returns the raw Ed25519 key of a libp2p key, for a test rail.
func railKey(t testing.TB, k crypto.PrivKey) ed25519.PrivateKey {
	t.Helper()
	raw, err := k.Raw()
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.PrivateKey(raw)
}

// testIdentity returns a fixed age identity derived from name.
func testIdentity(t testing.TB, name string) *age.X25519Identity {
	t.Helper()
	id, err := seal.IdentityFromSeed(sha256.Sum256([]byte("shardcast market test identity " + name)))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func rawCID(s string) cid.Cid {
	mh, _ := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, mh)
}

var testCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testManifest returns a manifest of the model signed by key. A shards
// manifest has n shares, the first two at 1.00, then 2.50, with
// commitments c.
func testManifest(t testing.TB, key crypto.PrivKey, model campaign.Model, c *shares.Commitments) (*campaign.Manifest, cid.Cid) {
	t.Helper()
	m := &campaign.Manifest{
		Model:       model,
		Title:       "A Film " + string(model),
		Content:     rawCID("shardcast market test content " + string(model)),
		ContentSize: 1_000_000,
		MediaType:   "video/webm",
		Created:     testCreated,
		Currency:    "USD",
		Rails:       []string{"test"},
	}
	switch model {
	case campaign.ModelPay:
		m.Price = 250
	case campaign.ModelShards:
		x := c.X()
		m.Price = 250
		m.Schedule = []campaign.Tier{{Count: 2, Price: 100}}
		m.Shards = c.N()
		m.Commitments = rawCID("shardcast market test commitments")
		m.SecretCommitment = x[:]
		m.Deadline = time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
		m.Shortfall = campaign.ShortfallRelease
	}
	if err := m.Sign(key); err != nil {
		t.Fatal(err)
	}
	data, id, err := campaign.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	m, err = campaign.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return m, id
}

// testSource is a creator's catalog held in memory.
type testSource struct {
	mu        sync.Mutex
	manifests map[cid.Cid]*campaign.Manifest
	ids       map[cid.Cid]*age.X25519Identity
	shares    map[cid.Cid][]shares.Share
}

func (s *testSource) Campaign(id cid.Cid) (*campaign.Manifest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.manifests[id]; m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("no campaign %v", id)
}

func (s *testSource) ContentIdentity(id cid.Cid) (*age.X25519Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.ids[id]; i != nil {
		return i, nil
	}
	return nil, fmt.Errorf("no identity for %v", id)
}

func (s *testSource) Share(id cid.Cid, index uint32) (shares.Share, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shares[id]; int(index) < len(sh) {
		return sh[index], nil
	}
	return shares.Share{}, fmt.Errorf("no share %d of %v", index, id)
}

// newHost starts a libp2p host on loopback TCP, without resource limits
// (the benchmark opens a thousand streams per peer).
func newHost(t testing.TB, key crypto.PrivKey) host.Host {
	t.Helper()
	opts := []libp2p.Option{
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.DisableRelay(),
	}
	if key != nil {
		opts = append(opts, libp2p.Identity(key))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func connect(t testing.TB, a, b host.Host) {
	t.Helper()
	if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func openLedger(t testing.TB, path string) *Ledger {
	t.Helper()
	l, err := OpenLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l
}

func openRail(t testing.TB, path string, key crypto.PrivKey, opts *pay.TestOptions) *pay.TestRail {
	t.Helper()
	r, err := pay.OpenTestRail(path, railKey(t, key), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Check(context.Background()); err != nil {
			t.Error(err)
		}
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// creator is a creator's node: host, rail, ledger, server and three
// campaigns (open, pay, and shards of nShares shares).
type creator struct {
	key    crypto.PrivKey
	h      host.Host
	rail   *pay.TestRail
	ledger *Ledger
	srv    *Server
	src    *testSource

	open, pay, shards cid.Cid
	manifests         map[cid.Cid]*campaign.Manifest
	commitments       *shares.Commitments
	contentID         *age.X25519Identity
}

// newCreator starts a creator; opts may set the server's clock and TTL.
func newCreator(t testing.TB, nShares int, opts *ServerOptions, railOpts *pay.TestOptions) *creator {
	t.Helper()
	dir := t.TempDir()
	c := &creator{key: testKey(t, "creator"), manifests: make(map[cid.Cid]*campaign.Manifest)}
	c.h = newHost(t, c.key)
	c.rail = openRail(t, filepath.Join(dir, "rail.db"), c.key, railOpts)
	c.ledger = openLedger(t, filepath.Join(dir, "market.db"))
	_, sh, comm, err := shares.Split(rand.NewChaCha8([32]byte{1}), nShares)
	if err != nil {
		t.Fatal(err)
	}
	c.commitments = comm
	c.contentID = testIdentity(t, "content")
	c.src = &testSource{manifests: c.manifests, ids: make(map[cid.Cid]*age.X25519Identity), shares: make(map[cid.Cid][]shares.Share)}
	var m *campaign.Manifest
	m, c.open = testManifest(t, c.key, campaign.ModelOpen, nil)
	c.manifests[c.open] = m
	m, c.pay = testManifest(t, c.key, campaign.ModelPay, nil)
	c.manifests[c.pay] = m
	c.src.ids[c.pay] = c.contentID
	m, c.shards = testManifest(t, c.key, campaign.ModelShards, comm)
	c.manifests[c.shards] = m
	c.src.shares[c.shards] = sh
	c.srv, err = NewServer(c.h, c.key, c.ledger, []pay.Rail{c.rail}, c.src, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.srv.Close() })
	return c
}

// order returns an order for a campaign of c.
func (c *creator) order(id cid.Cid, k int) Order {
	return Order{Campaign: id, Manifest: c.manifests[id], Shares: k, Commitments: c.commitments}
}

// buyer is a buyer's node.
type buyer struct {
	key    crypto.PrivKey
	h      host.Host
	rail   *pay.TestRail
	ledger *Ledger
	client *Client
	id     *age.X25519Identity
}

func newBuyer(t testing.TB, name string, c *creator, opts *ClientOptions) *buyer {
	t.Helper()
	dir := t.TempDir()
	b := &buyer{key: testKey(t, name), id: testIdentity(t, name)}
	b.h = newHost(t, b.key)
	b.rail = openRail(t, filepath.Join(dir, "rail.db"), b.key, nil)
	b.ledger = openLedger(t, filepath.Join(dir, "market.db"))
	var err error
	b.client, err = NewClient(b.h, b.ledger, b.id, []pay.Rail{b.rail}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		connect(t, b.h, c.h)
	}
	return b
}

func balance(t testing.TB, r pay.Rail) int64 {
	t.Helper()
	v, err := r.Balance(context.Background(), "USD")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func stats(t testing.TB, l *Ledger, id cid.Cid) Stats {
	t.Helper()
	s, err := l.Stats(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkLedger(t testing.TB, l *Ledger) {
	t.Helper()
	if err := l.Check(context.Background()); err != nil {
		t.Error(err)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// funcEvents is an Events whose methods call the functions that are set.
type funcEvents struct {
	committed func(cid.Cid, OfferID)
	pledged   func(cid.Cid)
	delivered func(*Purchase)
	caught    func(*Proof)
	completed func(context.Context, *Purchase) error
}

func (e funcEvents) Committed(c cid.Cid, id OfferID) {
	if e.committed != nil {
		e.committed(c, id)
	}
}

func (e funcEvents) Pledged(c cid.Cid) {
	if e.pledged != nil {
		e.pledged(c)
	}
}

func (e funcEvents) Delivered(p *Purchase) {
	if e.delivered != nil {
		e.delivered(p)
	}
}

func (e funcEvents) Caught(p *Proof) {
	if e.caught != nil {
		e.caught(p)
	}
}

func (e funcEvents) Completed(ctx context.Context, p *Purchase) error {
	if e.completed != nil {
		return e.completed(ctx, p)
	}
	return nil
}
