package xfer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/exchange"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A session looks for more sources, until it has maxSources, on one block
// in exploreEvery.
const (
	maxSources   = 4
	exploreEvery = 4
)

// maxAsk is how many peers outside a session's known sources are asked for
// a block before it falls back to bitswap.
const maxAsk = 8

// banTime is how long a peer that sent a block that does not match its
// CID is not asked over xfer again.
const banTime = 10 * time.Minute

// Exchange is an exchange.SessionExchange that asks peers over xfer first
// and falls back to another exchange (bitswap).
type Exchange struct {
	h     host.Host
	inner exchange.SessionExchange
	// recent are peers that served blocks lately, shared by sessions: the
	// first block of a new session is asked of them first.
	recent *peerSet
	stall  time.Duration
	pipes  pipelines

	banMu  sync.Mutex
	banned map[peer.ID]time.Time // until when
}

var _ exchange.SessionExchange = (*Exchange)(nil)

// Option configures an Exchange.
type Option func(*Exchange)

// WithStallTimeout sets how long a peer may keep wants unanswered without
// sending a byte before its stream is dropped (DefaultStallTimeout).
func WithStallTimeout(d time.Duration) Option {
	return func(e *Exchange) {
		if d > 0 {
			e.stall = d
		}
	}
}

// NewExchange returns an Exchange on h in front of inner.
func NewExchange(h host.Host, inner exchange.SessionExchange, opts ...Option) *Exchange {
	e := &Exchange{h: h, inner: inner, recent: newPeerSet(), stall: DefaultStallTimeout,
		pipes: pipelines{m: map[peer.ID][]*pipeline{}}, banned: map[peer.ID]time.Time{}}
	for _, o := range opts {
		o(e)
	}
	return e
}

// ban stops asking p over xfer for banTime.
func (e *Exchange) ban(p peer.ID) {
	e.banMu.Lock()
	defer e.banMu.Unlock()
	now := time.Now()
	for q, until := range e.banned {
		if now.After(until) {
			delete(e.banned, q)
		}
	}
	e.banned[p] = now.Add(banTime)
}

func (e *Exchange) isBanned(p peer.ID) bool {
	e.banMu.Lock()
	defer e.banMu.Unlock()
	until, ok := e.banned[p]
	return ok && time.Now().Before(until)
}

// GetBlock implements exchange.Fetcher.
func (e *Exchange) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return e.fetcher(e.inner).GetBlock(ctx, c)
}

// GetBlocks implements exchange.Fetcher.
func (e *Exchange) GetBlocks(ctx context.Context, cids []cid.Cid) (<-chan blocks.Block, error) {
	return e.fetcher(e.inner).GetBlocks(ctx, cids)
}

// NewSession implements exchange.SessionExchange.
func (e *Exchange) NewSession(ctx context.Context) exchange.Fetcher {
	return e.fetcher(e.inner.NewSession(ctx))
}

// NotifyNewBlocks implements exchange.Interface.
func (e *Exchange) NotifyNewBlocks(ctx context.Context, blks ...blocks.Block) error {
	return e.inner.NotifyNewBlocks(ctx, blks...)
}

// Close implements io.Closer: it ends the streams to peers and closes the
// inner exchange.
func (e *Exchange) Close() error {
	e.pipes.mu.Lock()
	pls := e.pipes.m
	e.pipes.m = map[peer.ID][]*pipeline{}
	e.pipes.mu.Unlock()
	for _, ps := range pls {
		for _, pl := range ps {
			pl.fail(errors.New("exchange closed"))
		}
	}
	return e.inner.Close()
}

func (e *Exchange) fetcher(inner exchange.Fetcher) *fetcher {
	return &fetcher{e: e, inner: inner, good: newPeerSet()}
}

// fetcher is one session: it remembers which peers held its blocks.
type fetcher struct {
	e     *Exchange
	inner exchange.Fetcher
	good  *peerSet
	next  atomic.Uint64
}

// GetBlock asks the session's sources in turn, then a few other xfer peers,
// then the inner exchange.
func (f *fetcher) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	tried := map[peer.ID]bool{}
	try := func(p peer.ID) (blocks.Block, bool) {
		if tried[p] || f.e.isBanned(p) {
			return nil, false
		}
		tried[p] = true
		b, err := f.e.fetchFrom(ctx, p, c)
		if err == nil {
			f.good.add(p)
			f.e.recent.add(p)
			return b, true
		}
		if !errors.Is(err, errNotHave) {
			f.good.remove(p)
			f.e.recent.remove(p)
		}
		return nil, false
	}
	good := f.good.list()
	// Every few blocks, while the session has few sources, ask a peer that
	// is not one of them first: a file several peers hold is then fetched
	// from all of them at once.
	if n := f.next.Load(); len(good) < maxSources && n%exploreEvery == exploreEvery-1 {
		for _, p := range f.e.capablePeers() {
			if !f.good.has(p) {
				if b, ok := try(p); ok {
					f.next.Add(1)
					return b, nil
				}
				break
			}
		}
	}
	if n := len(good); n > 0 {
		start := int(f.next.Add(1) % uint64(n))
		for i := range n {
			if b, ok := try(good[(start+i)%n]); ok {
				return b, nil
			}
		}
	}
	for _, p := range f.e.recent.list() {
		if b, ok := try(p); ok {
			return b, nil
		}
	}
	asked := 0
	for _, p := range f.e.capablePeers() {
		if asked >= maxAsk || ctx.Err() != nil {
			break
		}
		if tried[p] {
			continue
		}
		asked++
		if b, ok := try(p); ok {
			return b, nil
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return f.inner.GetBlock(ctx, c)
}

// GetBlocks fetches cids concurrently and sends each block as it arrives.
func (f *fetcher) GetBlocks(ctx context.Context, cids []cid.Cid) (<-chan blocks.Block, error) {
	out := make(chan blocks.Block)
	go func() {
		defer close(out)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for _, c := range cids {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				b, err := f.GetBlock(ctx, c)
				if err != nil {
					return
				}
				select {
				case out <- b:
				case <-ctx.Done():
				}
			}()
		}
		wg.Wait()
	}()
	return out, nil
}

// capablePeers lists connected peers that speak xfer, shuffled.
func (e *Exchange) capablePeers() []peer.ID {
	var out []peer.ID
	for _, p := range e.h.Network().Peers() {
		if e.isBanned(p) {
			continue
		}
		if ok, err := e.h.Peerstore().SupportsProtocols(p, Protocol11, Protocol); err == nil && len(ok) > 0 {
			out = append(out, p)
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// fetchFrom asks p for c: over the pipelined stream to p, or over a
// stream of its own to a peer that speaks only Protocol 1.0.0. A peer
// that sends a wrong block is banned.
func (e *Exchange) fetchFrom(ctx context.Context, p peer.ID, c cid.Cid) (blocks.Block, error) {
	pl, err := e.pipeline(ctx, p)
	if errors.Is(err, errNoPipeline) {
		b, err := e.fetchFrom10(ctx, p, c)
		if errors.Is(err, ErrWrongBlock) {
			e.ban(p)
		}
		return b, err
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	b, err := pl.get(ctx, c)
	switch {
	case err == nil, errors.Is(err, errNotHave), ctx.Err() != nil:
	case errors.Is(err, ErrWrongBlock):
		e.ban(p)
		e.dropPipeline(p, pl, err)
	default:
		e.dropPipeline(p, pl, err)
	}
	return b, err
}

// fetchFrom10 asks p for c over one Protocol 1.0.0 stream.
func (e *Exchange) fetchFrom10(ctx context.Context, p peer.ID, c cid.Cid) (blocks.Block, error) {
	s, err := e.h.NewStream(network.WithNoDial(ctx, "xfer"), p, Protocol)
	if err != nil {
		return nil, fmt.Errorf("opening xfer stream to %s: %w", p, err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	} else {
		s.SetDeadline(time.Now().Add(streamTimeout))
	}
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	if err := writeRequest(s, []cid.Cid{c}); err != nil {
		s.Reset()
		return nil, err
	}
	s.CloseWrite()
	data, err := readBlock(bufio.NewReaderSize(s, 64<<10), c)
	if err != nil {
		s.Reset()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return blocks.NewBlockWithCid(data, c)
}

// peerSet is a small ordered set of peers.
type peerSet struct {
	mu    sync.Mutex
	peers []peer.ID
}

func newPeerSet() *peerSet { return &peerSet{} }

func (s *peerSet) add(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.peers {
		if q == p {
			return
		}
	}
	s.peers = append(s.peers, p)
	if len(s.peers) > 16 {
		s.peers = s.peers[1:]
	}
}

func (s *peerSet) remove(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.peers {
		if q == p {
			s.peers = append(s.peers[:i], s.peers[i+1:]...)
			return
		}
	}
}

func (s *peerSet) has(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.peers {
		if q == p {
			return true
		}
	}
	return false
}

func (s *peerSet) list() []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]peer.ID(nil), s.peers...)
}
