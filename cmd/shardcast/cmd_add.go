package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/progress"
)

func newAddCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add FILE",
		Short: "Import a file (`-` for stdin) and print its CID",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = e.stdin
			size := int64(-1)
			name := args[0]
			if name != "-" {
				f, err := os.Open(name)
				if err != nil {
					return fmt.Errorf("cannot read %s: %w", name, pathErr(err))
				}
				defer f.Close()
				st, err := f.Stat()
				if err != nil {
					return fmt.Errorf("reading %w", err)
				}
				if st.IsDir() {
					return fmt.Errorf("%s is a directory; add takes a file", name)
				}
				in, size = f, st.Size()
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			bar := progress.New(stderrFile(e), "add", size, !asJSON)
			resp, err := c.do(cmd.Context(), "POST", "/api/v1/add", bar.Reader(in), size)
			bar.Done()
			if err != nil {
				return fmt.Errorf("adding %s: %w", name, err)
			}
			defer resp.Body.Close()
			var out httpapi.AddResponse
			if err := decodeJSON(resp.Body, &out); err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(out)
			}
			fmt.Fprintln(e.stdout, out.CID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (and no progress)")
	return cmd
}

// pathErr strips the operation and path from an *fs.PathError, for messages
// that name the file themselves.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// stderrFile returns stderr as a file when it is one, for terminal checks.
func stderrFile(e *env) *os.File {
	f, _ := e.stderr.(*os.File)
	return f
}
