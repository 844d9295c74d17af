package seal

import (
	"bytes"
	"io"
	"slices"
	"sync"
	"testing"
)

// recordingReaderAt records the offsets src is read at.
type recordingReaderAt struct {
	src  io.ReaderAt
	mu   sync.Mutex
	offs []int64
}

func (r *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	r.offs = append(r.offs, off)
	r.mu.Unlock()
	return r.src.ReadAt(p, off)
}

// A split read asks src for its ciphertext once, in order, so that a src
// which fetches ahead of sequential reads keeps its window.
func TestSplitReadInOrder(t *testing.T) {
	id := testIdentity(t)
	p := plaintext(150*ChunkSize+5, 13)
	c := sealBytes(t, p, id, 2)
	src := &recordingReaderAt{src: bytes.NewReader(c)}
	ra, n, err := OpenReaderAt(src, int64(len(c)), id)
	if err != nil {
		t.Fatal(err)
	}
	ra.(*readerAt).workers = 4
	tests := []struct {
		off, len  int64
		wantCalls int
	}{
		{0, 16 * ChunkSize, 1},
		{ChunkSize - 1, 4*ChunkSize + 2, 1},
		{3 * ChunkSize, splitMax, 1},
		{5, n - 5, 3}, // three segments of at most splitMax
	}
	for _, tt := range tests {
		src.mu.Lock()
		src.offs = nil
		src.mu.Unlock()
		buf := make([]byte, tt.len)
		got, err := ra.ReadAt(buf, tt.off)
		if int64(got) != tt.len || (err != nil && err != io.EOF) || !bytes.Equal(buf, p[tt.off:tt.off+tt.len]) {
			t.Errorf("ReadAt(%d at %d): got %d, %v; want %d correct bytes", tt.len, tt.off, got, err, tt.len)
		}
		src.mu.Lock()
		offs := src.offs
		src.mu.Unlock()
		if len(offs) != tt.wantCalls || !slices.IsSorted(offs) {
			t.Errorf("ReadAt(%d at %d): got src reads at %v, want %d in order", tt.len, tt.off, offs, tt.wantCalls)
		}
	}
}
