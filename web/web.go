package web

import (
	"embed"
	"net/http"
	"strings"
)

// static holds the page and its assets; index.html is the app.
//
//go:embed static
var static embed.FS

// csp allows nothing but this origin: no inline script or style, no
// third-party fetches, no framing.
const csp = "default-src 'self'; media-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// Handler returns the handler of the front end: the app's page at / and
// its files under /ui/ (for example /ui/app.js). Other paths, directories
// included, answer 404; methods other than GET and HEAD answer 405.
func Handler() http.Handler {
	files := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-cache")
		p := r.URL.Path
		switch {
		case p == "/":
			http.ServeFileFS(w, r, static, "static/index.html")
		case strings.HasPrefix(p, "/ui/") && !strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "/index.html"):
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/static/" + strings.TrimPrefix(p, "/ui/")
			r2.URL.RawPath = ""
			files.ServeHTTP(w, r2)
		default:
			http.NotFound(w, r)
		}
	})
}
