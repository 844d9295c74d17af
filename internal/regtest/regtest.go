package regtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// LND is one LND node of a network, as a client reaches it.
type LND struct {
	REST     string // REST listener, 127.0.0.1:PORT
	TLSCert  string // path of the node's tls.cert
	Macaroon string // path of its admin.macaroon
}

// Network is a running regtest network. Alice funded the channel and
// holds its balance; Bob is at the other end.
type Network struct {
	Alice, Bob LND
	// Dir holds the network's data and the daemons' logs (*/out.log)
	// until the network stops.
	Dir string

	btcd btcdRPC

	watcher  *exec.Cmd
	pipe     io.WriteCloser // closing it makes the watcher stop the network
	stopOnce sync.Once
	stopErr  error
}

// Limits of starting a network.
const (
	// startTimeout bounds start.sh; it takes about 5 s on 2 cores, and
	// its own waits give up within 90 s each.
	startTimeout = 3 * time.Minute
	// attempts is how often a network is started when a port it chose
	// was taken meanwhile by another process.
	attempts = 3
	// portSlots is the number of 8-port slots in 20000–31999.
	portSlots = 1500
	// portsPerNetwork: btcd's RPC and P2P, then RPC, REST and P2P for
	// each of the two LND nodes.
	portsPerNetwork = 8
	// exitPortTaken is start.sh's exit status when a port was taken.
	exitPortTaken = 4
)

// Start starts a network for tb alone and stops it at tb's cleanup. It
// skips tb when the binaries are not built, or fails it if
// SHARDCAST_REQUIRE_TOOLS is set.
func Start(tb testing.TB) *Network {
	tb.Helper()
	began := time.Now()
	n, err := start(tb.TempDir())
	if err != nil {
		failOrSkip(tb, err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("regtest: the daemons' last words:\n%s", n.logTails())
		}
		if err := n.stop(); err != nil {
			tb.Errorf("regtest: %v", err)
		}
	})
	tb.Logf("regtest network ready in %v (%s)", time.Since(began).Round(time.Millisecond), n.Dir)
	return n
}

// shared is the process's network for Shared: one per test binary,
// started lazily, by nature process-wide.
var shared struct {
	once sync.Once
	mu   sync.Mutex
	net  *Network
	err  error
}

// Shared returns the test process's one network, starting it on the
// first call; a failure to start is remembered and reported to every
// caller. Use Main in the package's TestMain to stop it; if the process
// exits without Main, its watcher stops it anyway.
func Shared(tb testing.TB) *Network {
	tb.Helper()
	shared.once.Do(func() {
		began := time.Now()
		n, err := start("")
		if err == nil {
			tb.Logf("shared regtest network ready in %v (%s)", time.Since(began).Round(time.Millisecond), n.Dir)
		}
		shared.mu.Lock()
		shared.net, shared.err = n, err
		shared.mu.Unlock()
	})
	shared.mu.Lock()
	n, err := shared.net, shared.err
	shared.mu.Unlock()
	if err != nil {
		failOrSkip(tb, err)
	}
	return n
}

// Main runs a package's tests, then stops the shared network if one was
// started, and exits. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	shared.mu.Lock()
	n := shared.net
	shared.mu.Unlock()
	if n != nil {
		if err := n.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "regtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// missingError says a binary or tool the network needs is missing.
type missingError struct{ what string }

func (e *missingError) Error() string { return "regtest: " + e.what }

// required says whether a missing tool fails a test rather than skips
// it.
func required() bool {
	v := os.Getenv("SHARDCAST_REQUIRE_TOOLS")
	return v != "" && v != "0"
}

func failOrSkip(tb testing.TB, err error) {
	tb.Helper()
	var m *missingError
	if errors.As(err, &m) && !required() {
		tb.Skip(err)
	} else {
		tb.Fatal(err)
	}
}

// toolsDir is the tools cache, as the scripts find it:
// $SHARDCAST_TOOLS, or shardcast-tools in $XDG_CACHE_HOME or ~/.cache.
func toolsDir() (string, error) {
	if d := os.Getenv("SHARDCAST_TOOLS"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "shardcast-tools"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", &missingError{fmt.Sprintf("no tools directory: SHARDCAST_TOOLS is unset and %v", err)}
	}
	return filepath.Join(home, ".cache", "shardcast-tools"), nil
}

// checkTools reports the first binary or tool start.sh needs that is
// missing.
func checkTools(tools string) error {
	for _, b := range []string{"btcd", "lnd"} {
		p := filepath.Join(tools, "bin", b)
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			return &missingError{fmt.Sprintf("%s is not built in %s (run scripts/regtest/build.sh)", b, filepath.Dir(p))}
		}
	}
	for _, t := range []string{"bash", "curl", "jq", "xxd", "base64"} {
		if _, err := exec.LookPath(t); err != nil {
			return &missingError{fmt.Sprintf("scripts/regtest/start.sh needs %s, which is not installed", t)}
		}
	}
	return nil
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("regtest: finding the repository: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("regtest: no go.mod above the working directory")
		}
		dir = up
	}
}

// start starts a network in a fresh directory under parent ("" means
// the system's temporary directory), retrying on other ports when one
// was taken.
func start(parent string) (*Network, error) {
	tools, err := toolsDir()
	if err != nil {
		return nil, err
	}
	if err := checkTools(tools); err != nil {
		return nil, err
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	scripts := filepath.Join(root, "scripts", "regtest")
	for i := 1; ; i++ {
		n, err := startOnce(scripts, tools, parent)
		var ee *exec.ExitError
		if err == nil || !errors.As(err, &ee) || ee.ExitCode() != exitPortTaken || i == attempts {
			return n, err
		}
	}
}

// startOnce runs start.sh once, in a new directory under parent, under
// a watcher that removes the directory once the network has stopped.
func startOnce(scripts, tools, parent string) (*Network, error) {
	base, err := freePorts()
	if err != nil {
		return nil, err
	}
	netDir, err := os.MkdirTemp(parent, "shardcast-regtest-")
	if err != nil {
		return nil, fmt.Errorf("regtest: %w", err)
	}
	n := &Network{Dir: netDir}
	if err := n.watch(filepath.Join(scripts, "stop.sh")); err != nil {
		os.RemoveAll(netDir)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(scripts, "start.sh"), netDir)
	cmd.Env = append(os.Environ(), "SHARDCAST_TOOLS="+tools, "REGTEST_PORT_BASE="+strconv.Itoa(base))
	cmd.WaitDelay = 10 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		n.stop()
		return nil, fmt.Errorf("regtest: start.sh (ports %d-%d): %w\n%s", base, base+portsPerNetwork-1, err, bytes.TrimSpace(out))
	}
	if err := n.readEnv(filepath.Join(netDir, "env")); err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

// watch starts the watcher: a shell that waits for the end of a pipe
// this process holds, which closes when n.stop closes it or the process
// dies, and then kills the daemons (stop.sh --kill: the network is
// thrown away, so it need not shut down cleanly) and removes n.Dir. Its output goes to
// /dev/null, never to this process, so that it can outlive it.
func (n *Network) watch(stopScript string) error {
	cmd := exec.Command("/bin/sh", "-c", `cat >/dev/null; "$0" --kill "$1"; rc=$?; rm -rf "$1"; exit $rc`, stopScript, n.Dir)
	pipe, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("regtest: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("regtest: starting the watcher: %w", err)
	}
	n.watcher, n.pipe = cmd, pipe
	return nil
}

// stop stops the network and waits until it has; it is idempotent.
func (n *Network) stop() error {
	n.stopOnce.Do(func() {
		n.pipe.Close()
		if err := n.watcher.Wait(); err != nil {
			n.stopErr = fmt.Errorf("stopping the network in %s: %w", n.Dir, err)
		}
	})
	return n.stopErr
}

// logTails returns the last lines of each daemon's log.
func (n *Network) logTails() string {
	var b strings.Builder
	for _, d := range []string{"btcd", "alice", "bob"} {
		out, err := os.ReadFile(filepath.Join(n.Dir, d, "out.log"))
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", d, err)
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		lines = lines[max(0, len(lines)-20):]
		fmt.Fprintf(&b, "%s:\n\t%s\n", d, strings.Join(lines, "\n\t"))
	}
	return b.String()
}

// freePorts picks an 8-aligned slot of 8 loopback ports in 20000–31999
// that are free now.
func freePorts() (int, error) {
	for range 64 {
		base := 20000 + portsPerNetwork*rand.IntN(portSlots)
		free := true
		var ls []net.Listener
		for p := base; p < base+portsPerNetwork && free; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if free {
			return base, nil
		}
	}
	return 0, errors.New("regtest: found no 8 free consecutive ports in 20000-31999")
}

// readEnv reads the KEY=value lines start.sh writes.
func (n *Network) readEnv(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("regtest: reading what start.sh wrote: %w", err)
	}
	env := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	for _, k := range []string{"ALICE_REST", "ALICE_CERT", "ALICE_MACAROON", "BOB_REST", "BOB_CERT", "BOB_MACAROON",
		"BTCD_RPC", "BTCD_CERT", "BTCD_USER", "BTCD_PASS"} {
		if env[k] == "" {
			return fmt.Errorf("regtest: %s has no %s", path, k)
		}
	}
	n.Alice = LND{REST: env["ALICE_REST"], TLSCert: env["ALICE_CERT"], Macaroon: env["ALICE_MACAROON"]}
	n.Bob = LND{REST: env["BOB_REST"], TLSCert: env["BOB_CERT"], Macaroon: env["BOB_MACAROON"]}
	n.btcd = btcdRPC{addr: env["BTCD_RPC"], cert: env["BTCD_CERT"], user: env["BTCD_USER"], pass: env["BTCD_PASS"]}
	return nil
}
