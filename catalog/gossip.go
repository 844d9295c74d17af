package catalog

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/shardcast/shardcast/internal/peerlimit"
	"github.com/shardcast/shardcast/internal/syncloop"
)

// Topic is the gossipsub topic of the catalog.
const Topic = "/shardcast/catalog/1"

// SyncProtocol is the stream protocol two peers use to exchange their whole
// catalogs when they connect.
const SyncProtocol protocol.ID = "/shardcast/catalog-sync/1.0.0"

// PushProtocol is the stream protocol a node uses to hand what it just
// published to the peers it is connected to, at once: gossip reaches only
// peers whose subscription it already knows.
const PushProtocol protocol.ID = "/shardcast/catalog-push/1.0.0"

// Limits on what a peer may send. A record is a kind byte and a manifest
// (at most campaign.MaxManifestSize), a state or a proof (at most
// MaxProofSize); a sync carries at most maxSyncEntries records.
const (
	maxRecord = 1 + MaxProofSize
	// maxSyncEntries bounds the records one sync brings: a manifest and
	// a state per campaign, for the budget of campaigns not followed
	// (512) and many times that followed.
	maxSyncEntries = 16_384
	// maxSyncProofs is how many proofs new to this node one sync may
	// bring; the next sync brings the rest.
	maxSyncProofs = 16
	syncTimeout   = 30 * time.Second
	// antiEntropyEvery is how often a node pulls the catalogs of
	// antiEntropyPeers topic peers.
	antiEntropyEvery = 10 * time.Second
	antiEntropyPeers = 3
	// maxGossipProof is the largest proof sent on the topic: gossipsub
	// drops messages above 1 MiB by default. Larger ones go by push and
	// sync only.
	maxGossipProof = 1<<20 - 4<<10
	// maxPulls bounds the syncs this node runs at once, whatever makes
	// it start them (connections, topic joins, anti-entropy).
	maxPulls = 8
	// validateConcurrency bounds the topic's validations under way; one
	// may wait up to verifyTimeout on the proof verifier.
	validateConcurrency = 256
)

// Message kinds, the first byte of every gossip message and sync record.
const (
	kindManifest byte = 'M' // followed by the manifest
	kindState    byte = 'S' // followed by the campaign ID's length (1 byte), the ID, then the state
	kindProof    byte = 'P' // followed by a proof of misbehaviour
)

// Gossip spreads a Catalog over a libp2p host.
type Gossip struct {
	c     *Catalog
	h     host.Host
	topic *pubsub.Topic
	log   *slog.Logger
	lim   limiters
	// pulling bounds the syncs this node runs at once (maxPulls); nil
	// bounds nothing.
	pulling syncloop.Slots
}

// limiters bound, per peer, what it hands this node (package peerlimit
// gives the figures and their reasons). A nil limiter bounds nothing.
type limiters struct {
	manifests, states, proofs, syncs, pushes *peerlimit.Limiter
	// pulls bounds the syncs this node starts with one peer: a peer that
	// reconnects or joins the topic again and again gets one at the rate
	// it may ask of us.
	pulls *peerlimit.Limiter
}

func newLimiters() limiters {
	return limiters{
		manifests: peerlimit.New(peerlimit.CatalogManifests),
		states:    peerlimit.New(peerlimit.CatalogStates),
		proofs:    peerlimit.New(peerlimit.CatalogProofs),
		syncs:     peerlimit.New(peerlimit.CatalogSyncs),
		pushes:    peerlimit.New(peerlimit.CatalogPushes),
		pulls:     peerlimit.New(peerlimit.CatalogSyncs),
	}
}

// self is this node's peer ID: what it publishes itself is not rated.
func (g *Gossip) self() peer.ID {
	if g.h == nil {
		return ""
	}
	return g.h.ID()
}

// errRate says that a peer sent more than its share; it is not the
// message's fault.
var errRate = errors.New("catalog: peer over its rate")

// allow takes a token of p for a record of the given kind.
func (l *limiters) allow(p peer.ID, kind byte) bool {
	switch kind {
	case kindManifest:
		return l.manifests.Allow(p)
	case kindState:
		return l.states.Allow(p)
	case kindProof:
		return l.proofs.Allow(p)
	}
	return true
}

// StartGossip joins the catalog topic, serves the sync protocol and syncs
// with every peer that connects, until ctx is done.
func StartGossip(ctx context.Context, c *Catalog, h host.Host, ps *pubsub.PubSub, log *slog.Logger) (*Gossip, error) {
	g := &Gossip{c: c, h: h, log: log, lim: newLimiters(), pulling: syncloop.NewSlots(maxPulls)}
	err := ps.RegisterTopicValidator(Topic, g.validate,
		pubsub.WithValidatorTimeout(verifyTimeout+5*time.Second), pubsub.WithValidatorConcurrency(validateConcurrency))
	if err != nil {
		return nil, fmt.Errorf("catalog validator: %w", err)
	}
	if g.topic, err = ps.Join(Topic); err != nil {
		return nil, fmt.Errorf("joining %s: %w", Topic, err)
	}
	sub, err := g.topic.Subscribe()
	if err != nil {
		return nil, fmt.Errorf("subscribing to %s: %w", Topic, err)
	}
	go syncloop.Drain(ctx, sub)
	h.SetStreamHandler(SyncProtocol, g.serveSync)
	h.SetStreamHandler(PushProtocol, g.servePush)
	h.Network().Notify(&network.NotifyBundle{
		ConnectedF: func(_ network.Network, conn network.Conn) {
			go g.syncWith(ctx, conn.RemotePeer())
		},
	})
	events, err := g.topic.EventHandler()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", Topic, err)
	}
	go g.antiEntropy(ctx, events)
	return g, nil
}

// antiEntropy pulls the catalog of every peer that joins the topic, and
// every antiEntropyEvery that of a few connected peers: a message published
// before a peer's subscription was known never reaches it by gossip.
func (g *Gossip) antiEntropy(ctx context.Context, events *pubsub.TopicEventHandler) {
	go func() {
		defer events.Cancel()
		syncloop.OnJoin(ctx, events, func(p peer.ID) { g.syncWith(ctx, p) })
	}()
	syncloop.Every(ctx, antiEntropyEvery, func() {
		for _, p := range syncloop.Pick(g.topic.ListPeers(), antiEntropyPeers) {
			go g.syncWith(ctx, p)
		}
	})
}

// validate is the topic's validator. It rejects (at a cost to the sender's
// score) what is false, and ignores what is merely unwelcome or cannot be
// checked now: a manifest or state of an accused creator, whose sender may
// not know the proof yet, or a proof the verifier could not decide.
//
// A peer over its rate (from is the peer that relayed the message, often
// not its author) and a campaign the budget has no room for are ignored
// too: an honest relay forwards what others published.
func (g *Gossip) validate(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
	var err error
	if len(m.Data) > 0 && from != g.self() && !g.lim.allow(from, m.Data[0]) {
		err = errRate
	} else {
		err = g.accept(ctx, from, m.Data, false)
	}
	switch {
	case err == nil:
		return pubsub.ValidationAccept
	case errors.Is(err, ErrRejected) || errors.Is(err, ErrBudget) || errors.Is(err, errRate) || undecided(err):
		g.log.Debug("ignored catalog message", "from", from, "err", err)
		return pubsub.ValidationIgnore
	}
	g.log.Debug("rejected catalog message", "from", from, "err", err)
	return pubsub.ValidationReject
}

// accept verifies and stores one message that source brought. Unless
// wait, a proof that finds every verifier busy fails with errBusy.
func (g *Gossip) accept(ctx context.Context, source peer.ID, data []byte, wait bool) error {
	if len(data) == 0 {
		return errors.New("empty message")
	}
	switch data[0] {
	case kindManifest:
		_, _, err := g.c.add(data[1:], source)
		return err
	case kindState:
		id, raw, err := splitState(data[1:])
		if err != nil {
			return err
		}
		_, err = g.c.AddState(id, raw)
		return err
	case kindProof:
		return g.learnProof(ctx, data[1:], wait)
	}
	return fmt.Errorf("unknown message kind %#x", data[0])
}

// learnProof adds a proof that came from a peer and, the first time, pushes
// it on to every connected peer: proofs are rare, and must reach every node
// even before the gossip mesh forms. Each node relays a proof once.
func (g *Gossip) learnProof(ctx context.Context, raw []byte, wait bool) error {
	added, err := g.c.addProof(ctx, raw, wait)
	if added && g.h != nil {
		g.push(proofMsg(raw))
	}
	return err
}

func splitState(data []byte) (cid.Cid, []byte, error) {
	if len(data) < 1 || len(data) < 1+int(data[0]) {
		return cid.Undef, nil, errors.New("truncated state message")
	}
	id, err := cid.Cast(data[1 : 1+int(data[0])])
	if err != nil {
		return cid.Undef, nil, fmt.Errorf("state message campaign ID: %w", err)
	}
	return id, data[1+int(data[0]):], nil
}

func manifestMsg(raw []byte) []byte { return append([]byte{kindManifest}, raw...) }

func proofMsg(raw []byte) []byte { return append([]byte{kindProof}, raw...) }

func stateMsg(id cid.Cid, raw []byte) []byte {
	b := id.Bytes()
	out := append([]byte{kindState, byte(len(b))}, b...)
	return append(out, raw...)
}

// PublishManifest stores a manifest and announces it.
func (g *Gossip) PublishManifest(ctx context.Context, raw []byte) (Entry, error) {
	e, _, err := g.c.Add(raw)
	if err != nil {
		return Entry{}, err
	}
	if err := g.topic.Publish(ctx, manifestMsg(raw)); err != nil {
		return Entry{}, fmt.Errorf("announcing campaign %s: %w", e.ID, err)
	}
	g.push(manifestMsg(raw))
	return e, nil
}

// PublishState stores a state record and announces it.
func (g *Gossip) PublishState(ctx context.Context, id cid.Cid, raw []byte) error {
	if _, err := g.c.AddState(id, raw); err != nil {
		return err
	}
	if err := g.topic.Publish(ctx, stateMsg(id, raw)); err != nil {
		return fmt.Errorf("announcing state of %s: %w", id, err)
	}
	g.push(stateMsg(id, raw))
	return nil
}

// PublishProof verifies and stores a proof of misbehaviour (see AddProof)
// and announces it, even if the catalog held it already.
func (g *Gossip) PublishProof(ctx context.Context, raw []byte) error {
	if _, err := g.c.AddProof(ctx, raw); err != nil {
		return err
	}
	msg := proofMsg(raw)
	if len(raw) <= maxGossipProof {
		if err := g.topic.Publish(ctx, msg); err != nil {
			return fmt.Errorf("announcing a proof of misbehaviour: %w", err)
		}
	}
	g.push(msg)
	return nil
}

// serveSync writes every proof, manifest and state the catalog holds,
// proofs first.
func (g *Gossip) serveSync(s network.Stream) {
	if !g.lim.syncs.Allow(s.Conn().RemotePeer()) {
		s.Reset()
		return
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(syncTimeout))
	w := bufio.NewWriter(s)
	for _, p := range g.c.Proofs() {
		if writeRecord(w, proofMsg(p)) != nil {
			s.Reset()
			return
		}
	}
	for _, e := range g.c.List() {
		if writeRecord(w, manifestMsg(e.Raw)) != nil {
			s.Reset()
			return
		}
		if e.RawState != nil && writeRecord(w, stateMsg(e.ID, e.RawState)) != nil {
			s.Reset()
			return
		}
	}
	if w.Flush() != nil {
		s.Reset()
	}
}

func writeRecord(w *bufio.Writer, rec []byte) error {
	var n [binary.MaxVarintLen64]byte
	if _, err := w.Write(n[:binary.PutUvarint(n[:], uint64(len(rec)))]); err != nil {
		return err
	}
	_, err := w.Write(rec)
	return err
}

// syncWith fetches a peer's catalog. Peers that do not speak the protocol
// (Kubo, say) are skipped. Proofs new to this node are verified once the
// stream is done, since the verifier may take a while; up to
// maxSyncProofs of them.
func (g *Gossip) syncWith(ctx context.Context, p peer.ID) {
	if !g.lim.pulls.Allow(p) {
		return
	}
	if !g.pulling.TryAcquire() {
		return // enough syncs under way; anti-entropy comes back
	}
	defer g.pulling.Release()
	var proofs [][]byte
	g.pull(ctx, p, func(rec []byte) {
		if rec[0] != kindProof {
			if err := g.accept(ctx, p, rec, true); err != nil {
				g.log.Debug("catalog sync: rejected record", "peer", p, "err", err)
			}
			return
		}
		if len(proofs) < maxSyncProofs && !g.c.knowsProof(rec[1:]) {
			proofs = append(proofs, rec[1:])
		}
	})
	for _, raw := range proofs {
		if err := g.learnProof(ctx, raw, true); err != nil {
			g.log.Debug("catalog sync: rejected proof", "peer", p, "err", err)
		}
	}
}

// pull reads a peer's catalog and hands each record to f.
func (g *Gossip) pull(ctx context.Context, p peer.ID, f func(rec []byte)) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	s, err := g.h.NewStream(network.WithAllowLimitedConn(ctx, "catalog"), p, SyncProtocol)
	if err != nil {
		return
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(syncTimeout))
	s.CloseWrite()
	r := bufio.NewReader(s)
	for i := 0; i < maxSyncEntries; i++ {
		rec, err := readRecord(r)
		if err == io.EOF {
			return
		}
		if err != nil {
			g.log.Debug("catalog sync", "peer", p, "err", err)
			s.Reset()
			return
		}
		f(rec)
	}
}

func readRecord(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > maxRecord {
		return nil, fmt.Errorf("record of %d bytes", n)
	}
	rec := make([]byte, n)
	if _, err := io.ReadFull(r, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// push hands one record to every connected peer that speaks PushProtocol,
// in the background.
func (g *Gossip) push(rec []byte) {
	for _, p := range g.h.Network().Peers() {
		if ok, err := g.h.Peerstore().SupportsProtocols(p, PushProtocol); err != nil || len(ok) == 0 {
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
			defer cancel()
			s, err := g.h.NewStream(network.WithNoDial(ctx, "catalog push"), p, PushProtocol)
			if err != nil {
				return
			}
			s.SetDeadline(time.Now().Add(syncTimeout))
			w := bufio.NewWriter(s)
			if writeRecord(w, rec) != nil || w.Flush() != nil {
				s.Reset()
				return
			}
			s.Close()
		}()
	}
}

// servePush accepts the records a peer pushes, verifying each.
func (g *Gossip) servePush(s network.Stream) {
	remote := s.Conn().RemotePeer()
	if !g.lim.pushes.Allow(remote) {
		s.Reset()
		return
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(syncTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	r := bufio.NewReader(s)
	for i := 0; i < 16; i++ {
		rec, err := readRecord(r)
		if err != nil {
			return
		}
		if !g.lim.allow(remote, rec[0]) {
			s.Reset()
			return
		}
		if err := g.accept(ctx, remote, rec, true); err != nil {
			g.log.Debug("catalog push: rejected record", "peer", remote, "err", err)
			s.Reset()
			return
		}
	}
}
