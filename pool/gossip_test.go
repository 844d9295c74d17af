package pool

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/p2ptest"
	"github.com/shardcast/shardcast/shares"
)

// waitLimit bounds every wait of the network tests: generous for a
// loaded 2-core machine, never reached when things work.
const waitLimit = 30 * time.Second

// node is one peer: a libp2p host on loopback, gossipsub with the pool's
// scoring, a pool in its own directory and its gossip.
type node struct {
	h        host.Host
	ps       *pubsub.PubSub
	p        *Pool
	g        *Gossip
	dir      string
	unlocked chan string // identities, as OnUnlock reports them
	stop     func()

	mu     sync.Mutex
	scores map[peer.ID]float64
}

// startNode starts a node whose pool lives in dir.
func startNode(t *testing.T, dir string) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{h: p2ptest.Host(t), dir: dir, unlocked: make(chan string, 8)}
	opts := append(PubSubOptions(), pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(func(m map[peer.ID]float64) {
		n.mu.Lock()
		n.scores = m
		n.mu.Unlock()
	}), 20*time.Millisecond))
	var err error
	if n.ps, err = pubsub.NewGossipSub(ctx, n.h, opts...); err != nil {
		t.Fatal(err)
	}
	if n.p, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	n.p.OnUnlock(func(_ cid.Cid, identity *age.X25519Identity) { n.unlocked <- identity.String() })
	if n.g, err = StartGossip(ctx, n.p, n.h, n.ps, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			cancel()
			n.p.Close()
			n.h.Close()
		})
	}
	t.Cleanup(n.stop)
	return n
}

func (n *node) score(p peer.ID) (float64, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.scores[p]
	return s, ok
}

func connect(t *testing.T, a, b host.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatalf("connecting %s to %s: %v", a.ID(), b.ID(), err)
	}
}

// waitUnlock waits for n's OnUnlock and checks the identity.
func waitUnlock(t *testing.T, name string, n *node, want string) {
	t.Helper()
	select {
	case got := <-n.unlocked:
		if got != want {
			t.Fatalf("%s unlocked with %s, want %s", name, got, want)
		}
	case <-time.After(waitLimit):
		t.Fatalf("%s: no unlock after %v; it knows %d shares", name, waitLimit, n.p.Known(n.p.firstID()))
	}
}

// firstID returns a campaign ID the pool holds (tests hold one).
func (p *Pool) firstID() cid.Cid {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.entries {
		return id
	}
	return cid.Undef
}

func (n *node) topicPeers(id cid.Cid) int {
	j := n.g.joinedTopic(id)
	if j == nil {
		return 0
	}
	return len(j.topic.ListPeers())
}

// Five peers; shares published from two of them reach all and all unlock,
// while a sixth floods bogus shares, bogus aggregates and garbage, which
// are rejected and cost it its score. A peer that starts after the unlock
// catches up through the sync protocol; a restarted pool keeps its shares
// and serves them.
func TestGossip(t *testing.T) {
	const n = 240
	f := newFixture(t, n, 7)
	want := f.identity(t)

	nodes := make([]*node, 5)
	for i := range nodes {
		nodes[i] = startNode(t, t.TempDir())
	}
	for i := range nodes {
		for j := i + 1; j < len(nodes); j++ {
			connect(t, nodes[i].h, nodes[j].h)
		}
	}

	// The attacker runs plain gossipsub without the pool's validator.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bad := p2ptest.Host(t)
	badPS, err := pubsub.NewGossipSub(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	badTopic, err := badPS.Join(Topic(f.id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := badTopic.Subscribe(); err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes {
		connect(t, bad, nd.h)
	}

	for _, nd := range nodes {
		if err := nd.p.Track(f.id, f.m, f.open(t)); err != nil {
			t.Fatal(err)
		}
	}
	for i, nd := range nodes {
		waitFor(t, waitLimit, fmt.Sprintf("node %d to see the 5 other peers of the topic", i), func() bool {
			return nd.topicPeers(f.id) == 5
		})
	}
	waitFor(t, waitLimit, "the attacker to see the pool peers", func() bool {
		return len(badTopic.ListPeers()) == 5
	})

	// The flood: bogus shares for every index (before the true ones are
	// known, so each costs a verification), valid shares mixed with a bogus
	// one, aggregates and garbage.
	var flood [][]byte
	for lo := 0; lo < n; lo += 20 {
		flood = append(flood, encodeMessage(f.bogus(f.shares[lo:lo+20])))
	}
	flood = append(flood, encodeMessage(append(f.bogus(f.shares[0:1]), f.shares[1:10]...)))
	for lo := 0; lo < n; lo += 40 {
		agg, err := shares.Sum(f.bogus(f.shares[lo : lo+40]))
		if err != nil {
			t.Fatal(err)
		}
		enc, err := agg.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, append([]byte{'A'}, enc...))
	}
	flood = append(flood, []byte("not a pool message"), nil)
	for _, msg := range flood {
		if err := badTopic.Publish(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}

	// Honest shares from two peers, in batches.
	for lo := 0; lo < n; lo += 30 {
		from := nodes[0]
		if lo >= n/2 {
			from = nodes[1]
		}
		if err := from.g.Publish(ctx, f.id, f.shares[lo:lo+30]); err != nil {
			t.Fatal(err)
		}
	}
	for i, nd := range nodes {
		waitUnlock(t, fmt.Sprintf("node %d", i), nd, want)
	}
	for i, nd := range nodes {
		if err := f.open(t).VerifyBatch(nd.p.Shares(f.id)); err != nil || nd.p.Known(f.id) != n {
			t.Fatalf("node %d holds %d shares: %v", i, nd.p.Known(f.id), err)
		}
		if secret, err := nd.p.Secret(f.id); err != nil || secret != f.secret {
			t.Fatalf("node %d: Secret %x, %v", i, secret, err)
		}
		waitFor(t, waitLimit, fmt.Sprintf("node %d to graylist the attacker", i), func() bool {
			s, ok := nd.score(bad.ID())
			return ok && s < graylistThreshold
		})
		for j, other := range nodes {
			if s, ok := nd.score(other.h.ID()); i != j && ok && s < 0 {
				t.Errorf("node %d scores honest node %d at %v", i, j, s)
			}
		}
	}

	// A late joiner, connected to one peer, catches up by sync.
	late := startNode(t, t.TempDir())
	connect(t, late.h, nodes[2].h)
	if err := late.p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	waitUnlock(t, "the late joiner", late, want)

	// A restarted pool is unlocked at once, keeps its shares and serves
	// them to another late joiner that knows no one else.
	nodes[3].stop()
	restarted := startNode(t, nodes[3].dir)
	waitUnlock(t, "the restarted node", restarted, want)
	if err := restarted.p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if got := restarted.p.Known(f.id); got != n {
		t.Fatalf("restarted pool knows %d shares, want %d", got, n)
	}
	later := startNode(t, t.TempDir())
	if err := later.p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	connect(t, later.h, restarted.h)
	waitUnlock(t, "the peer of the restarted node", later, want)
}

// A pool that stops tracking a campaign leaves its topic.
func TestUntrackLeavesTopic(t *testing.T) {
	f := newFixture(t, 4, 8)
	a := startNode(t, t.TempDir())
	if err := a.p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if a.g.joinedTopic(f.id) == nil {
		t.Fatal("tracked campaign has no topic")
	}
	a.p.Untrack(f.id)
	if a.g.joinedTopic(f.id) != nil {
		t.Fatal("untracked campaign still has a topic")
	}
	for _, topic := range a.ps.GetTopics() {
		if topic == Topic(f.id) {
			t.Fatalf("still subscribed to %s", topic)
		}
	}
	if err := a.g.Publish(context.Background(), f.id, f.shares[:1]); err == nil {
		t.Fatal("Publish of an untracked campaign succeeded")
	}
	// Tracking again joins again.
	if err := a.p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if err := a.g.Publish(context.Background(), f.id, f.shares[:1]); err != nil {
		t.Fatal(err)
	}
}

// The sync client keeps nothing from a snapshot unless every share in it
// is valid and it is the snapshot of the campaign asked for.
func TestSyncClient(t *testing.T) {
	f, other := newFixture(t, 12, 10), newFixture(t, 12, 11)
	a := startNode(t, t.TempDir())
	if err := a.p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	fake := p2ptest.Host(t)
	var mu sync.Mutex
	var resp []byte
	var reqs [][]byte
	fake.SetStreamHandler(SyncProtocol, func(s network.Stream) {
		defer s.Close()
		req, _ := io.ReadAll(s)
		mu.Lock()
		reqs = append(reqs, req)
		out := resp
		mu.Unlock()
		s.Write(out)
	})
	connect(t, a.h, fake)
	snap := func(id cid.Cid, list []shares.Share) []byte {
		return append([]byte{statusSnapshot}, encodeSnapshot(id, list)...)
	}
	mixed := append(slices.Clone(f.shares[:5]), f.bogus(f.shares[5:6])...)
	tests := []struct {
		name  string
		resp  []byte
		ok    bool
		known int
	}{
		{"one bogus share", snap(f.id, mixed), false, 0},
		{"another campaign", snap(other.id, other.shares), false, 0},
		{"garbage", []byte("S garbage"), false, 0},
		{"nothing", []byte{statusNone}, true, 0},
		{"valid", snap(f.id, f.shares[:6]), true, 6},
		{"valid, overlapping", snap(f.id, f.shares[4:9]), true, 9},
		{"too long", append(snap(f.id, f.shares), make([]byte, maxSnapshotHeader)...), false, 9},
	}
	for _, tt := range tests {
		mu.Lock()
		resp = tt.resp
		mu.Unlock()
		err := a.g.sync(context.Background(), fake.ID(), f.id)
		if (err == nil) != tt.ok || a.p.Known(f.id) != tt.known {
			t.Errorf("%s: got %v and %d shares known; want ok %v and %d", tt.name, err, a.p.Known(f.id), tt.ok, tt.known)
		}
	}
	// The asker names the snapshot it holds.
	mu.Lock()
	last := reqs[len(reqs)-1]
	mu.Unlock()
	id, have, err := decodeRequest(last)
	if err != nil || id != f.id || have != a.p.snapshotID(f.id) {
		t.Errorf("last request: %s, %s, %v; want %s and the asker's snapshot", id, have, err, f.id)
	}
}

// The sync server answers with its snapshot, or "nothing" to an asker
// that holds the same one, and resets malformed requests.
func TestSyncServer(t *testing.T) {
	f := newFixture(t, 8, 12)
	a := startNode(t, t.TempDir())
	if err := a.p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	asker := p2ptest.Host(t)
	connect(t, asker, a.h)
	ask := func(req []byte) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		s, err := asker.NewStream(ctx, a.h.ID(), SyncProtocol)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if _, err := s.Write(req); err != nil {
			return nil, err
		}
		s.CloseWrite()
		return io.ReadAll(s)
	}
	if got, err := ask(encodeRequest(f.id, cid.Undef)); err != nil || !bytes.Equal(got, []byte{statusNone}) {
		t.Fatalf("empty pool: got %q, %v; want N", got, err)
	}
	if _, err := a.p.Add(f.id, f.shares[:3]); err != nil {
		t.Fatal(err)
	}
	data, c, err := a.p.Snapshot(f.id)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  []byte
		want []byte // nil: the stream is reset
	}{
		{"no snapshot", encodeRequest(f.id, cid.Undef), append([]byte{statusSnapshot}, data...)},
		{"another snapshot", encodeRequest(f.id, rawCID([]byte("x"))), append([]byte{statusSnapshot}, data...)},
		{"the same snapshot", encodeRequest(f.id, c), []byte{statusNone}},
		{"unknown campaign", encodeRequest(rawCID([]byte("y")), cid.Undef), []byte{statusNone}},
		{"malformed", []byte{requestVersion, 1, 2, 3}, nil},
		{"too long", append(encodeRequest(f.id, c), make([]byte, maxRequest)...), nil},
	}
	for _, tt := range tests {
		got, err := ask(tt.req)
		if tt.want == nil {
			if err == nil && len(got) > 0 {
				t.Errorf("%s: got %d bytes, want a reset stream", tt.name, len(got))
			}
			continue
		}
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %d bytes (%q…), %v; want %d bytes", tt.name, len(got), got[:min(len(got), 1)], err, len(tt.want))
		}
	}
}
