package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/node"
)

func newCheckCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Audit the repo: ledger and wallet invariants, purchases against payments, the share pool, every block",
		Long: `check audits this repo, with the daemon running or stopped, and changes nothing.
It checks the ledger's invariants, the test rail's (every wallet adds up), that every
payment the test rail made is matched by a delivered purchase or a refund, that no
share index was sold twice, that the pool's files decode, and that every block in
the store hashes to its CID. It prints one line per problem and exits 1 if there is any.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := e.check(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if err := e.printJSON(res); err != nil {
					return err
				}
			} else {
				for _, p := range res.Problems {
					fmt.Fprintln(e.stdout, p)
				}
			}
			if len(res.Problems) > 0 {
				return fmt.Errorf("%d problems found (%d blocks checked)", len(res.Problems), res.Blocks)
			}
			fmt.Fprintf(e.stderr, "no problems found (%d blocks checked)\n", res.Blocks)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (e *env) check(ctx context.Context) (res httpapi.CheckResponse, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	err = e.repoOrDaemon(
		func(r *repo.Repo) (err error) { res, err = node.CheckRepo(ctx, r); return err },
		func(c *client) error { return c.call(ctx, "GET", "/api/v1/check", nil, &res) })
	return res, err
}

// repoOrDaemon runs offline on the repo when no daemon holds it (taking
// its lock meanwhile), or online through the daemon's API otherwise (or
// when --api names one).
func (e *env) repoOrDaemon(offline func(*repo.Repo) error, online func(*client) error) error {
	if e.apiAddr == "" {
		dir, err := e.repoPath()
		if err != nil {
			return err
		}
		r, err := repo.Open(dir)
		if err != nil {
			return err
		}
		lk, err := r.Lock()
		if err == nil {
			defer lk.Unlock()
			return offline(r)
		}
		if !errors.Is(err, repo.ErrLocked) {
			return err
		}
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	return online(c)
}
