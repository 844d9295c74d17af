package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	bin "encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
	_ "modernc.org/sqlite"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/internal/peerlimit"
	"github.com/shardcast/shardcast/internal/testnet"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/shares"
)

// The flood's size, and the bounds the target must stay within. The
// bounds are generous (a loaded 2-core machine); docs/BENCHMARKS.md has
// the figures measured.
const (
	floodManifests   = 1000
	floodQuoters     = 20
	floodQuotesEach  = 100 // 2,000 quotes in all
	maxGoroutines    = 1500
	maxHeapBytes     = 256 << 20
	maxCatalogOnDisk = peerlimit.UnfollowedBytes + 4<<20
)

// TestFloodBounded floods one node (a) with 1,000 signed shards manifests
// from throwaway keys, by gossip, push and sync, from a peer that follows
// all it publishes, and with 2,000 unpaid quotes from 20 throwaway peers
// for its own campaign. Meanwhile a real creator publishes a campaign.
// The node's catalog, goroutines, heap and ledger stay within their
// bounds; the real campaign reaches every node and sells; a real buyer
// still buys a share of the squatted campaign.
func TestFloodBounded(t *testing.T) {
	net := testnet.New(t, binary)
	a, b, c, r := net.Node("target"), net.Node("b"), net.Node("c"), net.Node("creator")
	a.Start()
	b.Start("--bootstrap", a.Addr())
	c.Start("--bootstrap", a.Addr(), "--bootstrap", b.Addr())
	r.Start("--bootstrap", a.Addr(), "--bootstrap", b.Addr(), "--bootstrap", c.Addr())

	path, _ := randomFile(t, 70, 64<<10)
	own := a.MustRun("publish", path, "--model", "shards", "--shards", "1000", "--price", "0.10", "--deadline", "24h")
	waitCampaign(t, b, own)
	waitCampaign(t, c, own)
	before := sample(t, a)
	t.Logf("target before the flood: %d goroutines, heap %.1f MiB, RSS %.1f MiB, %d campaigns",
		before.goroutines, mib(before.heap), mib(rssOf(t, a)), before.campaigns)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	target := addrInfo(t, a)

	var peak atomic.Pointer[figures]
	peak.Store(&before)
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			f := sample(t, a)
			p := *peak.Load()
			p.goroutines, p.heap, p.campaigns = max(p.goroutines, f.goroutines), max(p.heap, f.heap), max(p.campaigns, f.campaigns)
			peak.Store(&p)
		}
	})

	var flood sync.WaitGroup
	start := time.Now()
	flood.Go(func() { floodManifestsTo(ctx, t, target) })
	var offers, busy atomic.Int64
	for i := range floodQuoters {
		flood.Go(func() {
			o, b := squat(ctx, t, target, own, i)
			offers.Add(int64(o))
			busy.Add(int64(b))
		})
	}
	// A real campaign, published during the flood.
	realID := r.MustRun("publish", path, "--model", "shards", "--shards", "4", "--price", "1.00", "--deadline", "24h", "--title", "Real")
	flood.Wait()
	t.Logf("flood sent in %v: %d quotes answered with an offer, %d refused as busy", time.Since(start).Round(time.Millisecond), offers.Load(), busy.Load())

	for _, n := range []*testnet.Node{a, b, c} {
		waitCampaign(t, n, realID)
	}
	b.MustRun("buy", realID, "--shards", "1")
	c.MustRun("buy", own, "--shards", "1")
	if st := statusOf(t, r, realID); st.Sold != 1 {
		t.Errorf("the real campaign sold %d shares, want 1", st.Sold)
	}
	// The target's syncs with the flooder fill its budget; the real
	// campaign stays everywhere.
	testnet.Eventually(t, 3*time.Minute, "the target's budget full", func() error {
		if f := sample(t, a); f.campaigns < peerlimit.UnfollowedCampaigns {
			return fmt.Errorf("%d campaigns", f.campaigns)
		}
		return nil
	})
	for _, n := range []*testnet.Node{a, b, c} {
		if res := n.Run("status", realID); res.Code != 0 {
			t.Errorf("%s lost the real campaign: %s", n.Name, res.Stderr)
		}
	}
	close(stop)
	sampler.Wait()
	after, p := sample(t, a), *peak.Load()
	p.goroutines, p.heap, p.campaigns = max(p.goroutines, after.goroutines), max(p.heap, after.heap), max(p.campaigns, after.campaigns)
	for _, n := range []*testnet.Node{b, c} {
		f := sample(t, n)
		t.Logf("%s after the flood: %d goroutines, heap %.1f MiB, RSS %.1f MiB, %d campaigns", n.Name, f.goroutines, mib(f.heap), mib(rssOf(t, n)), f.campaigns)
	}
	disk := dirSize(t, filepath.Join(a.Repo, "campaigns"))
	rss := rssOf(t, a)
	t.Logf("target after the flood: %d goroutines (peak %d), heap %.1f MiB (peak %.1f), RSS %.1f MiB, %d campaigns (peak %d), catalog %d KiB on disk",
		after.goroutines, p.goroutines, mib(after.heap), mib(p.heap), mib(rss), after.campaigns, p.campaigns, disk>>10)

	if limit := peerlimit.UnfollowedCampaigns + 2; p.campaigns > limit {
		t.Errorf("campaigns held at the peak: %d, want at most %d", p.campaigns, limit)
	}
	if disk > maxCatalogOnDisk {
		t.Errorf("catalog on disk: %d bytes, want at most %d", disk, maxCatalogOnDisk)
	}
	if p.goroutines > maxGoroutines {
		t.Errorf("goroutines at the peak: %d, want at most %d", p.goroutines, maxGoroutines)
	}
	if p.heap > maxHeapBytes {
		t.Errorf("heap at the peak: %.1f MiB, want at most %.1f", mib(p.heap), mib(maxHeapBytes))
	}
	if limit := int64(floodQuoters * peerlimit.OpenOffersPerBuyer); offers.Load() > limit {
		t.Errorf("unpaid offers made to the squatters: %d, want at most %d", offers.Load(), limit)
	}

	// The ledger holds the squatters' offers and one sale, nothing more.
	a.Stop()
	db, err := sql.Open("sqlite", filepath.Join(a.Repo, "ledger.db")+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, reserved int
	if err := db.QueryRow("SELECT (SELECT count(*) FROM offers), (SELECT count(*) FROM reserved)").Scan(&rows, &reserved); err != nil {
		t.Fatal(err)
	}
	t.Logf("target's ledger: %d offer rows, %d shares reserved", rows, reserved)
	if limit := floodQuoters*peerlimit.OpenOffersPerBuyer + 1; rows > limit || reserved > limit {
		t.Errorf("ledger: %d offers, %d reserved; want at most %d each", rows, reserved, limit)
	}
}

type figures struct {
	goroutines, campaigns int
	heap                  int64
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// sample reads a node's goroutines, heap in use and campaigns from its
// /metrics.
func sample(t *testing.T, n *testnet.Node) figures {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := n.Get(ctx, "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var f figures
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			f.goroutines = int(x)
		case "go_memstats_heap_inuse_bytes":
			f.heap = int64(x)
		case "shardcast_campaigns":
			f.campaigns = int(x)
		}
	}
	return f
}

// rssOf returns the resident set of n's daemon, found by its repo in
// /proc, or 0.
func rssOf(t *testing.T, n *testnet.Node) int64 {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !strings.Contains(string(cmd), n.Repo+"\x00daemon") {
			continue
		}
		st, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
		return nil
	})
	return total
}

func addrInfo(t *testing.T, n *testnet.Node) peer.AddrInfo {
	t.Helper()
	m, err := ma.NewMultiaddr(n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		t.Fatal(err)
	}
	return *ai
}

func throwawayHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// floodManifestsTo publishes floodManifests shards manifests, each from a
// fresh key, through a catalog that follows all it holds (so that it
// keeps and serves them all): by gossip, by push, and to the target's
// syncs. A few claim 10,000,000 shares; none has commitments anyone can
// fetch.
func floodManifestsTo(ctx context.Context, t *testing.T, target peer.AddrInfo) {
	h := throwawayHost(t)
	cat, err := catalog.Open(t.TempDir(), catalog.WithFollowed(func(catalog.Entry) bool { return true }))
	if err != nil {
		t.Error(err)
		return
	}
	ps, err := pubsub.NewGossipSub(ctx, h)
	if err != nil {
		t.Error(err)
		return
	}
	g, err := catalog.StartGossip(ctx, cat, h, ps, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Error(err)
		return
	}
	if err := h.Connect(ctx, target); err != nil {
		t.Error(err)
		return
	}
	_, _, comm, err := shares.Split(rand.Reader, 1)
	if err != nil {
		t.Error(err)
		return
	}
	x := comm.X()
	for i := range floodManifests {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			t.Error(err)
			return
		}
		n := 1000
		if i%100 == 0 {
			n = campaign.MaxShares
		}
		sum, _ := mh.Sum(fmt.Appendf(nil, "flood %d", i), mh.SHA2_256, -1)
		m := &campaign.Manifest{Model: campaign.ModelShards, Title: fmt.Sprintf("Flood %d", i),
			Content: cid.NewCidV1(cid.Raw, sum), ContentSize: 1 << 20, MediaType: "video/webm", Created: time.Now(),
			Currency: "USD", Price: 1, Shards: n, Commitments: cid.NewCidV1(cid.Raw, sum), SecretCommitment: x[:],
			Deadline: time.Now().Add(24 * time.Hour), Shortfall: campaign.ShortfallRelease, Rails: []string{"test"}}
		if err := m.Sign(k); err != nil {
			t.Error(err)
			return
		}
		raw, _, err := campaign.Encode(m)
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := g.PublishManifest(ctx, raw); err != nil {
			t.Error(err)
			return
		}
	}
}

// squat sends floodQuotesEach quotes for one share of campaign from a
// fresh peer and never pays; it returns how many were answered with an
// offer and how many refused as busy.
func squat(ctx context.Context, t *testing.T, target peer.AddrInfo, id string, i int) (offers, busy int) {
	h := throwawayHost(t)
	if err := h.Connect(ctx, target); err != nil {
		t.Error(err)
		return
	}
	camp, err := cid.Decode(id)
	if err != nil {
		t.Error(err)
		return
	}
	ident, err := age.GenerateX25519Identity()
	if err != nil {
		t.Error(err)
		return
	}
	body := quoteBody(camp, 1, "test", ident.Recipient().String())
	for range floodQuotesEach {
		answer, err := exchange(ctx, h, target.ID, body)
		if err != nil {
			t.Errorf("squatter %d: %v", i, err)
			return
		}
		switch {
		case len(answer) > 0 && answer[0] == 2:
			if _, err := market.DecodeOffer(answer); err != nil {
				t.Errorf("squatter %d: an offer that does not decode: %v", i, err)
			}
			offers++
		case len(answer) > 1 && answer[0] == 6 && market.Code(answer[1]) == market.CodeBusy:
			busy++
		default:
			t.Errorf("squatter %d: answer %x", i, answer[:min(len(answer), 16)])
			return
		}
	}
	return offers, busy
}

// quoteBody encodes a quote for k shares as docs/PROTOCOL.md and the
// market's package documentation define it: type 1, the campaign's CID,
// kind 1 (buy), K, amount 0, the rail and the recipient.
func quoteBody(camp cid.Cid, k int, rail, recipient string) []byte {
	b := []byte{1}
	b = bin.AppendUvarint(b, uint64(len(camp.Bytes())))
	b = append(b, camp.Bytes()...)
	b = append(b, 1)
	b = bin.AppendUvarint(b, uint64(k))
	b = bin.AppendUvarint(b, 0)
	for _, s := range []string{rail, recipient} {
		b = bin.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// exchange sends one framed request on the market protocol and returns
// the answer's body.
func exchange(ctx context.Context, h host.Host, p peer.ID, body []byte) ([]byte, error) {
	s, err := h.NewStream(ctx, p, market.ProtocolID)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(time.Minute))
	if _, err := s.Write(bin.AppendUvarint(nil, uint64(len(body)))); err != nil {
		return nil, err
	}
	if _, err := s.Write(body); err != nil {
		return nil, err
	}
	s.CloseWrite()
	r := bufio.NewReader(s)
	n, err := bin.ReadUvarint(r)
	if err != nil || n > market.MaxMessageSize {
		return nil, fmt.Errorf("reading the answer's length: %v", err)
	}
	out := make([]byte, n)
	_, err = io.ReadFull(r, out)
	return out, err
}
