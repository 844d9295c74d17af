package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/repo"
)

// repoPath returns the repo directory from --repo, $SHARDCAST_PATH or the
// default.
func (e *env) repoPath() (string, error) {
	if e.repoDir != "" {
		return e.repoDir, nil
	}
	return repo.DefaultDir()
}

// client talks to a running daemon's HTTP API. Before its first request it
// checks that the daemon is the repo's own peer (see checkPeer).
type client struct {
	base  string
	http  *http.Client
	token string // sent only once the daemon is checked
	// want is the repo's peer ID, and repoDir the repo; want is "" when
	// there is no repo to check against (--api without one).
	want    peer.ID
	repoDir string
	checked bool
	// warn receives a note for the user when the daemon cannot be checked.
	warn func(string)
}

// client finds the daemon: --api, else the address the daemon recorded in
// the repo, else the repo config's. It needs the repo, whose peer ID the
// daemon must have; only --api works without one, unchecked.
func (e *env) client() (*client, error) {
	dir, err := e.repoPath()
	if err != nil {
		return nil, err
	}
	r, rerr := repo.Open(dir)
	if rerr != nil && (e.apiAddr == "" || !errors.Is(rerr, repo.ErrNoRepo)) {
		return nil, rerr
	}
	addr := e.apiAddr
	if addr == "" {
		if addr, err = repo.APIAddr(dir); err != nil {
			return nil, err
		}
		if addr == "" {
			addr = r.Config.API
		}
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, usageError{fmt.Errorf("bad API address %q: want HOST:PORT", addr)}
	}
	c := &client{base: "http://" + addr, http: &http.Client{}, repoDir: dir, warn: e.note}
	if r != nil {
		if c.want, err = r.PeerID(); err != nil {
			return nil, err
		}
		if c.token, err = repo.ReadAPIToken(dir); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// do sends a request and returns the response when its status is 2xx, or
// the API's error otherwise.
func (c *client) do(ctx context.Context, method, path string, body io.Reader, size int64) (*http.Response, error) {
	if err := c.checkPeer(ctx); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
		if _, ok := body.(jsonReader); ok {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("cannot reach the daemon at %s (is `shardcast daemon` running?)", strings.TrimPrefix(c.base, "http://"))
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		var e httpapi.TermErrorResponse
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			if e.Term != nil && e.Term.Field != "" {
				return nil, e.Term // a rule of the campaign's terms, by field
			}
			return nil, errors.New(e.Error)
		}
		return nil, fmt.Errorf("daemon answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	return resp, nil
}

// call sends in as JSON (nil for none) and decodes the JSON answer into out.
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	size := int64(0)
	if in == nil && method != "GET" {
		in = struct{}{} // a state change is always JSON, even without fields
	}
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, size = jsonReader{bytes.NewReader(raw)}, int64(len(raw))
	}
	resp, err := c.do(ctx, method, path, body, size)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding the daemon's answer to %s: %w", path, err)
	}
	return nil
}

// jsonReader marks a request body as JSON for do.
type jsonReader struct{ *bytes.Reader }

// printJSON writes v as indented JSON on stdout.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
