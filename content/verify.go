package content

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	format "github.com/ipfs/go-ipld-format"
)

// CorruptError says that a block read from the store did not hash to its
// CID. The store has removed it, so the error also reads as "not found"
// (format.IsNotFound): a peer asking for the block is told this node does
// not have it, and a block service fetches it again from the network.
type CorruptError struct {
	Cid cid.Cid
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("block %s in the store does not hash to its CID", e.Cid)
}

// Is makes a CorruptError match format.ErrNotFound.
func (e *CorruptError) Is(target error) bool {
	_, ok := target.(format.ErrNotFound)
	return ok
}

// Check returns an error unless data hashes to c's multihash. Only the
// multihash counts: the store keys blocks by it, whatever the codec.
func Check(c cid.Cid, data []byte) error {
	got, err := c.Prefix().Sum(data)
	if err != nil {
		return fmt.Errorf("hashing block %s: %w", c, err)
	}
	if string(got.Hash()) != string(c.Hash()) {
		return &CorruptError{Cid: c}
	}
	return nil
}

// Verified is a Blockstore that hashes every block it reads against its CID
// before returning it. A block that does not match is never returned: it is
// deleted from the store underneath, logged with its CID, and the read fails
// with a *CorruptError. Every reader of a node's store goes through it — the
// gateway, get, cat, /watch, and the peers served by bitswap and xfer — so
// each read is checked once, at the bottom.
type Verified struct {
	blockstore.Blockstore
	log *slog.Logger
}

// NewVerified returns a Verified over bs that logs to log (nil: slog.Default).
func NewVerified(bs blockstore.Blockstore, log *slog.Logger) *Verified {
	if log == nil {
		log = slog.Default()
	}
	return &Verified{Blockstore: bs, log: log}
}

// Get implements blockstore.Blockstore.
func (v *Verified) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := v.Blockstore.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := Check(c, b.RawData()); err != nil {
		var ce *CorruptError
		if !errors.As(err, &ce) {
			return nil, err
		}
		v.log.Error("block in the store does not hash to its CID: removed", "cid", c)
		if derr := v.Blockstore.DeleteBlock(ctx, c); derr != nil {
			v.log.Error("removing a corrupt block", "cid", c, "err", derr)
		}
		return nil, err
	}
	return b, nil
}

// Refetching is a Blockstore for a node's own reads (a block service's
// local side). A block that Verified found corrupt, and removed, is fetched
// again from peers through an exchange, within a time limit, stored, and
// returned. If no peer supplies it in time, the read fails with an error
// that names the block and does not read as "not found", so the block
// service above does not go on waiting for it.
type Refetching struct {
	blockstore.Blockstore
	ex      exchange.Interface // nil: nothing to fetch from
	timeout time.Duration
	log     *slog.Logger

	mu   sync.Mutex
	lost map[cid.Cid]bool // found corrupt, not yet fetched again
}

// maxLost bounds the blocks a Refetching remembers as lost.
const maxLost = 4096

// DefaultRefetchTimeout bounds the refetch of a block found corrupt.
const DefaultRefetchTimeout = 20 * time.Second

// NewRefetching returns a Refetching over bs (a store whose reads go through
// a Verified) that fetches corrupt blocks through ex (nil when offline)
// within timeout (DefaultRefetchTimeout if ≤ 0).
func NewRefetching(bs blockstore.Blockstore, ex exchange.Interface, timeout time.Duration, log *slog.Logger) *Refetching {
	if timeout <= 0 {
		timeout = DefaultRefetchTimeout
	}
	if log == nil {
		log = slog.Default()
	}
	return &Refetching{Blockstore: bs, ex: ex, timeout: timeout, log: log, lost: map[cid.Cid]bool{}}
}

// RepairError says that a block was corrupt in the store and could not be
// fetched again.
type RepairError struct {
	Cid cid.Cid
	Err error
}

func (e *RepairError) Error() string {
	return fmt.Sprintf("block %s was corrupt in the store and no peer supplied it: %v", e.Cid, e.Err)
}

// Unwrap returns the reason the refetch failed.
func (e *RepairError) Unwrap() error { return e.Err }

// Get implements blockstore.Blockstore. A block found corrupt once and not
// fetched since is refetched within the time limit again, rather than
// waited for as any missing block would be.
func (r *Refetching) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := r.Blockstore.Get(ctx, c)
	var ce *CorruptError
	if err == nil || !(errors.As(err, &ce) || format.IsNotFound(err) && r.isLost(c)) {
		return b, err
	}
	return r.refetch(ctx, c)
}

func (r *Refetching) isLost(c cid.Cid) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost[c]
}

func (r *Refetching) setLost(c cid.Cid, lost bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !lost {
		delete(r.lost, c)
	} else if len(r.lost) < maxLost {
		r.lost[c] = true
	}
}

// Repair fetches c again from peers and stores it, whatever the store held.
func (r *Refetching) Repair(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if err := r.Blockstore.DeleteBlock(ctx, c); err != nil && !format.IsNotFound(err) {
		return nil, fmt.Errorf("removing block %s: %w", c, err)
	}
	return r.refetch(ctx, c)
}

func (r *Refetching) refetch(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if r.ex == nil {
		r.setLost(c, true)
		return nil, &RepairError{Cid: c, Err: errors.New("the node is offline")}
	}
	fctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	b, err := r.ex.GetBlock(fctx, c)
	if err != nil {
		if ctx.Err() == nil && fctx.Err() != nil {
			err = fmt.Errorf("none within %s", r.timeout)
		}
		r.setLost(c, true)
		r.log.Error("a block corrupt in the store could not be fetched again", "cid", c, "err", err)
		// Not a format.ErrNotFound: the caller must not wait any longer.
		return nil, &RepairError{Cid: c, Err: errors.New(err.Error())}
	}
	// The exchange hashed it on arrival; a bad copy here would be a bug.
	if err := Check(c, b.RawData()); err != nil {
		return nil, &RepairError{Cid: c, Err: err}
	}
	r.setLost(c, false)
	if err := r.Blockstore.Put(ctx, b); err != nil {
		r.log.Warn("storing a refetched block", "cid", c, "err", err)
	}
	if err := r.ex.NotifyNewBlocks(ctx, b); err != nil {
		r.log.Debug("announcing a refetched block", "cid", c, "err", err)
	}
	r.log.Warn("fetched again from peers a block that was corrupt in the store", "cid", c)
	return b, nil
}
