// Command httpserve serves one directory over plain HTTP with the standard
// library's http.FileServer: the anchor that scripts/bench.sh compares
// shardcast's transfers with. It neither encrypts nor verifies, so it shows
// what the loopback and the disk cache allow, not what a peer can reach.
//
// Usage:
//
//	httpserve -dir DIR [-addr 127.0.0.1:0]
//
// Once it listens it prints "listening on HOST:PORT" on stdout; it stops on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "httpserve: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", ".", "directory to serve")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on, HOST:PORT")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if st, err := os.Stat(*dir); err != nil {
		return fmt.Errorf("serving %s: %w", *dir, err)
	} else if !st.IsDir() {
		return fmt.Errorf("serving %s: not a directory", *dir)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(*dir))}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
