package xfer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/peerlimit"
)

// xferLoadAhead is how many blocks a server reads from its store ahead of
// the one it is sending on a stream.
const xferLoadAhead = 2

// DefaultStallTimeout is how long a peer may keep wants unanswered
// without sending a byte before its stream is dropped and its wants are
// asked elsewhere.
const DefaultStallTimeout = 10 * time.Second

// clientIdle is how long an unused stream stays open: less than the
// server's peerlimit.XferIdle, so that the client, not the server, ends it.
const clientIdle = peerlimit.XferIdle / 2

// answer is what a want gets: a block's bytes, or an error (errNotHave,
// or the stream's).
type answer struct {
	data []byte
	err  error
}

// pipeline is one long-lived Protocol11 stream to a peer, shared by every
// fetch from it: wants go out as they come, up to XferWantsInFlight
// unanswered, and answers are matched to them by id.
type pipeline struct {
	p     peer.ID
	s     network.Stream
	stall time.Duration
	slots chan struct{} // one per want unanswered

	wmu sync.Mutex // writes
	buf []byte

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan answer // unanswered wants; a cancelled one has a nil channel
	err     error                  // why the stream ended, once it has
	done    chan struct{}          // closed when it has
}

func newPipeline(p peer.ID, s network.Stream, stall time.Duration) *pipeline {
	pl := &pipeline{p: p, s: s, stall: stall, slots: make(chan struct{}, peerlimit.XferWantsInFlight),
		pending: map[uint64]chan answer{}, done: make(chan struct{})}
	go pl.readLoop()
	return pl
}

// get asks the peer for c and waits for the answer. The bytes returned
// hashed to c; a peer that sends others is cut off with ErrWrongBlock.
func (pl *pipeline) get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	select {
	case pl.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-pl.done:
		return nil, pl.failure()
	}
	ch := make(chan answer, 1)
	pl.mu.Lock()
	if pl.err != nil {
		pl.mu.Unlock()
		<-pl.slots
		return nil, pl.err
	}
	id := pl.next
	pl.next++
	pl.pending[id] = ch
	if len(pl.pending) == 1 {
		// The read loop may be waiting with the idle deadline. Set under
		// mu, as the loop sets it, so the later of the two is the one
		// that fits what is pending.
		pl.s.SetReadDeadline(time.Now().Add(pl.stall))
	}
	pl.mu.Unlock()
	if err := pl.send(frame{kind: frameWant, id: id, c: c}); err != nil {
		return nil, err
	}
	select {
	case a := <-ch:
		if a.err != nil {
			return nil, a.err
		}
		// Hashed here, not in the read loop: fetches in parallel hash
		// in parallel, while the loop reads the next answer.
		b, err := checked(c, a.data)
		if err != nil {
			pl.fail(err)
			return nil, err
		}
		return b, nil
	case <-ctx.Done():
		pl.mu.Lock()
		if _, ok := pl.pending[id]; ok {
			pl.pending[id] = nil // its answer is dropped when it comes
		}
		pl.mu.Unlock()
		// Best effort: the server skips it if not yet sent.
		pl.send(frame{kind: frameCancel, id: id})
		return nil, ctx.Err()
	}
}

// checked returns data as the block c, or ErrWrongBlock.
func checked(c cid.Cid, data []byte) (blocks.Block, error) {
	got, err := c.Prefix().Sum(data)
	if err != nil {
		return nil, fmt.Errorf("hashing block: %w", err)
	}
	if string(got.Hash()) != string(c.Hash()) {
		return nil, fmt.Errorf("%w: asked for %s, got bytes of %s", ErrWrongBlock, c, got)
	}
	return blocks.NewBlockWithCid(data, c)
}

// send writes one frame.
func (pl *pipeline) send(f frame) error {
	pl.wmu.Lock()
	defer pl.wmu.Unlock()
	pl.buf = appendFrame(pl.buf[:0], f)
	pl.s.SetWriteDeadline(time.Now().Add(pl.stall))
	if _, err := pl.s.Write(pl.buf); err != nil {
		err = fmt.Errorf("sending a want to %s: %w", pl.p, err)
		pl.fail(err)
		return err
	}
	return nil
}

// readLoop reads answers and hands each to its want, until the stream
// fails or stays idle.
func (pl *pipeline) readLoop() {
	r := bufio.NewReaderSize(&stallReader{pl: pl}, 64<<10)
	for {
		id, status, n, err := readAnswerHeader(r)
		if err != nil {
			pl.fail(err)
			return
		}
		var data []byte
		if status == statusHave {
			data = make([]byte, n)
			if _, err := io.ReadFull(r, data); err != nil {
				pl.fail(fmt.Errorf("reading block from %s: %w", pl.p, unexpected(err)))
				return
			}
		}
		pl.mu.Lock()
		ch, ok := pl.pending[id]
		delete(pl.pending, id)
		pl.mu.Unlock()
		if !ok {
			pl.fail(fmt.Errorf("%w: answer to want %d, which was not asked or was answered", errProtocol, id))
			return
		}
		<-pl.slots
		if ch == nil {
			continue // cancelled: nobody waits
		}
		switch status {
		case statusHave:
			ch <- answer{data: data}
		case statusNotHave:
			ch <- answer{err: errNotHave}
		default:
			// Only a cancelled want may be answered "cancelled".
			pl.fail(fmt.Errorf("%w: want %d answered cancelled", errProtocol, id))
			ch <- answer{err: pl.failure()}
			return
		}
	}
}

// stallReader moves the read deadline before every read: stall while
// wants are unanswered, clientIdle when none are.
type stallReader struct{ pl *pipeline }

func (r *stallReader) Read(p []byte) (int, error) {
	pl := r.pl
	pl.mu.Lock()
	d := clientIdle
	if len(pl.pending) > 0 {
		d = pl.stall
	}
	pl.s.SetReadDeadline(time.Now().Add(d))
	pl.mu.Unlock()
	return pl.s.Read(p)
}

// fail ends the stream with err: every want waiting gets it.
func (pl *pipeline) fail(err error) {
	pl.mu.Lock()
	if pl.err != nil {
		pl.mu.Unlock()
		return
	}
	pl.err = err
	waiting := pl.pending
	pl.pending = map[uint64]chan answer{}
	pl.mu.Unlock()
	close(pl.done)
	pl.s.Reset()
	for _, ch := range waiting {
		if ch != nil {
			ch <- answer{err: err}
		}
	}
}

func (pl *pipeline) failure() error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.err
}

func (pl *pipeline) alive() bool {
	select {
	case <-pl.done:
		return false
	default:
		return true
	}
}

// pipelines holds an Exchange's streams: up to
// peerlimit.XferStreamsPerPeer per peer.
//
// A server answers the wants of one stream in order, so a want sent
// behind others waits for them: a seek would wait for the window it
// abandoned, up to the blocks the server had already read. A fetch takes
// the peer's stream with the fewest wants unanswered, and opens another
// while every stream has some, so a new want rarely queues behind old
// ones, and the server reads and hashes the streams' blocks in parallel.
type pipelines struct {
	mu sync.Mutex
	m  map[peer.ID][]*pipeline
}

// errNoPipeline says a peer does not speak Protocol11.
var errNoPipeline = errors.New("peer does not speak " + Protocol11)

// waiting returns how many wants wait on pl.
func (pl *pipeline) waiting() int {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return len(pl.pending)
}

// pipeline returns the stream to p with the fewest wants waiting, opening
// one when every stream is busy and there are fewer than the limit.
func (e *Exchange) pipeline(ctx context.Context, p peer.ID) (*pipeline, error) {
	if ok, err := e.h.Peerstore().SupportsProtocols(p, Protocol11); err != nil || len(ok) == 0 {
		return nil, errNoPipeline
	}
	e.pipes.mu.Lock()
	defer e.pipes.mu.Unlock()
	var best *pipeline
	bestN := 0
	alive := e.pipes.m[p][:0]
	for _, pl := range e.pipes.m[p] {
		if !pl.alive() {
			continue
		}
		alive = append(alive, pl)
		if n := pl.waiting(); best == nil || n < bestN {
			best, bestN = pl, n
		}
	}
	e.pipes.m[p] = alive
	if best != nil && (bestN == 0 || len(alive) >= peerlimit.XferStreamsPerPeer) {
		return best, nil
	}
	s, err := e.h.NewStream(network.WithNoDial(ctx, "xfer"), p, Protocol11)
	if err != nil {
		if best != nil {
			return best, nil
		}
		return nil, fmt.Errorf("opening xfer stream to %s: %w", p, err)
	}
	pl := newPipeline(p, s, e.stall)
	e.pipes.m[p] = append(alive, pl)
	return pl, nil
}

// dropPipeline ends pl, a stream to p, with err and forgets it.
func (e *Exchange) dropPipeline(p peer.ID, pl *pipeline, err error) {
	e.pipes.mu.Lock()
	var keep []*pipeline
	for _, q := range e.pipes.m[p] {
		if q != pl {
			keep = append(keep, q)
		}
	}
	if len(keep) == 0 {
		delete(e.pipes.m, p)
	} else {
		e.pipes.m[p] = keep
	}
	e.pipes.mu.Unlock()
	pl.fail(err)
}
