package pool

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/shardcast/shardcast/internal/syncloop"
	"github.com/shardcast/shardcast/shares"
)

// TopicPrefix begins the gossipsub topic of every campaign's pool; the
// campaign ID (its CID as a string) follows.
const TopicPrefix = "/shardcast/pool/1/"

// SyncProtocol is the stream protocol a peer uses to ask another for the
// snapshot of a campaign's pool.
const SyncProtocol protocol.ID = "/shardcast/pool-sync/1.0.0"

// Limits and periods of the gossip, each with its reason.
const (
	// syncTimeout bounds one sync exchange: a snapshot of 10^6 shares is
	// 36 MB, well under a minute on any link worth syncing over.
	syncTimeout = time.Minute
	// maxServing is how many snapshots a node sends at once: each holds a
	// copy of a campaign's shares in memory. More requests are reset.
	maxServing = 4
	// antiEntropyEvery is how often a node pulls the pools of a few
	// topic peers for each campaign it has not completed: a message
	// published before its subscription was known, or dropped by a full
	// queue, never reaches it by gossip.
	antiEntropyEvery = 10 * time.Second
	antiEntropyPeers = 2
	// validateConcurrency bounds the validations of one topic running at
	// once; each verifies at most MaxBatch shares.
	validateConcurrency = 64
	validateTimeout     = 30 * time.Second
)

// Topic returns the gossipsub topic of campaign id's pool.
func Topic(id cid.Cid) string { return TopicPrefix + id.String() }

// Gossip spreads a Pool over a libp2p host: it joins the topic of every
// campaign the pool tracks, validates and stores what arrives, answers
// sync requests, and syncs with the peers of each topic it joins.
type Gossip struct {
	ctx     context.Context
	p       *Pool
	h       host.Host
	ps      *pubsub.PubSub
	log     *slog.Logger
	serving syncloop.Slots

	mu     sync.Mutex
	topics map[cid.Cid]*joined
}

// joined is one campaign topic the gossip takes part in.
type joined struct {
	topic   *pubsub.Topic
	sub     *pubsub.Subscription
	events  *pubsub.TopicEventHandler
	cancel  context.CancelFunc
	syncing syncloop.Slots // one sync of this campaign at a time
}

// StartGossip serves the sync protocol and joins the topic of every
// campaign p tracks, now and as Track and Untrack are called, until ctx
// is done. ps is the node's gossipsub instance, shared with other
// topics; created with PubSubOptions, it scores the peers of pool topics.
func StartGossip(ctx context.Context, p *Pool, h host.Host, ps *pubsub.PubSub, log *slog.Logger) (*Gossip, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gossip{
		ctx: ctx, p: p, h: h, ps: ps, log: log,
		serving: syncloop.NewSlots(maxServing),
		topics:  map[cid.Cid]*joined{},
	}
	h.SetStreamHandler(SyncProtocol, g.serveSync)
	for _, id := range p.watchTracking(g.reconcile) {
		g.reconcile(id)
	}
	go func() {
		<-ctx.Done()
		h.RemoveStreamHandler(SyncProtocol)
		g.mu.Lock()
		defer g.mu.Unlock()
		for id := range g.topics {
			g.leave(id)
		}
	}()
	go g.antiEntropy(ctx)
	return g, nil
}

// reconcile joins or leaves the topic of id to match whether the pool
// tracks it.
func (g *Gossip) reconcile(id cid.Cid) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx.Err() != nil {
		return
	}
	want, have := g.p.isTracked(id), g.topics[id] != nil
	switch {
	case want && !have:
		if err := g.join(id); err != nil {
			g.log.Warn("joining pool topic", "campaign", id, "err", err)
		}
	case !want && have:
		g.leave(id)
	}
}

// msgID names a pool message by its content, so that the same shares
// published by two peers travel once.
func msgID(m *pb.Message) string {
	sum := sha256.Sum256(m.Data)
	return string(sum[:])
}

// join joins the topic of id; the caller holds g.mu.
func (g *Gossip) join(id cid.Cid) error {
	name := Topic(id)
	err := g.ps.RegisterTopicValidator(name, g.validator(id),
		pubsub.WithValidatorConcurrency(validateConcurrency), pubsub.WithValidatorTimeout(validateTimeout))
	if err != nil {
		return fmt.Errorf("registering the validator of %s: %w", name, err)
	}
	j := &joined{syncing: syncloop.NewSlots(1)}
	fail := func(err error) error {
		if j.events != nil {
			j.events.Cancel()
		}
		if j.sub != nil {
			j.sub.Cancel()
		}
		if j.topic != nil {
			j.topic.Close()
		}
		g.ps.UnregisterTopicValidator(name)
		return err
	}
	if j.topic, err = g.ps.Join(name, pubsub.WithTopicMessageIdFn(msgID)); err != nil {
		return fail(fmt.Errorf("joining %s: %w", name, err))
	}
	if err := j.topic.SetScoreParams(TopicScoreParams()); err != nil {
		g.log.Debug("pool topic without peer scoring", "topic", name, "err", err)
	}
	if j.sub, err = j.topic.Subscribe(); err != nil {
		return fail(fmt.Errorf("subscribing to %s: %w", name, err))
	}
	if j.events, err = j.topic.EventHandler(); err != nil {
		return fail(fmt.Errorf("watching %s: %w", name, err))
	}
	ctx, cancel := context.WithCancel(g.ctx)
	j.cancel = cancel
	g.topics[id] = j
	go syncloop.Drain(ctx, j.sub)
	// Anti-entropy on join: sync with every peer that joins the topic.
	go syncloop.OnJoin(ctx, j.events, func(p peer.ID) { g.syncWith(ctx, p, id) })
	return nil
}

// leave leaves the topic of id; the caller holds g.mu.
func (g *Gossip) leave(id cid.Cid) {
	j := g.topics[id]
	if j == nil {
		return
	}
	delete(g.topics, id)
	j.cancel()
	j.events.Cancel()
	j.sub.Cancel()
	if err := j.topic.Close(); err != nil {
		g.log.Debug("closing pool topic", "campaign", id, "err", err)
	}
	g.ps.UnregisterTopicValidator(Topic(id))
}

func (g *Gossip) joinedTopic(id cid.Cid) *joined {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.topics[id]
}

// validator checks a message of id's topic: malformed or carrying any bad
// share → reject (the sender's score drops); valid → stored, then
// accepted and forwarded. A local failure to store is no fault of the
// sender: ignore.
func (g *Gossip) validator(id cid.Cid) func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult {
	return func(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		list, err := decodeMessage(msg.Data)
		if err != nil {
			g.log.Debug("rejected pool message", "campaign", id, "from", from, "err", err)
			return pubsub.ValidationReject
		}
		if _, err := g.p.Add(id, list); err != nil {
			if errors.Is(err, shares.ErrBadShare) {
				g.log.Debug("rejected pool message", "campaign", id, "from", from, "err", err)
				return pubsub.ValidationReject
			}
			g.log.Debug("ignored pool message", "campaign", id, "from", from, "err", err)
			return pubsub.ValidationIgnore
		}
		return pubsub.ValidationAccept
	}
}

// Publish verifies and stores shares of campaign id (Pool.Add), then
// announces them on the campaign's topic in messages of at most MaxBatch
// shares. The campaign must be tracked. A large release (thousands of
// messages) can overflow peers' queues; what they miss they get by sync
// within antiEntropyEvery.
func (g *Gossip) Publish(ctx context.Context, id cid.Cid, list []shares.Share) error {
	if _, err := g.p.Add(id, list); err != nil {
		return err
	}
	j := g.joinedTopic(id)
	if j == nil {
		return fmt.Errorf("pool: publishing shares of %s: %w", id, ErrNotTracked)
	}
	sorted, _ := sortShares(list) // Add checked that no index has two values
	for lo := 0; lo < len(sorted); lo += MaxBatch {
		batch := sorted[lo:min(lo+MaxBatch, len(sorted))]
		if err := j.topic.Publish(ctx, encodeMessage(batch)); err != nil {
			return fmt.Errorf("pool: publishing %d shares of %s: %w", len(batch), id, err)
		}
	}
	return nil
}

// antiEntropy pulls, every antiEntropyEvery, the pools of a few topic
// peers for each campaign not yet complete.
func (g *Gossip) antiEntropy(ctx context.Context) {
	syncloop.Every(ctx, antiEntropyEvery, func() {
		g.mu.Lock()
		var work []func()
		for id, j := range g.topics {
			if g.p.Complete(id) {
				continue
			}
			for _, p := range syncloop.Pick(j.topic.ListPeers(), antiEntropyPeers) {
				work = append(work, func() { g.syncWith(ctx, p, id) })
			}
		}
		g.mu.Unlock()
		for _, w := range work {
			go w()
		}
	})
}

// serveSync answers one sync request with the snapshot of the campaign
// asked for, or "nothing" if the pool holds no share of it or the asker
// already holds the same snapshot.
func (g *Gossip) serveSync(s network.Stream) {
	defer s.Close()
	if !g.serving.TryAcquire() {
		s.Reset()
		return
	}
	defer g.serving.Release()
	s.SetDeadline(time.Now().Add(syncTimeout))
	req, err := io.ReadAll(io.LimitReader(s, maxRequest+1))
	if err != nil || len(req) > maxRequest {
		s.Reset()
		return
	}
	id, theirs, err := decodeRequest(req)
	if err != nil {
		g.log.Debug("pool sync: bad request", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
		return
	}
	var resp []byte
	// snapshotID is cached: an asker that holds the same snapshot costs
	// no encoding.
	if ours := g.p.snapshotID(id); ours.Defined() && ours != theirs {
		data, ours, err := g.p.Snapshot(id)
		if err == nil && ours != theirs {
			resp = append(append(make([]byte, 0, 1+len(data)), statusSnapshot), data...)
		}
	}
	if resp == nil {
		resp = []byte{statusNone}
	}
	if _, err := s.Write(resp); err != nil {
		s.Reset()
	}
}

// syncWith asks peer p for its snapshot of campaign id and adds the
// shares it lacks, all verified before any is kept. Peers that do not
// speak the protocol are skipped; one sync per campaign runs at a time.
func (g *Gossip) syncWith(ctx context.Context, p peer.ID, id cid.Cid) {
	if err := g.sync(ctx, p, id); err != nil {
		g.log.Debug("pool sync", "campaign", id, "peer", p, "err", err)
	}
}

func (g *Gossip) sync(ctx context.Context, p peer.ID, id cid.Cid) error {
	j := g.joinedTopic(id)
	if j == nil || p == g.h.ID() {
		return nil
	}
	if err := j.syncing.Acquire(ctx); err != nil {
		return err
	}
	defer j.syncing.Release()
	n := g.p.Needed(id)
	if n == 0 || g.p.Complete(id) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	s, err := g.h.NewStream(network.WithAllowLimitedConn(ctx, "pool"), p, SyncProtocol)
	if err != nil {
		return nil // not a shardcast peer, or gone
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(syncTimeout))
	if _, err := s.Write(encodeRequest(id, g.p.snapshotID(id))); err != nil {
		s.Reset()
		return fmt.Errorf("sending request: %w", err)
	}
	s.CloseWrite()
	limit := int64(1+maxSnapshotHeader) + int64(n)*shares.ShareSize
	data, err := io.ReadAll(io.LimitReader(s, limit+1))
	if err != nil {
		s.Reset()
		return fmt.Errorf("reading snapshot: %w", err)
	}
	switch {
	case len(data) == 1 && data[0] == statusNone:
		return nil
	case int64(len(data)) > limit || len(data) < 1 || data[0] != statusSnapshot:
		return fmt.Errorf("response of %d bytes is neither nothing nor a snapshot", len(data))
	}
	got, list, err := DecodeSnapshot(data[1:])
	if err != nil {
		return err
	}
	if got != id {
		return fmt.Errorf("asked for %s, got a snapshot of %s", id, got)
	}
	added, err := g.p.Add(id, list)
	if err != nil {
		return err
	}
	g.log.Debug("pool sync", "campaign", id, "peer", p, "shares", len(list), "added", added)
	return nil
}
