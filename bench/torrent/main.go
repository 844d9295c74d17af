// Command torrentbench moves one file from a BitTorrent seeder to a leecher
// on loopback with github.com/anacrolix/torrent: the BitTorrent anchor that
// scripts/bench.sh compares shardcast's fetch with. It has its own module so
// that the torrent library's dependencies stay out of shardcast's.
//
// Usage:
//
//	torrentbench seed -file FILE -info OUT.torrent
//	torrentbench leech -info IN.torrent -peer HOST:PORT -dir DIR
//
// seed hashes FILE into a torrent, writes its metainfo to OUT.torrent,
// prints "listening on HOST:PORT" once it serves, and serves until SIGINT or
// SIGTERM. leech fetches the torrent from the one peer into DIR (verifying
// every piece against its SHA-1, as BitTorrent does), prints the wall
// seconds the transfer took, and exits.
//
// There is no DHT, no tracker, no peer exchange, no uTP and no IPv6: one TCP
// connection between two processes. The per-connection upload allowance is
// raised from 1 MiB to 64 MiB, which otherwise stalls a loopback seeder.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	alog "github.com/anacrolix/log"
	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: torrentbench seed|leech [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "seed":
		err = seed(os.Args[2:])
	case "leech":
		err = leech(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "usage: torrentbench seed|leech [flags]")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "torrentbench: %v\n", err)
		os.Exit(1)
	}
}

func config(dataDir string) *torrent.ClientConfig {
	cfg := torrent.NewDefaultClientConfig()
	cfg.DataDir = dataDir
	cfg.DefaultStorage = storage.NewFileOpts(storage.NewFileClientOpts{ClientBaseDir: dataDir})
	cfg.ListenHost = func(string) string { return "127.0.0.1" }
	cfg.ListenPort = 0
	cfg.NoDHT = true
	cfg.DisableTrackers = true
	cfg.DisablePEX = true
	cfg.DisableUTP = true
	cfg.DisableIPv6 = true
	cfg.DisableWebtorrent = true
	cfg.DisableWebseeds = true
	cfg.NoDefaultPortForwarding = true
	cfg.MaxAllocPeerRequestDataPerConn = 64 << 20
	cfg.Logger = cfg.Logger.WithFilterLevel(alog.Disabled)
	return cfg
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	file := fs.String("file", "", "file to seed")
	out := fs.String("info", "", "where to write the metainfo")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" || *out == "" {
		return errors.New("seed needs -file and -info")
	}
	info := metainfo.Info{PieceLength: 1 << 20}
	if err := info.BuildFromFilePath(*file); err != nil {
		return fmt.Errorf("hashing %s: %w", *file, err)
	}
	mi := metainfo.MetaInfo{}
	var err error
	if mi.InfoBytes, err = bencode.Marshal(info); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := mi.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	cfg := config(filepath.Dir(*file))
	cfg.Seed = true
	cl, err := torrent.NewClient(cfg)
	if err != nil {
		return fmt.Errorf("starting the seeder: %w", err)
	}
	defer cl.Close()
	t, err := cl.AddTorrent(&mi)
	if err != nil {
		return fmt.Errorf("adding the torrent: %w", err)
	}
	<-t.GotInfo()
	if err := t.VerifyData(); err != nil {
		return fmt.Errorf("verifying %s: %w", *file, err)
	}
	select {
	case <-t.Complete().On():
	case <-time.After(time.Minute):
		return fmt.Errorf("the seeder holds %d of %d bytes after verifying them", t.BytesCompleted(), t.Length())
	}
	addr := cl.ListenAddrs()[0].(*net.TCPAddr)
	fmt.Printf("listening on %s\n", addr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

func leech(args []string) error {
	fs := flag.NewFlagSet("leech", flag.ContinueOnError)
	in := fs.String("info", "", "metainfo of the torrent")
	peerAddr := fs.String("peer", "", "the seeder's HOST:PORT")
	dir := fs.String("dir", "", "where to write the file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *peerAddr == "" || *dir == "" {
		return errors.New("leech needs -info, -peer and -dir")
	}
	mi, err := metainfo.LoadFromFile(*in)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *in, err)
	}
	addr, err := net.ResolveTCPAddr("tcp", *peerAddr)
	if err != nil {
		return fmt.Errorf("peer %q: %w", *peerAddr, err)
	}
	cl, err := torrent.NewClient(config(*dir))
	if err != nil {
		return fmt.Errorf("starting the leecher: %w", err)
	}
	defer cl.Close()
	start := time.Now()
	t, err := cl.AddTorrent(mi)
	if err != nil {
		return fmt.Errorf("adding the torrent: %w", err)
	}
	t.AddPeers([]torrent.PeerInfo{{Addr: torrent.PeerRemoteAddr(addr), Trusted: true}})
	<-t.GotInfo()
	t.DownloadAll()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	select {
	case <-t.Complete().On():
	case <-ctx.Done():
		return errors.New("interrupted")
	}
	fmt.Printf("%.3f\n", time.Since(start).Seconds())
	return nil
}
