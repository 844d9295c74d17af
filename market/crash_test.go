package market

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/shares"
)

// The crash test runs the creator in a child process: this test binary,
// started with these variables set, runs TestCrashChild.
const (
	crashDirEnv  = "SHARDCAST_MARKET_CRASH_DIR"
	crashModeEnv = "SHARDCAST_MARKET_CRASH_MODE" // "crash": stop dead after the first sale commits
)

// TestCrashChild is the creator's process of TestCrashAfterCommit. It
// prints "LISTEN addr" once serving; in crash mode it prints "COMMITTED
// id" once a sale is durable and then hangs before sending the delivery,
// until its parent kills it with SIGKILL. It stops when stdin closes.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrashAfterCommit")
	}
	key := testKey(t, "creator")
	m, id := testManifest(t, key, campaign.ModelPay, nil)
	src := &testSource{
		manifests: map[cid.Cid]*campaign.Manifest{id: m},
		ids:       map[cid.Cid]*age.X25519Identity{id: testIdentity(t, "content")},
		shares:    map[cid.Cid][]shares.Share{},
	}
	h := newHost(t, key)
	rail, err := pay.OpenTestRail(filepath.Join(dir, "rail.db"), railKey(t, key), nil)
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := OpenLedger(filepath.Join(dir, "market.db"))
	if err != nil {
		t.Fatal(err)
	}
	opts := &ServerOptions{}
	if os.Getenv(crashModeEnv) == "crash" {
		opts.Events = funcEvents{committed: func(_ cid.Cid, id OfferID) {
			fmt.Printf("COMMITTED %v\n", id)
			select {} // the parent's SIGKILL ends this
		}}
	}
	if _, err := NewServer(h, key, ledger, []pay.Rail{rail}, src, opts); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("LISTEN %s\n", h.Addrs()[0])
	io.Copy(io.Discard, os.Stdin)
}

// child is a creator process.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	stdin io.Closer
}

func startChild(t *testing.T, dir, mode string) (*child, ma.Multiaddr) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashModeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 16), stdin: stdin}
	t.Cleanup(c.kill)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	addr, err := ma.NewMultiaddr(c.waitFor(t, "LISTEN "))
	if err != nil {
		t.Fatal(err)
	}
	return c, addr
}

// waitFor returns the rest of the first line the child prints that starts
// with prefix.
func (c *child) waitFor(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("creator process ended before printing %q", prefix)
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
		case <-timeout:
			t.Fatalf("creator process printed no %q", prefix)
		}
	}
}

// kill sends SIGKILL and reaps the process.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Kill()
	c.stdin.Close()
	c.cmd.Wait()
}

// TestCrashAfterCommit kills the creator's process with SIGKILL right
// after a sale is committed and before its delivery is sent, restarts it
// on the same ledger, and checks that the buyer's retry gets the delivery
// while the ledger holds the sale exactly once and the buyer paid once.
func TestCrashAfterCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	key := testKey(t, "creator")
	creatorID, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	m, id := testManifest(t, key, campaign.ModelPay, nil)
	b := newBuyer(t, "buyer", nil, &ClientOptions{RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	before := balance(t, b.rail)

	first, addr := startChild(t, dir, "crash")
	b.h.Peerstore().AddAddr(creatorID, addr, peerstore.PermanentAddrTTL)
	type result struct {
		p   *Purchase
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		p, err := b.client.Buy(ctx, Order{Campaign: id, Manifest: m})
		done <- result{p, err}
	}()
	first.waitFor(t, "COMMITTED ")
	first.kill()

	// The sale is on disk, though its delivery was never sent.
	l := openLedger(t, filepath.Join(dir, "market.db"))
	if got, want := stats(t, l, id), (Stats{Sales: 1, Sold: 1, Raised: 250, Currency: "USD"}); got != want {
		t.Errorf("stats after the crash: got %+v, want %+v", got, want)
	}
	checkLedger(t, l)
	select {
	case r := <-done:
		t.Fatalf("Buy returned while the creator was down: %+v", r)
	default:
	}

	second, addr := startChild(t, dir, "serve")
	b.h.Peerstore().AddAddr(creatorID, addr, peerstore.PermanentAddrTTL)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got, want := r.p.Identity.String(), testIdentity(t, "content").String(); got != want {
		t.Error("delivered identity differs from the content identity")
	}
	second.kill()

	if got, want := stats(t, l, id), (Stats{Sales: 1, Sold: 1, Raised: 250, Currency: "USD"}); got != want {
		t.Errorf("stats after the retry: got %+v, want %+v", got, want)
	}
	checkLedger(t, l)
	if got, want := balance(t, b.rail), before-250; got != want {
		t.Errorf("buyer balance: got %d, want %d (paid once)", got, want)
	}
	rail := openRail(t, filepath.Join(dir, "rail.db"), key, nil)
	if got, want := balance(t, rail), int64(pay.DefaultTestBalance+250); got != want {
		t.Errorf("creator balance: got %d, want %d", got, want)
	}
}
