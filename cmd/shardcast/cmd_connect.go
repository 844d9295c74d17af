package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/httpapi"
)

func newConnectCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "connect MULTIADDR",
		Short: "Dial a peer (the address must end in /p2p/PEERID)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			var out struct {
				Peer string `json:"peer"`
			}
			if err := c.call(cmd.Context(), "POST", "/api/v1/connect", httpapi.ConnectRequest{Addr: args[0]}, &out); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, out.Peer)
			return nil
		},
	}
}
