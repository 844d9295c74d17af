package content

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/go-cid"
)

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func importBytes(t *testing.T, s *Store, data []byte) cid.Cid {
	t.Helper()
	c, n, err := Import(context.Background(), s.Blocks, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Import read %d bytes, want %d", n, len(data))
	}
	return c
}

func TestImportAndRead(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bs := blockservice.New(s.Blocks, nil)
	ctx := context.Background()
	for _, size := range []int{0, 1, LeafSize - 1, LeafSize, LeafSize + 1, 3*LeafSize + 12345, 200 * LeafSize} {
		data := randBytes(uint64(size), size)
		c := importBytes(t, s, data)
		if c.Version() != 1 {
			t.Errorf("size %d: CID version %d, want 1", size, c.Version())
		}
		f, err := Open(ctx, bs, c)
		if err != nil {
			t.Fatalf("size %d: Open: %v", size, err)
		}
		if f.Size() != int64(size) {
			t.Fatalf("size %d: Size() = %d", size, f.Size())
		}
		var got bytes.Buffer
		r := f.NewReader(ctx, 0, -1)
		if _, err := io.Copy(&got, r); err != nil {
			t.Fatalf("size %d: reading: %v", size, err)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("size %d: read bytes differ", size)
		}
		// Ranges, including ones across leaf and inner-node boundaries.
		for _, rg := range [][2]int64{{0, 1}, {int64(size) / 2, 100}, {LeafSize - 10, 20}, {174*LeafSize - 5, 10}, {int64(size) - 1, 1}} {
			off, n := rg[0], rg[1]
			if off < 0 || off >= int64(size) {
				continue
			}
			n = min(n, int64(size)-off)
			p := make([]byte, n)
			if _, err := f.ReadAt(p, off); err != nil {
				t.Fatalf("size %d: ReadAt(%d, %d): %v", size, off, n, err)
			}
			if !bytes.Equal(p, data[off:off+n]) {
				t.Fatalf("size %d: ReadAt(%d, %d) returned wrong bytes", size, off, n)
			}
		}
	}
}

func TestReaderSeek(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := randBytes(7, 5*LeafSize+777)
	c := importBytes(t, s, data)
	ctx := context.Background()
	f, err := Open(ctx, blockservice.New(s.Blocks, nil), c)
	if err != nil {
		t.Fatal(err)
	}
	r := f.NewReader(ctx, 0, -1)
	defer r.Close()
	buf := make([]byte, 1000)
	steps := []struct {
		off    int64
		whence int
		want   int64
	}{
		{3 * LeafSize, io.SeekStart, 3 * LeafSize},
		{-2000, io.SeekCurrent, 3*LeafSize + 1000 - 2000},
		{-500, io.SeekEnd, int64(len(data)) - 500},
		{10, io.SeekStart, 10},
		{5, io.SeekCurrent, 1015},
	}
	for _, st := range steps {
		pos, err := r.Seek(st.off, st.whence)
		if err != nil || pos != st.want {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", st.off, st.whence, pos, err, st.want)
		}
		n, err := io.ReadFull(r, buf[:min(1000, int64(len(data))-pos)])
		if err != nil {
			t.Fatalf("read after seek to %d: %v", pos, err)
		}
		if !bytes.Equal(buf[:n], data[pos:pos+int64(n)]) {
			t.Fatalf("read after seek to %d: wrong bytes", pos)
		}
	}
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("Seek to a negative position succeeded")
	}
}

func TestOpenMissingIsError(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := importBytes(t, s, []byte("hello"))
	s2, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := Open(context.Background(), blockservice.New(s2.Blocks, nil), c); err == nil {
		t.Fatal("Open of a block the store lacks succeeded")
	}
}
