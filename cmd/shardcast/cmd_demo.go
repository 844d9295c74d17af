package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/cmd/shardcast/internal/demo"
)

type demoOptions struct {
	duration time.Duration
	dir      string
	verbose  bool
}

func newDemoCmd(e *env) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a local network on loopback that plays every payment model end to end (test money)",
		Long: `Run six nodes in this process, on loopback: a creator, four buyers and a
bystander. The creator publishes a sample video as an open, a pay and a shards
campaign; the buyers donate and buy with test money; the demo checks every
outcome, prints each node's UI address and stays up until interrupted or
--duration ends. It needs no repo (--repo is ignored).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.duration < 0 {
				return usageError{fmt.Errorf("--duration %s: want 0 (until interrupted) or more", o.duration)}
			}
			return runDemo(cmd.Context(), e, o)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.duration, "duration", 0, "stop after this long, e.g. 90s (0: until interrupted)")
	f.StringVar(&o.dir, "dir", "", "directory for the nodes' repos, kept afterwards (default: a temporary one, removed)")
	f.BoolVar(&o.verbose, "verbose", false, "print the nodes' logs on stderr")
	return cmd
}

func runDemo(ctx context.Context, e *env, o demoOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := demo.Options{Dir: o.dir, Duration: o.duration, Out: e.stdout}
	if o.verbose {
		opts.Logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	rep, err := demo.Run(ctx, opts)
	fmt.Fprint(e.stdout, rep.Summary())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}
