package flow

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/keystore"
	"github.com/shardcast/shardcast/pay/paytest"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// peerNode is one node's parts and its Flow.
type peerNode struct {
	f       *Flow
	self    peer.ID
	key     crypto.PrivKey
	blocks  *fakeBlocks
	cat     *fakeCatalog
	ann     *fakeAnnouncer
	pool    *fakePool
	keys    *keys
	seller  *fakeSeller
	buyer   *fakeBuyer
	ledger  *fakeLedger
	network *fakeNetwork
	clock   *paytest.Clock
}

// start is the time every test's clock starts at.
var start = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// newPeer returns an online node of fakes. Nodes given the same blocks
// and catalog share them, as peers of one network see the same files and
// campaigns.
func newPeer(t *testing.T, blocks *fakeBlocks, cat *fakeCatalog) *peerNode {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	self, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if blocks == nil {
		blocks = newFakeBlocks()
	}
	if cat == nil {
		cat = newFakeCatalog()
	}
	n := &peerNode{self: self, key: key, blocks: blocks, cat: cat, ann: &fakeAnnouncer{cat: cat},
		pool: newFakePool(), keys: &keys{Store: keystore.New(t.TempDir())}, seller: &fakeSeller{},
		buyer:  &fakeBuyer{identities: map[cid.Cid]*age.X25519Identity{}, shares: map[cid.Cid][]shares.Share{}},
		ledger: newFakeLedger(), network: &fakeNetwork{down: map[peer.ID]bool{}}, clock: paytest.NewClock(start)}
	n.f = New(Parts{Self: self, Key: key, Blocks: n.blocks, Catalog: n.cat, Announcer: n.ann, Pool: n.pool,
		Keys: n.keys, Ledger: n.ledger, Network: n.network, Now: n.clock.Now,
		Rails: Rails{Lightning: true, LightningMaxHold: 10 * 24 * time.Hour}})
	n.f.SetMarket(n.seller, n.buyer)
	n.buyer.events = n.f
	t.Cleanup(n.f.Close)
	return n
}

// payTerms, openTerms and shardsTerms are valid terms of each model.
func openTerms() campaign.Terms {
	return campaign.Terms{Model: campaign.ModelOpen, Title: "An open film", Suggested: []int64{500}}
}

func payTerms() campaign.Terms {
	return campaign.Terms{Model: campaign.ModelPay, Title: "A paid film", Price: 300}
}

func shardsTerms(n int) campaign.Terms {
	return campaign.Terms{Model: campaign.ModelShards, Title: "A film in shards", Price: 100, Shards: n,
		Deadline: start.Add(time.Hour)}
}

var film = bytes.Repeat([]byte("frames "), 1000)

// publish publishes terms on n and fails the test on an error.
func (n *peerNode) publish(t *testing.T, terms campaign.Terms) catalog.Entry {
	t.Helper()
	e, err := n.f.Publish(context.Background(), terms, bytes.NewReader(film))
	if err != nil {
		t.Fatalf("publishing a %s campaign: %v", terms.Model, err)
	}
	return e
}

// eventually waits until cond holds, for at most a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// idle waits for the Flow's background work to end.
func (n *peerNode) idle() {
	n.f.Close()
}

// identityFromSecret is the content identity a shards campaign's secret
// makes.
func identityFromSecret(secret [shares.ScalarSize]byte) (*age.X25519Identity, error) {
	return seal.IdentityFromSeed(shares.ContentSeed(secret))
}
