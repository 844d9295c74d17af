package regtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestNetworks starts a network of the test's own while another test
// uses the shared one, and mines on both.
func TestNetworks(t *testing.T) {
	nets := make(chan *Network, 2)
	t.Run("group", func(t *testing.T) {
		t.Run("shared", func(t *testing.T) {
			t.Parallel()
			n := Shared(t)
			if again := Shared(t); again != n {
				t.Errorf("Shared again: got %p, want %p", again, n)
			}
			mine(t, n)
			nets <- n
		})
		t.Run("own", func(t *testing.T) {
			t.Parallel()
			n := Start(t)
			mine(t, n)
			nets <- n
		})
	})
	close(nets)
	var seen []string
	for n := range nets {
		seen = append(seen, n.Alice.REST, n.Bob.REST)
	}
	for i := range seen {
		for j := range i {
			if seen[i] == seen[j] {
				t.Errorf("two nodes listen on %s", seen[i])
			}
		}
	}
}

func mine(t *testing.T, n *Network) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h0, err := n.Height(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, err := n.Mine(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if h != h0+3 {
		t.Errorf("Mine(3) from height %d: got %d, want %d", h0, h, h0+3)
	}
	for _, l := range []LND{n.Alice, n.Bob} {
		for _, f := range []string{l.TLSCert, l.Macaroon} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("node at %s: %v", l.REST, err)
			}
		}
	}
}

func TestMineNothing(t *testing.T) {
	var n Network
	if _, err := n.Mine(context.Background(), 0); err == nil {
		t.Errorf("Mine(0): got nil error, want one")
	}
}

// fakeTB records what failOrSkip does.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Skip(args ...any)  { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatal(args ...any) { f.failed = fmt.Sprint(args...) }

func TestMissingTools(t *testing.T) {
	empty := t.TempDir()
	err := checkTools(empty)
	var m *missingError
	if !errors.As(err, &m) || !strings.Contains(err.Error(), "btcd is not built") {
		t.Fatalf("checkTools(empty dir): got %v, want btcd missing", err)
	}
	for _, tt := range []struct {
		require     string
		skip, fatal bool
	}{
		{"", true, false},
		{"0", true, false},
		{"1", false, true},
	} {
		t.Setenv("SHARDCAST_REQUIRE_TOOLS", tt.require)
		var f fakeTB
		failOrSkip(&f, err)
		if got := f.skipped != ""; got != tt.skip {
			t.Errorf("SHARDCAST_REQUIRE_TOOLS=%q: skipped %v, want %v", tt.require, got, tt.skip)
		}
		if got := f.failed != ""; got != tt.fatal {
			t.Errorf("SHARDCAST_REQUIRE_TOOLS=%q: failed %v, want %v", tt.require, got, tt.fatal)
		}
		if msg := f.skipped + f.failed; strings.Contains(msg, "\n") {
			t.Errorf("SHARDCAST_REQUIRE_TOOLS=%q: reason %q: want one line", tt.require, msg)
		}
	}
	var f fakeTB
	failOrSkip(&f, errors.New("start.sh failed"))
	if f.failed == "" || f.skipped != "" {
		t.Errorf("other error: skipped %q, failed %q, want failed", f.skipped, f.failed)
	}
}

func TestToolsDir(t *testing.T) {
	t.Setenv("SHARDCAST_TOOLS", "/x/tools")
	if got, err := toolsDir(); got != "/x/tools" || err != nil {
		t.Errorf("toolsDir with SHARDCAST_TOOLS: got %q, %v, want /x/tools", got, err)
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "scripts", "regtest", "start.sh")); err != nil {
		t.Errorf("repoRoot: got %s, which has no scripts/regtest/start.sh", root)
	}
}

func TestFreePorts(t *testing.T) {
	base, err := freePorts()
	if err != nil {
		t.Fatal(err)
	}
	if base < 20000 || base+portsPerNetwork > 32000 || (base-20000)%portsPerNetwork != 0 {
		t.Errorf("freePorts: got %d, want an 8-aligned slot in 20000-31999", base)
	}
}
