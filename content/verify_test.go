package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	format "github.com/ipfs/go-ipld-format"
)

// flipStored flips one byte in the middle of block c's file in the flatfs
// store in dir.
func flipStored(t *testing.T, dir string, c cid.Cid) {
	t.Helper()
	name := strings.TrimPrefix(dshelp.MultihashToDsKey(c.Hash()).String(), "/") + ".data"
	var found string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == name {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("block %s has no file %s in %s", c, name, dir)
	}
	b, err := os.ReadFile(found)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(found, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// logBuf is a slog handler's output, safe for concurrent writes.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// storeWithFile opens a store in a temporary directory logging to the
// returned buffer, and imports three leaves of data into it.
func storeWithFile(t *testing.T, data []byte) (*Store, string, cid.Cid, *logBuf) {
	t.Helper()
	dir := t.TempDir()
	lb := &logBuf{}
	s, err := OpenStore(dir, slog.New(slog.NewTextHandler(lb, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir, importBytes(t, s, data), lb
}

// leaves returns the children of root, read from bs.
func leaves(t *testing.T, bs blockstore.Blockstore, root cid.Cid) []cid.Cid {
	t.Helper()
	f, err := Open(context.Background(), blockservice.New(bs, nil), root)
	if err != nil {
		t.Fatal(err)
	}
	return f.top.links
}

// peerExchange is an exchange over another store: a peer that holds the
// file. With remote nil it has nothing and waits until asked to give up.
type peerExchange struct {
	remote blockstore.Blockstore
	asked  chan cid.Cid
}

func (p *peerExchange) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	select {
	case p.asked <- c:
	default:
	}
	if p.remote == nil {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return p.remote.Get(ctx, c)
}

func (p *peerExchange) GetBlocks(ctx context.Context, cs []cid.Cid) (<-chan blocks.Block, error) {
	out := make(chan blocks.Block, len(cs))
	defer close(out)
	for _, c := range cs {
		if b, err := p.GetBlock(ctx, c); err == nil {
			out <- b
		}
	}
	return out, nil
}

func (p *peerExchange) NotifyNewBlocks(context.Context, ...blocks.Block) error { return nil }
func (p *peerExchange) Close() error                                           { return nil }

func TestVerifiedDropsCorruptBlock(t *testing.T) {
	data := randBytes(21, 3*LeafSize)
	s, dir, root, lb := storeWithFile(t, data)
	leaf := leaves(t, s.Blocks, root)[1]
	flipStored(t, dir, leaf)
	ctx := context.Background()

	_, err := s.Blocks.Get(ctx, leaf)
	var ce *CorruptError
	if !errors.As(err, &ce) || !ce.Cid.Equals(leaf) {
		t.Fatalf("Get of a flipped block: %v, want a CorruptError naming %s", err, leaf)
	}
	if !format.IsNotFound(err) {
		t.Fatalf("a CorruptError must read as not found (the block is gone): %v", err)
	}
	if ok, _ := s.Blocks.Has(ctx, leaf); ok {
		t.Fatal("the corrupt block is still in the store")
	}
	if !strings.Contains(lb.String(), leaf.String()) {
		t.Fatalf("the log does not name the block %s:\n%s", leaf, lb)
	}

	// Offline, a read of the file (the block now missing) fails naming
	// the block, and never returns the bytes that were on disk.
	f, err := Open(ctx, blockservice.New(NewRefetching(s.Blocks, nil, 0, nil), nil), root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f.NewReader(ctx, 0, -1))
	if err == nil || !strings.Contains(err.Error(), leaf.String()) {
		t.Fatalf("reading a file with a missing block: %v, want an error naming %s", err, leaf)
	}
	if !bytes.Equal(got, data[:len(got)]) || len(got) > LeafSize {
		t.Fatalf("read %d bytes before the bad block, some of them wrong", len(got))
	}
}

func TestRefetchingFetchesCorruptBlockFromPeer(t *testing.T) {
	data := randBytes(22, 3*LeafSize)
	s, dir, root, lb := storeWithFile(t, data)
	peer, _, _, _ := storeWithFile(t, data)
	ls := leaves(t, s.Blocks, root)
	for _, l := range ls {
		flipStored(t, dir, l)
	}
	flipStored(t, dir, root)
	ex := &peerExchange{remote: peer.Blocks, asked: make(chan cid.Cid, 8)}
	local := NewRefetching(s.Blocks, ex, time.Minute, slog.New(slog.NewTextHandler(lb, nil)))
	ctx := context.Background()
	f, err := Open(ctx, blockservice.New(local, ex), root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f.NewReader(ctx, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("read wrong bytes")
	}
	for _, c := range append(ls, root) {
		if !strings.Contains(lb.String(), c.String()) {
			t.Errorf("the log does not name the block %s", c)
		}
		// Repaired on disk: the plain store returns it again.
		if _, err := s.Blocks.Get(ctx, c); err != nil {
			t.Errorf("block %s after the refetch: %v", c, err)
		}
	}
	if n, err := s.Scan(ctx, func(c cid.Cid, err error) error { t.Errorf("still bad: %s: %v", c, err); return nil }); err != nil || n != 4 {
		t.Fatalf("Scan: %d blocks, %v", n, err)
	}
}

func TestRefetchingWithoutPeerFailsNamingBlock(t *testing.T) {
	data := randBytes(23, 3*LeafSize)
	s, dir, root, _ := storeWithFile(t, data)
	leaf := leaves(t, s.Blocks, root)[0]
	flipStored(t, dir, leaf)
	ex := &peerExchange{asked: make(chan cid.Cid, 8)}
	local := NewRefetching(s.Blocks, ex, 50*time.Millisecond, nil)
	ctx := context.Background()
	f, err := Open(ctx, blockservice.New(local, ex), root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f.NewReader(ctx, 0, -1))
	var re *RepairError
	if !errors.As(err, &re) || !re.Cid.Equals(leaf) || !strings.Contains(err.Error(), leaf.String()) {
		t.Fatalf("read: %v, want a RepairError naming %s", err, leaf)
	}
	if format.IsNotFound(err) {
		t.Fatal("a failed refetch must not read as not found: a block service would wait on")
	}
	if len(got) != 0 {
		t.Fatalf("%d bytes returned before the first (bad) block", len(got))
	}
	if c := <-ex.asked; !c.Equals(leaf) {
		t.Fatalf("asked peers for %s, want %s", c, leaf)
	}
	// The block is gone from the store now; a second read still fails
	// within the limit, naming it, instead of waiting as for any block.
	_, err = io.ReadAll(f.NewReader(ctx, 0, -1))
	if !errors.As(err, &re) || !re.Cid.Equals(leaf) {
		t.Fatalf("second read: %v, want a RepairError naming %s", err, leaf)
	}
}

func TestScanReportsCorruptBlocks(t *testing.T) {
	data := randBytes(24, 3*LeafSize)
	s, dir, root, _ := storeWithFile(t, data)
	leaf := leaves(t, s.Blocks, root)[2]
	flipStored(t, dir, leaf)
	var bad []cid.Cid
	n, err := s.Scan(context.Background(), func(c cid.Cid, err error) error {
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Errorf("Scan reported %s with %v, want a CorruptError", c, err)
		}
		bad = append(bad, c)
		return nil
	})
	if err != nil || n != 4 {
		t.Fatalf("Scan: %d blocks, %v", n, err)
	}
	if len(bad) != 1 || !bytes.Equal(bad[0].Hash(), leaf.Hash()) {
		t.Fatalf("Scan reported %v, want only %s", bad, leaf)
	}
	// Scan changes nothing: the block is still there, still bad.
	if ok, _ := s.Blocks.Has(context.Background(), leaf); !ok {
		t.Fatal("Scan removed the block")
	}
}

func TestCheck(t *testing.T) {
	b := blocks.NewBlock([]byte("hello"))
	if err := Check(b.Cid(), b.RawData()); err != nil {
		t.Fatal(err)
	}
	if err := Check(b.Cid(), []byte("hellp")); err == nil {
		t.Fatal("Check accepted wrong bytes")
	}
	// The codec does not matter, only the multihash.
	if err := Check(cid.NewCidV1(cid.DagProtobuf, b.Cid().Hash()), b.RawData()); err != nil {
		t.Fatal(err)
	}
}
