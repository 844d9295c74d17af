package seal

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"filippo.io/age"
)

// parallelMin is the smallest ReadAt that is split across goroutines:
// below four chunks the goroutines cost more than they save.
const parallelMin = 4 * ChunkSize

// readAhead is how much a ReadSeeker decrypts at once: 16 chunks keep two
// cores busy and cost about a millisecond after a seek.
const readAhead = 16 * ChunkSize

// OpenReaderAt opens the age file of size bytes in src for random access,
// with the first of identities that matches it. It returns a reader of the
// plaintext and the plaintext size.
//
// Before returning, it authenticates the header and the final chunk, so a
// truncated or extended file fails here. Every later read decrypts and
// authenticates the whole chunks it touches: a chunk that fails yields an
// error, never its bytes. ReadAt may be called concurrently, and splits large
// reads into chunk-aligned parts decrypted in parallel, so src must allow
// concurrent ReadAt calls (as io.ReaderAt requires).
//
// The final chunk lies within the file's last 64 KiB and a tag; that tail
// is read from src while the header is, not after it, since a src that
// fetches blocks from peers would otherwise wait for two round trips in a
// row.
//
// If no identity matches, the error wraps an *age.NoIdentityMatchError.
func OpenReaderAt(src io.ReaderAt, size int64, identities ...age.Identity) (io.ReaderAt, int64, error) {
	if size < 0 {
		return nil, 0, fmt.Errorf("opening age file: negative size %d", size)
	}
	ps := &pinnedSrc{src: src}
	if size > 0 {
		t := &pending{off: max(0, size-encChunkSize), done: make(chan struct{})}
		t.buf = make([]byte, size-t.off)
		ps.tail = t
		go func() {
			defer close(t.done)
			m, err := src.ReadAt(t.buf, t.off)
			t.ok = m == len(t.buf) && (err == nil || errors.Is(err, io.EOF))
		}()
		defer func() {
			<-t.done
			ps.mu.Lock()
			ps.tail = nil
			ps.mu.Unlock()
		}()
	}
	ra, n, err := age.DecryptReaderAt(ps, size, identities...)
	if err != nil {
		return nil, 0, fmt.Errorf("opening age file of %d bytes: %w", size, err)
	}
	payOff := size - (n + max((n+ChunkSize-1)/ChunkSize, 1)*tagSize)
	return &readerAt{ra: ra, src: ps, size: n, encSize: size, payOff: payOff, workers: runtime.GOMAXPROCS(0)}, n, nil
}

// readerAt splits large reads of age's ReaderAt across goroutines.
//
// age reads the ciphertext one chunk at a time, so the goroutines of one
// split read would ask src for interleaved chunks; a src that fetches
// ahead of sequential reads (a content.SeqReaderAt) would take every one as
// a jump and drop what it has in flight. A split read therefore first reads
// its whole ciphertext from src in one call, in order, and pins it in src
// for age's chunk reads; age still authenticates every chunk it decrypts.
type readerAt struct {
	ra      io.ReaderAt // safe for concurrent use
	src     *pinnedSrc  // what ra reads from
	size    int64       // of the plaintext
	encSize int64       // of the age file
	payOff  int64       // offset of the first payload chunk in the age file
	workers int
}

// splitMax bounds the ciphertext a split read holds in memory at once.
const splitMax = 64 * ChunkSize

func (r *readerAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("reading plaintext: negative offset %d", off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	var atEnd error
	if int64(len(p)) >= r.size-off {
		p, atEnd = p[:r.size-off], io.EOF
	}
	if len(p) < parallelMin || r.workers < 2 {
		n, err := r.ra.ReadAt(p, off)
		return n, endErr(n, len(p), err, atEnd)
	}
	n := 0
	for n < len(p) {
		// Cut at chunk boundaries so that no chunk is read twice.
		pos := off + int64(n)
		seg := min(int64(len(p)-n), splitMax-pos%ChunkSize)
		m, err := r.readSplit(p[n:n+int(seg)], pos)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, atEnd
}

// readSplit reads p at off, which lie within the plaintext, in parallel
// parts; the error is nil for a full read.
func (r *readerAt) readSplit(p []byte, off int64) (int, error) {
	firstChunk := off / ChunkSize
	lastChunk := (off + int64(len(p)) - 1) / ChunkSize
	cOff := r.payOff + firstChunk*encChunkSize
	cEnd := min(r.payOff+(lastChunk+1)*encChunkSize, r.encSize)
	buf := make([]byte, cEnd-cOff)
	if m, err := r.src.src.ReadAt(buf, cOff); m == len(buf) && (err == nil || errors.Is(err, io.EOF)) {
		unpin := r.src.pin(cOff, buf)
		defer unpin()
	} // else age reads each chunk from src, and meets the failure itself

	// Give each goroutine an equal run of whole chunks.
	chunks := lastChunk - firstChunk + 1
	per := (chunks + int64(r.workers) - 1) / int64(r.workers)
	type part struct {
		p   []byte
		off int64
		n   int
		err error
	}
	end := off + int64(len(p))
	var parts []part
	for c := firstChunk; c*ChunkSize < end; c += per {
		s, e := max(off, c*ChunkSize), min(end, (c+per)*ChunkSize)
		parts = append(parts, part{p: p[s-off : e-off], off: s})
	}
	var wg sync.WaitGroup
	for i := 1; i < len(parts); i++ {
		wg.Go(func() {
			parts[i].n, parts[i].err = r.ra.ReadAt(parts[i].p, parts[i].off)
		})
	}
	parts[0].n, parts[0].err = r.ra.ReadAt(parts[0].p, parts[0].off)
	wg.Wait()

	n := 0
	for _, pt := range parts {
		n += pt.n
		if pt.n < len(pt.p) {
			return n, endErr(pt.n, len(pt.p), pt.err, nil)
		}
	}
	return n, nil
}

// pinnedSrc reads from src, except that a read that lies within a pinned
// buffer is answered from it, and one within the tail being read waits for
// it. Buffers hold bytes read from src at their offset, so the answer is the
// same either way.
type pinnedSrc struct {
	src  io.ReaderAt
	mu   sync.Mutex
	pins []pinned
	tail *pending // nil once OpenReaderAt returns
}

// pending is a read of src under way.
type pending struct {
	off  int64
	buf  []byte
	ok   bool // buf holds what src has at off; set before done is closed
	done chan struct{}
}

type pinned struct {
	off int64
	buf []byte
}

// pin makes reads within buf, read from src at off, come from buf until
// the returned function is called.
func (s *pinnedSrc) pin(off int64, buf []byte) (unpin func()) {
	s.mu.Lock()
	s.pins = append(s.pins, pinned{off, buf})
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, pn := range s.pins {
			if pn.off == off && len(pn.buf) == len(buf) && &pn.buf[0] == &buf[0] {
				s.pins = append(s.pins[:i], s.pins[i+1:]...)
				return
			}
		}
	}
}

func (s *pinnedSrc) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	for _, pn := range s.pins {
		if off >= pn.off && off+int64(len(p)) <= pn.off+int64(len(pn.buf)) {
			n := copy(p, pn.buf[off-pn.off:])
			s.mu.Unlock()
			return n, nil
		}
	}
	t := s.tail
	s.mu.Unlock()
	if t != nil && off >= t.off && off+int64(len(p)) <= t.off+int64(len(t.buf)) {
		if <-t.done; t.ok {
			return copy(p, t.buf[off-t.off:]), nil
		}
	}
	return s.src.ReadAt(p, off)
}

// endErr turns the result of one ReadAt of want bytes into the error to
// return: nil or atEnd for a full read, a non-nil error for a short one.
func endErr(n, want int, err, atEnd error) error {
	if n == want {
		return atEnd
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// NewReadSeeker returns an io.ReadSeeker over the size bytes of ra, for
// http.ServeContent and other sequential readers. It reads ra in
// chunk-aligned blocks that start at one chunk after a seek and double up
// to 1 MiB while reads continue, so a seek's first byte waits for one
// chunk and small reads of a reader from [OpenReaderAt] cost one parallel
// decryption per MiB, not per call.
// It is not safe for concurrent use.
func NewReadSeeker(ra io.ReaderAt, size int64) io.ReadSeeker {
	return &readSeeker{ra: ra, size: max(size, 0)}
}

type readSeeker struct {
	ra     io.ReaderAt
	size   int64
	pos    int64
	buf    []byte // plaintext of [bufOff, bufOff+len(buf))
	bufOff int64
	ahead  int // bytes the next refill reads
}

func (s *readSeeker) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.pos >= s.size {
		return 0, io.EOF
	}
	if s.pos >= s.bufOff && s.pos < s.bufOff+int64(len(s.buf)) {
		n := copy(p, s.buf[s.pos-s.bufOff:])
		s.pos += int64(n)
		return n, nil
	}
	if len(p) >= readAhead {
		p = p[:min(int64(len(p)), s.size-s.pos)]
		n, err := s.ra.ReadAt(p, s.pos)
		s.pos += int64(n)
		if n > 0 {
			return n, nil // a failure is met again by the next Read
		}
		return 0, endErr(n, len(p), err, nil)
	}
	start := s.pos - s.pos%ChunkSize
	if s.buf == nil {
		s.buf = make([]byte, 0, readAhead)
	}
	// After a jump the first read is one chunk, so a seek waits for 64 KiB
	// of plaintext, not 1 MiB; reads that continue double it up to
	// readAhead.
	if len(s.buf) > 0 && start == s.bufOff+int64(len(s.buf)) {
		s.ahead = min(2*s.ahead, readAhead)
	} else {
		s.ahead = ChunkSize
	}
	want := int(min(int64(s.ahead), s.size-start))
	n, err := s.ra.ReadAt(s.buf[:want], start)
	s.buf, s.bufOff = s.buf[:n], start
	if s.pos >= start+int64(n) {
		return 0, endErr(n, want, err, nil)
	}
	n = copy(p, s.buf[s.pos-start:])
	s.pos += int64(n)
	return n, nil
}

func (s *readSeeker) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = s.pos + offset
	case io.SeekEnd:
		abs = s.size + offset
	default:
		return s.pos, fmt.Errorf("seek: invalid whence %d", whence)
	}
	if abs < 0 {
		return s.pos, fmt.Errorf("seek: negative position %d", abs)
	}
	s.pos = abs
	return abs, nil
}
