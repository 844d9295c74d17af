package httpapi

import (
	"io"
	"net/http"
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
		if strings.Contains(err.Error(), content.ErrNotFile.Error()) {
			s.gateway.ServeHTTP(w, r)
			return
		}
		writeError(w, statusOf(err), err)
		return
	}
	rd := f.NewReader(r.Context(), 0, -1)
	defer rd.Close()
	h := w.Header()
	h.Set("Etag", `"`+c.String()+`"`)
	h.Set("Cache-Control", "public, max-age=29030400, immutable")
	h.Set("X-Ipfs-Path", "/ipfs/"+c.String())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", "application/octet-stream")
	whole := r.Method == http.MethodGet && r.Header.Get("Range") == ""
	cw := &countingWriter{w: w}
	http.ServeContent(cw, r, "", noModTime, rd)
	if whole && cw.n == f.Size() {
		s.b.Fetched(c)
	}
}

// countingWriter counts the body bytes ServeContent writes.
type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Header() http.Header    { return c.w.Header() }
func (c *countingWriter) WriteHeader(status int) { c.w.WriteHeader(status) }
func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadFrom lets io.Copy inside ServeContent hand the body to the
// connection's own ReadFrom.
func (c *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(c.w, r)
	c.n += n
	return n, err
}
