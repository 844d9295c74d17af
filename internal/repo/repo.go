// Package repo owns a shardcast repository on disk: the peer key, the config
// file, the block and ledger stores, the lock that keeps a second daemon off
// the same repo, and the file in which a running daemon records its API
// address.
//
// A repo is created once by Init and opened by Open. Every file the package
// writes is written atomically (temporary file, fsync, rename), so a crash at
// any instant leaves either the old or the new version, never half of one.
package repo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/internal/private"
)

// EnvPath names the environment variable that selects the repo directory.
const EnvPath = "SHARDCAST_PATH"

// Files inside a repo.
const (
	configFile = "config.json"
	keyFile    = "identity.key"
	apiFile    = "api"
	lockFile   = "repo.lock"
	tokenFile  = "api.token"
	// BlocksDir holds the block store.
	BlocksDir = "blocks"
)

// ErrNoRepo is returned by Open when the directory holds no repo.
var ErrNoRepo = errors.New("no shardcast repo")

// Config is the repo's config file. Its zero value is not valid; Init writes
// one with defaults filled in by DefaultConfig.
type Config struct {
	// PeerID is the peer ID derived from the repo's key, kept for humans.
	PeerID string `json:"peer_id"`
	// Listen lists the libp2p listen multiaddrs.
	Listen []string `json:"listen"`
	// API is the HOST:PORT the daemon's HTTP API and gateway listen on.
	API string `json:"api"`
	// Gateway is the HOST:PORT the daemon's gateway (/ipfs/, /watch/)
	// listens on: an origin apart from the API's.
	Gateway string `json:"gateway,omitempty"`
	// AllowHosts are further host names under which browsers may reach
	// the API and gateway (NAME or NAME:PORT); any other Host is refused.
	AllowHosts []string `json:"allow_hosts,omitempty"`
	// Bootstrap lists peers (multiaddrs with /p2p/) dialled at start.
	Bootstrap []string `json:"bootstrap"`
	// Lightning, when set, connects the node to its own LND node: it can
	// then sell and buy on the lightning rail.
	Lightning *Lightning `json:"lightning,omitempty"`
}

// Lightning says how to reach an LND node's REST API.
type Lightning struct {
	REST     string `json:"rest"`     // HOST:PORT of LND's REST listener
	TLSCert  string `json:"tls_cert"` // LND's tls.cert
	Macaroon string `json:"macaroon"` // a macaroon for invoices, payments and info
}

// Default addresses. They stay clear of Kubo's 4001, 5001 and 8080 so both
// can run side by side on one machine. The API is on loopback: anything on it
// may spend money. The gateway (DefaultGateway) gives content an origin of
// its own, apart from the API's, where the wallet is.
const (
	DefaultAPI     = "127.0.0.1:8101"
	DefaultGateway = "127.0.0.1:8102"
	defaultTCP     = "/ip4/0.0.0.0/tcp/4101"
	defaultQUIC    = "/ip4/0.0.0.0/udp/4101/quic-v1"
	defaultTCPv6   = "/ip6/::/tcp/4101"
	defaultQUICv6  = "/ip6/::/udp/4101/quic-v1"
)

// DefaultConfig returns the configuration Init writes. There are no public
// bootstrap peers: a shardcast network is whatever peers the user names.
func DefaultConfig() Config {
	return Config{
		Listen:    []string{defaultTCP, defaultQUIC, defaultTCPv6, defaultQUICv6},
		API:       DefaultAPI,
		Gateway:   DefaultGateway,
		Bootstrap: []string{},
	}
}

// Repo is an opened repository.
type Repo struct {
	Dir    string
	Config Config
	Key    crypto.PrivKey
}

// DefaultDir returns $SHARDCAST_PATH, or ~/.shardcast.
func DefaultDir() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory for the default repo: %w", err)
	}
	return filepath.Join(home, ".shardcast"), nil
}

// Init creates a repo in dir with a fresh Ed25519 peer key and the default
// config. It refuses to touch a directory that already holds a repo.
func Init(dir string) (*Repo, error) { return InitConfig(dir, DefaultConfig()) }

// InitConfig is Init with the config cfg (its PeerID is filled in).
func InitConfig(dir string, cfg Config) (*Repo, error) {
	if _, err := os.Stat(filepath.Join(dir, configFile)); err == nil {
		return nil, fmt.Errorf("repo %s already exists", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating repo %s: %w", dir, err)
	}
	// MkdirAll keeps the mode of a directory that was there already.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making repo %s private: %w", dir, err)
	}
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating peer key: %w", err)
	}
	keyBytes, err := crypto.MarshalPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding peer key: %w", err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("deriving peer ID: %w", err)
	}
	cfg.PeerID = id.String()
	// The key goes first: a config without a key is a broken repo, a key
	// without a config is no repo at all and Init can run again.
	if err := atomicfile.WriteFile(filepath.Join(dir, keyFile), keyBytes, 0o600); err != nil {
		return nil, err
	}
	r := &Repo{Dir: dir, Config: cfg, Key: priv}
	if err := r.SaveConfig(); err != nil {
		return nil, err
	}
	return r, nil
}

// Open opens the repo in dir.
func Open(dir string) (*Repo, error) {
	raw, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s (run shardcast init)", ErrNoRepo, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading repo config: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, configFile), err)
	}
	keyBytes, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, fmt.Errorf("reading peer key: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(keyBytes)
	if err != nil {
		return nil, fmt.Errorf("decoding peer key in %s: %w", dir, err)
	}
	if err := fixModes(dir); err != nil {
		return nil, err
	}
	return &Repo{Dir: dir, Config: cfg, Key: key}, nil
}

// PeerID returns the peer ID derived from the repo's key: the one its
// daemon answers with.
func (r *Repo) PeerID() (peer.ID, error) {
	id, err := peer.IDFromPrivateKey(r.Key)
	if err != nil {
		return "", fmt.Errorf("deriving the peer ID of %s: %w", r.Dir, err)
	}
	return id, nil
}

// fixModes takes group and other permissions away from the repo directory
// and the files in it that hold secrets, for repos made by versions that
// left them readable. Files inside private directories (keys, shares) are
// reached only through the repo directory, which is kept 0700.
func fixModes(dir string) error {
	paths := []string{dir}
	for _, name := range []string{keyFile, configFile, tokenFile, apiFile} {
		paths = append(paths, filepath.Join(dir, name))
	}
	return private.Narrow(paths...)
}

// SaveConfig writes the config file atomically.
func (r *Repo) SaveConfig() error {
	raw, err := json.MarshalIndent(r.Config, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(r.Dir, configFile), append(raw, '\n'), 0o600)
}

// Path returns the path of name inside the repo.
func (r *Repo) Path(name string) string { return filepath.Join(r.Dir, name) }

// APIAddr returns the API address a running daemon recorded in dir, or ""
// if none did.
func APIAddr(dir string) (string, error) { return readAddr(dir, apiFile, "API") }

// SetAPIAddr records the running daemon's API address.
func (r *Repo) SetAPIAddr(addr string) error {
	return atomicfile.WriteFile(r.Path(apiFile), []byte(addr+"\n"), 0o600)
}

// ClearAPIAddr removes the record written by SetAPIAddr.
func (r *Repo) ClearAPIAddr() error { return removeIfExists(r.Path(apiFile)) }

// readAddr reads the address a running daemon recorded in dir's file
// name, or "" if none did; what names the listener in errors.
func readAddr(dir, name, what string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the daemon's %s address: %w", what, err)
	}
	return strings.TrimSpace(string(raw)), nil
}

// removeIfExists removes path; a path already gone is no error.
func removeIfExists(path string) error {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// APIToken returns the repo's API token, creating it if needed. A daemon
// whose API is not on loopback requires it for everything that spends,
// publishes or reveals a key; the CLI reads it from the repo.
func (r *Repo) APIToken() (string, error) {
	if t, err := ReadAPIToken(r.Dir); err != nil || t != "" {
		return t, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making an API token: %w", err)
	}
	t := hex.EncodeToString(b)
	if err := atomicfile.WriteFile(r.Path(tokenFile), []byte(t+"\n"), 0o600); err != nil {
		return "", err
	}
	return t, nil
}

// ReadAPIToken returns the API token kept in dir, or "" if there is none.
func ReadAPIToken(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, tokenFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the API token: %w", err)
	}
	return strings.TrimSpace(string(raw)), nil
}
