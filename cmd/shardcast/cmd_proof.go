package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/httpapi"
)

func newVerifyProofCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify-proof FILE",
		Short: "Check a proof that a creator sold bad shares; a valid one makes the daemon reject the creator and spread the proof",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", args[0], pathErr(err))
			}
			if len(raw) > httpapi.MaxProofSize {
				return fmt.Errorf("%s: %d bytes, a proof is at most %d", args[0], len(raw), httpapi.MaxProofSize)
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			resp, err := c.do(cmd.Context(), "POST", "/api/v1/proofs", bytes.NewReader(raw), int64(len(raw)))
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			defer resp.Body.Close()
			var out httpapi.ProofResponse
			if err := decodeJSON(resp.Body, &out); err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(out)
			}
			fmt.Fprintf(e.stderr, "valid proof: creator %s cheated in campaign %s\n", out.Creator, out.Campaign)
			fmt.Fprintln(e.stdout, out.Reason)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the verdict as JSON")
	return cmd
}
