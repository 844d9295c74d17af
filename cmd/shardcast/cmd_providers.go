package main

import (
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"
)

func newProvidersCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "providers CID",
		Short: "Find peers that provide a CID, through the DHT",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cid.Decode(args[0])
			if err != nil {
				return fmt.Errorf("%q is not a CID: %w", args[0], err)
			}
			cl, err := e.client()
			if err != nil {
				return err
			}
			var out struct {
				Providers []string `json:"providers"`
			}
			if err := cl.call(cmd.Context(), "GET", "/api/v1/providers/"+c.String(), nil, &out); err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(out)
			}
			for _, p := range out.Providers {
				fmt.Fprintln(e.stdout, p)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
