// Command libp2pbench moves one file over one raw go-libp2p stream (TCP,
// Noise, yamux: the defaults shardcast's daemon uses) between two
// processes on loopback: the ceiling that scripts/bench.sh compares
// shardcast's fetch with. There is no protocol on the stream, no block
// store and no per-block request: only the bytes, in 1 MiB writes.
//
// Usage:
//
//	libp2pbench serve -file FILE
//	libp2pbench fetch -peer MULTIADDR [-hash]
//
// serve prints "listening on MULTIADDR" (with /p2p/) once it listens and
// sends FILE to every stream opened to it, until SIGINT or SIGTERM. fetch
// opens one stream, reads it to its end and prints the wall seconds and
// the byte count; with -hash it also hashes every byte with SHA-256, as a
// verifying receiver must, and prints the hex digest.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

const proto = "/shardcast-bench/raw/1.0.0"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: libp2pbench serve|fetch [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "fetch":
		err = fetch(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: libp2pbench serve|fetch [flags]")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "libp2pbench: %v\n", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	file := fs.String("file", "", "file to send")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("serve needs -file")
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DefaultTransports,
		libp2p.DefaultMuxers, libp2p.DefaultSecurity)
	if err != nil {
		return fmt.Errorf("starting the host: %w", err)
	}
	defer h.Close()
	h.SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		f, err := os.Open(*file)
		if err != nil {
			s.Reset()
			return
		}
		defer f.Close()
		if _, err := io.CopyBuffer(s, struct{ io.Reader }{f}, make([]byte, 1<<20)); err != nil {
			s.Reset()
		}
	})
	fmt.Printf("listening on %s/p2p/%s\n", h.Addrs()[0], h.ID())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

func fetch(args []string) error {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	addr := fs.String("peer", "", "the server's multiaddr with /p2p/")
	doHash := fs.Bool("hash", false, "hash every byte with SHA-256")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ma, err := multiaddr.NewMultiaddr(*addr)
	if err != nil {
		return fmt.Errorf("peer %q: %w", *addr, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(ma)
	if err != nil {
		return fmt.Errorf("peer %q: %w", *addr, err)
	}
	h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.DefaultTransports, libp2p.DefaultMuxers, libp2p.DefaultSecurity)
	if err != nil {
		return fmt.Errorf("starting the host: %w", err)
	}
	defer h.Close()
	ctx := context.Background()
	if err := h.Connect(ctx, *ai); err != nil {
		return fmt.Errorf("connecting to %s: %w", ai.ID, err)
	}
	start := time.Now()
	s, err := h.NewStream(ctx, ai.ID, proto)
	if err != nil {
		return fmt.Errorf("opening a stream: %w", err)
	}
	defer s.Close()
	var w io.Writer = io.Discard
	var sum hash.Hash
	if *doHash {
		sum = sha256.New()
		w = sum
	}
	n, err := io.CopyBuffer(w, struct{ io.Reader }{s}, make([]byte, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the stream: %w", err)
	}
	fmt.Printf("%.3f %d", time.Since(start).Seconds(), n)
	if sum != nil {
		fmt.Printf(" %s", hex.EncodeToString(sum.Sum(nil)))
	}
	fmt.Println()
	return nil
}
