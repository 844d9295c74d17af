package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	unixfs_pb "github.com/ipfs/boxo/ipld/unixfs/pb"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// ErrNotFile is returned by Open for a DAG that is not a UnixFS file (a
// directory, a symlink, or another codec).
var ErrNotFile = errors.New("not a UnixFS file")

// File is a UnixFS file DAG being read through a block getter. Its methods
// are safe for concurrent use.
type File struct {
	ctx  context.Context // bounds every fetch, including those of ReadAt
	bg   blockservice.BlockGetter
	root cid.Cid
	top  *node
	size int64

	mu      sync.Mutex
	inner   map[cid.Cid]*node   // decoded nodes that have links; few and small
	flights map[cid.Cid]*flight // fetches under way
}

// node is a decoded block of a file: bytes held in the block itself, then
// children, each covering sizes[i] bytes of the file.
type node struct {
	data  []byte
	links []cid.Cid
	sizes []int64
}

func (n *node) size() int64 {
	s := int64(len(n.data))
	for _, c := range n.sizes {
		s += c
	}
	return s
}

// Open fetches the root block of a file and returns a File reading through
// bg. Use a blockservice session as bg so that the peers found for one block
// are asked for the next. ctx bounds every fetch the File makes, including
// those of ReadAt, which has no context of its own.
func Open(ctx context.Context, bg blockservice.BlockGetter, root cid.Cid) (*File, error) {
	b, err := bg.GetBlock(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", root, err)
	}
	n, fileSize, err := decode(b, true)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", root, err)
	}
	f := &File{ctx: ctx, bg: bg, root: root, top: n, size: fileSize, inner: map[cid.Cid]*node{}, flights: map[cid.Cid]*flight{}}
	return f, nil
}

// Size returns the file's length in bytes.
func (f *File) Size() int64 { return f.size }

// CID returns the file's root CID.
func (f *File) CID() cid.Cid { return f.root }

// decode parses a block of a UnixFS file. root says whether the block is the
// root, whose declared file size is returned.
func decode(b blocks.Block, root bool) (*node, int64, error) {
	switch b.Cid().Prefix().Codec {
	case cid.Raw:
		return &node{data: b.RawData()}, int64(len(b.RawData())), nil
	case cid.DagProtobuf:
	default:
		return nil, 0, fmt.Errorf("%w: codec %#x", ErrNotFile, b.Cid().Prefix().Codec)
	}
	pn, err := merkledag.DecodeProtobuf(b.RawData())
	if err != nil {
		return nil, 0, fmt.Errorf("decoding dag-pb block %s: %w", b.Cid(), err)
	}
	fsn, err := unixfs.FSNodeFromBytes(pn.Data())
	if err != nil {
		return nil, 0, fmt.Errorf("decoding UnixFS data of %s: %w", b.Cid(), err)
	}
	switch fsn.Type() {
	case unixfs_pb.Data_File, unixfs_pb.Data_Raw:
	default:
		return nil, 0, fmt.Errorf("%w: %s is a UnixFS %s", ErrNotFile, b.Cid(), fsn.Type())
	}
	links := pn.Links()
	bsz := fsn.BlockSizes()
	if len(bsz) != len(links) {
		return nil, 0, fmt.Errorf("malformed UnixFS node %s: %d links but %d block sizes", b.Cid(), len(links), len(bsz))
	}
	n := &node{data: fsn.Data(), links: make([]cid.Cid, len(links)), sizes: make([]int64, len(bsz))}
	for i, l := range links {
		n.links[i] = l.Cid
		if bsz[i] > 1<<50 {
			return nil, 0, fmt.Errorf("malformed UnixFS node %s: block size %d", b.Cid(), bsz[i])
		}
		n.sizes[i] = int64(bsz[i])
	}
	size := n.size()
	if root && fsn.FileSize() != uint64(size) {
		return nil, 0, fmt.Errorf("malformed UnixFS node %s: file size %d, children cover %d", b.Cid(), fsn.FileSize(), size)
	}
	return n, size, nil
}

// fetch returns the decoded node c, which must cover want bytes.
//
// Concurrent fetches of one block share one GetBlock: a player's seek sets
// off a prefetch and a read of the same block at once, and every copy
// fetched twice takes bandwidth from the blocks the first byte waits for.
// The shared fetch runs under f.ctx and is cancelled once every caller
// waiting for it has gone.
func (f *File) fetch(ctx context.Context, c cid.Cid, want int64) (*node, error) {
	f.mu.Lock()
	if n, ok := f.inner[c]; ok {
		f.mu.Unlock()
		return n, nil
	}
	fl, ok := f.flights[c]
	if !ok {
		fctx, cancel := context.WithCancel(f.ctx)
		fl = &flight{done: make(chan struct{}), cancel: cancel}
		f.flights[c] = fl
		go f.fly(fctx, c, fl)
	}
	fl.waiters++
	f.mu.Unlock()

	select {
	case <-fl.done:
	case <-ctx.Done():
		f.mu.Lock()
		fl.waiters--
		if fl.waiters == 0 {
			fl.cancel()
			if f.flights[c] == fl {
				delete(f.flights, c)
			}
		}
		f.mu.Unlock()
		return nil, fmt.Errorf("fetching block %s of %s: %w", c, f.root, ctx.Err())
	}
	f.mu.Lock()
	fl.waiters--
	f.mu.Unlock()
	if fl.err != nil {
		return nil, fl.err
	}
	if size := fl.n.size(); size != want {
		return nil, fmt.Errorf("malformed file %s: block %s covers %d bytes, parent says %d", f.root, c, size, want)
	}
	return fl.n, nil
}

// flight is one GetBlock shared by the fetches of a block.
type flight struct {
	done    chan struct{} // closed when n or err is set
	n       *node
	err     error
	waiters int // fetches waiting for it, under File.mu
	cancel  context.CancelFunc
}

// fly fetches and decodes c for fl.
func (f *File) fly(ctx context.Context, c cid.Cid, fl *flight) {
	defer fl.cancel()
	b, err := f.bg.GetBlock(ctx, c)
	if err != nil {
		fl.err = fmt.Errorf("fetching block %s of %s: %w", c, f.root, err)
	} else {
		fl.n, _, fl.err = decode(b, false)
	}
	f.mu.Lock()
	if fl.err == nil && len(fl.n.links) > 0 {
		f.inner[c] = fl.n
	}
	if f.flights[c] == fl {
		delete(f.flights, c)
	}
	f.mu.Unlock()
	close(fl.done)
}

// ReadAt reads len(p) bytes at off, fetching only the blocks that hold them
// (in parallel when there are several).
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.readAt(f.ctx, p, off)
}

// readAt is ReadAt with its fetches bounded by ctx.
func (f *File) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("reading %s: negative offset", f.root)
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := int64(len(p))
	var short bool
	if off+want > f.size {
		want, short = f.size-off, true
	}
	r := f.NewReader(ctx, off, want)
	defer r.Close()
	n, err := io.ReadFull(r, p[:want])
	if err != nil {
		return n, err
	}
	if short {
		return n, io.EOF
	}
	return n, nil
}
