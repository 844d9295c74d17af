package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/internal/repo"
)

func newInitCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create a repo: peer key, config and stores",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := e.repoPath()
			if err != nil {
				return err
			}
			r, err := repo.Init(dir)
			if err != nil {
				return err
			}
			s, err := content.OpenStore(r.Path(repo.BlocksDir), nil)
			if err != nil {
				return err
			}
			if err := s.Close(); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "initialized shardcast repo in %s\n", dir)
			fmt.Fprintln(e.stdout, r.Config.PeerID)
			return nil
		},
	}
}
