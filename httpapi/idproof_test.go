package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// GET /api/v1/id with a challenge answers with the peer key's signature
// of it, which the peer ID's public key verifies; a malformed challenge
// is refused; without one there is no proof.
func TestIDProof(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	ch := []byte("0123456789abcdef0123456789abcdef")
	w := f.do(req{method: "GET", path: "/api/v1/id?challenge=" + base64.RawURLEncoding.EncodeToString(ch)})
	var id IDResponse
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &id) != nil {
		t.Fatalf("GET /api/v1/id with a challenge: %d %s", w.Code, w.Body)
	}
	sig, err := base64.RawURLEncoding.DecodeString(id.Proof)
	if err != nil {
		t.Fatalf("proof %q: %v", id.Proof, err)
	}
	pub, err := f.node.id.ExtractPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := pub.Verify(IDChallengeMessage(ch), sig); !ok || err != nil {
		t.Errorf("the proof does not verify against the peer ID: %v", err)
	}
	if ok, _ := pub.Verify(IDChallengeMessage([]byte("another challenge, not the one!")), sig); ok {
		t.Errorf("the proof verifies for another challenge")
	}
	for _, bad := range []string{"short", "!!!notbase64!!!", base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 65)))} {
		wantError(t, "challenge "+bad, f.do(req{method: "GET", path: "/api/v1/id?challenge=" + bad}), http.StatusBadRequest)
	}
	w = f.do(req{method: "GET", path: "/api/v1/id"})
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "proof") {
		t.Errorf("GET /api/v1/id without a challenge: %d %s; want no proof", w.Code, w.Body)
	}
}
