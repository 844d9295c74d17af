package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/market"
)

// testNode stands in for a node behind the HTTP side: a real block store,
// blockservice and catalog, and a record of every call that would act or
// reveal something, so a test sees whether a refused request reached it.
type testNode struct {
	id     peer.ID
	key    crypto.PrivKey
	bstore blockstore.Blockstore
	bsvc   blockservice.BlockService
	cat    *catalog.Catalog
	data   []byte // every campaign's plaintext
	// caps, when set, are the rails Publish checks terms against, as a
	// node does, before it reads the content.
	caps *campaign.RailCaps
	// receipts are what Receipts answers.
	receipts []market.PurchaseRecord

	mu    sync.Mutex
	calls []string
}

// errReached is what the test node answers to purchases and publishing:
// the request got through every check.
var errReached = errors.New("test node: reached")

func (n *testNode) record(call string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, call)
}

// Calls returns the calls recorded so far, and forgets them.
func (n *testNode) Calls() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.calls
	n.calls = nil
	return c
}

func (n *testNode) SignIDChallenge(ch []byte) ([]byte, error) {
	return n.key.Sign(IDChallengeMessage(ch))
}

func (n *testNode) ID() peer.ID      { return n.id }
func (n *testNode) Addrs() []string  { return []string{"/ip4/127.0.0.1/tcp/4101/p2p/" + n.id.String()} }
func (n *testNode) Peers() []peer.ID { n.record("Peers"); return nil }
func (n *testNode) Connect(ctx context.Context, addr string) (peer.ID, error) {
	n.record("Connect")
	return "", errReached
}
func (n *testNode) Add(ctx context.Context, r io.Reader) (cid.Cid, int64, error) {
	n.record("Add")
	return content.Import(ctx, n.bstore, r)
}
func (n *testNode) Open(ctx context.Context, c cid.Cid) (*content.File, error) {
	return content.Open(ctx, n.bsvc, c)
}
func (n *testNode) Fetched(c cid.Cid) {}
func (n *testNode) FindProviders(ctx context.Context, c cid.Cid, max int) ([]peer.ID, error) {
	n.record("FindProviders")
	return nil, nil
}
func (n *testNode) BlockService() blockservice.BlockService { return n.bsvc }
func (n *testNode) Catalog() *catalog.Catalog               { return n.cat }
func (n *testNode) Publish(ctx context.Context, terms campaign.Terms, r io.Reader) (catalog.Entry, error) {
	n.record("Publish")
	if n.caps != nil {
		if _, err := terms.Check(*n.caps, time.Now()); err != nil {
			return catalog.Entry{}, err
		}
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return catalog.Entry{}, err
	}
	return catalog.Entry{}, errReached
}
func (n *testNode) OpenCampaign(ctx context.Context, id cid.Cid) (io.ReaderAt, int64, catalog.Entry, error) {
	return n.OpenCampaignAt(ctx, id, -1)
}
func (n *testNode) OpenCampaignAt(ctx context.Context, id cid.Cid, at int64) (io.ReaderAt, int64, catalog.Entry, error) {
	n.record("OpenCampaign")
	e, err := n.cat.Get(id)
	if err != nil {
		return nil, 0, e, err
	}
	return bytes.NewReader(n.data), int64(len(n.data)), e, nil
}
func (n *testNode) CanRead(e catalog.Entry) bool { return e.Manifest.Model == campaign.ModelOpen }
func (n *testNode) ContentKey(c cid.Cid) (*age.X25519Identity, error) {
	n.record("ContentKey")
	return age.GenerateX25519Identity()
}
func (n *testNode) Pooled(id cid.Cid) int { return 0 }
func (n *testNode) Release(ctx context.Context, id cid.Cid) (int, error) {
	n.record("Release")
	return 0, nil
}
func (n *testNode) Buy(ctx context.Context, id cid.Cid, k int, request string) (*market.Purchase, error) {
	n.record("Buy")
	return nil, errReached
}
func (n *testNode) Donate(ctx context.Context, id cid.Cid, amount int64, request string) (*market.Purchase, error) {
	n.record("Donate")
	return nil, errReached
}
func (n *testNode) Receipts(ctx context.Context, id cid.Cid) ([]market.PurchaseRecord, error) {
	n.record("Receipts")
	return n.receipts, nil
}
func (n *testNode) Balance(ctx context.Context, currency string) (int64, error) {
	n.record("Balance")
	return 100, nil
}
func (n *testNode) BalanceRail(currency string) string { return "test" }
func (n *testNode) SalesOverTime(ctx context.Context, id cid.Cid, bucket time.Duration) ([]market.Point, error) {
	n.record("SalesOverTime")
	return nil, nil
}
func (n *testNode) AddProof(ctx context.Context, raw []byte) (string, error) {
	n.record("AddProof")
	return "", errReached
}

// fixture is a Server over a testNode with one open and one pay
// campaign by another creator, and one file in the block store.
type fixture struct {
	t        *testing.T
	node     *testNode
	srv      *Server
	api, gw  http.Handler
	open     string // campaign IDs
	pay      string
	file     cid.Cid
	fileData []byte
}

const (
	testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	apiAddr   = "127.0.0.1:8101"
	gwAddr    = "127.0.0.1:8102"
)

// newFixture returns a fixture whose listeners are at api and gw.
func newFixture(t *testing.T, api, gw string) *fixture {
	t.Helper()
	ctx := context.Background()
	nodeKey, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(nodeKey)
	if err != nil {
		t.Fatal(err)
	}
	bs := blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore()))
	cat, err := catalog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{id: id, key: nodeKey, bstore: bs, bsvc: blockservice.New(bs, nil), cat: cat}
	f := &fixture{t: t, node: n, fileData: bytes.Repeat([]byte("0123456789"), 50_000)}
	n.data = f.fileData
	if f.file, _, err = content.Import(ctx, bs, bytes.NewReader(f.fileData)); err != nil {
		t.Fatal(err)
	}
	creator, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []campaign.Model{campaign.ModelOpen, campaign.ModelPay} {
		m := &campaign.Manifest{Model: model, Title: "A film", Content: f.file, ContentSize: int64(len(f.fileData)),
			MediaType: "video/webm", Created: time.Now(), Currency: "USD", Rails: []string{"test"}}
		if model == campaign.ModelPay {
			m.Price = 100
		}
		if err := m.Sign(creator); err != nil {
			t.Fatal(err)
		}
		raw, _, err := campaign.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		e, _, err := cat.Add(raw)
		if err != nil {
			t.Fatal(err)
		}
		if model == campaign.ModelOpen {
			f.open = e.ID.String()
		} else {
			f.pay = e.ID.String()
		}
	}
	s, err := New(n, n, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.APIAddr, s.GatewayAddr, s.Token = api, gw, testToken
	s.AllowHosts = []string{"shardcast.lan"}
	s.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.record("Metrics") })
	f.srv = s
	if f.api, err = s.API(); err != nil {
		t.Fatal(err)
	}
	if f.gw, err = s.Gateway(); err != nil {
		t.Fatal(err)
	}
	return f
}

// req describes one request of a table.
type req struct {
	method, path string
	host         string // default: the listener's address; "none" for no Host
	on           string // "api" or "gateway"; default by the path
	body         string
	header       []string // name, value, ...
}

// do serves r on the API (or the gateway, for /ipfs/ and /watch/ paths)
// and returns the response.
func (f *fixture) do(r req) *httptest.ResponseRecorder {
	f.t.Helper()
	h, host := f.api, f.srv.APIAddr
	if r.on == "gateway" || r.on == "" && (strings.HasPrefix(r.path, "/ipfs/") || strings.HasPrefix(r.path, "/watch/")) {
		h, host = f.gw, f.srv.GatewayAddr
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, "http://"+host+r.path, body)
	switch r.host {
	case "":
	case "none":
		hr.Host = ""
	default:
		hr.Host = r.host
	}
	for i := 0; i+1 < len(r.header); i += 2 {
		hr.Header.Set(r.header[i], r.header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, hr)
	return w
}

// bearer is the header of a caller holding the token.
var bearer = []string{"Authorization", "Bearer " + testToken}

// with returns headers a followed by b.
func with(a []string, b ...string) []string { return append(append([]string{}, a...), b...) }
