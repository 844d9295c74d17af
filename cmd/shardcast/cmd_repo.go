package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/node"
)

func newRepoCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Work on the repo itself",
		Args:  noArgs,
	}
	cmd.AddCommand(newRepoVerifyCmd(e))
	return cmd
}

func newRepoVerifyCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Hash every block in the store against its CID; the running daemon fetches bad ones again from peers",
		Long: `verify hashes every block in the store against its CID and prints one line per
block that does not match. With the daemon running, each bad block is removed and
fetched again from peers; with no daemon, nothing is changed. It exits 0 when every
block is good or was repaired, 1 otherwise.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := e.repoVerify(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if err := e.printJSON(res); err != nil {
					return err
				}
			}
			left := 0
			for _, b := range res.Bad {
				if !b.Repaired {
					left++
				}
				if asJSON {
					continue
				}
				if b.Repaired {
					fmt.Fprintf(e.stdout, "%s: does not hash to its CID: repaired from peers\n", b.CID)
				} else {
					fmt.Fprintf(e.stdout, "%s: does not hash to its CID: not repaired: %s\n", b.CID, b.Error)
				}
			}
			if left > 0 {
				return fmt.Errorf("%d of %d blocks are corrupt and were not repaired", left, res.Blocks)
			}
			if len(res.Bad) == 0 {
				fmt.Fprintf(e.stderr, "%d blocks checked: every one hashes to its CID\n", res.Blocks)
			} else {
				fmt.Fprintf(e.stderr, "%d blocks checked: %d were corrupt, all repaired\n", res.Blocks, len(res.Bad))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (e *env) repoVerify(ctx context.Context) (res httpapi.VerifyResponse, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	err = e.repoOrDaemon(
		func(r *repo.Repo) (err error) { res, err = node.VerifyRepo(ctx, r); return err },
		func(c *client) error { return c.call(ctx, "POST", "/api/v1/repo/verify", nil, &res) })
	return res, err
}
