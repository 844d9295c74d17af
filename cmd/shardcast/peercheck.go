package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/httpapi"
)

// errUnreachable marks a daemon that does not answer at all, as opposed to
// one that answers wrongly.
var errUnreachable = errors.New("cannot reach the daemon")

// peerCheckTimeout bounds the wait for a daemon's identity: a program that
// accepts connections and never answers is not our daemon.
const peerCheckTimeout = 15 * time.Second

// checkPeer makes sure, once per client, that the daemon at the client's
// address is the repo's own peer. It asks GET /api/v1/id, which needs no
// token, with a random challenge, and sends nothing else (the token least
// of all) to a daemon that answers with another peer ID, or that does not
// sign the challenge with the repo's key: two repos on one machine may
// both be configured with the same port, and a CLI that trusted the
// address would show, or spend, another repo's money; a program that took
// the port while the daemon was down may claim the peer ID, which is
// public, to collect the token.
//
// With --api and no repo there is nothing to check against: the client
// goes on without a token, and the user is told so.
func (c *client) checkPeer(ctx context.Context) error {
	if c.checked {
		return nil
	}
	addr := strings.TrimPrefix(c.base, "http://")
	if c.want == "" {
		c.checked = true
		if c.warn != nil {
			c.warn(fmt.Sprintf("no repo in %s: the daemon at %s is not checked against a peer ID, and no token is sent", c.repoDir, addr))
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, peerCheckTimeout)
	defer cancel()
	challenge := make([]byte, 32)
	if _, err := rand.Read(challenge); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/api/v1/id?challenge="+base64.RawURLEncoding.EncodeToString(challenge), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("%w at %s (is `shardcast daemon` running for repo %s?)", errUnreachable, addr, c.repoDir)
		}
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("the program at %s did not say which peer it is within %s: not this repo's daemon", addr, peerCheckTimeout)
		}
		return fmt.Errorf("asking the daemon at %s which peer it is: %w", addr, err)
	}
	defer resp.Body.Close()
	var id httpapi.IDResponse
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&id) != nil || id.ID == "" {
		return fmt.Errorf("the program at %s is not a shardcast daemon (GET /api/v1/id: %s); repo %s expects its own peer %s there", addr, resp.Status, c.repoDir, c.want)
	}
	if id.ID != c.want.String() {
		return fmt.Errorf("the daemon at %s is peer %s, not peer %s of repo %s: nothing was sent to it (start this repo's daemon, or give the repos different \"api\" ports in their config.json)", addr, id.ID, c.want, c.repoDir)
	}
	// The peer ID is public: a program that took the port may claim it.
	// Only the repo's key can sign the challenge.
	if !provesPeer(c.want, challenge, id.Proof) {
		return fmt.Errorf("the program at %s claims to be peer %s of repo %s but cannot prove it (no valid signature of a challenge): nothing was sent to it", addr, id.ID, c.repoDir)
	}
	c.checked = true
	return nil
}

// provesPeer reports whether proof (unpadded base64url) is p's signature
// of the identity challenge.
func provesPeer(p peer.ID, challenge []byte, proof string) bool {
	sig, err := base64.RawURLEncoding.DecodeString(proof)
	if err != nil || len(sig) == 0 {
		return false
	}
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return false
	}
	ok, err := pub.Verify(httpapi.IDChallengeMessage(challenge), sig)
	return err == nil && ok
}
