package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/web"
)

// Backend is what the HTTP side needs of a node.
type Backend interface {
	ID() peer.ID
	Addrs() []string
	Peers() []peer.ID
	Connect(ctx context.Context, addr string) (peer.ID, error)
	Add(ctx context.Context, r io.Reader) (cid.Cid, int64, error)
	Open(ctx context.Context, c cid.Cid) (*content.File, error)
	Fetched(c cid.Cid)
	FindProviders(ctx context.Context, c cid.Cid, max int) ([]peer.ID, error)
	BlockService() blockservice.BlockService
}

// Server serves one node's HTTP side on two listeners, two origins: the
// API (JSON, the web UI) and the gateway (content: /ipfs/ and /watch/).
// Content never runs on the API's origin, where the wallet is.
//
// Set the exported fields, then serve API() and Gateway().
type Server struct {
	b       Backend
	c       Campaigns
	m       Market
	log     *slog.Logger
	gateway http.Handler

	// APIAddr and GatewayAddr are the listeners' addresses (HOST:PORT):
	// reported by /api/v1/id and the first names each allows as Host.
	APIAddr     string
	GatewayAddr string
	// AllowHosts are further names (NAME or NAME:PORT) under which the
	// listeners may be reached, for example a name in /etc/hosts.
	AllowHosts []string
	// Token is the repo's API token: the CLI sends it as Authorization:
	// Bearer TOKEN; the web UI's session and /watch capabilities derive
	// from it. Calls that need a credential fail while it is empty.
	Token string
	// MaxUpload bounds an upload's body (DefaultMaxUpload when zero).
	MaxUpload int64
	// JSONReadTimeout bounds reading a JSON call's body, and
	// UploadIdleTimeout a pause in an upload (defaults when zero).
	JSONReadTimeout, UploadIdleTimeout time.Duration
	// Metrics, when set, serves /metrics.
	Metrics http.Handler
	// Stats, when set, reports a campaign's sales from the node's ledger.
	Stats func(id cid.Cid) (Stats, error)
	// Integrity, when set, serves the audit routes (repo.go).
	Integrity Integrity

	// Now is the clock of /watch capabilities (time.Now when nil).
	Now func() time.Time

	apiHosts, gwHosts *hosts
	keys              keys
}

// New returns a Server for b.
func New(b Backend, c Campaigns, m Market, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	backend, err := gateway.NewBlocksBackend(b.BlockService())
	if err != nil {
		return nil, fmt.Errorf("starting gateway: %w", err)
	}
	return &Server{
		b:       b,
		c:       c,
		m:       m,
		log:     log,
		gateway: gateway.NewHandler(gateway.Config{DeserializedResponses: true}, backend),
	}, nil
}

// setup derives the allowlists and credentials from the exported fields.
func (s *Server) setup() error {
	var err error
	if s.apiHosts, err = newHosts(s.APIAddr, s.AllowHosts); err != nil {
		return fmt.Errorf("the API's %w", err)
	}
	gw := s.GatewayAddr
	if gw == "" {
		gw = "127.0.0.1:0" // no gateway: nothing to allow
	}
	if s.gwHosts, err = newHosts(gw, s.AllowHosts); err != nil {
		return fmt.Errorf("the gateway's %w", err)
	}
	_, port, _ := net.SplitHostPort(s.APIAddr)
	s.keys = newKeys(s.Token, port)
	return nil
}

// API returns the handler of the API listener: /api/v1/..., the web UI
// at / and /ui/, /metrics. Every request must name the listener in its
// Host; see the package doc for who may call what.
func (s *Server) API() (http.Handler, error) {
	if err := s.setup(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	route := func(pattern string, a access, b body, h http.HandlerFunc) {
		mux.HandleFunc(pattern, s.guard(a, b, h))
	}
	route("GET /api/v1/id", public, noBody, s.handleID)
	route("POST /api/v1/login", public, jsonBody, s.handleLogin)
	route("GET /api/v1/peers", secret, noBody, s.handlePeers)
	route("POST /api/v1/connect", change, jsonBody, s.handleConnect)
	route("POST /api/v1/add", change, uploadBody, s.handleAdd)
	route("GET /api/v1/providers/{cid}", secret, noBody, s.handleProviders)
	route("POST /api/v1/publish", change, uploadBody, s.handlePublish)
	route("GET /api/v1/campaigns", reader, noBody, s.handleCampaigns)
	route("GET /api/v1/campaigns/{id}", reader, noBody, s.handleCampaign)
	route("POST /api/v1/campaigns/{id}/buy", change, jsonBody, s.handleBuy)
	route("POST /api/v1/campaigns/{id}/donate", change, jsonBody, s.handleDonate)
	route("POST /api/v1/campaigns/{id}/release", change, noBody, s.handleRelease)
	route("GET /api/v1/campaigns/{id}/key", secret, noBody, s.handleKey)
	route("GET /api/v1/campaigns/{id}/sales", secret, noBody, s.handleSales)
	route("GET /api/v1/campaigns/{id}/watch", secret, noBody, s.handleWatchURL)
	route("GET /api/v1/receipts", secret, noBody, s.handleReceipts)
	route("GET /api/v1/wallet", secret, noBody, s.handleWallet)
	route("POST /api/v1/proofs", change, uploadBody, s.handleProof)
	route("GET /api/v1/check", secret, noBody, s.handleCheck)
	route("POST /api/v1/repo/verify", change, noBody, s.handleRepoVerify)
	s.pprofRoutes(route)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no API endpoint %s %s", r.Method, r.URL.Path))
	})
	// Content moved to the gateway's origin.
	mux.HandleFunc("/ipfs/", s.handleMoved)
	mux.HandleFunc("/watch/", s.handleMoved)
	ui := web.Handler(s.page)
	mux.Handle("GET /{$}", ui)
	mux.Handle("GET /ui/", ui)
	route("GET /metrics", secret, noBody, func(w http.ResponseWriter, r *http.Request) {
		if s.Metrics == nil {
			writeError(w, http.StatusNotFound, errors.New("no metrics on this daemon"))
			return
		}
		s.Metrics.ServeHTTP(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("nothing at %s %s", r.Method, r.URL.Path))
	})
	return checkHost(s.apiHosts, mux), nil
}

// Gateway returns the handler of the gateway listener: /ipfs/CID[/path]
// and /watch/CAMPAIGN, on an origin of their own. Every answer forbids
// sniffing and runs as a sandboxed document with no script, so a file a
// peer added cannot act on the page's origin, let alone the API's.
func (s *Server) Gateway() (http.Handler, error) {
	if err := s.setup(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ipfs/", s.handleIPFS)
	mux.HandleFunc("GET /watch/{id}", s.handleWatch)
	mux.HandleFunc("HEAD /watch/{id}", s.handleWatch)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("nothing at %s on the gateway: it serves /ipfs/CID and /watch/CAMPAIGN", r.URL.Path))
	})
	inner := limitRanges(mux)
	return checkHost(s.gwHosts, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", contentCSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		inner.ServeHTTP(w, r)
	})), nil
}

// contentCSP is the policy of everything the gateway serves: a sandbox
// (an opaque origin, no script, no forms, no popups) that may show media
// and images of its own origin and nothing else.
const contentCSP = "sandbox; default-src 'none'; media-src 'self'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"

// gatewayOrigin returns the origin of the gateway as the client of r
// reaches it: under the name r used for the API when both listen on one
// address (or any address), under the gateway's own address otherwise.
func (s *Server) gatewayOrigin(r *http.Request) string {
	gh, gp, err := net.SplitHostPort(s.GatewayAddr)
	if err != nil {
		return ""
	}
	ah, _, _ := net.SplitHostPort(s.APIAddr)
	if ip := net.ParseIP(gh); gh == ah || ip != nil && ip.IsUnspecified() {
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			gh = h
		}
	}
	return "http://" + net.JoinHostPort(gh, gp)
}

// handleMoved answers the old content paths of the API listener: a
// redirect to the gateway for reads, an error for anything else.
func (s *Server) handleMoved(w http.ResponseWriter, r *http.Request) {
	gw := s.gatewayOrigin(r)
	if gw == "" {
		writeError(w, http.StatusNotFound, errors.New("this daemon serves no gateway"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusGone, fmt.Errorf("content is served by the gateway at %s, not the API", gw))
		return
	}
	http.Redirect(w, r, gw+r.URL.RequestURI(), http.StatusTemporaryRedirect)
}

// page fills in the web UI's page for one request: the app with its CSRF
// token and the session cookie for a caller that may use it, the login
// form for one off loopback without a session.
func (s *Server) page(w http.ResponseWriter, r *http.Request) web.Page {
	if !s.apiHosts.loopback && !s.keys.hasSession(r) {
		return web.Page{Login: true}
	}
	http.SetCookie(w, s.keys.sessionCookie())
	return web.Page{CSRF: s.keys.csrf, Gateway: s.gatewayOrigin(r)}
}

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Token string `json:"token"`
}

// handleLogin trades the API token for the web UI's session cookie, for a
// UI off loopback.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if len(s.keys.token) == 0 || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(req.Token)), s.keys.token) != 1 {
		writeError(w, http.StatusUnauthorized, errors.New("wrong token: copy it from the repo's api.token"))
		return
	}
	http.SetCookie(w, s.keys.sessionCookie())
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// IDResponse is the body of GET /api/v1/id. Anyone who can reach the API
// may read it: it is what the node tells its peers anyway.
type IDResponse struct {
	ID        string   `json:"id"`
	Addresses []string `json:"addresses"`
	API       string   `json:"api"`
	// Gateway is the address of the listener serving /ipfs/ and /watch/.
	Gateway string `json:"gateway,omitempty"`
	// Proof, asked for with ?challenge=, is the peer key's signature over
	// IDChallengeMessage(challenge), unpadded base64url (see IDSigner).
	Proof string `json:"proof,omitempty"`
}

func (s *Server) handleID(w http.ResponseWriter, r *http.Request) {
	proof, status, err := s.idProof(r)
	if err != nil {
		writeError(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, IDResponse{ID: s.b.ID().String(), Addresses: s.b.Addrs(), API: s.APIAddr, Gateway: s.GatewayAddr, Proof: proof})
}

func (s *Server) handlePeers(w http.ResponseWriter, r *http.Request) {
	peers := []string{}
	for _, p := range s.b.Peers() {
		peers = append(peers, p.String())
	}
	writeJSON(w, http.StatusOK, map[string]any{"peers": peers})
}

// ConnectRequest is the body of POST /api/v1/connect.
type ConnectRequest struct {
	Addr string `json:"addr"`
}

func (s *Server) handleConnect(w http.ResponseWriter, r *http.Request) {
	var req ConnectRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	m, err := ma.NewMultiaddr(req.Addr)
	if err == nil {
		_, err = peer.AddrInfoFromP2pAddr(m)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("address %q: want a multiaddr ending in /p2p/ID: %w", req.Addr, err))
		return
	}
	id, err := s.b.Connect(r.Context(), req.Addr)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"peer": id.String()})
}

// AddResponse is the body answering POST /api/v1/add.
type AddResponse struct {
	CID  string `json:"cid"`
	Size int64  `json:"size"`
}

func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request) {
	c, n, err := s.b.Add(r.Context(), r.Body)
	if err != nil {
		writeError(w, uploadStatus(err), fmt.Errorf("adding: %w", err))
		return
	}
	if r.ContentLength >= 0 && n != r.ContentLength {
		writeError(w, http.StatusBadRequest, fmt.Errorf("adding: got %d of %d bytes", n, r.ContentLength))
		return
	}
	s.log.Info("added", "cid", c, "bytes", n)
	writeJSON(w, http.StatusOK, AddResponse{CID: c.String(), Size: n})
}

// uploadStatus maps the error of a handler that read an upload: the
// client's fault when reading its body failed, the node's otherwise.
func uploadStatus(err error) int {
	if st := bodyStatus(err); st != http.StatusBadRequest {
		return st
	}
	return statusOf(err)
}

func (s *Server) handleProviders(w http.ResponseWriter, r *http.Request) {
	c, err := cid.Decode(r.PathValue("cid"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad CID %q: %w", r.PathValue("cid"), err))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	ids, err := s.b.FindProviders(ctx, c, 20)
	if err != nil {
		writeError(w, statusOf(err), fmt.Errorf("finding providers of %s: %w", c, err))
		return
	}
	out := []string{}
	for _, id := range ids {
		out = append(out, id.String())
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": out})
}

// ErrorResponse is the body of every API error.
type ErrorResponse struct {
	Error string `json:"error"`
	// Kind says what went wrong, in a word a client can map to its own
	// (errorKind: insufficient_funds, sold_out, ended, creator_offline,
	// rail_unreachable, bad_term, ...).
	Kind string `json:"kind,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, ErrorResponse{Error: err.Error(), Kind: errorKind(status, err)})
}

// statusOf maps an error of the network side (fetching, dialling) to an
// HTTP status: the caller's mistakes are 4xx, a network that failed to
// deliver 502 or 504.
func statusOf(err error) int {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, content.ErrNotFile):
		return http.StatusBadRequest
	case errors.Is(err, catalog.ErrUnknown):
		return http.StatusNotFound
	}
	return http.StatusBadGateway
}

var noModTime = time.Time{}
