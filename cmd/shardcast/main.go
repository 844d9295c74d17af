// Command shardcast runs and controls a shardcast peer: a node of a
// peer-to-peer network for paid media, built on the IPFS stack.
//
// `shardcast daemon` runs the node; most other commands talk to it over its
// HTTP API. See `shardcast help` and the project's README.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env is what every command gets: its streams and the global flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	repoDir        string
	apiAddr        string
	// notes are printed on stderr after a command that succeeds (a failed
	// one prints its error line alone).
	notes []string
}

// note keeps a remark for the user, printed if the command succeeds.
func (e *env) note(s string) { e.notes = append(e.notes, s) }

// usageError marks an error in how the command was called (exit 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// run executes one command line and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		for _, n := range e.notes {
			fmt.Fprintf(stderr, "shardcast: note: %s\n", plainLine(n))
		}
		return 0
	}
	msg := plainLine(err.Error())
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintf(stderr, "shardcast: error: %s (see shardcast help)\n", msg)
		return 2
	}
	fmt.Fprintf(stderr, "shardcast: error: %s\n", msg)
	return 1
}

// plainLine makes an error or a note one line of plain text. It may carry
// a peer's words (a creator's refusal, relayed by the daemon), and the
// terminal must not take them for controls: a carriage return that
// overwrites the line, an escape sequence, a bidi override.
func plainLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s))
}

// isCobraUsage recognises the usage errors cobra itself returns, which carry
// no type of their own.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "flag needs an argument", "invalid argument", "accepts "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "shardcast",
		Short:         "A peer-to-peer network for paid media",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&e.repoDir, "repo", "", "repo directory (default $SHARDCAST_PATH or ~/.shardcast)")
	root.PersistentFlags().StringVar(&e.apiAddr, "api", "", "API address HOST:PORT of the daemon to talk to")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newInitCmd(e),
		newDaemonCmd(e),
		newIDCmd(e),
		newConnectCmd(e),
		newAddCmd(e),
		newGetCmd(e),
		newCatCmd(e),
		newProvidersCmd(e),
		newPublishCmd(e),
		newCampaignsCmd(e),
		newStatusCmd(e),
		newWatchCmd(e),
		newBuyCmd(e),
		newDonateCmd(e),
		newReceiptsCmd(e),
		newWalletCmd(e),
		newReleaseCmd(e),
		newKeyCmd(e),
		newVerifyProofCmd(e),
		newDemoCmd(e),
		newCheckCmd(e),
		newRepoCmd(e),
	)
	return root
}

// exactArgs is cobra.ExactArgs returning a usageError.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))}
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if cmd.HasSubCommands() {
			return usageError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
		}
		return usageError{fmt.Errorf("%s takes no arguments", cmd.CommandPath())}
	}
	return nil
}
