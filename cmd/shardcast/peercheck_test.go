package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/repo"
)

// recorder is a tiny daemon stand-in that answers as peer id and records
// every request it gets.
type recorder struct {
	id   string
	key  crypto.PrivKey // signs identity challenges when set
	mu   sync.Mutex
	reqs []string // "METHOD PATH AUTH"
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/id":
		proof := ""
		if ch, err := base64.RawURLEncoding.DecodeString(r.URL.Query().Get("challenge")); err == nil && rec.key != nil {
			sig, err := rec.key.Sign(httpapi.IDChallengeMessage(ch))
			if err != nil {
				panic(err)
			}
			proof = base64.RawURLEncoding.EncodeToString(sig)
		}
		json.NewEncoder(w).Encode(map[string]any{"id": rec.id, "addresses": []string{}, "api": r.Host, "proof": proof})
	case r.URL.Path == "/api/v1/wallet":
		json.NewEncoder(w).Encode(map[string]any{"rail": "test", "currency": "USD", "balance": 100})
	case strings.HasSuffix(r.URL.Path, "/donate"):
		json.NewEncoder(w).Encode(map[string]any{"offer": "o", "kind": "donate", "amount": 100, "currency": "USD", "receipt": "x"})
	case strings.HasPrefix(r.URL.Path, "/api/v1/campaigns/"):
		json.NewEncoder(w).Encode(map[string]any{"currency": "USD"})
	default:
		http.NotFound(w, r)
	}
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.reqs...)
}

// TestWrongDaemonGetsNothing: the CLI of repo B, pointed (by --api, by its
// config, or by a stale record of its own daemon's address) at a daemon
// that is another peer, exits 1 with one line naming the address and both
// peer IDs, and sends that daemon nothing but the token-less identity
// question.
func TestWrongDaemonGetsNothing(t *testing.T) {
	dir := t.TempDir()
	a, err := repo.Init(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	bDir := filepath.Join(dir, "b")
	if code := run([]string{"--repo", bDir, "init"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("init: exit %d", code)
	}
	b, err := repo.Open(bDir)
	if err != nil {
		t.Fatal(err)
	}
	token, err := repo.ReadAPIToken(bDir)
	if err != nil || token == "" {
		t.Fatalf("init made no API token: %q, %v", token, err)
	}
	rec := &recorder{id: a.Config.PeerID}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T)
		args  []string
	}{
		{"--api", func(t *testing.T) {}, []string{"--repo", bDir, "--api", addr, "wallet"}},
		{"config", func(t *testing.T) {
			b.Config.API = addr
			if err := b.SaveConfig(); err != nil {
				t.Fatal(err)
			}
		}, []string{"--repo", bDir, "wallet"}},
		{"stale api file", func(t *testing.T) {
			if err := b.SetAPIAddr(addr); err != nil {
				t.Fatal(err)
			}
		}, []string{"--repo", bDir, "donate", "bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", "1.00"}},
		{"id", func(t *testing.T) {}, []string{"--repo", bDir, "id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(t)
			before := len(rec.requests())
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, nil, &stdout, &stderr); code != 1 {
				t.Fatalf("exit %d, want 1; stdout %q stderr %q", code, stdout.String(), stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "shardcast: error: ") {
				t.Errorf("stderr %q, want one error line", msg)
			}
			for _, want := range []string{addr, a.Config.PeerID, b.Config.PeerID} {
				if !strings.Contains(msg, want) {
					t.Errorf("stderr %q does not name %s", msg, want)
				}
			}
			got := rec.requests()[before:]
			if len(got) != 1 || got[0] != "GET /api/v1/id " {
				t.Errorf("the wrong daemon got %q, want only a token-less GET /api/v1/id", got)
			}
		})
	}

	// A program that claims the repo's peer ID, which is public, but
	// cannot sign the challenge with its key gets nothing either.
	for _, key := range []crypto.PrivKey{nil, a.Key} {
		rec.mu.Lock()
		rec.id, rec.key, rec.reqs = b.Config.PeerID, key, nil
		rec.mu.Unlock()
		var stdout, stderr bytes.Buffer
		if code := run([]string{"--repo", bDir, "--api", addr, "wallet"}, nil, &stdout, &stderr); code != 1 {
			t.Fatalf("an impostor of the right peer ID: exit %d, want 1; stderr %q", code, stderr.String())
		}
		if msg := stderr.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, addr) || !strings.Contains(msg, "cannot prove") {
			t.Errorf("impostor: stderr %q, want one line naming %s and the missing proof", msg, addr)
		}
		if got := rec.requests(); len(got) != 1 || got[0] != "GET /api/v1/id " {
			t.Errorf("the impostor got %q, want only a token-less GET /api/v1/id", got)
		}
	}

	// The repo's own daemon is asked once who it is, proves it, then gets
	// the calls, with the token.
	rec.mu.Lock()
	rec.id, rec.key, rec.reqs = b.Config.PeerID, b.Key, nil
	rec.mu.Unlock()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--repo", bDir, "donate", "bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", "1.00"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("donate to the right daemon: exit %d: %s", code, stderr.String())
	}
	got := rec.requests()
	if len(got) != 3 || got[0] != "GET /api/v1/id " {
		t.Fatalf("the right daemon got %q, want one identity question then the calls", got)
	}
	for _, r := range got[1:] {
		if !strings.HasSuffix(r, " Bearer "+token) {
			t.Errorf("call %q carries no token", r)
		}
	}

	// With --api and no repo at all there is nothing to check against: the
	// call goes through without a token, and the user is told.
	stdout.Reset()
	stderr.Reset()
	rec.mu.Lock()
	rec.reqs = nil
	rec.mu.Unlock()
	if code := run([]string{"--repo", filepath.Join(dir, "none"), "--api", addr, "wallet"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("--api without a repo: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no repo in") {
		t.Errorf("stderr %q does not say that nothing was checked", stderr.String())
	}
	for _, r := range rec.requests() {
		if strings.Contains(r, "Bearer") {
			t.Errorf("request %q carries a token", r)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none")); err == nil {
		t.Errorf("a repo was created")
	}
}
