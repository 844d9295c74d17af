package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/repo"
)

func newIDCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Print the peer ID, listen addresses, API and gateway addresses",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := e.id(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(id)
			}
			fmt.Fprintln(e.stdout, id.ID)
			for _, a := range id.Addresses {
				fmt.Fprintln(e.stdout, a)
			}
			if id.API != "" {
				fmt.Fprintf(e.stderr, "API http://%s/\n", id.API)
			}
			if id.Gateway != "" {
				fmt.Fprintf(e.stderr, "gateway http://%s/\n", id.Gateway)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// id asks the daemon, or reads the repo when no daemon runs and no --api was
// given.
func (e *env) id(ctx context.Context) (httpapi.IDResponse, error) {
	var id httpapi.IDResponse
	c, err := e.client()
	if err != nil {
		return id, err
	}
	err = c.call(ctx, "GET", "/api/v1/id", nil, &id)
	if err == nil || e.apiAddr != "" || !errors.Is(err, errUnreachable) {
		return id, err
	}
	dir, derr := e.repoPath()
	if derr != nil {
		return id, err
	}
	if a, _ := repo.APIAddr(dir); a != "" {
		return id, err // a daemon claims the repo but does not answer
	}
	r, rerr := repo.Open(dir)
	if rerr != nil {
		return id, rerr
	}
	return httpapi.IDResponse{ID: r.Config.PeerID, Addresses: []string{}}, nil
}
