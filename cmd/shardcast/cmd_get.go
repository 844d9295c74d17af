package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/progress"
)

type getOptions struct {
	out     string
	timeout time.Duration
	// findTimeout bounds the wait for the first bytes: for a CID no
	// connected peer has, the daemon would otherwise search for ever.
	findTimeout time.Duration
	asJSON      bool
	quiet       bool // no waiting note and no progress bar
}

// defaultFindTimeout is how long get and cat wait, by default, for a peer
// that has what they ask for: long enough for the DHT to find providers
// on a slow network, short enough that a CID nobody has ends in an answer.
const defaultFindTimeout = 2 * time.Minute

// errNoProvider ends a fetch whose first bytes did not come in time.
var errNoProvider = errors.New("no provider in time")

func newGetCmd(e *env) *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   "get CID",
		Short: "Fetch a file from the network (to stdout, or -o FILE)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.get(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "-", "write to FILE instead of stdout")
	f.DurationVar(&o.timeout, "timeout", 0, "give up after this long (0: never)")
	f.DurationVar(&o.findTimeout, "find-timeout", defaultFindTimeout, "give up if no peer has sent the first bytes after this long (0: never)")
	f.BoolVar(&o.asJSON, "json", false, "print JSON about the file written with -o (and no progress)")
	return cmd
}

func newCatCmd(e *env) *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   "cat CAMPAIGN|CID",
		Short: "Write a campaign's plaintext (when this node can read it) or a file's bytes to stdout",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.out = "-"
			return e.get(cmd.Context(), args[0], o)
		},
	}
	cmd.Flags().DurationVar(&o.timeout, "timeout", 0, "give up after this long (0: never)")
	cmd.Flags().DurationVar(&o.findTimeout, "find-timeout", defaultFindTimeout, "give up if no peer has sent the first bytes after this long (0: never)")
	return cmd
}

func (e *env) get(ctx context.Context, arg string, o getOptions) (err error) {
	c, err := cid.Decode(arg)
	if err != nil {
		return fmt.Errorf("%q is not a CID: %w", arg, err)
	}
	path := "/ipfs/" + c.String()
	if c.Prefix().Codec == cid.DagCBOR {
		path = "/watch/" + c.String() // a campaign ID
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	if o.asJSON {
		o.quiet = true
	}
	// Until the daemon answers, it is finding a peer that has the root
	// block (or, for a campaign, the content's): say so on a terminal, and
	// give up after findTimeout.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var found *time.Timer
	if o.findTimeout > 0 {
		found = time.AfterFunc(o.findTimeout, func() { cancel(errNoProvider) })
	}
	wait := progress.Wait(stderrFile(e), "fetching "+c.String()+": finding a peer that has it", !o.quiet)
	if cl, err = gatewayClient(ctx, cl); err != nil {
		return fmt.Errorf("fetching %s: %w", c, err)
	}
	resp, err := cl.do(ctx, "GET", path, nil, 0)
	if found != nil {
		found.Stop()
	}
	wait.Stop()
	if err != nil {
		return fetchError(ctx, c, o, err)
	}
	defer resp.Body.Close()

	var w io.Writer = e.stdout
	var tmp *os.File
	if st, serr := os.Stat(o.out); o.out != "-" && serr == nil && !st.Mode().IsRegular() {
		// A device or pipe (say /dev/null) is written in place: renaming a
		// file over it would replace it.
		f, err := os.OpenFile(o.out, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("opening %s: %w", o.out, pathErr(err))
		}
		defer f.Close()
		w = f
	} else if o.out != "-" {
		// Write beside the target and rename at the end, so a failed get
		// leaves nothing behind.
		tmp, err = os.CreateTemp(filepath.Dir(o.out), "."+filepath.Base(o.out)+".part*")
		if err != nil {
			return fmt.Errorf("creating %w", err)
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	bar := progress.New(stderrFile(e), "get", resp.ContentLength, !o.quiet)
	n, err := io.Copy(bar.Writer(w), resp.Body)
	bar.Done()
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
	}
	if err != nil {
		return fetchError(ctx, c, o, err)
	}
	if tmp != nil {
		if err = tmp.Sync(); err != nil {
			return fmt.Errorf("writing %s: %w", o.out, err)
		}
		if err = tmp.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", o.out, err)
		}
		if err = os.Rename(tmp.Name(), o.out); err != nil {
			return fmt.Errorf("writing %s: %w", o.out, err)
		}
		if o.asJSON {
			return e.printJSON(map[string]any{"cid": c.String(), "size": n, "file": o.out})
		}
	}
	return nil
}

// gatewayClient returns a client of the gateway of the daemon c talks to:
// content is served there, on an origin apart from the API's.
func gatewayClient(ctx context.Context, c *client) (*client, error) {
	var id httpapi.IDResponse
	if err := c.call(ctx, "GET", "/api/v1/id", nil, &id); err != nil {
		return nil, err
	}
	if id.Gateway == "" {
		return c, nil // a daemon that serves content on its API
	}
	host, port, err := net.SplitHostPort(id.Gateway)
	if err != nil {
		return nil, fmt.Errorf("the daemon's gateway address %q: %w", id.Gateway, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		// It listens everywhere: reach it where the API is reached.
		host, _, _ = net.SplitHostPort(strings.TrimPrefix(c.base, "http://"))
	}
	// The address came from the daemon c checked: the same peer, on its
	// other listener.
	return &client{base: "http://" + net.JoinHostPort(host, port), http: c.http, token: c.token,
		want: c.want, repoDir: c.repoDir, checked: true}, nil
}

// fetchError says why a fetch ended: the find timeout, the overall
// timeout, or what the daemon or the connection said.
func fetchError(ctx context.Context, c cid.Cid, o getOptions, err error) error {
	switch {
	case errors.Is(context.Cause(ctx), errNoProvider):
		return fmt.Errorf("fetching %s: no peer sent it within %s (`shardcast providers %s` lists who has it; --find-timeout 0 waits for ever)", c, o.findTimeout, c)
	case errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		return fmt.Errorf("fetching %s: timed out after %s", c, o.timeout)
	}
	return fmt.Errorf("fetching %s: %w", c, err)
}

func decodeJSON(r io.Reader, v any) error {
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("decoding the daemon's answer: %w", err)
	}
	return nil
}
