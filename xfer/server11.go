package xfer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/peerlimit"
)

// streams11 counts the Protocol11 streams each peer holds open on a
// server.
type streams11 struct {
	mu sync.Mutex
	n  map[peer.ID]int
}

func (s *streams11) acquire(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[p] >= peerlimit.XferStreamsPerPeer {
		return false
	}
	s.n[p]++
	return true
}

func (s *streams11) release(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[p]--; s.n[p] <= 0 {
		delete(s.n, p)
	}
}

// queued is a want waiting to be served on a Protocol11 stream.
type queued struct {
	id        uint64
	c         cid.Cid
	cancelled bool
}

// loaded is a want with its block read from the store (data nil: not
// held, or cancelled).
type loaded struct {
	id     uint64
	status byte
	data   []byte
}

// serve11 answers the wants of one Protocol11 stream until the peer closes
// its side, breaks the protocol, stops reading, or stays idle.
//
// Three stages: read frames into a queue of at most XferWantsInFlight
// wants (a cancel marks a want still queued); load the oldest want's
// block from the store; write answers in the order of the wants. At most
// xferLoadAhead blocks are held between loading and writing, so a stream
// holds a few MiB whatever the peer asks.
func (srv *Server) serve11(s network.Stream, bs blockstore.Blockstore) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		queue   []*queued
		byID    = map[uint64]*queued{} // wants queued or being served
		readErr error                  // set when the reader stops
	)
	r := bufio.NewReaderSize(&deadlineReader{s: s, idle: peerlimit.XferIdle}, 16<<10)
	go func() {
		var err error
		for {
			var f frame
			if f, err = readFrame(r); err != nil {
				break
			}
			mu.Lock()
			if f.kind == frameCancel {
				if q := byID[f.id]; q != nil {
					q.cancelled = true
				}
				mu.Unlock()
				continue
			}
			if _, dup := byID[f.id]; dup {
				mu.Unlock()
				err = fmt.Errorf("%w: want %d sent twice", errProtocol, f.id)
				break
			}
			if len(byID) >= peerlimit.XferWantsInFlight {
				mu.Unlock()
				err = fmt.Errorf("%w: more than %d wants in flight", errProtocol, peerlimit.XferWantsInFlight)
				break
			}
			q := &queued{id: f.id, c: f.c}
			byID[f.id] = q
			queue = append(queue, q)
			cond.Signal()
			mu.Unlock()
		}
		if errors.Is(err, errProtocol) {
			s.Reset() // at once: the writer may be blocked on the peer
		}
		mu.Lock()
		readErr = err
		cond.Signal()
		mu.Unlock()
	}()

	// Loader: the oldest want's block, while the writer sends the last.
	// loadErr is set before out is closed.
	out := make(chan loaded, xferLoadAhead)
	var loadErr error
	go func() {
		defer close(out)
		for {
			mu.Lock()
			for len(queue) == 0 && readErr == nil {
				cond.Wait()
			}
			if len(queue) == 0 {
				loadErr = readErr
				mu.Unlock()
				if errors.Is(loadErr, io.EOF) {
					loadErr = nil // the peer closed its side: what was queued is answered
				}
				return
			}
			q := queue[0]
			queue = queue[1:]
			cancelled := q.cancelled
			mu.Unlock()
			a := loaded{id: q.id, status: statusCancelled}
			if !cancelled {
				b, err := bs.Get(ctx, q.c)
				switch {
				case err == nil:
					a.status, a.data = statusHave, b.RawData()
				case ipld.IsNotFound(err):
					a.status = statusNotHave
				default:
					loadErr = fmt.Errorf("reading block %s: %w", q.c, err)
					return
				}
			}
			select {
			case out <- a:
			case <-ctx.Done():
				return
			}
		}
	}()

	w := bufio.NewWriterSize(s, 32<<10)
	var hdr []byte
	for a := range out {
		// The want stops counting before its answer can reach the peer,
		// which may send its next want as soon as it has read this one.
		mu.Lock()
		delete(byID, a.id)
		mu.Unlock()
		s.SetWriteDeadline(time.Now().Add(streamTimeout))
		hdr = appendAnswerHeader(hdr[:0], a.id, a.status, len(a.data))
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		if a.data != nil {
			if _, err := w.Write(a.data); err != nil {
				return err
			}
			srv.Blocks.Add(1)
			srv.Bytes.Add(int64(len(a.data)))
		}
		mu.Lock()
		idle := len(out) == 0 && len(queue) == 0
		mu.Unlock()
		// Flush when nothing more is ready, so that small answers share a
		// write and a lone one is not held back.
		if idle {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	if loadErr != nil {
		return loadErr
	}
	return w.Flush()
}

// deadlineReader moves a stream's read deadline before every read: a
// peer may stay silent for idle, no longer.
type deadlineReader struct {
	s    network.Stream
	idle time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	d.s.SetReadDeadline(time.Now().Add(d.idle))
	return d.s.Read(p)
}
