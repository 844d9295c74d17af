package xfer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/exchange/offline"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/p2ptest"
)

func newStore() blockstore.Blockstore {
	return blockstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
}

// offlineSession is an offline exchange that can make sessions: the
// fallback for blocks no xfer peer holds.
type offlineSession struct{ exchange.Interface }

func (o offlineSession) NewSession(context.Context) exchange.Fetcher { return o }

func connect(t testing.TB, a, b host.Host) {
	t.Helper()
	if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
	// Identify tells a which protocols b speaks; wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ok, _ := a.Peerstore().SupportsProtocols(b.ID(), Protocol11, Protocol); len(ok) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("identify never reported the xfer protocol")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFetchFromPeersAndFallBack(t *testing.T) {
	server, server2, client := p2ptest.Host(t), p2ptest.Host(t), p2ptest.Host(t)
	sbs, s2bs, local := newStore(), newStore(), newStore()
	Serve(server, sbs, slog.Default())
	Serve(server2, s2bs, slog.Default())
	var held []blocks.Block
	for i := range 20 {
		b := blocks.NewBlock(bytes.Repeat([]byte{byte(i)}, 1000+i))
		held = append(held, b)
		sbs.Put(context.Background(), b)
		s2bs.Put(context.Background(), b)
	}
	// A block only the fallback exchange holds.
	onlyLocal := blocks.NewBlock([]byte("only in the fallback store"))
	local.Put(context.Background(), onlyLocal)
	connect(t, client, server)
	connect(t, client, server2)

	ex := NewExchange(client, offlineSession{offline.Exchange(local)})
	f := ex.NewSession(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, want := range held {
		got, err := f.GetBlock(ctx, want.Cid())
		if err != nil {
			t.Fatalf("GetBlock %s: %v", want.Cid(), err)
		}
		if !bytes.Equal(got.RawData(), want.RawData()) {
			t.Fatalf("GetBlock %s: wrong bytes", want.Cid())
		}
	}
	if n := len(f.(*fetcher).good.list()); n != 2 {
		t.Fatalf("session sources: %d peers, want both servers", n)
	}
	got, err := f.GetBlock(ctx, onlyLocal.Cid())
	if err != nil || !bytes.Equal(got.RawData(), onlyLocal.RawData()) {
		t.Fatalf("fallback GetBlock: %v", err)
	}
	// GetBlocks returns every block.
	var cids []cid.Cid
	for _, b := range held {
		cids = append(cids, b.Cid())
	}
	ch, err := f.GetBlocks(ctx, cids)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range ch {
		n++
	}
	if n != len(cids) {
		t.Fatalf("GetBlocks returned %d of %d blocks", n, len(cids))
	}
}

// A peer that answers with the wrong bytes is caught and dropped.
func TestWrongBlockIsRejected(t *testing.T) {
	liar, client := p2ptest.Host(t), p2ptest.Host(t)
	want := blocks.NewBlock([]byte("the real block"))
	liar.SetStreamHandler(Protocol, func(s network.Stream) {
		defer s.Close()
		if _, err := readRequest(bufio.NewReader(s)); err != nil {
			s.Reset()
			return
		}
		w := bufio.NewWriter(s)
		writeBlock(w, []byte("something else"), true)
		w.Flush()
	})
	connect(t, client, liar)
	ex := NewExchange(client, offlineSession{offline.Exchange(newStore())})
	_, err := ex.fetchFrom(context.Background(), liar.ID(), want.Cid())
	if !errors.Is(err, ErrWrongBlock) {
		t.Fatalf("fetchFrom a liar: %v, want ErrWrongBlock", err)
	}
	f := ex.NewSession(context.Background()).(*fetcher)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := f.GetBlock(ctx, want.Cid()); err == nil {
		t.Fatal("GetBlock returned a block only a liar offered")
	}
	if len(f.good.list()) != 0 {
		t.Fatal("the liar became a session source")
	}
}

func FuzzReadRequest(f *testing.F) {
	var buf bytes.Buffer
	writeRequest(&buf, []cid.Cid{blocks.NewBlock([]byte("x")).Cid()})
	f.Add(buf.Bytes())
	f.Add([]byte{0})
	f.Add([]byte{65})
	f.Fuzz(func(t *testing.T, data []byte) {
		cids, err := readRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := writeRequest(&out, cids); err != nil {
			t.Fatal(err)
		}
		again, err := readRequest(bufio.NewReader(&out))
		if err != nil || len(again) != len(cids) {
			t.Fatalf("re-encoded request does not decode: %v", err)
		}
	})
}

func FuzzReadBlock(f *testing.F) {
	b := blocks.NewBlock([]byte("fuzz block"))
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeBlock(w, b.RawData(), true)
	w.Flush()
	f.Add(buf.Bytes())
	f.Add([]byte{statusNotHave})
	f.Add([]byte{statusHave, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := readBlock(bufio.NewReader(bytes.NewReader(data)), b.Cid())
		if err == nil && !bytes.Equal(got, b.RawData()) {
			t.Fatal("readBlock accepted bytes that are not the block")
		}
	})
}
