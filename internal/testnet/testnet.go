// Package testnet starts real shardcast daemons on loopback for tests, as a
// user would: the built binary, one repo directory each, addresses picked by
// the kernel (port 0). It waits on conditions with deadlines, never on
// sleeps, and stops every daemon when the test ends.
package testnet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shardcast/shardcast/internal/repo"
)

// Binary builds the shardcast command once per test binary and returns its
// path. The build lands in dir (a TestMain's temporary directory). It is
// built with the tag shardcasttest, whose daemon takes failure injection
// from the environment (SHARDCAST_CRASH_POINT, SHARDCAST_TEST_CHEAT: see
// the market package); a released binary reads neither.
func Binary(dir string) (string, error) {
	out := filepath.Join(dir, "shardcast")
	cmd := exec.Command("go", "build", "-tags", "shardcasttest", "-o", out, "github.com/shardcast/shardcast/cmd/shardcast")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building shardcast: %w", err)
	}
	return out, nil
}

// Net is a set of nodes sharing one binary.
type Net struct {
	t   testing.TB
	bin string
}

// New returns a Net using the binary at bin.
func New(t testing.TB, bin string) *Net { return &Net{t: t, bin: bin} }

// Node is one repo and, while started, its daemon.
type Node struct {
	t    testing.TB
	bin  string
	Name string
	Repo string
	// Env is added to the daemon's environment at Start.
	Env []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs *lockedWriter
	API  string // HOST:PORT while running
	// Gateway is the HOST:PORT of the gateway (/ipfs/, /watch/) while
	// running.
	Gateway string
	// Token is the repo's API token, read when the daemon starts.
	Token  string
	ID     string   // peer ID
	Addrs  []string // listen multiaddrs with /p2p/
	exited error
}

// Node creates and inits a repo named name.
func (n *Net) Node(name string) *Node {
	n.t.Helper()
	nd := &Node{t: n.t, bin: n.bin, Name: name, Repo: filepath.Join(n.t.TempDir(), name)}
	nd.MustRun("init")
	return nd
}

// Start runs the daemon with extra flags and waits until it answers.
func (nd *Node) Start(flags ...string) {
	nd.t.Helper()
	args := append([]string{"--repo", nd.Repo, "daemon", "--listen", "/ip4/127.0.0.1/tcp/0", "--api", "127.0.0.1:0",
		"--gateway", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(nd.bin, args...)
	cmd.Env = append(os.Environ(), nd.Env...)
	logs := &lockedWriter{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		nd.t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		nd.t.Fatalf("starting %s: %v", nd.Name, err)
	}
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "daemon is ready") {
				close(ready)
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		nd.mu.Lock()
		nd.exited = err
		nd.mu.Unlock()
		close(done)
	}()
	nd.mu.Lock()
	nd.cmd, nd.done, nd.logs = cmd, done, logs
	nd.mu.Unlock()
	nd.t.Cleanup(func() { nd.Stop() })
	select {
	case <-ready:
	case <-done:
		nd.t.Fatalf("daemon %s exited before it was ready: %v\n%s", nd.Name, nd.exited, logs.String())
	case <-time.After(60 * time.Second):
		nd.t.Fatalf("daemon %s not ready after 60s\n%s", nd.Name, logs.String())
	}
	var id struct {
		ID        string   `json:"id"`
		Addresses []string `json:"addresses"`
		API       string   `json:"api"`
		Gateway   string   `json:"gateway"`
	}
	out := nd.MustRun("id", "--json")
	if err := json.Unmarshal([]byte(out), &id); err != nil {
		nd.t.Fatalf("id --json of %s: %v: %q", nd.Name, err, out)
	}
	nd.ID, nd.Addrs, nd.API, nd.Gateway = id.ID, id.Addresses, id.API, id.Gateway
	if nd.Token, err = repo.ReadAPIToken(nd.Repo); err != nil || nd.Token == "" {
		nd.t.Fatalf("the API token of %s: %q, %v", nd.Name, nd.Token, err)
	}
}

// Addr returns the node's first listen multiaddr.
func (nd *Node) Addr() string {
	if len(nd.Addrs) == 0 {
		nd.t.Fatalf("%s has no listen address", nd.Name)
	}
	return nd.Addrs[0]
}

// WaitExit waits for the daemon to exit by itself and returns how it
// ended.
func (nd *Node) WaitExit(timeout time.Duration) error {
	nd.t.Helper()
	nd.mu.Lock()
	cmd, done := nd.cmd, nd.done
	nd.mu.Unlock()
	if cmd == nil {
		nd.t.Fatalf("%s is not running", nd.Name)
	}
	select {
	case <-done:
	case <-time.After(timeout):
		nd.t.Fatalf("%s still running after %s", nd.Name, timeout)
	}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	nd.cmd = nil
	return nd.exited
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// a daemon that must come back on the same address after a restart.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Stop sends SIGTERM and waits for the daemon to exit.
func (nd *Node) Stop() { nd.signal(syscall.SIGTERM) }

// Kill sends SIGKILL and waits for the daemon to die.
func (nd *Node) Kill() { nd.signal(syscall.SIGKILL) }

// Pause stops the daemon's process (SIGSTOP) without ending it: its
// connections stay open and it answers nothing until Resume.
func (nd *Node) Pause() { nd.send(syscall.SIGSTOP) }

// Resume continues a paused daemon (SIGCONT).
func (nd *Node) Resume() { nd.send(syscall.SIGCONT) }

func (nd *Node) send(sig syscall.Signal) {
	nd.mu.Lock()
	cmd := nd.cmd
	nd.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(sig)
	}
}

func (nd *Node) signal(sig syscall.Signal) {
	nd.mu.Lock()
	cmd, done := nd.cmd, nd.done
	nd.cmd = nil
	nd.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Logs returns what the daemon wrote on stderr.
func (nd *Node) Logs() string {
	nd.mu.Lock()
	logs := nd.logs
	nd.mu.Unlock()
	if logs == nil {
		return ""
	}
	return logs.String()
}

// Result is the outcome of one CLI command.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs a CLI command against the node's repo.
func (nd *Node) Run(args ...string) Result {
	return nd.RunInput(nil, args...)
}

// RunInput runs a CLI command with stdin.
func (nd *Node) RunInput(stdin io.Reader, args ...string) Result {
	nd.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nd.bin, append([]string{"--repo", nd.Repo}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, stdin
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		nd.t.Fatalf("running shardcast %v: %v", args, err)
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// MustRun runs a command that must succeed and returns its stdout, trimmed.
func (nd *Node) MustRun(args ...string) string {
	nd.t.Helper()
	r := nd.Run(args...)
	if r.Code != 0 {
		nd.t.Fatalf("%s: shardcast %s: exit %d: %s", nd.Name, strings.Join(args, " "), r.Code, r.Stderr)
	}
	return strings.TrimSpace(r.Stdout)
}

// Get fetches path from the node's HTTP side with optional headers, as
// the CLI does: content (/ipfs/, /watch/) from the gateway, the rest from
// the API, with the repo's token.
func (nd *Node) Get(ctx context.Context, path string, header ...string) (*http.Response, error) {
	base := nd.API
	if strings.HasPrefix(path, "/ipfs/") || strings.HasPrefix(path, "/watch/") {
		base = nd.Gateway
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+nd.Token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return http.DefaultClient.Do(req)
}

// Eventually calls cond until it returns nil or the deadline passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := 10 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %s: %v", what, timeout, err)
		}
		time.Sleep(wait)
		wait = min(wait*2, 500*time.Millisecond)
	}
}

// lockedWriter is a buffer written by a process and read by the test.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
