package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
)

// IDSigner is a Backend that can prove its peer ID: GET /api/v1/id with
// a challenge answers with the peer key's signature over
// IDChallengeMessage(challenge). A program that took the daemon's port
// can claim its peer ID, which is public, but cannot sign; the CLI sends
// its token only to a daemon that did.
type IDSigner interface {
	SignIDChallenge(challenge []byte) ([]byte, error)
}

// Bounds of the challenge of GET /api/v1/id?challenge=BASE64URL.
const (
	minIDChallenge = 16
	maxIDChallenge = 64
)

// IDChallengeMessage is what the daemon signs for a challenge: a label
// and the challenge's SHA-256, so the peer key signs nothing else a
// caller chooses.
func IDChallengeMessage(challenge []byte) []byte {
	sum := sha256.Sum256(challenge)
	return append([]byte("shardcast api id proof\x00"), sum[:]...)
}

// idProof returns the proof for the challenge in r's query, "" when it
// names none or the Backend cannot sign.
func (s *Server) idProof(r *http.Request) (string, int, error) {
	q := r.URL.Query().Get("challenge")
	if q == "" {
		return "", 0, nil
	}
	ch, err := base64.RawURLEncoding.DecodeString(q)
	if err != nil || len(ch) < minIDChallenge || len(ch) > maxIDChallenge {
		return "", http.StatusBadRequest, errors.New("challenge: want 16 to 64 bytes in unpadded base64url")
	}
	sg, ok := s.b.(IDSigner)
	if !ok {
		return "", 0, nil
	}
	sig, err := sg.SignIDChallenge(ch)
	if err != nil {
		return "", http.StatusInternalServerError, err
	}
	return base64.RawURLEncoding.EncodeToString(sig), 0, nil
}
