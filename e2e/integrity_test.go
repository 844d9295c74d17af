package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/shardcast/shardcast/internal/testnet"
)

// corruptLeaves flips one byte in the middle of every block file of at
// least 64 KiB in a repo's flatfs store (the leaves of a file of a few
// MiB) and returns their CIDs (CIDv1, raw: the store keys blocks by
// multihash, and leaves are raw).
func corruptLeaves(t *testing.T, repo string) []cid.Cid {
	t.Helper()
	var out []cid.Cid
	filepath.WalkDir(filepath.Join(repo, "blocks"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == ".temp" {
			return filepath.SkipDir // flatfs's files being written, renamed away at any moment
		}
		if err != nil || !strings.HasSuffix(p, ".data") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 64<<10 {
			return nil
		}
		b[len(b)/2] ^= 0x40
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		mh, err := dshelp.DsKeyToMultihash(datastore.NewKey(strings.TrimSuffix(d.Name(), ".data")))
		if err != nil {
			t.Fatalf("block file %s: %v", p, err)
		}
		out = append(out, cid.NewCidV1(cid.Raw, mh))
		return nil
	})
	if len(out) == 0 {
		t.Fatalf("no block to corrupt in %s", repo)
	}
	return out
}

// gatewayGet returns the status and body of GET /ipfs/ID on n; a body cut
// short ends with the error that cut it.
func gatewayGet(t *testing.T, n *testnet.Node, id string) (int, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := n.Get(ctx, "/ipfs/"+id)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// A node whose stored leaves were each flipped by one byte, with a peer
// that holds the file: repo verify repairs them; get and the gateway return
// the right bytes (fetched again) and the log names each block.
func TestCorruptBlocksRefetchedFromPeer(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("a"), net.Node("b")
	a.Start()
	b.Start()
	path, data := randomFile(t, 40, 3<<20+99)
	id := a.MustRun("add", path)
	b.MustRun("connect", a.Addr())
	b.MustRun("get", id, "-o", filepath.Join(t.TempDir(), "first"))
	// Blocks fetched are written behind the reader: wait until all five
	// (a root and four leaves) are files, or a flip could be overwritten.
	onDisk := func() {
		testnet.Eventually(t, 30*time.Second, "b's blocks on disk", func() error {
			if n := blockFiles(t, b.Repo); n != 5 {
				return fmt.Errorf("%d block files", n)
			}
			return nil
		})
	}
	onDisk()

	// repo verify, through the daemon: a line per block, all repaired.
	bad := corruptLeaves(t, b.Repo)
	r := b.Run("repo", "verify")
	if r.Code != 0 {
		t.Fatalf("repo verify: exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, c := range bad {
		if !strings.Contains(r.Stdout, c.String()+": does not hash to its CID: repaired") {
			t.Errorf("repo verify does not report %s as repaired:\n%s", c, r.Stdout)
		}
	}
	if n := strings.Count(r.Stdout, "\n"); n != len(bad) {
		t.Errorf("repo verify printed %d lines for %d bad blocks", n, len(bad))
	}
	if r := b.Run("repo", "verify"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("repo verify after the repair: exit %d: %q", r.Code, r.Stdout)
	}

	// get: right bytes, and every block named in the log.
	onDisk()
	bad = corruptLeaves(t, b.Repo)
	out := filepath.Join(t.TempDir(), "out")
	b.MustRun("get", id, "-o", out)
	mustEqualFile(t, out, data)
	for _, c := range bad {
		if !strings.Contains(b.Logs(), c.String()) {
			t.Errorf("the log does not name the corrupt block %s", c)
		}
	}

	// The gateway: 200 with the right bytes.
	onDisk()
	if bad = corruptLeaves(t, b.Repo); len(bad) != 3 {
		t.Fatalf("%d leaves corrupted, want the 3 full ones", len(bad))
	}
	status, body, err := gatewayGet(t, b, id)
	if err != nil || status != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("gateway: status %d, %d bytes (equal: %v), %v", status, len(body), bytes.Equal(body, data), err)
	}
	if r := b.Run("check"); r.Code != 0 {
		t.Fatalf("check after the repairs: exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// Without a peer that holds the file, corrupt blocks are reported by repo
// verify and check (daemon stopped or running), the gateway never answers
// 200 with them, and get exits 1 naming the block.
func TestCorruptBlocksWithoutPeer(t *testing.T) {
	net := testnet.New(t, binary)
	a := net.Node("a")
	a.Start("--refetch-timeout", "2s")
	path, data := randomFile(t, 41, 3<<20+5)
	id := a.MustRun("add", path)
	a.Stop()
	bad := corruptLeaves(t, a.Repo)

	for _, args := range [][]string{{"repo", "verify"}, {"check"}} {
		r := a.Run(args...)
		if r.Code != 1 {
			t.Fatalf("%v with no daemon: exit %d, want 1: %s%s", args, r.Code, r.Stdout, r.Stderr)
		}
		for _, c := range bad {
			if !strings.Contains(r.Stdout, c.String()) {
				t.Errorf("%v does not name %s:\n%s", args, c, r.Stdout)
			}
		}
		if n := strings.Count(r.Stdout, "\n"); n != len(bad) {
			t.Errorf("%v printed %d lines for %d bad blocks:\n%s", args, n, len(bad), r.Stdout)
		}
	}

	a.Start("--refetch-timeout", "2s")
	if r := a.Run("check"); r.Code != 1 || strings.Count(r.Stdout, "\n") != len(bad) {
		t.Fatalf("check with the daemon: exit %d, want 1 with %d lines: %s%s", r.Code, len(bad), r.Stdout, r.Stderr)
	}
	status, body, err := gatewayGet(t, a, id)
	if status == http.StatusOK && err == nil {
		t.Fatalf("the gateway answered 200 and a whole body of %d bytes (equal: %v)", len(body), bytes.Equal(body, data))
	}
	if bytes.Contains(data, body) && len(body) > 1<<20 {
		t.Fatalf("the gateway sent %d bytes past the first corrupt leaf", len(body))
	}
	if status != http.StatusBadGateway {
		t.Fatalf("gateway: status %d (%q), want 502", status, body)
	}
	if !containsAny(string(body), bad) {
		t.Fatalf("the gateway's error names none of the corrupt blocks: %s", body)
	}

	r := a.Run("get", id, "-o", filepath.Join(t.TempDir(), "out"))
	if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !containsAny(r.Stderr, bad) {
		t.Fatalf("get: exit %d, want 1 with one line naming a corrupt block: %q", r.Code, r.Stderr)
	}
	if !containsAny(a.Logs(), bad) {
		t.Fatal("the log names none of the corrupt blocks")
	}
	r = a.Run("repo", "verify")
	if r.Code != 0 && r.Code != 1 {
		t.Fatalf("repo verify: exit %d: %s", r.Code, r.Stderr)
	}
}

// runCLI runs the binary on the repo in dir.
func runCLI(ctx context.Context, t *testing.T, dir string, args ...string) testnet.Result {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--repo", dir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return testnet.Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

func containsAny(s string, cs []cid.Cid) bool {
	for _, c := range cs {
		if strings.Contains(s, c.String()) {
			return true
		}
	}
	return false
}

// execSQL runs statements on a SQLite database of a stopped daemon.
func execSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s on %s: %v", s, path, err)
		}
	}
}

// check passes on the repos of a creator and a buyer after a sale, with
// the daemons running and stopped; a wallet whose balance was edited, or
// a sale whose receipt was deleted, is one line each and exit 1.
func TestCheckFindsEditedLedgers(t *testing.T) {
	net := testnet.New(t, binary)
	a, b := net.Node("creator"), net.Node("buyer")
	a.Start()
	b.Start()
	b.MustRun("connect", a.Addr())
	path, _ := randomFile(t, 42, 1<<20)
	id := a.MustRun("publish", path, "--model", "pay", "--price", "2.50")
	waitCampaign(t, b, id)
	b.MustRun("buy", id)

	for _, n := range []*testnet.Node{a, b} {
		if r := n.Run("check"); r.Code != 0 || r.Stdout != "" {
			t.Fatalf("check on %s with its daemon: exit %d: %s%s", n.Name, r.Code, r.Stdout, r.Stderr)
		}
	}
	a.Stop()
	b.Stop()
	for _, n := range []*testnet.Node{a, b} {
		if r := n.Run("check"); r.Code != 0 || r.Stdout != "" {
			t.Fatalf("check on %s, stopped: exit %d: %s%s", n.Name, r.Code, r.Stdout, r.Stderr)
		}
	}

	execSQL(t, filepath.Join(b.Repo, "testrail.db"), "UPDATE wallets SET balance = balance + 100")
	execSQL(t, filepath.Join(a.Repo, "ledger.db"), "DELETE FROM receipts")
	execSQL(t, filepath.Join(b.Repo, "ledger.db"), "DELETE FROM deliveries")
	for _, tc := range []struct {
		n    *testnet.Node
		want []string
	}{
		{b, []string{"wallet holds", "complete without its delivery"}},
		{a, []string{"settled offers without delivery or receipt"}},
	} {
		r := tc.n.Run("check")
		if r.Code != 1 {
			t.Fatalf("check on the edited %s: exit %d, want 1: %s%s", tc.n.Name, r.Code, r.Stdout, r.Stderr)
		}
		if n := strings.Count(r.Stdout, "\n"); n != len(tc.want) {
			t.Errorf("check on %s printed %d lines, want %d:\n%s", tc.n.Name, n, len(tc.want), r.Stdout)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("check on %s does not say %q:\n%s", tc.n.Name, w, r.Stdout)
			}
		}
		if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "shardcast: error: ") {
			t.Errorf("check on %s: stderr %q, want one error line", tc.n.Name, r.Stderr)
		}
	}
	// With the daemon running too.
	b.Start()
	if r := b.Run("check"); r.Code != 1 || !strings.Contains(r.Stdout, "wallet holds") {
		t.Fatalf("check on the edited buyer, running: exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// An emptied, deleted or table-less testrail.db or ledger.db stops the
// daemon with one line, instead of starting a fresh wallet.
func TestEmptiedMoneyDatabaseRefused(t *testing.T) {
	net := testnet.New(t, binary)
	a := net.Node("a")
	a.Start() // a fresh repo starts, and creates its wallet
	a.Stop()
	for _, tc := range []struct {
		name, file string
		damage     func(path string)
		want       string
	}{
		{"emptied test rail", "testrail.db", func(p string) { os.Truncate(p, 0) }, "is empty"},
		{"deleted ledger", "ledger.db", func(p string) { os.Remove(p) }, "is missing"},
		{"table-less test rail", "testrail.db", func(p string) {
			execSQL(t, p, "DROP TABLE meta", "DROP TABLE wallets", "DROP TABLE invoices", "DROP TABLE payments")
		}, "has no tables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(a.Repo)); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "api"))
			p := filepath.Join(dir, tc.file)
			tc.damage(p)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			r := runCLI(ctx, t, dir, "daemon", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0")
			if r.Code != 1 {
				t.Fatalf("daemon: exit %d, want 1: %s", r.Code, r.Stderr)
			}
			if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "shardcast: error: ") || !strings.Contains(r.Stderr, tc.file+" "+tc.want) {
				t.Fatalf("daemon: stderr %q, want one error line saying %s %s", r.Stderr, tc.file, tc.want)
			}
			if fi, err := os.Stat(p); tc.want == "is missing" && err == nil {
				t.Fatalf("the daemon created a new %s of %d bytes", tc.file, fi.Size())
			}
			// check says so too, and creates nothing either.
			r = runCLI(ctx, t, dir, "check")
			if r.Code != 1 || !strings.Contains(r.Stdout, tc.file+" "+tc.want) {
				t.Fatalf("check: exit %d, stdout %q; want 1 and a line saying %s %s", r.Code, r.Stdout, tc.file, tc.want)
			}
			if fi, err := os.Stat(p); tc.want == "is missing" && err == nil {
				t.Fatalf("check created a new %s of %d bytes", tc.file, fi.Size())
			}
		})
	}
}
