package content

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// gatedGetter counts GetBlock calls per CID and holds those for gated
// CIDs until release is closed or their context ends.
type gatedGetter struct {
	blockservice.BlockGetter
	gated   map[cid.Cid]bool
	release chan struct{}

	mu        sync.Mutex
	calls     map[cid.Cid]int
	cancelled int
}

func (g *gatedGetter) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	g.mu.Lock()
	g.calls[c]++
	g.mu.Unlock()
	if g.gated[c] {
		select {
		case <-g.release:
		case <-ctx.Done():
			g.mu.Lock()
			g.cancelled++
			g.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	return g.BlockGetter.GetBlock(ctx, c)
}

func (g *gatedGetter) count(c cid.Cid) (calls, cancelled int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[c], g.cancelled
}

// openGated imports three leaves and opens the file through a getter that
// holds its first leaf.
func openGated(t *testing.T) (*File, *gatedGetter, cid.Cid) {
	t.Helper()
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	root := importBytes(t, s, randBytes(11, 3*LeafSize))
	g := &gatedGetter{BlockGetter: blockservice.New(s.Blocks, nil), gated: map[cid.Cid]bool{}, release: make(chan struct{}), calls: map[cid.Cid]int{}}
	f, err := Open(context.Background(), g, root)
	if err != nil {
		t.Fatal(err)
	}
	leaf := f.top.links[0]
	g.gated[leaf] = true
	return f, g, leaf
}

// waitWaiters returns once n fetches wait for the flight of c.
func waitWaiters(f *File, c cid.Cid, n int) {
	for {
		f.mu.Lock()
		fl := f.flights[c]
		ok := fl != nil && fl.waiters == n
		f.mu.Unlock()
		if ok {
			return
		}
		runtime.Gosched()
	}
}

func TestFetchShared(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cancel int // how many of the fetches give up before the block arrives
	}{
		{"all wait", 0},
		{"some give up", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, g, leaf := openGated(t)
			const n = 5
			ctxs := make([]context.Context, n)
			cancels := make([]context.CancelFunc, n)
			for i := range n {
				ctxs[i], cancels[i] = context.WithCancel(context.Background())
				defer cancels[i]()
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					nd, err := f.fetch(ctxs[i], leaf, LeafSize)
					if err == nil && len(nd.data) != LeafSize {
						err = errors.New("short leaf")
					}
					errs[i] = err
				})
			}
			waitWaiters(f, leaf, n)
			for i := range tc.cancel {
				cancels[i]()
			}
			waitWaiters(f, leaf, n-tc.cancel)
			close(g.release)
			wg.Wait()
			for i, err := range errs {
				if gotFail, wantFail := err != nil, i < tc.cancel; gotFail != wantFail {
					t.Errorf("fetch %d: got error %v, want failure %v", i, err, wantFail)
				}
			}
			if calls, _ := g.count(leaf); calls != 1 {
				t.Errorf("got %v GetBlock calls, want %v", calls, 1)
			}
		})
	}
}

func TestFetchAllGoneCancels(t *testing.T) {
	f, g, leaf := openGated(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	for range 2 {
		go func() {
			_, err := f.fetch(ctx, leaf, LeafSize)
			done <- err
		}()
	}
	waitWaiters(f, leaf, 2)
	cancel()
	for range 2 {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want %v", err, context.Canceled)
		}
	}
	// The shared GetBlock ends once nobody waits for it, and a later fetch
	// starts afresh.
	for {
		if _, cancelled := g.count(leaf); cancelled == 1 {
			break
		}
		runtime.Gosched()
	}
	close(g.release)
	if _, err := f.fetch(context.Background(), leaf, LeafSize); err != nil {
		t.Fatalf("fetch after all gave up: %v", err)
	}
	if calls, _ := g.count(leaf); calls != 2 {
		t.Errorf("got %v GetBlock calls, want %v", calls, 2)
	}
}

func TestFetchSizeMismatch(t *testing.T) {
	f, g, leaf := openGated(t)
	close(g.release)
	if _, err := f.fetch(context.Background(), leaf, LeafSize-1); err == nil {
		t.Fatal("fetch with the wrong size succeeded")
	}
}

// A read elsewhere made while another read waits for a block is served on
// its own: it does not wait for the first.
func TestSeqReaderAtReadElsewhereMeanwhile(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := randBytes(12, 3*LeafSize)
	root := importBytes(t, s, data)
	g := &gatedGetter{BlockGetter: blockservice.New(s.Blocks, nil), gated: map[cid.Cid]bool{}, release: make(chan struct{}), calls: map[cid.Cid]int{}}
	f, err := Open(context.Background(), g, root)
	if err != nil {
		t.Fatal(err)
	}
	g.gated[f.top.links[0]] = true
	sr := f.SeqReaderAt(context.Background())
	defer sr.Close()

	first := make(chan error)
	go func() {
		p := make([]byte, 100)
		_, err := sr.ReadAt(p, 10)
		if err == nil && !bytes.Equal(p, data[10:110]) {
			err = errors.New("wrong bytes")
		}
		first <- err
	}()
	waitWaiters(f, f.top.links[0], 1)
	const off = 2*LeafSize + 5
	p := make([]byte, 1000)
	if n, err := sr.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+1000]) {
		t.Fatalf("read at %d while another waits: got %d bytes, %v; want %d correct bytes", off, n, err, len(p))
	}
	close(g.release)
	if err := <-first; err != nil {
		t.Fatalf("first read: got %v, want nil", err)
	}
	// The Reader stayed where the first read left it.
	if n, err := sr.ReadAt(p[:50], 110); err != nil || !bytes.Equal(p[:50], data[110:160]) {
		t.Fatalf("read continuing the first: got %d bytes, %v; want 50 correct bytes", n, err)
	}
}
