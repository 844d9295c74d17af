package httpapi

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// failingSeeker serves data and fails once a read reaches failAt.
type failingSeeker struct {
	data   []byte
	failAt int64
	pos    int64
}

var errBadBlock = errors.New("block bafyBAD was corrupt in the store and no peer supplied it")

func (f *failingSeeker) Read(p []byte) (int, error) {
	if f.pos >= f.failAt {
		return 0, errBadBlock
	}
	if f.pos >= int64(len(f.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.data[f.pos:min(int64(len(f.data)), f.failAt)])
	f.pos += int64(n)
	return n, nil
}

func (f *failingSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		f.pos = off
	case io.SeekCurrent:
		f.pos += off
	case io.SeekEnd:
		f.pos = int64(len(f.data)) + off
	}
	return f.pos, nil
}

func TestServeContentNeverFinishesABrokenBody(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	for _, tc := range []struct {
		name    string
		failAt  int64
		rng     string
		status  int // 0: the connection must break
		wantErr bool
	}{
		{name: "whole", failAt: 1 << 30, status: http.StatusOK},
		{name: "fails at once", failAt: 0, status: http.StatusBadGateway},
		{name: "range fails at once", failAt: 0, rng: "bytes=100-200", status: http.StatusBadGateway},
		{name: "fails part way", failAt: 300 << 10, wantErr: true},
		{name: "range fails part way", failAt: 300 << 10, rng: "bytes=100-", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "public, max-age=29030400, immutable")
				(&Server{log: slog.New(slog.DiscardHandler)}).serveContent(w, r, &failingSeeker{data: data, failAt: tc.failAt})
			}))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if tc.rng != "" {
				req.Header.Set("Range", tc.rng)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				if tc.wantErr {
					return
				}
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, rerr := io.ReadAll(resp.Body)
			if tc.wantErr {
				if rerr == nil {
					t.Fatalf("status %d and a body of %d bytes read without error; the transfer must break", resp.StatusCode, len(body))
				}
				return
			}
			if rerr != nil {
				t.Fatal(rerr)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
			}
			if tc.status == http.StatusOK {
				if !bytes.Equal(body, data) {
					t.Fatal("wrong body")
				}
				return
			}
			if cc := resp.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
				t.Fatalf("an error answered with Cache-Control %q", cc)
			}
			if !strings.Contains(string(body), "bafyBAD") {
				t.Fatalf("error body %q does not name the block", body)
			}
		})
	}
}
