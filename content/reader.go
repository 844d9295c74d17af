package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// DefaultWindow is how many bytes of blocks a Reader keeps in flight ahead
// of its position. On loopback one peer serves a 1 MiB block in well under a
// millisecond, but bitswap batches wants every few milliseconds: a deep
// window is what keeps the link busy.
const DefaultWindow = 32 << 20

// Reader reads a File sequentially from a position, with a window of blocks
// fetched in parallel ahead of it. It implements io.ReadSeeker, io.WriterTo
// and io.Closer. A Seek to a new position abandons the window (cancelling its
// wants) and the next Read starts a new one there.
type Reader struct {
	f      *File
	parent context.Context
	pos    int64 // position of the next byte Read returns
	end    int64 // the reader stops here
	limit  int64 // bytes asked for at NewReader; -1 for "to the end"

	hintStart, hintEnd int64 // see Hint
	// win, when set, caps the window in blocks; its owner may raise it
	// while a pipeline runs.
	win *atomic.Int64

	cancel context.CancelFunc // of the running pipeline, nil if none
	out    chan chunk
	cur    []byte // data received but not yet returned
	err    error  // sticky error of the running pipeline
}

type chunk struct {
	data []byte
	err  error
}

// NewReader returns a Reader positioned at off. It reads at most n bytes, or
// to the end of the file if n < 0. Blocks are fetched with ctx; Close the
// Reader to cancel what is in flight.
func (f *File) NewReader(ctx context.Context, off, n int64) *Reader {
	r := &Reader{f: f, parent: ctx, pos: off, limit: n}
	r.setEnd()
	return r
}

func (r *Reader) setEnd() {
	r.end = r.f.size
	if r.limit >= 0 && r.pos+r.limit < r.end {
		r.end = r.pos + r.limit
	}
	if r.hintEnd > 0 && r.pos == r.hintStart && r.hintEnd < r.end {
		r.end = r.hintEnd
	}
}

// Hint tells the Reader that a read starting at start will stop at end, so a
// pipeline started there fetches nothing beyond it. An HTTP Range request
// knows this before http.ServeContent seeks and reads.
func (r *Reader) Hint(start, end int64) {
	r.hintStart, r.hintEnd = start, end
	r.setEnd()
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(r.cur) == 0 {
		if err := r.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	r.pos += int64(n)
	return n, nil
}

// WriteTo implements io.WriterTo, writing blocks as they arrive without an
// extra copy.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		for len(r.cur) == 0 {
			if err := r.next(); err == io.EOF {
				return total, nil
			} else if err != nil {
				return total, err
			}
		}
		n, err := w.Write(r.cur)
		total += int64(n)
		r.pos += int64(n)
		r.cur = r.cur[n:]
		if err != nil {
			return total, err
		}
	}
}

// next fills r.cur with the next chunk from the pipeline, starting one at
// r.pos when none runs.
func (r *Reader) next() error {
	if r.err != nil {
		return r.err
	}
	if r.pos >= r.end {
		return io.EOF
	}
	if r.cancel == nil {
		ctx, cancel := context.WithCancel(r.parent)
		r.cancel = cancel
		r.out = make(chan chunk, 4)
		p := &pipe{f: r.f, start: r.pos, end: r.end, out: r.out, win: r.win}
		go p.run(ctx)
	}
	c, ok := <-r.out
	if !ok {
		r.err = fmt.Errorf("reading %s at %d: stream ended early", r.f.root, r.pos)
		return r.err
	}
	if c.err != nil {
		r.err = c.err
		return r.err
	}
	r.cur = c.data
	return nil
}

// Seek implements io.Seeker.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.f.size + offset
	default:
		return r.pos, errors.New("seek: invalid whence")
	}
	if abs < 0 {
		return r.pos, errors.New("seek: negative position")
	}
	if abs == r.pos {
		return abs, nil
	}
	// A short hop forward within what has arrived keeps the pipeline.
	if abs > r.pos && abs-r.pos <= int64(len(r.cur)) {
		r.cur = r.cur[abs-r.pos:]
		r.pos = abs
		return abs, nil
	}
	r.stop()
	r.pos = abs
	r.setEnd()
	return abs, nil
}

func (r *Reader) stop() {
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	r.out, r.cur, r.err = nil, nil, nil
}

// Close cancels the fetches in flight.
func (r *Reader) Close() error {
	r.stop()
	r.err = errors.New("reader closed")
	return nil
}

// pipe walks the DAG in order from start to end, fetching each node's
// children through a window of parallel fetches, and sends the bytes in
// order on out. It closes out when done.
type pipe struct {
	f          *File
	start, end int64
	out        chan<- chunk
	win        *atomic.Int64 // nil: no cap
}

// window returns how many children of a node to keep in flight.
func (p *pipe) window(childSize int64) int {
	w := max(4, min(256, int(DefaultWindow/max(1, childSize))))
	if p.win != nil {
		w = max(1, min(w, int(p.win.Load())))
	}
	return w
}

func (p *pipe) run(ctx context.Context) {
	defer close(p.out)
	if err := p.walk(ctx, p.f.top, 0); err != nil {
		select {
		case p.out <- chunk{err: err}:
		case <-ctx.Done():
		}
	}
}

func (p *pipe) emit(ctx context.Context, data []byte, base int64) error {
	lo, hi := max(p.start, base), min(p.end, base+int64(len(data)))
	if lo >= hi {
		return nil
	}
	select {
	case p.out <- chunk{data: data[lo-base : hi-base]}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type future struct {
	done chan struct{}
	n    *node
	err  error
}

func (p *pipe) walk(ctx context.Context, n *node, base int64) error {
	if err := p.emit(ctx, n.data, base); err != nil {
		return err
	}
	// Find the children that overlap [start, end).
	pos := base + int64(len(n.data))
	first, last := -1, -1
	var firstBase int64
	for i, s := range n.sizes {
		if pos+s > p.start && pos < p.end {
			if first < 0 {
				first, firstBase = i, pos
			}
			last = i
		}
		pos += s
	}
	if first < 0 {
		return nil
	}
	futures := make([]*future, last+1)
	launch := func(i int) {
		fu := &future{done: make(chan struct{})}
		futures[i] = fu
		go func() {
			fu.n, fu.err = p.f.fetch(ctx, n.links[i], n.sizes[i])
			close(fu.done)
		}()
	}
	next := first
	for ; next <= last && next < first+p.window(n.sizes[first]); next++ {
		launch(next)
	}
	childBase := firstBase
	for i := first; i <= last; i++ {
		fu := futures[i]
		select {
		case <-fu.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		futures[i] = nil
		for ; next <= last && next <= i+p.window(n.sizes[i]); next++ {
			launch(next)
		}
		if fu.err != nil {
			return fu.err
		}
		if err := p.walk(ctx, fu.n, childBase); err != nil {
			return err
		}
		childBase += n.sizes[i]
	}
	return nil
}

// SeqReaderAt is an io.ReaderAt over a File for callers that mostly read in
// order, such as decryption of a film being played: reads that continue
// where the last one ended come from one Reader and its window of blocks in
// flight; a read elsewhere moves the Reader there. Calls are serialised,
// except that a read elsewhere made while another is under way is served
// on its own, in parallel, and leaves the Reader where it is.
//
// The window starts at one block after every jump and grows by two
// blocks for every block read in order: the small reads that open an age
// file (its header, its last chunk) and a seek fetch only the block they
// need, so the first byte does not share the link with the block after it,
// while playback soon has a full window in flight.
type SeqReaderAt struct {
	mu   sync.Mutex
	f    *File
	ctx  context.Context
	r    *Reader
	win  atomic.Int64
	seq  int64        // bytes read in order since the last jump
	next atomic.Int64 // where a read that continues the last one starts
}

// SeqReaderAt returns a SeqReaderAt whose fetches are bounded by ctx. Close
// it to cancel what is in flight.
func (f *File) SeqReaderAt(ctx context.Context) *SeqReaderAt {
	s := &SeqReaderAt{f: f, ctx: ctx}
	s.next.Store(-1)
	return s
}

// ReadAt implements io.ReaderAt.
func (s *SeqReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("reading %s: negative offset", s.f.root)
	}
	if off >= s.f.size {
		return 0, io.EOF
	}
	if !s.mu.TryLock() {
		// Another read is under way. One that does not continue the last
		// does not wait for it: opening an age file reads its header and
		// its tail at once.
		if off != s.next.Load() {
			return s.f.readAt(s.ctx, p, off)
		}
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	switch {
	case s.r != nil && off == s.r.pos:
		// The window follows what was read in order since the last jump,
		// not how many calls read it: an age header parsed in small reads
		// must not set off a 256-block window.
		s.seq += int64(len(p))
		s.win.Store(min(256, 2+2*s.seq/max(1, LeafSize)))
	case s.r == nil:
		s.seq = 0
		s.win.Store(1)
		s.r = s.f.NewReader(s.ctx, off, -1)
		s.r.win = &s.win
	default:
		s.seq = 0
		s.win.Store(1)
		if _, err := s.r.Seek(off, io.SeekStart); err != nil {
			return 0, err
		}
	}
	want := min(int64(len(p)), s.f.size-off)
	s.next.Store(off + want)
	n, err := io.ReadFull(s.r, p[:want])
	if err != nil {
		s.r.Close()
		s.r = nil
		return n, err
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Close cancels the fetches in flight.
func (s *SeqReaderAt) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.r != nil {
		s.r.Close()
		s.r = nil
	}
	return nil
}

// Prefetch fetches, in the background and in parallel, the blocks that hold
// the bytes at each offset, so that reads that come next find them local.
// A player's seek into an encrypted film needs three places at once: the
// age header, the last chunk (age authenticates the size first) and the
// chunk sought.
func (f *File) Prefetch(ctx context.Context, offs ...int64) {
	for _, off := range offs {
		if off < 0 || off >= f.size {
			continue
		}
		go func() {
			r := f.NewReader(ctx, off, 1)
			defer r.Close()
			var b [1]byte
			r.Read(b[:])
		}()
	}
}
