package xfer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/exchange/offline"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/p2ptest"
	"github.com/shardcast/shardcast/internal/peerlimit"
)

func randomBlocks(t *testing.T, n, size int) []blocks.Block {
	t.Helper()
	out := make([]blocks.Block, n)
	for i := range out {
		data := make([]byte, size)
		rand.Read(data)
		out[i] = blocks.NewBlock(data)
	}
	return out
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// streamsTo counts the open streams of protocol proto from h to p.
func streamsTo(h host.Host, p peer.ID, proto string) int {
	n := 0
	for _, c := range h.Network().ConnsToPeer(p) {
		for _, s := range c.GetStreams() {
			if string(s.Protocol()) == proto {
				n++
			}
		}
	}
	return n
}

// Many fetches in parallel from one peer share a few pipelined streams, and
// every block arrives whole and right.
func TestPipelineManyInFlight(t *testing.T) {
	server, client := p2ptest.Host(t), p2ptest.Host(t)
	sbs := newStore()
	srv := Serve(server, sbs, slog.Default())
	held := randomBlocks(t, 300, 64<<10)
	for _, b := range held {
		sbs.Put(context.Background(), b)
	}
	connect(t, client, server)
	ex := NewExchange(client, offlineSession{offline.Exchange(newStore())})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, len(held))
	for _, want := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := ex.fetchFrom(ctx, server.ID(), want.Cid())
			if err == nil && !bytes.Equal(got.RawData(), want.RawData()) {
				err = errors.New("wrong bytes for " + want.Cid().String())
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := streamsTo(client, server.ID(), Protocol11); n < 1 || n > peerlimit.XferStreamsPerPeer {
		t.Errorf("%d pipelined streams to the peer, want 1 to %d", n, peerlimit.XferStreamsPerPeer)
	}
	if n := streamsTo(client, server.ID(), Protocol); n != 0 {
		t.Errorf("%d 1.0.0 streams to a peer that speaks 1.1.0", n)
	}
	if got := srv.Blocks.Load(); got != int64(len(held)) {
		t.Errorf("server counted %d blocks served, want %d", got, len(held))
	}
	// A block the peer does not hold is answered as such, and the stream
	// goes on.
	missing := blocks.NewBlock([]byte("not on the server"))
	if _, err := ex.fetchFrom(ctx, server.ID(), missing.Cid()); !errors.Is(err, errNotHave) {
		t.Fatalf("fetch of a block the peer lacks: %v, want errNotHave", err)
	}
	if _, err := ex.fetchFrom(ctx, server.ID(), held[0].Cid()); err != nil {
		t.Fatalf("fetch after a not-held answer: %v", err)
	}
}

// fakeServer handles Protocol11 on h with fn, which gets the stream and
// a reader of its frames.
func fakeServer(h host.Host, fn func(s network.Stream, r *bufio.Reader)) {
	h.SetStreamHandler(Protocol11, func(s network.Stream) {
		fn(s, bufio.NewReader(s))
	})
}

// answerTo writes one answer.
func answerTo(w io.Writer, id uint64, status byte, data []byte) error {
	buf := appendAnswerHeader(nil, id, status, len(data))
	_, err := w.Write(append(buf, data...))
	return err
}

// A server may answer in any order: answers are matched to wants by id.
func TestPipelineAnswersOutOfOrder(t *testing.T) {
	server, client := p2ptest.Host(t), p2ptest.Host(t)
	held := randomBlocks(t, 8, 1000)
	byCID := map[cid.Cid][]byte{}
	for _, b := range held {
		byCID[b.Cid()] = b.RawData()
	}
	fakeServer(server, func(s network.Stream, r *bufio.Reader) {
		defer s.Close()
		var got []frame
		for len(got) < len(held) {
			f, err := readFrame(r)
			if err != nil {
				s.Reset()
				return
			}
			got = append(got, f)
		}
		// Last asked, first answered.
		for i := len(got) - 1; i >= 0; i-- {
			answerTo(s, got[i].id, statusHave, byCID[got[i].c])
		}
		io.Copy(io.Discard, r)
	})
	connect(t, client, server)
	ex := NewExchange(client, offlineSession{offline.Exchange(newStore())})
	ctx := testCtx(t)
	pl, err := ex.pipeline(ctx, server.ID()) // every want on one stream
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, want := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := pl.get(ctx, want.Cid())
			if err != nil || !bytes.Equal(got.RawData(), want.RawData()) {
				t.Errorf("fetch %s: %v", want.Cid(), err)
			}
		}()
	}
	wg.Wait()
}

// A peer that sends bytes that do not hash to the CID is cut off and
// banned, and the block comes from another peer.
func TestPipelineWrongBlock(t *testing.T) {
	liar, honest, client := p2ptest.Host(t), p2ptest.Host(t), p2ptest.Host(t)
	want := randomBlocks(t, 1, 5000)[0]
	fakeServer(liar, func(s network.Stream, r *bufio.Reader) {
		for {
			f, err := readFrame(r)
			if err != nil {
				s.Reset()
				return
			}
			if f.kind == frameWant {
				answerTo(s, f.id, statusHave, []byte("not the block asked for"))
			}
		}
	})
	hbs := newStore()
	hbs.Put(context.Background(), want)
	Serve(honest, hbs, slog.Default())
	connect(t, client, liar)
	ex := NewExchange(client, offlineSession{offline.Exchange(newStore())})
	ctx := testCtx(t)
	if _, err := ex.fetchFrom(ctx, liar.ID(), want.Cid()); !errors.Is(err, ErrWrongBlock) {
		t.Fatalf("fetch from a liar: %v, want ErrWrongBlock", err)
	}
	if !ex.isBanned(liar.ID()) {
		t.Fatal("the liar is not banned")
	}
	connect(t, client, honest)
	f := ex.NewSession(ctx).(*fetcher)
	got, err := f.GetBlock(ctx, want.Cid())
	if err != nil || !bytes.Equal(got.RawData(), want.RawData()) {
		t.Fatalf("GetBlock with a liar and an honest peer: %v", err)
	}
	for _, p := range f.good.list() {
		if p == liar.ID() {
			t.Fatal("the liar became a session source")
		}
	}
}

// A peer that takes wants and never answers is dropped after the stall
// timeout, and the block comes from another peer.
func TestPipelineStalledPeer(t *testing.T) {
	staller, honest, client := p2ptest.Host(t), p2ptest.Host(t), p2ptest.Host(t)
	want := randomBlocks(t, 1, 5000)[0]
	fakeServer(staller, func(s network.Stream, r *bufio.Reader) {
		io.Copy(io.Discard, r) // reads every want, answers none
	})
	hbs := newStore()
	hbs.Put(context.Background(), want)
	Serve(honest, hbs, slog.Default())
	connect(t, client, staller)
	ex := NewExchange(client, offlineSession{offline.Exchange(newStore())}, WithStallTimeout(300*time.Millisecond))
	ctx := testCtx(t)
	if _, err := ex.fetchFrom(ctx, staller.ID(), want.Cid()); err == nil || ctx.Err() != nil {
		t.Fatalf("fetch from a stalled peer: %v, want a stall error before the test's deadline", err)
	}
	connect(t, client, honest)
	f := ex.NewSession(ctx).(*fetcher)
	f.good.add(staller.ID()) // asked first
	got, err := f.GetBlock(ctx, want.Cid())
	if err != nil || !bytes.Equal(got.RawData(), want.RawData()) {
		t.Fatalf("GetBlock past a stalled peer: %v", err)
	}
	if f.good.has(staller.ID()) {
		t.Fatal("the stalled peer is still a session source")
	}
}

// A peer that closes the stream in the middle of an answer fails every
// want waiting on it; the next fetch opens a new stream.
func TestPipelinePeerClosesMidStream(t *testing.T) {
	server, client := p2ptest.Host(t), p2ptest.Host(t)
	held := randomBlocks(t, 4, 100<<10)
	var mu sync.Mutex
	streams := 0
	fakeServer(server, func(s network.Stream, r *bufio.Reader) {
		mu.Lock()
		streams++
		first := streams == 1
		mu.Unlock()
		f, err := readFrame(r)
		if err != nil {
			s.Reset()
			return
		}
		for _, b := range held {
			if b.Cid() != f.c {
				continue
			}
			if first {
				// Half the block, then gone.
				buf := appendAnswerHeader(nil, f.id, statusHave, len(b.RawData()))
				s.Write(append(buf, b.RawData()[:len(b.RawData())/2]...))
				s.Reset()
				return
			}
			answerTo(s, f.id, statusHave, b.RawData())
		}
		io.Copy(io.Discard, r)
	})
	connect(t, client, server)
	ex := NewExchange(client, offlineSession{offline.Exchange(newStore())})
	ctx := testCtx(t)
	if _, err := ex.fetchFrom(ctx, server.ID(), held[0].Cid()); err == nil || errors.Is(err, errNotHave) {
		t.Fatalf("fetch cut off mid-block: %v, want a stream error", err)
	}
	got, err := ex.fetchFrom(ctx, server.ID(), held[1].Cid())
	if err != nil || !bytes.Equal(got.RawData(), held[1].RawData()) {
		t.Fatalf("fetch on a new stream: %v", err)
	}
}

// rawStream opens a Protocol11 stream from c to s and returns it with a
// reader of its answers.
func rawStream(t *testing.T, c host.Host, s peer.ID) (network.Stream, *bufio.Reader) {
	t.Helper()
	st, err := c.NewStream(testCtx(t), s, Protocol11)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Reset() })
	return st, bufio.NewReader(st)
}

// readAnswers reads answers until the stream ends and returns them by id
// with the error that ended it (nil for a clean end).
func readAnswers(r *bufio.Reader) (map[uint64]byte, error) {
	got := map[uint64]byte{}
	for {
		id, status, n, err := readAnswerHeader(r)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
			return got, err
		}
		got[id] = status
	}
}

// The server's bounds: wants in flight, ids in use, streams per peer.
// Each breach resets the stream.
func TestServerLimits(t *testing.T) {
	server, client := p2ptest.Host(t), p2ptest.Host(t)
	sbs := newStore()
	Serve(server, sbs, slog.Default())
	big := randomBlocks(t, 1, 1<<20)[0]
	sbs.Put(context.Background(), big)
	connect(t, client, server)

	t.Run("wants in flight", func(t *testing.T) {
		// The client does not read: the server's writer waits on the
		// first block while the wants pile up.
		s, r := rawStream(t, client, server.ID())
		var buf []byte
		for i := range peerlimit.XferWantsInFlight + 8 {
			buf = appendFrame(buf, frame{kind: frameWant, id: uint64(i), c: big.Cid()})
		}
		s.Write(buf)
		got, err := readAnswers(r)
		if err == nil || len(got) >= peerlimit.XferWantsInFlight+8 {
			t.Fatalf("%d answers and %v: want the stream reset before all are answered", len(got), err)
		}
	})
	t.Run("an id in use", func(t *testing.T) {
		s, r := rawStream(t, client, server.ID())
		f := frame{kind: frameWant, id: 7, c: big.Cid()}
		s.Write(appendFrame(appendFrame(nil, f), f))
		if _, err := readAnswers(r); err == nil {
			t.Fatal("two wants under one id: the stream ended cleanly, want it reset")
		}
	})
	t.Run("a bad frame", func(t *testing.T) {
		s, r := rawStream(t, client, server.ID())
		s.Write([]byte{9, 1})
		if _, err := readAnswers(r); err == nil {
			t.Fatal("an unknown frame type: the stream ended cleanly, want it reset")
		}
	})
	t.Run("streams per peer", func(t *testing.T) {
		// A peer of its own: the streams reset above may not be released yet.
		client := p2ptest.Host(t)
		connect(t, client, server)
		small := blocks.NewBlock([]byte("small"))
		sbs.Put(context.Background(), small)
		for range peerlimit.XferStreamsPerPeer {
			s, r := rawStream(t, client, server.ID())
			s.Write(appendFrame(nil, frame{kind: frameWant, id: 1, c: small.Cid()}))
			if _, status, n, err := readAnswerHeader(r); err != nil || status != statusHave {
				t.Fatalf("stream within the limit: status %d, %v", status, err)
			} else {
				io.CopyN(io.Discard, r, int64(n))
			}
		}
		s, r := rawStream(t, client, server.ID())
		s.Write(appendFrame(nil, frame{kind: frameWant, id: 1, c: small.Cid()}))
		if _, _, _, err := readAnswerHeader(r); err == nil {
			t.Fatal("a stream over the limit was served")
		}
	})
}

// A want cancelled while it waits in the server's queue is answered
// "cancelled", without its block; the others are served in full.
func TestServerCancel(t *testing.T) {
	server, client := p2ptest.Host(t), p2ptest.Host(t)
	sbs := newStore()
	Serve(server, sbs, slog.Default())
	held := randomBlocks(t, 8, 1<<20)
	for _, b := range held {
		sbs.Put(context.Background(), b)
	}
	connect(t, client, server)
	s, r := rawStream(t, client, server.ID())
	var buf []byte
	for i, b := range held {
		buf = appendFrame(buf, frame{kind: frameWant, id: uint64(i), c: b.Cid()})
	}
	// The server is still writing the first MiB when the cancel arrives:
	// nothing is read yet, so the stream's window holds it back.
	last := uint64(len(held) - 1)
	buf = appendFrame(buf, frame{kind: frameCancel, id: last})
	s.Write(buf)
	s.CloseWrite()
	got, err := readAnswers(r)
	if err != nil {
		t.Fatal(err)
	}
	for i := range uint64(len(held)) {
		want := statusHave
		if i == last {
			want = statusCancelled
		}
		if got[i] != want {
			t.Errorf("want %d: status %d, want %d", i, got[i], want)
		}
	}
}

// A peer that speaks only 1.0.0 is still asked, one stream per block; and
// a 1.0.0 client is still served.
func TestOlderPeers(t *testing.T) {
	old, client := p2ptest.Host(t), p2ptest.Host(t)
	obs := newStore()
	Serve(old, obs, slog.Default())
	old.RemoveStreamHandler(Protocol11)
	want := randomBlocks(t, 1, 3000)[0]
	obs.Put(context.Background(), want)
	connect(t, client, old)
	ex := NewExchange(client, offlineSession{offline.Exchange(newStore())})
	ctx := testCtx(t)
	got, err := ex.fetchFrom(ctx, old.ID(), want.Cid())
	if err != nil || !bytes.Equal(got.RawData(), want.RawData()) {
		t.Fatalf("fetch from a 1.0.0 peer: %v", err)
	}

	server := p2ptest.Host(t)
	sbs := newStore()
	Serve(server, sbs, slog.Default())
	sbs.Put(context.Background(), want)
	connect(t, client, server)
	got, err = ex.fetchFrom10(ctx, server.ID(), want.Cid())
	if err != nil || !bytes.Equal(got.RawData(), want.RawData()) {
		t.Fatalf("1.0.0 fetch from a 1.1.0 server: %v", err)
	}
}

// A fetch whose context ends cancels its want; the stream goes on
// serving the others.
func TestPipelineFetchCancelled(t *testing.T) {
	server, client := p2ptest.Host(t), p2ptest.Host(t)
	sbs := newStore()
	Serve(server, sbs, slog.Default())
	held := randomBlocks(t, 2, 1000)
	for _, b := range held {
		sbs.Put(context.Background(), b)
	}
	connect(t, client, server)
	ex := NewExchange(client, offlineSession{offline.Exchange(newStore())})
	ctx := testCtx(t)
	if _, err := ex.fetchFrom(ctx, server.ID(), held[1].Cid()); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The answer may beat the cancel; either way the stream goes on.
	if got, err := ex.fetchFrom(cctx, server.ID(), held[0].Cid()); err != nil && !errors.Is(err, context.Canceled) ||
		err == nil && !bytes.Equal(got.RawData(), held[0].RawData()) {
		t.Fatalf("cancelled fetch: %v", err)
	}
	for _, b := range held {
		got, err := ex.fetchFrom(ctx, server.ID(), b.Cid())
		if err != nil || !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatalf("fetch after a cancelled one: %v", err)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	c := blocks.NewBlock([]byte("x")).Cid()
	f.Add(appendFrame(nil, frame{kind: frameWant, id: 3, c: c}))
	f.Add(appendFrame(appendFrame(nil, frame{kind: frameCancel, id: 1 << 40}), frame{kind: frameWant, c: c}))
	f.Add([]byte{frameWant, 0, 200, 1})
	f.Add([]byte{7})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		var frames []frame
		for {
			fr, err := readFrame(r)
			if err != nil {
				break
			}
			frames = append(frames, fr)
		}
		// What decodes encodes back to frames that decode the same.
		var buf []byte
		for _, fr := range frames {
			buf = appendFrame(buf, fr)
		}
		r = bufio.NewReader(bytes.NewReader(buf))
		for i, want := range frames {
			got, err := readFrame(r)
			if err != nil || got.kind != want.kind || got.id != want.id || !got.c.Equals(want.c) {
				t.Fatalf("frame %d re-encoded: %+v, %v; want %+v", i, got, err, want)
			}
		}
		if _, err := readFrame(r); err != io.EOF {
			t.Fatalf("after the re-encoded frames: %v, want EOF", err)
		}
	})
}

func FuzzReadAnswerHeader(f *testing.F) {
	f.Add(appendAnswerHeader(nil, 5, statusHave, 1<<20))
	f.Add(appendAnswerHeader(nil, 1<<50, statusNotHave, 0))
	f.Add(appendAnswerHeader(nil, 0, statusCancelled, 0))
	f.Add([]byte{1, statusHave, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{1, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		id, status, n, err := readAnswerHeader(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if n < 0 || n > MaxBlockSize || status > statusCancelled || status != statusHave && n != 0 {
			t.Fatalf("accepted status %d with %d bytes", status, n)
		}
		again := appendAnswerHeader(nil, id, status, n)
		id2, status2, n2, err := readAnswerHeader(bufio.NewReader(bytes.NewReader(again)))
		if err != nil || id2 != id || status2 != status || n2 != n {
			t.Fatalf("re-encoded header: %d %d %d %v; want %d %d %d", id2, status2, n2, err, id, status, n)
		}
	})
}
