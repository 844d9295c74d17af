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

// ListenAPI opens the API listener on addr (HOST:PORT; port 0 picks one).
func (n *Node) ListenAPI(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for the API on %s: %w", addr, err)
	}
	return ln, nil
}

// ServeAPI serves the HTTP API and gateway on ln until ctx is done.
func (n *Node) ServeAPI(ctx context.Context, ln net.Listener) error {
	h, err := httpapi.New(n, n, n, n.log)
	if err != nil {
		return err
	}
	h.APIAddr = ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		if h.Token, err = n.repo.APIToken(); err != nil {
			return err
		}
		n.log.Warn("the API is not on loopback: spending, publishing and keys need the token in the repo's api.token")
	}
	h.Metrics = n.metricsHandler()
	h.Integrity = n
	h.Stats = func(id cid.Cid) (httpapi.Stats, error) {
		st, err := n.Stats(ctx, id)
		return httpapi.Stats{Sold: int64(st.Sold), Raised: st.Raised, Donated: st.Donated, Pledged: int64(st.Pledged)}, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving the API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	srv.Close()
	return nil
}
