package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/node"
)

type daemonOptions struct {
	listen    []string
	api       string
	bootstrap []string
	offline   bool
	logLevel  string
	lnd       repo.Lightning
	refetch   time.Duration
}

func newDaemonCmd(e *env) *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the node (libp2p, API, gateway) until interrupted",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.api == "" {
				o.api = e.apiAddr
			}
			return runDaemon(cmd.Context(), e, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.listen, "listen", nil, "libp2p listen multiaddr (repeatable; default from the repo config)")
	// --api is also a global flag; the daemon reads it there.
	f.StringArrayVar(&o.bootstrap, "bootstrap", nil, "peer multiaddr with /p2p/ID to dial at start (repeatable)")
	f.BoolVar(&o.offline, "offline", false, "run without any network")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.DurationVar(&o.refetch, "refetch-timeout", content.DefaultRefetchTimeout, "how long to look for peers that hold a block found corrupt in the store")
	f.StringVar(&o.lnd.REST, "lnd-rest", "", "HOST:PORT of your LND node's REST API (default from the repo config)")
	f.StringVar(&o.lnd.TLSCert, "lnd-cert", "", "LND's tls.cert")
	f.StringVar(&o.lnd.Macaroon, "lnd-macaroon", "", "an LND macaroon allowing invoices, payments and info (admin.macaroon)")
	return cmd
}

func runDaemon(ctx context.Context, e *env, o daemonOptions) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return usageError{fmt.Errorf("--log-level: %w", err)}
	}
	if o.lnd != (repo.Lightning{}) && (o.lnd.REST == "" || o.lnd.TLSCert == "" || o.lnd.Macaroon == "") {
		return usageError{fmt.Errorf("--lnd-rest, --lnd-cert and --lnd-macaroon go together")}
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	dir, err := e.repoPath()
	if err != nil {
		return err
	}
	r, err := repo.Open(dir)
	if err != nil {
		return err
	}
	lock, err := r.Lock()
	if err != nil {
		return err
	}
	defer lock.Unlock()

	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	api := o.api
	if api == "" {
		api = r.Config.API
	}
	// Say which port to change before the node starts, while the message
	// can still be one line.
	probe, err := net.Listen("tcp", api)
	if err != nil {
		return apiListenError(r, api, fmt.Errorf("listening for the API on %s: %w", api, err))
	}
	probe.Close()

	lnd := r.Config.Lightning
	if o.lnd != (repo.Lightning{}) {
		lnd = &o.lnd
	}
	n, err := node.New(ctx, r, node.Options{Listen: o.listen, Bootstrap: o.bootstrap, Offline: o.offline, Logger: log,
		Lightning: lnd, RefetchTimeout: o.refetch,
		// Tests only: see node.CrashAfterSale and node.CheatBadShare.
		CrashPoint: os.Getenv("SHARDCAST_CRASH_POINT"), Cheat: os.Getenv("SHARDCAST_TEST_CHEAT")})
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("a libp2p listen address of repo %s is in use (another repo's daemon?): change \"listen\" in %s or pass --listen MULTIADDR: %w", r.Dir, r.Path("config.json"), err)
	}
	if err != nil {
		return err
	}
	defer n.Close()
	ln, err := n.ListenAPI(api)
	if err != nil {
		return apiListenError(r, api, err)
	}
	if err := r.SetAPIAddr(ln.Addr().String()); err != nil {
		ln.Close()
		return err
	}
	defer r.ClearAPIAddr()
	fmt.Fprintf(e.stderr, "peer %s\n", n.ID())
	for _, a := range n.Addrs() {
		fmt.Fprintf(e.stderr, "listening on %s\n", a)
	}
	fmt.Fprintf(e.stderr, "API and gateway on http://%s/\n", ln.Addr())
	fmt.Fprintln(e.stdout, "daemon is ready")
	err = n.ServeAPI(ctx, ln)
	fmt.Fprintln(e.stderr, "daemon stopped")
	return err
}

// apiListenError says which setting to change when the API address cannot
// be bound, most often because another repo's daemon holds the port.
func apiListenError(r *repo.Repo, addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("the API address %s of repo %s is in use (another repo's daemon?): change \"api\" in %s or pass --api HOST:PORT", addr, r.Dir, r.Path("config.json"))
	}
	return err
}
