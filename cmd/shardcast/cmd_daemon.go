package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
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
	gateway   string
	allowHost []string
	maxUpload string
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
	f.StringVar(&o.gateway, "gateway", "", "HOST:PORT of the gateway (/ipfs/, /watch/), an origin apart from the API's "+
		"(default from the repo config; port 0 picks one, and so it does when --api has port 0)")
	f.StringArrayVar(&o.allowHost, "allow-host", nil, "a further host name (NAME or NAME:PORT) browsers may use to reach the API and gateway (repeatable)")
	f.StringVar(&o.maxUpload, "max-upload", "", "largest upload through the API (add, publish), e.g. 8GiB (default 64GiB)")
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
	maxUpload, err := parseSize(o.maxUpload)
	if err != nil {
		return usageError{fmt.Errorf("--max-upload: %w", err)}
	}
	for _, h := range o.allowHost {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, "/ ") {
			return usageError{fmt.Errorf("--allow-host %q: want a host name, optionally with :PORT", h)}
		}
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
		Lightning: lnd, RefetchTimeout: o.refetch})
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("a libp2p listen address of repo %s is in use (another repo's daemon?): change \"listen\" in %s or pass --listen MULTIADDR: %w", r.Dir, r.Path("config.json"), err)
	}
	if err != nil {
		return err
	}
	defer n.Close()
	gateway := gatewayAddr(o.gateway, api, r.Config.Gateway)
	ln, err := n.ListenAPI(api)
	if err != nil {
		return apiListenError(r, api, err)
	}
	gln, err := n.ListenGateway(gateway)
	if err != nil {
		ln.Close()
		return err
	}
	if err := r.SetAPIAddr(ln.Addr().String()); err != nil {
		ln.Close()
		gln.Close()
		return err
	}
	defer r.ClearAPIAddr()
	if err := r.SetGatewayAddr(gln.Addr().String()); err != nil {
		ln.Close()
		gln.Close()
		return err
	}
	defer r.ClearGatewayAddr()
	fmt.Fprintf(e.stderr, "peer %s\n", n.ID())
	for _, a := range n.Addrs() {
		fmt.Fprintf(e.stderr, "listening on %s\n", a)
	}
	fmt.Fprintf(e.stderr, "API and web UI on http://%s/\n", ln.Addr())
	fmt.Fprintf(e.stderr, "gateway on http://%s/\n", gln.Addr())
	fmt.Fprintln(e.stdout, "daemon is ready")
	err = n.ServeAPI(ctx, ln, gln, node.HTTPOptions{AllowHosts: append(r.Config.AllowHosts, o.allowHost...), MaxUpload: maxUpload})
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

// gatewayAddr picks the gateway's address: --gateway, else port 0 on the
// API's host when the API's port is 0 (tests and scripts start many
// daemons side by side), else the repo config's, else the default.
func gatewayAddr(flag, api, config string) string {
	if flag != "" {
		return flag
	}
	if host, port, err := net.SplitHostPort(api); err == nil && port == "0" {
		return net.JoinHostPort(host, "0")
	}
	if config != "" {
		return config
	}
	return repo.DefaultGateway
}

// parseSize parses a byte count with an optional KiB, MiB or GiB suffix;
// "" is zero (the default).
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q: want a positive size such as 8GiB", s)
	}
	return n * mult, nil
}
