package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Access says who may call a route.
type access int

const (
	// public: anyone who reaches the listener under an allowed Host
	// (the node's ID and addresses, content by CID).
	public access = iota
	// reader: open on loopback; off loopback it needs a credential
	// (the catalog, the UI's page).
	reader
	// secret: a credential always (keys, the wallet, ledgers, peers).
	secret
	// change: a credential always, only POST with the route's media type,
	// never from another origin (spending, publishing, connecting).
	change
)

// body says what a route reads from the request body.
type body int

const (
	noBody body = iota
	jsonBody
	uploadBody
)

// Media types the state-changing routes accept. Neither is one a form or
// a cross-origin "simple" request may send without a CORS preflight,
// which this server never grants.
const (
	mediaJSON   = "application/json"
	mediaUpload = "application/octet-stream"
)

// Header and cookie names of the web UI's credential.
const (
	// CSRFHeader carries the token the daemon puts in the UI's page.
	CSRFHeader = "X-Shardcast-CSRF"
	// cookiePrefix is followed by the API's port: cookies ignore ports,
	// and two daemons on one host must not overwrite each other's.
	cookiePrefix = "shardcast-session-"
)

// Limits and deadlines; a Server's fields override them.
const (
	// MaxJSONBody bounds the body of a JSON call.
	MaxJSONBody = 64 << 10
	// DefaultMaxUpload bounds an upload (add, publish) unless the daemon
	// is configured otherwise.
	DefaultMaxUpload = 64 << 30
	// MaxRanges is the most byte ranges one request may ask for.
	MaxRanges = 5
	// WatchCapabilityTTL is how long a /watch capability stays valid:
	// long enough to watch a feature film and seek in it.
	WatchCapabilityTTL = 4 * time.Hour

	defaultJSONReadTimeout   = 30 * time.Second
	defaultUploadIdleTimeout = 2 * time.Minute
)

// hosts is the Host allowlist of one listener.
type hosts struct {
	port string
	// names are lower-case host names (or IP literals, IPv6 without
	// brackets) allowed on port.
	names map[string]bool
	// anyIP: the listener is on an unspecified address (0.0.0.0, ::), so
	// any IP literal names it. A rebinding page cannot send an IP
	// literal: its Host is the attacker's name.
	anyIP bool
	// loopback: the listener accepts only loopback connections.
	loopback bool
}

// newHosts returns the allowlist of a listener on addr (HOST:PORT): the
// listen address, localhost, 127.0.0.1 and ::1, and the extra names
// (NAME or NAME:PORT).
func newHosts(addr string, extra []string) (*hosts, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	h := &hosts{port: port, names: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}}
	h.names[strings.ToLower(host)] = true
	ip := net.ParseIP(host)
	h.anyIP = ip != nil && ip.IsUnspecified()
	h.loopback = ip != nil && ip.IsLoopback() || strings.EqualFold(host, "localhost")
	for _, e := range extra {
		name, p := e, ""
		if hh, pp, err := net.SplitHostPort(e); err == nil {
			name, p = hh, pp
		}
		if p != "" && p != port {
			continue // a name for the other listener
		}
		name = strings.TrimSuffix(strings.ToLower(name), ".")
		if name == "" {
			return nil, fmt.Errorf("allowed host %q: empty name", e)
		}
		h.names[name] = true
	}
	return h, nil
}

// allows reports whether a request's Host names this listener.
func (h *hosts) allows(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: only the default one can be meant.
		host, port = strings.Trim(hostport, "[]"), "80"
	}
	if port != h.port {
		return false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if h.names[host] {
		return true
	}
	return h.anyIP && net.ParseIP(host) != nil
}

// checkHost answers 403 unless the request's Host is allowed: the only
// guard a DNS-rebinding page cannot pass, since its Host is its own name.
func checkHost(h *hosts, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.allows(r.Host) {
			writeError(w, http.StatusForbidden, fmt.Errorf("host %q is not this daemon's: add it with --allow-host if it should be", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// crossSite reports why a request comes from a page of another origin,
// or "" when it does not: an Origin header that is not this server's, or
// a Sec-Fetch-Site other than same-origin or none (typed in, a bookmark,
// a program).
func crossSite(r *http.Request) string {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return "Sec-Fetch-Site " + s
	}
	// https: the API behind a proxy that adds TLS under the same name.
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, "http://"+r.Host) && !strings.EqualFold(o, "https://"+r.Host) {
		return "Origin " + o
	}
	return ""
}

// keys are the credentials derived from the API token: the UI's session
// cookie and CSRF token, and the key of /watch capabilities. Deriving them
// keeps a UI tab working across daemon restarts and changes them all
// when the token file is replaced.
type keys struct {
	token   []byte
	session string
	csrf    string
	watch   []byte
	cookie  string // the session cookie's name
}

func newKeys(token, apiPort string) keys {
	mac := func(label string) []byte {
		m := hmac.New(sha256.New, []byte(token))
		m.Write([]byte("shardcast " + label))
		return m.Sum(nil)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return keys{token: []byte(token), session: enc(mac("session")), csrf: enc(mac("csrf")), watch: mac("watch"),
		cookie: cookiePrefix + apiPort}
}

// bearer reports whether the request carries the API token.
func (k keys) bearer(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	t, ok := strings.CutPrefix(a, "Bearer ")
	return ok && len(k.token) > 0 && subtle.ConstantTimeCompare([]byte(t), k.token) == 1
}

// hasSession reports whether the request carries the UI's session cookie.
func (k keys) hasSession(r *http.Request) bool {
	c, err := r.Cookie(k.cookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(k.session)) == 1
}

// authorized reports whether the request carries a credential: the API
// token, or the UI's session cookie together with the CSRF header, which
// only a page of this origin can read.
func (k keys) authorized(r *http.Request) bool {
	if k.bearer(r) {
		return true
	}
	return k.hasSession(r) && subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(k.csrf)) == 1
}

// sessionCookie returns the cookie GET / and a login set: HttpOnly (no
// script reads it), SameSite=Strict (no other site sends it).
func (k keys) sessionCookie() *http.Cookie {
	return &http.Cookie{Name: k.cookie, Value: k.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

// watchCapability returns the capability for /watch/id valid until exp:
// EXPIRY.MAC, the MAC over the campaign and the expiry.
func (k keys) watchCapability(id string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + base64.RawURLEncoding.EncodeToString(k.watchMAC(id, e))
}

func (k keys) watchMAC(id, exp string) []byte {
	m := hmac.New(sha256.New, k.watch)
	m.Write([]byte(id + "\x00" + exp))
	return m.Sum(nil)
}

// errCapability is the one answer to every bad capability.
var errCapability = errors.New("this /watch URL is not valid (expired or altered): ask the API for a new one")

// checkWatchCapability checks a capability for /watch/id at now.
func (k keys) checkWatchCapability(id, capability string, now time.Time) error {
	e, m, ok := strings.Cut(capability, ".")
	if !ok {
		return errCapability
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || now.Unix() > exp {
		return errCapability
	}
	got, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !hmac.Equal(got, k.watchMAC(id, e)) {
		return errCapability
	}
	return nil
}

// guard wraps a route's handler with the checks its access and body call
// for. Every refusal is a one-line JSON error and happens before the
// handler runs, so nothing changes.
func (s *Server) guard(a access, b body, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		needCred := a >= secret || a == reader && !s.apiHosts.loopback
		if needCred || a == change || b != noBody {
			if why := crossSite(r); why != "" {
				writeError(w, http.StatusForbidden, fmt.Errorf("refused a request from another site (%s)", why))
				return
			}
		}
		if needCred && !s.keys.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="shardcast"`)
			writeError(w, http.StatusUnauthorized, errors.New("this call needs a credential: Authorization: Bearer TOKEN with the token in the repo's api.token, or the web UI's session"))
			return
		}
		switch b {
		case jsonBody:
			if !mediaIs(r, mediaJSON) {
				writeError(w, http.StatusUnsupportedMediaType, fmt.Errorf("send the body as Content-Type: %s", mediaJSON))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxJSONBody)
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.jsonReadTimeout()))
		case uploadBody:
			if !mediaIs(r, mediaUpload) {
				writeError(w, http.StatusUnsupportedMediaType, fmt.Errorf("send the body as Content-Type: %s", mediaUpload))
				return
			}
			limit := s.maxUpload()
			if r.ContentLength > limit {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("upload of %d bytes: this daemon takes at most %d", r.ContentLength, limit))
				return
			}
			r.Body = &idleReader{r: http.MaxBytesReader(w, r.Body, limit), rc: http.NewResponseController(w), idle: s.uploadIdleTimeout()}
		default:
			if a == change {
				// A state change without a body still comes as JSON,
				// which no form or simple request can send.
				if !mediaIs(r, mediaJSON) {
					writeError(w, http.StatusUnsupportedMediaType, fmt.Errorf("send the body as Content-Type: %s", mediaJSON))
					return
				}
				r.Body = http.MaxBytesReader(w, r.Body, MaxJSONBody)
				http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.jsonReadTimeout()))
			}
		}
		h(w, r)
	}
}

// mediaIs reports whether the request's Content-Type is want (parameters
// such as charset aside).
func mediaIs(r *http.Request, want string) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), want)
}

// idleReader moves the connection's read deadline forward before each
// read: an upload may take hours, but not stall for longer than idle.
type idleReader struct {
	r    interface{ Read([]byte) (int, error) }
	rc   *http.ResponseController
	idle time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	i.rc.SetReadDeadline(time.Now().Add(i.idle))
	return i.r.Read(p)
}

func (i *idleReader) Close() error {
	if c, ok := i.r.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

func (s *Server) jsonReadTimeout() time.Duration {
	if s.JSONReadTimeout > 0 {
		return s.JSONReadTimeout
	}
	return defaultJSONReadTimeout
}

func (s *Server) uploadIdleTimeout() time.Duration {
	if s.UploadIdleTimeout > 0 {
		return s.UploadIdleTimeout
	}
	return defaultUploadIdleTimeout
}

func (s *Server) maxUpload() int64 {
	if s.MaxUpload > 0 {
		return s.MaxUpload
	}
	return DefaultMaxUpload
}

// limitRanges answers 416 to a request for more than MaxRanges byte
// ranges: each range costs a seek and a multipart header.
func limitRanges(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Range"); h != "" && strings.Count(h, ",") >= MaxRanges {
			writeError(w, http.StatusRequestedRangeNotSatisfiable, fmt.Errorf("more than %d ranges in one request", MaxRanges))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bodyStatus maps an error reading a request body to a status: 413 past
// the limit, 408 when the client stopped sending, 400 otherwise.
func bodyStatus(err error) int {
	var mb *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &ne) && ne.Timeout():
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}
