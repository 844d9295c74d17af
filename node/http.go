package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/httpapi"
)

// HTTPOptions configure the node's HTTP side.
type HTTPOptions struct {
	// AllowHosts are names besides the listen addresses, localhost,
	// 127.0.0.1 and ::1 under which browsers may reach the API and the
	// gateway (NAME or NAME:PORT).
	AllowHosts []string
	// MaxUpload bounds an upload through the API (add, publish), in
	// bytes; zero means httpapi.DefaultMaxUpload.
	MaxUpload int64
}

// Timeouts of both listeners. Bodies have deadlines of their own, set per
// route by httpapi; responses (streams of films) have none.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// ListenAPI opens the API listener on addr (HOST:PORT; port 0 picks one).
func (n *Node) ListenAPI(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for the API on %s: %w", addr, err)
	}
	return ln, nil
}

// ListenGateway opens the gateway listener on addr (HOST:PORT; port 0
// picks one).
func (n *Node) ListenGateway(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for the gateway on %s: %w", addr, err)
	}
	return ln, nil
}

// ServeAPI serves the HTTP API and web UI on api, and the gateway
// (/ipfs/, /watch/) on gw, until ctx is done. It creates the repo's API
// token if there is none: every call that spends, publishes or reads a
// secret needs it (or the web UI's session derived from it).
func (n *Node) ServeAPI(ctx context.Context, api, gw net.Listener, o HTTPOptions) error {
	h, err := httpapi.New(n, n, n, n.log)
	if err != nil {
		return err
	}
	if h.Token, err = n.repo.APIToken(); err != nil {
		return err
	}
	h.APIAddr, h.GatewayAddr = api.Addr().String(), gw.Addr().String()
	h.AllowHosts, h.MaxUpload = o.AllowHosts, o.MaxUpload
	if tcp, ok := api.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		n.log.Warn("the API is not on loopback: every call but /api/v1/id needs the token in the repo's api.token")
	}
	h.Metrics = n.metricsHandler()
	h.Integrity = n
	h.Stats = func(id cid.Cid) (httpapi.Stats, error) {
		st, err := n.Stats(ctx, id)
		return httpapi.Stats{Sold: int64(st.Sold), Raised: st.Raised, Donated: st.Donated, Pledged: int64(st.Pledged)}, err
	}
	apiH, err := h.API()
	if err != nil {
		return err
	}
	gwH, err := h.Gateway()
	if err != nil {
		return err
	}
	servers := []*http.Server{
		{Handler: apiH, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout},
		{Handler: gwH, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout},
	}
	errc := make(chan error, 2)
	go func() { errc <- servers[0].Serve(api) }()
	go func() { errc <- servers[1].Serve(gw) }()
	var serr error
	select {
	case err := <-errc:
		serr = fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) && serr == nil {
			serr = err
		}
		srv.Close()
	}
	return serr
}

// SignIDChallenge signs a challenge of the API's GET /api/v1/id with the
// peer key (httpapi.IDSigner).
func (n *Node) SignIDChallenge(challenge []byte) ([]byte, error) {
	return n.repo.Key.Sign(httpapi.IDChallengeMessage(challenge))
}
