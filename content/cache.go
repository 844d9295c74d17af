package content

import (
	"context"
	"sync"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// WriteBehind is a Blockstore whose Put returns before the block is on
// disk: a background writer stores it, and until then reads are answered
// from memory. It is for blocks fetched from peers, which are a cache — a
// crash that loses one costs a fetch, never data — so that a reader does
// not wait for an fsync per block on its way to the first byte. Imports
// write to the store underneath directly and stay durable before they are
// acknowledged.
type WriteBehind struct {
	blockstore.Blockstore

	mu      sync.Mutex
	pending map[cid.Cid]blocks.Block
	queue   chan blocks.Block
	done    chan struct{}
}

// writeBehindQueue bounds the blocks held in memory (1 MiB leaves: 32 MiB,
// besides the batch being written); a Put beyond it waits for the writer.
// A fetch from a fast peer outruns the disk's writes whatever the queue,
// so a deeper one only costs the fetching node's peak memory.
const writeBehindQueue = 32

// NewWriteBehind starts a writer for bs. Close stops it after the queue
// drains.
func NewWriteBehind(bs blockstore.Blockstore) *WriteBehind {
	w := &WriteBehind{Blockstore: bs, pending: map[cid.Cid]blocks.Block{}, queue: make(chan blocks.Block, writeBehindQueue), done: make(chan struct{})}
	go w.run()
	return w
}

// writeBehindBatch bounds the blocks written in one batch.
const writeBehindBatch = 32

// run writes queued blocks in batches: what has queued up while the last
// batch was written goes to the store in one PutMany, which flatfs writes
// in parallel and syncs with one directory sync per batch instead of one
// per block.
func (w *WriteBehind) run() {
	defer close(w.done)
	batch := make([]blocks.Block, 0, writeBehindBatch)
	for b := range w.queue {
		batch = append(batch[:0], b)
	more:
		for len(batch) < writeBehindBatch {
			select {
			case b, ok := <-w.queue:
				if !ok {
					break more
				}
				batch = append(batch, b)
			default:
				break more
			}
		}
		// An error here loses cached blocks: the next read fetches them again.
		if len(batch) == 1 {
			w.Blockstore.Put(context.Background(), batch[0])
		} else {
			w.Blockstore.PutMany(context.Background(), batch)
		}
		w.mu.Lock()
		for _, b := range batch {
			delete(w.pending, b.Cid())
		}
		w.mu.Unlock()
		clear(batch)
	}
}

// Close writes what is queued and stops the writer.
func (w *WriteBehind) Close() {
	close(w.queue)
	<-w.done
}

// Put queues b for writing.
func (w *WriteBehind) Put(ctx context.Context, b blocks.Block) error {
	w.mu.Lock()
	if _, ok := w.pending[b.Cid()]; ok {
		w.mu.Unlock()
		return nil
	}
	w.pending[b.Cid()] = b
	w.mu.Unlock()
	select {
	case w.queue <- b:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		delete(w.pending, b.Cid())
		w.mu.Unlock()
		return ctx.Err()
	}
}

// PutMany queues every block.
func (w *WriteBehind) PutMany(ctx context.Context, bs []blocks.Block) error {
	for _, b := range bs {
		if err := w.Put(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

func (w *WriteBehind) held(c cid.Cid) (blocks.Block, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.pending[c]
	return b, ok
}

// Get implements blockstore.Blockstore.
func (w *WriteBehind) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if b, ok := w.held(c); ok {
		return b, nil
	}
	return w.Blockstore.Get(ctx, c)
}

// Has implements blockstore.Blockstore.
func (w *WriteBehind) Has(ctx context.Context, c cid.Cid) (bool, error) {
	if _, ok := w.held(c); ok {
		return true, nil
	}
	return w.Blockstore.Has(ctx, c)
}

// GetSize implements blockstore.Blockstore.
func (w *WriteBehind) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	if b, ok := w.held(c); ok {
		return len(b.RawData()), nil
	}
	return w.Blockstore.GetSize(ctx, c)
}
