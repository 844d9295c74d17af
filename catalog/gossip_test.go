package catalog

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/shardcast/shardcast/internal/p2ptest"
)

// waitLimit bounds every wait of the network tests: generous for a loaded
// 2-core machine, never reached when things work.
const waitLimit = 30 * time.Second

// testNode is one peer on loopback: a host, gossipsub, a catalog that
// checks proofs with fakeVerify, and its gossip. Its channels hear what
// the catalog learns.
type testNode struct {
	h       host.Host
	c       *Catalog
	g       *Gossip
	mesh    *meshTracer
	entries chan cid.Cid
	accused chan peer.ID
}

// meshTracer follows which peers are in a node's gossipsub mesh.
type meshTracer struct {
	mu      sync.Mutex
	peers   map[peer.ID]bool
	changed chan struct{} // signalled on every change
}

func (m *meshTracer) set(p peer.ID, in bool) {
	m.mu.Lock()
	m.peers[p] = in
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

func (m *meshTracer) has(p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peers[p]
}

func (m *meshTracer) Graft(p peer.ID, _ string)                            { m.set(p, true) }
func (m *meshTracer) Prune(p peer.ID, _ string)                            { m.set(p, false) }
func (m *meshTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (m *meshTracer) OnClosedOutboundStream(peer.ID)                       {}
func (m *meshTracer) Join(string)                                          {}
func (m *meshTracer) Leave(string)                                         {}
func (m *meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (m *meshTracer) DeliverMessage(*pubsub.Message)                       {}
func (m *meshTracer) RejectMessage(*pubsub.Message, string)                {}
func (m *meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (m *meshTracer) ThrottlePeer(peer.ID)                                 {}
func (m *meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (m *meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (m *meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (m *meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (m *meshTracer) UndeliverableMessage(*pubsub.Message)                 {}

// waitMesh waits until n has p in its mesh.
func waitMesh(t *testing.T, n *testNode, p peer.ID) {
	t.Helper()
	deadline := time.After(waitLimit)
	for !n.mesh.has(p) {
		select {
		case <-n.mesh.changed:
		case <-deadline:
			t.Fatalf("%s: %s not in the mesh after %v", n.h.ID(), p, waitLimit)
		}
	}
}

// newTestNode opens a catalog with fakeVerify on a fresh host; gossip is
// started unless gossip is false.
func newTestNode(t *testing.T, gossip bool) *testNode {
	t.Helper()
	c, err := Open(t.TempDir(), WithProofVerifier(fakeVerify))
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{h: p2ptest.Host(t), c: c, entries: make(chan cid.Cid, 64), accused: make(chan peer.ID, 64),
		mesh: &meshTracer{peers: map[peer.ID]bool{}, changed: make(chan struct{}, 1)}}
	c.OnNew(func(e Entry) { n.entries <- e.ID })
	c.OnProof(func(creator peer.ID, _ cid.Cid, _ string) { n.accused <- creator })
	if !gossip {
		n.g = &Gossip{c: c, h: n.h, log: slog.New(slog.DiscardHandler)}
		return n
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ps, err := pubsub.NewGossipSub(ctx, n.h, pubsub.WithRawTracer(n.mesh))
	if err != nil {
		t.Fatal(err)
	}
	if n.g, err = StartGossip(ctx, c, n.h, ps, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	return n
}

func connectNodes(t *testing.T, a, b *testNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := a.h.Connect(ctx, peer.AddrInfo{ID: b.h.ID(), Addrs: b.h.Addrs()}); err != nil {
		t.Fatalf("connecting %s to %s: %v", a.h.ID(), b.h.ID(), err)
	}
}

// waitTopicPeer waits until n knows that p is subscribed to the topic.
func waitTopicPeer(t *testing.T, n *testNode, p peer.ID) {
	t.Helper()
	ev, err := n.g.topic.EventHandler()
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Cancel()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for {
		e, err := ev.NextPeerEvent(ctx)
		if err != nil {
			t.Fatalf("%s never saw %s join the topic: %v", n.h.ID(), p, err)
		}
		if e.Peer == p && e.Type == pubsub.PeerJoin {
			return
		}
	}
}

func waitFor[T comparable](t *testing.T, name string, ch <-chan T, want T) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("%s: did not hear of %v within %v", name, want, waitLimit)
		}
	}
}

// A proof published on one node reaches the nodes two hops away: one by
// the relay of the push protocol, one that speaks neither push nor sync by
// gossip alone. From then on they mark the creator's campaigns and refuse
// new ones. A node that joins later learns the proof by syncing.
func TestProofSpreads(t *testing.T) {
	a, b, c, g := newTestNode(t, true), newTestNode(t, true), newTestNode(t, true), newTestNode(t, true)
	// g hears only gossip: it neither takes pushes nor finds b's catalog.
	g.h.RemoveStreamHandler(PushProtocol)
	b.h.RemoveStreamHandler(SyncProtocol)
	connectNodes(t, a, b)
	connectNodes(t, b, c)
	connectNodes(t, b, g)
	waitTopicPeer(t, b, c.h.ID())
	waitMesh(t, a, b.h.ID())
	waitMesh(t, b, g.h.ID())

	// The campaign comes from the middle node.
	k, raw := testManifest(t, "sold bad shares")
	creator := creatorOf(t, k)
	e, err := b.g.PublishManifest(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first node, manifest", a.entries, e.ID)
	waitFor(t, "third node, manifest", c.entries, e.ID)
	waitFor(t, "fourth node, manifest", g.entries, e.ID)

	const reason = "offer 1 sold shares [0] that fail"
	if err := a.g.PublishProof(context.Background(), fakeProof(creator, e.ID, reason)); err != nil {
		t.Fatal(err)
	}
	// A false proof is refused at the source.
	if err := a.g.PublishProof(context.Background(), []byte("junk")); err == nil {
		t.Error("PublishProof accepted a false proof")
	}
	waitFor(t, "second node", b.accused, creator)
	waitFor(t, "third node, by push", c.accused, creator)
	waitFor(t, "fourth node, by gossip", g.accused, creator)

	newer := signWith(t, k, "sold bad shares, again")
	for _, n := range []*testNode{a, b, c, g} {
		if got, err := n.c.Get(e.ID); err != nil || got.Rejected != reason {
			t.Errorf("%s: Get(%s).Rejected = %q, %v; want %q", n.h.ID(), e.ID, got.Rejected, err, reason)
		}
		if _, _, err := n.c.Add(newer); !errors.Is(err, ErrRejected) {
			t.Errorf("%s: Add of the creator's new manifest: got %v, want %v", n.h.ID(), err, ErrRejected)
		}
	}
	if _, err := a.g.PublishManifest(context.Background(), newer); !errors.Is(err, ErrRejected) {
		t.Errorf("PublishManifest of the creator's new manifest: got %v, want %v", err, ErrRejected)
	}

	// A late joiner syncs by hand with the third node; its gossip is not
	// started, so nothing else can tell it.
	d := newTestNode(t, false)
	connectNodes(t, d, c)
	d.g.syncWith(context.Background(), c.h.ID())
	if got, ok := d.c.Banned(creator); !ok || got != reason {
		t.Fatalf("late joiner: Banned = %q, %v; want %q, true", got, ok, reason)
	}
	if _, _, err := d.c.Add(newer); !errors.Is(err, ErrRejected) {
		t.Errorf("late joiner: Add of the creator's new manifest: got %v, want %v", err, ErrRejected)
	}
	if got, want := len(d.c.Proofs()), 1; got != want {
		t.Errorf("late joiner holds %d proofs, want %d", got, want)
	}
	// The sync brought the campaign before the proof: it is held, marked.
	if got, err := d.c.Get(e.ID); err != nil || got.Rejected != reason {
		t.Errorf("late joiner: Get(%s).Rejected = %q, %v; want %q", e.ID, got.Rejected, err, reason)
	}
}
