package httpapi

import (
	"context"
	"errors"
	"net/http"
)

// Integrity is what the audit routes need of a node: GET /api/v1/check and
// POST /api/v1/repo/verify.
type Integrity interface {
	// Check audits the repo: ledger and test rail invariants, purchases
	// against payments, sold shares, the pool's files and every block.
	Check(ctx context.Context) (CheckResponse, error)
	// VerifyBlocks hashes every block in the store and fetches again from
	// peers those that do not match.
	VerifyBlocks(ctx context.Context) (VerifyResponse, error)
}

// CheckResponse is the body of GET /api/v1/check.
type CheckResponse struct {
	Problems []string `json:"problems"` // one line each; empty when all is well
	Blocks   int      `json:"blocks"`   // blocks hashed
}

// VerifyResponse is the body of POST /api/v1/repo/verify.
type VerifyResponse struct {
	Blocks int        `json:"blocks"` // blocks hashed
	Bad    []BadBlock `json:"bad"`
}

// BadBlock is a block that did not hash to its CID.
type BadBlock struct {
	CID      string `json:"cid"`
	Problem  string `json:"problem"`
	Repaired bool   `json:"repaired"`
	Error    string `json:"error,omitempty"` // why it was not repaired
}

func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	if s.Integrity == nil {
		writeError(w, http.StatusNotFound, errors.New("this node does not audit its repo"))
		return
	}
	res, err := s.Integrity.Check(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleRepoVerify(w http.ResponseWriter, r *http.Request) {
	if s.Integrity == nil {
		writeError(w, http.StatusNotFound, errors.New("this node does not verify its repo"))
		return
	}
	res, err := s.Integrity.VerifyBlocks(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
