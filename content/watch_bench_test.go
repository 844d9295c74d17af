package content_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/seal"
)

// link is a simulated network path to one peer: transfers share its
// bandwidth in the order they start, and each pays one latency.
type link struct {
	remote    blockstore.Blockstore
	latency   time.Duration
	bandwidth float64 // bytes per second

	mu    sync.Mutex
	busy  time.Time // the link is sending until then
	bytes atomic.Int64
}

func (l *link) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b, err := l.remote.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	start := time.Now().Add(l.latency / 2)
	if l.busy.After(start) {
		start = l.busy
	}
	l.busy = start.Add(time.Duration(float64(len(b.RawData())) / l.bandwidth * float64(time.Second)))
	done := l.busy.Add(l.latency / 2)
	l.mu.Unlock()
	t := time.NewTimer(time.Until(done))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	l.bytes.Add(int64(len(b.RawData())))
	return b, nil
}

func (l *link) GetBlocks(ctx context.Context, cs []cid.Cid) (<-chan blocks.Block, error) {
	out := make(chan blocks.Block, len(cs))
	go func() {
		defer close(out)
		for _, c := range cs {
			if b, err := l.GetBlock(ctx, c); err == nil {
				out <- b
			}
		}
	}()
	return out, nil
}

func (l *link) NotifyNewBlocks(context.Context, ...blocks.Block) error { return nil }
func (l *link) Close() error                                           { return nil }

func memStore() blockstore.Blockstore {
	return blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore()))
}

// BenchmarkWatchSeek does what a /watch Range request at the middle of an
// encrypted film does on a node that holds none of its blocks, over a
// simulated link (1 ms, 200 MB/s): open the age file, seek, read. It
// reports the time to the first byte, to the end of a 1 MiB range, the rate
// of the 16 MiB read after it, and the bytes that crossed the link. The
// peer reads its store plainly, or through content.Verified as a node's
// bitswap and xfer servers do (the cost of hashing what it serves).
func BenchmarkWatchSeek(b *testing.B) {
	for _, tc := range []struct {
		name string
		wrap func(blockstore.Blockstore) blockstore.Blockstore
	}{
		{"plain", func(bs blockstore.Blockstore) blockstore.Blockstore { return bs }},
		{"verified", func(bs blockstore.Blockstore) blockstore.Blockstore { return content.NewVerified(bs, nil) }},
	} {
		b.Run(tc.name, func(b *testing.B) { benchWatchSeek(b, tc.wrap) })
	}
}

func benchWatchSeek(b *testing.B, wrap func(blockstore.Blockstore) blockstore.Blockstore) {
	const plainSize = 64 << 20
	id, err := seal.IdentityFromSeed([32]byte{1})
	if err != nil {
		b.Fatal(err)
	}
	plain := make([]byte, plainSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range plain {
		plain[i] = byte(r.Uint32())
	}
	var enc bytes.Buffer
	if _, err := seal.Encrypt(&enc, bytes.NewReader(plain), id.Recipient()); err != nil {
		b.Fatal(err)
	}
	remote := memStore()
	root, _, err := content.Import(context.Background(), remote, &enc)
	if err != nil {
		b.Fatal(err)
	}
	const at = plainSize / 2
	var ttfb, rangeT, play time.Duration
	var moved int64
	buf := make([]byte, 32<<10)
	for b.Loop() {
		l := &link{remote: wrap(remote), latency: time.Millisecond, bandwidth: 200e6}
		ctx, cancel := context.WithCancel(context.Background())
		bs := blockservice.New(memStore(), l)
		t0 := time.Now()
		f, err := content.Open(ctx, blockservice.NewSession(ctx, bs), root)
		if err != nil {
			b.Fatal(err)
		}
		f.Prefetch(ctx, 0, f.Size()-1, seal.EncryptedSize(seal.X25519HeaderSize, at))
		ra, n, err := seal.OpenReaderAt(f.SeqReaderAt(ctx), f.Size(), id)
		if err != nil {
			b.Fatal(err)
		}
		rs := seal.NewReadSeeker(ra, n)
		if _, err := rs.Seek(at, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		k, err := rs.Read(buf)
		if err != nil || !bytes.Equal(buf[:k], plain[at:at+k]) {
			b.Fatalf("first read: %d bytes, %v", k, err)
		}
		t1 := time.Now()
		if _, err := io.CopyBuffer(io.Discard, io.LimitReader(rs, 1<<20-int64(k)), buf); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := io.CopyBuffer(io.Discard, io.LimitReader(rs, 16<<20), buf); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		cancel()
		ttfb += t1.Sub(t0)
		rangeT += t2.Sub(t0)
		play += t3.Sub(t2)
		moved += l.bytes.Load()
	}
	runs := float64(b.N)
	b.ReportMetric(float64(ttfb.Microseconds())/1e3/runs, "ttfb-ms")
	b.ReportMetric(float64(rangeT.Microseconds())/1e3/runs, "range-ms")
	b.ReportMetric(16<<20*runs/play.Seconds()/1e6, "play-MB/s")
	b.ReportMetric(float64(moved)/runs/(1<<20), "MiB-moved")
}

// BenchmarkLinkFetch reads a whole 64 MiB file from one peer over the
// simulated link (1 ms, 200 MB/s) with a Reader's window, the peer reading
// its store plainly or through content.Verified.
func BenchmarkLinkFetch(b *testing.B) {
	const size = 64 << 20
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	remote := memStore()
	root, _, err := content.Import(context.Background(), remote, bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		bs   blockstore.Blockstore
	}{{"plain", remote}, {"verified", content.NewVerified(remote, nil)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				l := &link{remote: tc.bs, latency: time.Millisecond, bandwidth: 200e6}
				ctx, cancel := context.WithCancel(context.Background())
				bs := blockservice.New(memStore(), l)
				f, err := content.Open(ctx, blockservice.NewSession(ctx, bs), root)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, f.NewReader(ctx, 0, -1)); err != nil || n != size {
					b.Fatalf("read %d bytes: %v", n, err)
				}
				cancel()
			}
		})
	}
}
