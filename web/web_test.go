package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler(func(w http.ResponseWriter, r *http.Request) Page {
		return Page{CSRF: "csrf-token-1", Gateway: "http://127.0.0.1:8102"}
	})
	tests := []struct {
		method, path string
		status       int
		ctype        string // prefix of Content-Type, when the status is 200
		body         string // substring of the body, when the status is 200
	}{
		{"GET", "/", 200, "text/html", `id="main"`},
		{"GET", "/", 200, "text/html", `<meta name="shardcast-csrf" content="csrf-token-1">`},
		{"GET", "/", 200, "text/html", `<meta name="shardcast-gateway" content="http://127.0.0.1:8102">`},
		{"HEAD", "/", 200, "text/html", ""},
		{"GET", "/ui/app.js", 200, "text/javascript", "hashchange"},
		{"GET", "/ui/style.css", 200, "text/css", "@media"},
		{"GET", "/ui/", 404, "", ""},
		{"GET", "/ui/index.html", 404, "", ""},
		{"GET", "/ui/missing.js", 404, "", ""},
		{"GET", "/ui/../web.go", 404, "", ""},
		{"GET", "/index.html", 404, "", ""},
		{"GET", "/static/app.js", 404, "", ""},
		{"POST", "/", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status: got %v, want %v", rec.Code, tt.status)
			}
			if tt.status != http.StatusOK {
				return
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.ctype) {
				t.Errorf("Content-Type: got %v, want %v…", got, tt.ctype)
			}
			if got := rec.Header().Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") {
				t.Errorf("Content-Security-Policy: got %v, want default-src 'self'", got)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body: got %d bytes without %q", rec.Body.Len(), tt.body)
			}
		})
	}
}

// The page's policy lets the player stream from the gateway and nothing
// else from outside; a login page carries no credential.
func TestPagePolicyAndLogin(t *testing.T) {
	for _, tt := range []struct {
		page      Page
		media     string
		has, lack string
	}{
		{Page{CSRF: "c", Gateway: "http://localhost:8102"}, "media-src 'self' http://localhost:8102;", `name="shardcast-csrf" content="c"`, "shardcast-login"},
		{Page{Login: true}, "media-src 'self';", "shardcast-login", "shardcast-csrf"},
	} {
		h := Handler(func(w http.ResponseWriter, r *http.Request) Page { return tt.page })
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if got := rec.Header().Get("Content-Security-Policy"); !strings.Contains(got, tt.media) {
			t.Errorf("%+v: Content-Security-Policy %q, want %q", tt.page, got, tt.media)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("%+v: Cache-Control %q, want no-store", tt.page, got)
		}
		if b := rec.Body.String(); !strings.Contains(b, tt.has) || strings.Contains(b, tt.lack) {
			t.Errorf("%+v: page without %q or with %q", tt.page, tt.has, tt.lack)
		}
	}
}

// The page loads nothing from outside the daemon.
func TestNoExternalReferences(t *testing.T) {
	names, err := fs.Glob(static, "static/*")
	if err != nil || len(names) < 3 {
		t.Fatalf("the page's files: %v %v", names, err)
	}
	for _, name := range names {
		b, err := static.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://", "https://", "//cdn", "@import"} {
			s := strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "")
			if strings.Contains(s, bad) {
				t.Errorf("%s: got a reference %q, want none", name, bad)
			}
		}
	}
}
