package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

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

// Server serves the API and gateway for one node.
type Server struct {
	b       Backend
	c       Campaigns
	m       Market
	log     *slog.Logger
	gateway http.Handler
	mux     *http.ServeMux
	// APIAddr is reported by /api/v1/id.
	APIAddr string
	// Token, when set, is required (Authorization: Bearer TOKEN) on every
	// request that spends, publishes or reveals a key: the daemon sets it
	// when its API is not on loopback.
	Token string
	// Metrics, when set, serves /metrics.
	Metrics http.Handler
	// Stats, when set, reports a campaign's sales from the node's ledger.
	Stats func(id cid.Cid) (Stats, error)
	// Integrity, when set, serves the audit routes (repo.go).
	Integrity Integrity
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
	s := &Server{
		b:       b,
		c:       c,
		m:       m,
		log:     log,
		gateway: gateway.NewHandler(gateway.Config{DeserializedResponses: true}, backend),
		mux:     http.NewServeMux(),
	}
	s.mux.HandleFunc("GET /api/v1/id", s.handleID)
	s.mux.HandleFunc("GET /api/v1/peers", s.handlePeers)
	s.mux.HandleFunc("POST /api/v1/connect", s.handleConnect)
	s.mux.HandleFunc("POST /api/v1/add", s.handleAdd)
	s.mux.HandleFunc("GET /api/v1/providers/{cid}", s.handleProviders)
	s.mux.HandleFunc("POST /api/v1/publish", s.handlePublish)
	s.mux.HandleFunc("GET /api/v1/campaigns", s.handleCampaigns)
	s.mux.HandleFunc("GET /api/v1/campaigns/{id}", s.handleCampaign)
	s.mux.HandleFunc("GET /watch/{id}", s.handleWatch)
	s.mux.HandleFunc("POST /api/v1/campaigns/{id}/buy", s.handleBuy)
	s.mux.HandleFunc("POST /api/v1/campaigns/{id}/donate", s.handleDonate)
	s.mux.HandleFunc("POST /api/v1/campaigns/{id}/release", s.handleRelease)
	s.mux.HandleFunc("GET /api/v1/campaigns/{id}/key", s.handleKey)
	s.mux.HandleFunc("GET /api/v1/campaigns/{id}/sales", s.handleSales)
	s.mux.HandleFunc("GET /api/v1/receipts", s.handleReceipts)
	s.mux.HandleFunc("GET /api/v1/wallet", s.handleWallet)
	s.mux.HandleFunc("POST /api/v1/proofs", s.handleProof)
	s.mux.HandleFunc("GET /api/v1/check", s.handleCheck)
	s.mux.HandleFunc("POST /api/v1/repo/verify", s.handleRepoVerify)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no API endpoint %s %s", r.Method, r.URL.Path))
	})
	s.mux.HandleFunc("/ipfs/", s.handleIPFS)
	ui := web.Handler()
	s.mux.Handle("GET /{$}", ui)
	s.mux.Handle("GET /ui/", ui)
	s.mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if s.Metrics == nil {
			http.NotFound(w, r)
			return
		}
		s.Metrics.ServeHTTP(w, r)
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.Token != "" && needsToken(r) &&
		subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+s.Token)) != 1 {
		writeError(w, http.StatusUnauthorized, errors.New("this API is not on loopback: send the token from the repo's api.token as Authorization: Bearer TOKEN"))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// needsToken reports whether a request spends, publishes, changes the
// node's state or reveals a key.
func needsToken(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return true
	}
	return strings.HasSuffix(r.URL.Path, "/key")
}

// IDResponse is the body of GET /api/v1/id.
type IDResponse struct {
	ID        string   `json:"id"`
	Addresses []string `json:"addresses"`
	API       string   `json:"api"`
}

func (s *Server) handleID(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, IDResponse{ID: s.b.ID().String(), Addresses: s.b.Addrs(), API: s.APIAddr})
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
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("decoding request: %w", err))
		return
	}
	id, err := s.b.Connect(r.Context(), req.Addr)
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
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
		writeError(w, http.StatusInternalServerError, fmt.Errorf("adding: %w", err))
		return
	}
	if r.ContentLength >= 0 && n != r.ContentLength {
		writeError(w, http.StatusBadRequest, fmt.Errorf("adding: got %d of %d bytes", n, r.ContentLength))
		return
	}
	s.log.Info("added", "cid", c, "bytes", n)
	writeJSON(w, http.StatusOK, AddResponse{CID: c.String(), Size: n})
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
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, ErrorResponse{Error: err.Error()})
}

// statusOf maps a fetch error to an HTTP status.
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
