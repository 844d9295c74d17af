package repo

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Ports of the default config, and how many further sets ChooseAddrs tries.
const (
	defaultAPIPort    = 8101
	defaultListenPort = 4101
	portSets          = 50
)

// Addrs are the local addresses a repo's daemon listens on.
type Addrs struct {
	API     string
	Gateway string
	// ListenPort is the libp2p port (TCP and QUIC, IPv4 and IPv6).
	ListenPort int
}

// Config returns the default config with a's addresses.
func (a Addrs) Config() Config {
	cfg := DefaultConfig()
	cfg.API, cfg.Gateway = a.API, a.Gateway
	cfg.Listen = listenAddrs(a.ListenPort)
	return cfg
}

func listenAddrs(port int) []string {
	p := strconv.Itoa(port)
	return []string{"/ip4/0.0.0.0/tcp/" + p, "/ip4/0.0.0.0/udp/" + p + "/quic-v1", "/ip6/::/tcp/" + p, "/ip6/::/udp/" + p + "/quic-v1"}
}

// ChooseAddrs picks the addresses of a new repo in dir: the defaults (API
// 8101, gateway 8102, libp2p 4101) unless another repo on this machine is
// configured with one of them or something listens on one now; then the
// next set that is free (8103, 8104 and 4102, and so on). why says, when
// the defaults were passed over, what held them.
//
// "Another repo" is the default repo ($SHARDCAST_PATH, ~/.shardcast) and
// the repos beside dir: there is no machine-wide list of repos. A repo kept
// elsewhere whose daemon is not running when init runs can still be given
// the same ports; its daemon then fails to start with one line naming the
// port, and the CLI, which checks the peer ID of the daemon it talks to,
// never mistakes one repo's daemon for another's.
func ChooseAddrs(dir string) (a Addrs, why string) {
	used := map[int]string{} // port -> the repo configured with it
	for _, other := range neighbours(dir) {
		for _, p := range configuredPorts(other) {
			if _, ok := used[p]; !ok {
				used[p] = other
			}
		}
	}
	var reasons []string
	for k := range portSets {
		api, gw, lp := defaultAPIPort+2*k, defaultAPIPort+2*k+1, defaultListenPort+k
		taken := ""
		for _, p := range []int{api, gw, lp} {
			if r, ok := used[p]; ok {
				taken = fmt.Sprintf("port %d is configured in repo %s", p, r)
				break
			}
		}
		if taken == "" {
			for _, pr := range []struct {
				network string
				port    int
			}{{"tcp", api}, {"tcp", gw}, {"tcp", lp}, {"udp", lp}} {
				if !free(pr.network, pr.port) {
					taken = fmt.Sprintf("port %d is in use on this machine", pr.port)
					break
				}
			}
		}
		if taken == "" {
			a = Addrs{API: hostPort(api), Gateway: hostPort(gw), ListenPort: lp}
			if k > 0 {
				why = strings.Join(reasons, "; ")
			}
			return a, why
		}
		if k == 0 {
			reasons = append(reasons, taken)
		}
	}
	// Every set is taken: keep the defaults, and the daemon will say which
	// port to change.
	return Addrs{API: DefaultAPI, Gateway: DefaultGateway, ListenPort: defaultListenPort}, "no free set of ports found; keeping the defaults"
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// free reports whether port can be bound on every interface now.
func free(network string, port int) bool {
	addr := ":" + strconv.Itoa(port)
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// neighbours returns the other repos ChooseAddrs knows of for a new repo
// in dir: the default repo and the repos in dir's parent directory.
func neighbours(dir string) []string {
	self, _ := filepath.Abs(dir)
	seen := map[string]bool{self: true}
	var out []string
	add := func(d string) {
		abs, err := filepath.Abs(d)
		if err != nil || seen[abs] {
			return
		}
		seen[abs] = true
		if _, err := os.Stat(filepath.Join(abs, configFile)); err == nil {
			out = append(out, abs)
		}
	}
	if d, err := DefaultDir(); err == nil {
		add(d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, ".shardcast"))
	}
	parent := filepath.Dir(self)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if e.IsDir() {
			add(filepath.Join(parent, e.Name()))
		}
	}
	return out
}

// configuredPorts returns the local ports in the config of the repo in
// dir, or none if it holds no readable shardcast config.
func configuredPorts(dir string) []int {
	raw, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return nil
	}
	var cfg Config
	if json.Unmarshal(raw, &cfg) != nil || cfg.PeerID == "" {
		return nil
	}
	var ports []int
	for _, hp := range []string{cfg.API, cfg.Gateway} {
		if _, p, err := net.SplitHostPort(hp); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				ports = append(ports, n)
			}
		}
	}
	for _, ma := range cfg.Listen {
		parts := strings.Split(ma, "/")
		for i := 0; i+1 < len(parts); i++ {
			if parts[i] == "tcp" || parts[i] == "udp" {
				if n, err := strconv.Atoi(parts[i+1]); err == nil && n != 0 {
					ports = append(ports, n)
				}
			}
		}
	}
	return ports
}
