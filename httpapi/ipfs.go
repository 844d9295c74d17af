package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/content"
)

// handleIPFS serves /ipfs/CID for a UnixFS file itself and hands everything
// else (paths inside directories, directory listings, CAR and raw block
// formats) to boxo's gateway.
func (s *Server) handleIPFS(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/ipfs/")
	rest = strings.TrimSuffix(rest, "/")
	c, err := cid.Decode(rest)
	fast := err == nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.URL.RawQuery == "" && !strings.Contains(r.Header.Get("Accept"), "application/vnd.ipld")
	if !fast {
		s.gateway.ServeHTTP(w, r)
		return
	}
	f, err := s.b.Open(r.Context(), c)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		if errors.Is(err, content.ErrNotFile) {
			s.gateway.ServeHTTP(w, r)
			return
		}
		writeError(w, statusOf(err), err)
		return
	}
	rd := f.NewReader(r.Context(), 0, -1)
	defer rd.Close()
	if start, end, ok := singleRange(r.Header.Get("Range"), f.Size()); ok {
		rd.Hint(start, end)
	}
	h := w.Header()
	h.Set("Etag", `"`+c.String()+`"`)
	h.Set("Cache-Control", "public, max-age=29030400, immutable")
	h.Set("X-Ipfs-Path", "/ipfs/"+c.String())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", "application/octet-stream")
	whole := r.Method == http.MethodGet && r.Header.Get("Range") == ""
	if n := s.serveContent(w, r, rd); whole && n == f.Size() {
		s.b.Fetched(c)
	}
}

// singleRange parses a Range header naming one range and returns the byte
// interval [start, end) it asks of a file of the given size. It is only a
// hint for prefetching; http.ServeContent does the real parsing.
func singleRange(h string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	if a == "" { // suffix: the last b bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		return max(0, size-n), size, true
	}
	s, err := strconv.ParseInt(a, 10, 64)
	if err != nil || s < 0 || s >= size {
		return 0, 0, false
	}
	if b == "" {
		return s, size, true
	}
	e, err := strconv.ParseInt(b, 10, 64)
	if err != nil || e < s {
		return 0, 0, false
	}
	return s, min(size, e+1), true
}
