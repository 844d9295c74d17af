package httpapi

import (
	"errors"
	"io"
	"net/http"
)

// serveContent is http.ServeContent for bodies read from peers and the
// store, whose reads can fail part way: a block that could not be had, or
// was corrupt in the store and could not be fetched again. Every byte the
// reader returns was hashed against its block's CID below it; what this adds
// is what happens when a read fails.
//
// The status line and headers are held until the first byte of the body is
// ready, so a read that fails before it is answered with an error status
// (never a 200 with its immutable Cache-Control), and a read that fails
// after it aborts the connection, so the client sees a broken transfer
// rather than a short body that looks whole. It returns the body bytes
// written.
func (s *Server) serveContent(w http.ResponseWriter, r *http.Request, rs io.ReadSeeker) int64 {
	er := &errReader{rs: rs}
	lw := &lazyWriter{w: w}
	http.ServeContent(lw, r, "", noModTime, er)
	if er.err == nil {
		lw.flush()
		return lw.n
	}
	if r.Context().Err() != nil {
		panic(http.ErrAbortHandler) // the client has gone
	}
	if lw.sent {
		s.log.Warn("response aborted part way", "path", r.URL.Path, "sent", lw.n, "err", er.err)
		panic(http.ErrAbortHandler)
	}
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Range", "Accept-Ranges", "Cache-Control", "Etag", "Last-Modified"} {
		h.Del(k)
	}
	writeError(w, statusOf(er.err), er.err)
	return 0
}

// errReader keeps the first error of a ReadSeeker other than io.EOF: the
// one http.ServeContent drops.
type errReader struct {
	rs  io.ReadSeeker
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.rs.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

func (e *errReader) Seek(off int64, whence int) (int64, error) {
	n, err := e.rs.Seek(off, whence)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// lazyWriter holds the status line until the first body byte or flush, and
// counts the body bytes.
type lazyWriter struct {
	w      http.ResponseWriter
	status int
	sent   bool
	n      int64
}

func (l *lazyWriter) Header() http.Header { return l.w.Header() }

func (l *lazyWriter) WriteHeader(status int) {
	if l.status == 0 {
		l.status = status
	}
}

func (l *lazyWriter) flush() {
	if l.sent {
		return
	}
	l.sent = true
	if l.status == 0 {
		l.status = http.StatusOK
	}
	l.w.WriteHeader(l.status)
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	l.flush()
	n, err := l.w.Write(p)
	l.n += int64(n)
	return n, err
}
