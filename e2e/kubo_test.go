package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/testnet"
)

// kuboBinary finds Kubo's ipfs: $SHARDCAST_KUBO, else ipfs on PATH. The
// README's test command installs a pinned Kubo and sets the variable, and
// sets SHARDCAST_REQUIRE_TOOLS so that a missing Kubo fails the run instead
// of skipping the test.
func kuboBinary(t *testing.T) string {
	if p := os.Getenv("SHARDCAST_KUBO"); p != "" {
		return p
	}
	if p, err := exec.LookPath("ipfs"); err == nil {
		return p
	}
	if os.Getenv("SHARDCAST_REQUIRE_TOOLS") != "" {
		t.Fatal("Kubo's ipfs not found: set SHARDCAST_KUBO (scripts/test.sh does)")
	}
	t.Skip("Kubo's ipfs not found; run scripts/test.sh, which installs it")
	return ""
}

// kubo is a stock Kubo daemon on loopback, private: no bootstrap peers, no
// DHT, no mDNS.
type kubo struct {
	t    *testing.T
	bin  string
	path string
}

func startKubo(t *testing.T) *kubo {
	k := &kubo{t: t, bin: kuboBinary(t), path: filepath.Join(t.TempDir(), "kubo")}
	k.run("init", "--profile=test")
	for _, kv := range [][2]string{
		{"Bootstrap", `[]`},
		{"Routing.Type", `"none"`},
		{"Addresses.Swarm", `["/ip4/127.0.0.1/tcp/0"]`},
		{"Addresses.API", `"/ip4/127.0.0.1/tcp/0"`},
		{"Addresses.Gateway", `"/ip4/127.0.0.1/tcp/0"`},
		{"Discovery.MDNS.Enabled", `false`},
	} {
		k.run("config", "--json", kv[0], kv[1])
	}
	cmd := k.cmd("daemon")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Kubo: %v", err)
	}
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Daemon is ready") {
				close(ready)
			}
		}
	}()
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Kubo exited before it was ready: %v\n%s", err, logs.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("Kubo not ready after 90s\n%s", logs.String())
	}
	return k
}

func (k *kubo) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(k.bin, args...)
	cmd.Env = append(os.Environ(), "IPFS_PATH="+k.path, "IPFS_TELEMETRY=off")
	return cmd
}

func (k *kubo) run(args ...string) string {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := k.cmd(args...)
	cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	cmd.Env = append(os.Environ(), "IPFS_PATH="+k.path, "IPFS_TELEMETRY=off")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		k.t.Fatalf("ipfs %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// addr returns Kubo's loopback multiaddr with /p2p/.
func (k *kubo) addr() string {
	var id struct {
		ID        string
		Addresses []string
	}
	if err := json.Unmarshal([]byte(k.run("id")), &id); err != nil {
		k.t.Fatal(err)
	}
	for _, a := range id.Addresses {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			return a
		}
	}
	k.t.Fatalf("Kubo has no loopback TCP address: %v", id.Addresses)
	return ""
}

// Kubo fetches what shardcast added, and shardcast fetches what Kubo added.
func TestKuboInterop(t *testing.T) {
	k := startKubo(t)
	net := testnet.New(t, binary)
	s := net.Node("s")
	s.Start()

	path, data := randomFile(t, 6, 9<<20+5)
	id := s.MustRun("add", path)
	k.run("swarm", "connect", s.Addr())
	if got := k.run("cat", id); got != string(data) {
		t.Fatalf("Kubo's cat of a shardcast CID: %d bytes that differ from the %d added", len(got), len(data))
	}

	path2, data2 := randomFile(t, 7, 5<<20+11)
	kid := strings.TrimSpace(k.run("add", "-Q", path2))
	s.MustRun("connect", k.addr())
	out := filepath.Join(t.TempDir(), "from-kubo")
	s.MustRun("get", kid, "-o", out, "--timeout", "60s")
	mustEqualFile(t, out, data2)
}
