package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/repo"
)

func TestPlainLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain words", "plain words"},
		{"two\nlines\n", "two lines"},
		{"refused\r\x1b[2Kbought it", "refused  [2Kbought it"},
		{"title \x1b]0;pwned\x07", "title  ]0;pwned"},
		{"abc\u202edcba", "abc dcba"},
		{"prix: 2,50 €", "prix: 2,50 €"},
	} {
		if got := plainLine(tt.in); got != tt.want {
			t.Errorf("plainLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// An error whose text comes from the daemon (and so perhaps from a peer)
// reaches the terminal as one line of plain text: a carriage return or an
// escape sequence in it cannot overwrite or restyle what the user reads.
func TestDaemonErrorIsOnePlainLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	if code := run([]string{"--repo", dir, "init"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("init: exit %d", code)
	}
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if req.URL.Path == "/api/v1/id" {
			ch, _ := base64.RawURLEncoding.DecodeString(req.URL.Query().Get("challenge"))
			sig, err := r.Key.Sign(httpapi.IDChallengeMessage(ch))
			if err != nil {
				panic(err)
			}
			json.NewEncoder(w).Encode(httpapi.IDResponse{ID: r.Config.PeerID, API: req.Host, Proof: base64.RawURLEncoding.EncodeToString(sig)})
			return
		}
		w.WriteHeader(http.StatusBadGateway)
		json.NewEncoder(w).Encode(httpapi.ErrorResponse{Error: "creator refused: \r\x1b[2Kbought, all is well\x1b]0;title\x07\u202e"})
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--repo", dir, "--api", strings.TrimPrefix(srv.URL, "http://"), "wallet"}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr.String())
	}
	msg := strings.TrimSuffix(stderr.String(), "\n")
	if !strings.HasPrefix(msg, "shardcast: error: ") || strings.IndexFunc(msg, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}) >= 0 {
		t.Errorf("stderr %q: want one line of plain text", stderr.String())
	}
}
