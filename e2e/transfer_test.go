package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/testnet"
)

// A adds 64 MiB; B fetches it; with A gone, B serves it on to C.
func TestTransferThroughThreePeers(t *testing.T) {
	net := testnet.New(t, binary)
	a, b, c := net.Node("a"), net.Node("b"), net.Node("c")
	a.Start()
	b.Start()
	c.Start()

	path, data := randomFile(t, 1, 64<<20)
	id := a.MustRun("add", path)
	b.MustRun("connect", a.Addr())
	out := filepath.Join(t.TempDir(), "b.out")
	b.MustRun("get", id, "-o", out)
	mustEqualFile(t, out, data)

	a.Stop()
	c.MustRun("connect", b.Addr())
	r := c.Run("cat", id)
	if r.Code != 0 {
		t.Fatalf("cat on C: exit %d: %s", r.Code, r.Stderr)
	}
	if !bytes.Equal([]byte(r.Stdout), data) {
		t.Fatalf("C got %d bytes that differ from the %d added", len(r.Stdout), len(data))
	}
}

// Content added before a restart is served after it.
func TestServedAfterRestart(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("a"), net.Node("b")
	a.Start()
	path, data := randomFile(t, 2, 3<<20+17)
	id := a.MustRun("add", path)
	a.Stop()
	a.Start()
	b.Start()
	b.MustRun("connect", a.Addr())
	out := filepath.Join(t.TempDir(), "b.out")
	b.MustRun("get", id, "-o", out)
	mustEqualFile(t, out, data)
}

// blockFiles counts the blocks in a node's store.
func blockFiles(t *testing.T, repo string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(repo, "blocks"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == ".temp" {
			return filepath.SkipDir // flatfs's files being written: not stored yet
		}
		if err == nil && strings.HasSuffix(p, ".data") {
			n++
		}
		return nil
	})
	return n
}

// A Range in the middle of a large file returns exactly those bytes, and the
// node fetches the blocks around it, not the file from its start. Suffix
// ranges (what a video player asks for first) work, and so does the ETag.
func TestRangeFetchesOnlyWhatItNeeds(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("a"), net.Node("b")
	a.Start()
	b.Start()
	const size = 100 << 20
	path, data := randomFile(t, 3, size)
	id := a.MustRun("add", path)
	b.MustRun("connect", a.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	get := func(wantStatus int, header ...string) []byte {
		t.Helper()
		resp, err := b.Get(ctx, "/ipfs/"+id, header...)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != wantStatus {
			t.Fatalf("GET %v: status %d, want %d: %s", header, resp.StatusCode, wantStatus, body)
		}
		return body
	}

	mid := int64(size/2 + 12345)
	body := get(http.StatusPartialContent, "Range", fmt.Sprintf("bytes=%d-%d", mid, mid+1<<20-1))
	if !bytes.Equal(body, data[mid:mid+1<<20]) {
		t.Fatalf("middle range: got %d bytes that differ from the file's", len(body))
	}
	// The 1 MiB range spans two 1 MiB leaves; with the root and the inner
	// node that holds them, a node that fetched only what it needed holds
	// four blocks, where a sequential fetch would hold about fifty.
	if n := blockFiles(t, b.Repo); n > 6 {
		t.Fatalf("after a 1 MiB range at the middle, B holds %d blocks; want at most 6", n)
	}

	body = get(http.StatusPartialContent, "Range", "bytes=-1000")
	if !bytes.Equal(body, data[size-1000:]) {
		t.Fatal("suffix range returned the wrong bytes")
	}
	body = get(http.StatusPartialContent, "Range", fmt.Sprintf("bytes=%d-", size-5))
	if !bytes.Equal(body, data[size-5:]) {
		t.Fatal("open-ended range returned the wrong bytes")
	}
	get(http.StatusNotModified, "If-None-Match", `"`+id+`"`)
	get(http.StatusRequestedRangeNotSatisfiable, "Range", fmt.Sprintf("bytes=%d-", size+10))
}

// A seek is served while another reader of the same file is stalled: the
// range does not queue behind the earlier stream's blocks.
func TestSeekDoesNotQueueBehindStream(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("a"), net.Node("b")
	a.Start()
	b.Start()
	const size = 100 << 20
	path, data := randomFile(t, 4, size)
	id := a.MustRun("add", path)
	b.MustRun("connect", a.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A whole-file stream that reads one byte and then stops reading.
	stream, err := b.Get(ctx, "/ipfs/"+id)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if _, err := stream.Body.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	off := int64(size - 3<<20)
	resp, err := b.Get(ctx, "/ipfs/"+id, "Range", fmt.Sprintf("bytes=%d-%d", off, off+65535))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("range while a stream is stalled: status %d, err %v", resp.StatusCode, err)
	}
	if !bytes.Equal(body, data[off:off+65536]) {
		t.Fatal("range while a stream is stalled returned the wrong bytes")
	}
}

// C, bootstrapped only to B, finds A through the DHT and fetches from it.
func TestDiscoveryThroughDHT(t *testing.T) {
	net := testnet.New(t, binary)
	a, b, c := net.Node("a"), net.Node("b"), net.Node("c")
	b.Start()
	a.Start("--bootstrap", b.Addr())
	c.Start("--bootstrap", b.Addr())
	path, data := randomFile(t, 5, 5<<20+3)
	id := a.MustRun("add", path)
	testnet.Eventually(t, 60*time.Second, "C finds A as a provider", func() error {
		r := c.Run("providers", id)
		if r.Code != 0 {
			return fmt.Errorf("exit %d: %s", r.Code, r.Stderr)
		}
		if !strings.Contains(r.Stdout, a.ID) {
			return fmt.Errorf("providers %q lack A", r.Stdout)
		}
		return nil
	})
	out := filepath.Join(t.TempDir(), "c.out")
	r := c.Run("get", id, "-o", out, "--timeout", "60s")
	if r.Code != 0 {
		t.Fatalf("get on C: exit %d: %s", r.Code, r.Stderr)
	}
	mustEqualFile(t, out, data)
}

// servedBlocks reads a node's count of blocks served over xfer.
func servedBlocks(t *testing.T, n *testnet.Node) int {
	t.Helper()
	resp, err := n.Get(context.Background(), "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "shardcast_xfer_blocks_served_total "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return int(f)
		}
	}
	t.Fatalf("no shardcast_xfer_blocks_served_total in %s's metrics", n.Name)
	return 0
}

// C fetches a file that A and B both hold from both of them at once.
func TestFetchFromSeveralPeers(t *testing.T) {
	net := testnet.New(t, binary)
	a, b, c := net.Node("a"), net.Node("b"), net.Node("c")
	a.Start()
	b.Start()
	c.Start()
	path, data := randomFile(t, 8, 48<<20)
	id := a.MustRun("add", path)
	b.MustRun("connect", a.Addr())
	b.MustRun("get", id, "-o", filepath.Join(t.TempDir(), "b.out"))
	a0, b0 := servedBlocks(t, a), servedBlocks(t, b)
	c.MustRun("connect", a.Addr())
	c.MustRun("connect", b.Addr())
	out := filepath.Join(t.TempDir(), "c.out")
	c.MustRun("get", id, "-o", out)
	mustEqualFile(t, out, data)
	fromA, fromB := servedBlocks(t, a)-a0, servedBlocks(t, b)-b0
	if fromA == 0 || fromB == 0 {
		t.Fatalf("C got %d blocks from A and %d from B; want some from each", fromA, fromB)
	}
	t.Logf("C got %d blocks from A and %d from B", fromA, fromB)
}

// Two peers that listen only on QUIC share a file.
func TestTransferOverQUIC(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("a"), net.Node("b")
	a.Start("--listen", "/ip4/127.0.0.1/udp/0/quic-v1")
	b.Start("--listen", "/ip4/127.0.0.1/udp/0/quic-v1")
	var quic string
	for _, addr := range a.Addrs {
		if strings.Contains(addr, "/quic-v1/") {
			quic = addr
		}
	}
	if quic == "" {
		t.Fatalf("A listens on no QUIC address: %v", a.Addrs)
	}
	path, data := randomFile(t, 9, 4<<20+1)
	id := a.MustRun("add", path)
	b.MustRun("connect", quic)
	out := filepath.Join(t.TempDir(), "b.out")
	b.MustRun("get", id, "-o", out)
	mustEqualFile(t, out, data)
}
