package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"
)

// static holds the page and its assets; index.html is the app's page,
// a template the server fills in per request.
//
//go:embed static
var static embed.FS

var page = template.Must(template.ParseFS(static, "static/index.html"))

// Page is what the daemon puts into the app's page for one request.
type Page struct {
	// CSRF is the token the page sends back as the X-Shardcast-CSRF
	// header on every API call; no page of another origin can read it.
	CSRF string
	// Gateway is the origin of the daemon's gateway (http://HOST:PORT),
	// where the player streams from.
	Gateway string
	// Login serves the page as a login form instead: the caller pastes
	// the API token once and gets the session.
	Login bool
}

// csp allows nothing but this origin, and media from the gateway: no
// inline script or style, no third-party fetches, no framing.
func csp(gateway string) string {
	media := "'self'"
	if gateway != "" {
		media += " " + gateway
	}
	return "default-src 'self'; media-src " + media + "; img-src 'self' data:; style-src 'self'; " +
		"script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// Handler returns the handler of the front end: the app's page at / (as
// fill makes it for the request; fill may set headers such as cookies)
// and its files under /ui/ (for example /ui/app.js). Other paths,
// directories included, answer 404; methods other than GET and HEAD
// answer 405.
func Handler(fill func(w http.ResponseWriter, r *http.Request) Page) http.Handler {
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
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		p := r.URL.Path
		switch {
		case p == "/":
			pg := fill(w, r)
			var b bytes.Buffer
			if err := page.Execute(&b, pg); err != nil {
				http.Error(w, "rendering the page: "+err.Error(), http.StatusInternalServerError)
				return
			}
			// The page holds a credential: no cache keeps it.
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Security-Policy", csp(pg.Gateway))
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.Write(b.Bytes())
		case strings.HasPrefix(p, "/ui/") && !strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "/index.html"):
			h.Set("Content-Security-Policy", csp(""))
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/static/" + strings.TrimPrefix(p, "/ui/")
			r2.URL.RawPath = ""
			files.ServeHTTP(w, r2)
		default:
			http.NotFound(w, r)
		}
	})
}
