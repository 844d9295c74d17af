package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// route is one route of the API or gateway and the body a valid call
// sends.
type route struct {
	method, path, ctype, body string
}

// routes lists every route; {open}, {pay} and {file} stand for the
// fixture's IDs.
var routes = []route{
	{"GET", "/api/v1/id", "", ""},
	{"POST", "/api/v1/login", mediaJSON, `{"token":"x"}`},
	{"GET", "/api/v1/peers", "", ""},
	{"POST", "/api/v1/connect", mediaJSON, `{"addr":"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"}`},
	{"POST", "/api/v1/add", mediaUpload, "hello"},
	{"GET", "/api/v1/providers/{file}", "", ""},
	{"POST", "/api/v1/publish?model=open&currency=USD", mediaUpload, "hello"},
	{"GET", "/api/v1/campaigns", "", ""},
	{"GET", "/api/v1/campaigns/{open}", "", ""},
	{"POST", "/api/v1/campaigns/{pay}/buy", mediaJSON, `{}`},
	{"POST", "/api/v1/campaigns/{open}/donate", mediaJSON, `{"amount":100}`},
	{"POST", "/api/v1/campaigns/{pay}/release", mediaJSON, `{}`},
	{"GET", "/api/v1/campaigns/{pay}/key", "", ""},
	{"GET", "/api/v1/campaigns/{open}/sales", "", ""},
	{"GET", "/api/v1/campaigns/{open}/watch", "", ""},
	{"GET", "/api/v1/receipts", "", ""},
	{"GET", "/api/v1/wallet", "", ""},
	{"POST", "/api/v1/proofs", mediaUpload, "not a proof"},
	{"GET", "/metrics", "", ""},
	{"GET", "/debug/pprof/", "", ""},
	{"GET", "/debug/pprof/heap", "", ""},
	{"GET", "/debug/pprof/cmdline", "", ""},
	{"GET", "/debug/pprof/profile?seconds=1", "", ""},
	{"GET", "/", "", ""},
	{"GET", "/ui/app.js", "", ""},
	{"GET", "/ipfs/{file}", "", ""},
	{"GET", "/watch/{open}", "", ""},
}

func (f *fixture) path(p string) string {
	return strings.NewReplacer("{open}", f.open, "{pay}", f.pay, "{file}", f.file.String()).Replace(p)
}

// call sends a valid call of rt with extra headers.
func (f *fixture) call(rt route, host string, header ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	if rt.ctype != "" {
		header = with([]string{"Content-Type", rt.ctype}, header...)
	}
	return f.do(req{method: rt.method, path: f.path(rt.path), host: host, body: rt.body, header: header})
}

// wantError checks a one-line JSON error with the status.
func wantError(t *testing.T, what string, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Errorf("%s: status %d, want %d (%.200s)", what, w.Code, status, strings.TrimSpace(w.Body.String()))
		return
	}
	var e ErrorResponse
	body := w.Body.String()
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" || strings.Count(strings.TrimSpace(body), "\n") != 0 {
		t.Errorf("%s: body %q, want one line of JSON error", what, body)
	}
}

// A page that rebinds its own name to 127.0.0.1 sends its name as Host:
// every route of both listeners refuses it, before anything runs.
func TestForeignHostRefused(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	for _, rt := range routes {
		for _, host := range []string{"evil.example:8101", "evil.example:8102", "evil.example", "localhost.evil.example:8101",
			"127.0.0.1:9999", "none", "shardcast.lan.evil:8101"} {
			w := f.call(rt, host, bearer...)
			wantError(t, fmt.Sprintf("%s %s Host %q", rt.method, rt.path, host), w, http.StatusForbidden)
		}
	}
	if calls := f.node.Calls(); len(calls) != 0 {
		t.Errorf("refused requests reached the node: %v", calls)
	}
	// The names that are allowed.
	for _, host := range []string{"127.0.0.1:8101", "localhost:8101", "LOCALHOST:8101", "[::1]:8101", "shardcast.lan:8101", "shardcast.lan.:8101"} {
		if w := f.do(req{method: "GET", path: "/api/v1/id", host: host}); w.Code != http.StatusOK {
			t.Errorf("Host %q: status %d, want 200", host, w.Code)
		}
	}
	if w := f.do(req{method: "GET", path: "/watch/" + f.open, host: "localhost:8102"}); w.Code == http.StatusForbidden {
		t.Errorf("gateway under localhost: status %d", w.Code)
	}
}

func TestHostsOnAnyAddress(t *testing.T) {
	h, err := newHosts("0.0.0.0:8101", []string{"media.lan", "other.lan:9000"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"192.168.1.5:8101": true, "[fe80::1]:8101": true, "media.lan:8101": true, "localhost:8101": true,
		"evil.example:8101": false, "other.lan:8101": false, "192.168.1.5:8102": false, "192.168.1.5": false,
	} {
		if got := h.allows(host); got != want {
			t.Errorf("allows(%q) = %v, want %v", host, got, want)
		}
	}
	if h.loopback {
		t.Error("0.0.0.0 counted as loopback")
	}
}

// State changes: only POST with JSON (or octet-stream uploads), from no
// other origin, with a credential. Each refusal leaves the node alone.
func TestStateChangesRefused(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	cookie := "Cookie"
	session := f.srv.keys.cookie + "=" + f.srv.keys.session
	for _, rt := range routes {
		if rt.method != "POST" || rt.path == "/api/v1/login" {
			continue
		}
		p := f.path(rt.path)
		for _, tt := range []struct {
			name   string
			ctype  string
			header []string
			status int
		}{
			{"text/plain with the token", "text/plain", bearer, http.StatusUnsupportedMediaType},
			{"a form with the token", "application/x-www-form-urlencoded", bearer, http.StatusUnsupportedMediaType},
			{"multipart with the token", "multipart/form-data; boundary=x", bearer, http.StatusUnsupportedMediaType},
			{"no Content-Type with the token", "", bearer, http.StatusUnsupportedMediaType},
			{"no credential", rt.ctype, nil, http.StatusUnauthorized},
			{"a wrong token", rt.ctype, []string{"Authorization", "Bearer " + strings.Repeat("0", 64)}, http.StatusUnauthorized},
			{"the token without Bearer", rt.ctype, []string{"Authorization", testToken}, http.StatusUnauthorized},
			{"the session without the CSRF header", rt.ctype, []string{cookie, session}, http.StatusUnauthorized},
			{"the CSRF header without the session", rt.ctype, []string{CSRFHeader, f.srv.keys.csrf}, http.StatusUnauthorized},
			{"a wrong CSRF header", rt.ctype, []string{cookie, session, CSRFHeader, "x" + f.srv.keys.csrf}, http.StatusUnauthorized},
			{"another origin with the token", rt.ctype, with(bearer, "Origin", "https://evil.example"), http.StatusForbidden},
			{"another port's origin with the session", rt.ctype, []string{cookie, session, CSRFHeader, f.srv.keys.csrf, "Origin", "http://127.0.0.1:9999"}, http.StatusForbidden},
			{"origin null", rt.ctype, with(bearer, "Origin", "null"), http.StatusForbidden},
			{"Sec-Fetch-Site cross-site", rt.ctype, with(bearer, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden},
			{"Sec-Fetch-Site same-site", rt.ctype, with(bearer, "Sec-Fetch-Site", "same-site"), http.StatusForbidden},
		} {
			h := tt.header
			if tt.ctype != "" {
				h = with(h, "Content-Type", tt.ctype)
			}
			w := f.do(req{method: "POST", path: p, body: rt.body, header: h})
			wantError(t, rt.path+": "+tt.name, w, tt.status)
			if calls := f.node.Calls(); len(calls) != 0 {
				t.Errorf("%s: %s reached the node: %v", rt.path, tt.name, calls)
			}
		}
		// GET on a POST route does nothing either.
		if w := f.do(req{method: "GET", path: p, header: bearer}); w.Code/100 != 4 {
			t.Errorf("GET %s: status %d, want 4xx", p, w.Code)
		}
		if calls := f.node.Calls(); len(calls) != 0 {
			t.Errorf("GET %s reached the node: %v", p, calls)
		}
		// With a credential, from this origin: it gets through.
		for _, h := range [][]string{
			bearer,
			{cookie, session, CSRFHeader, f.srv.keys.csrf, "Origin", "http://" + apiAddr, "Sec-Fetch-Site", "same-origin"},
		} {
			w := f.call(rt, "", h...)
			if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || w.Code == http.StatusUnsupportedMediaType {
				t.Errorf("%s with %v: status %d", rt.path, h[0], w.Code)
			}
			// A proof that does not decode and a release of a campaign
			// that is not the node's stop in the handler.
			if calls := f.node.Calls(); len(calls) == 0 && !strings.HasSuffix(rt.path, "/release") && rt.path != "/api/v1/proofs" {
				t.Errorf("%s with %v did not reach the node", rt.path, h[0])
			}
		}
	}
}

// Reads of secrets need a credential even on loopback; the node's ID and
// the public catalog do not.
func TestReadsOnLoopback(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	open := map[string]bool{"/api/v1/id": true, "/api/v1/campaigns": true, "/api/v1/campaigns/{open}": true,
		"/": true, "/ui/app.js": true, "/ipfs/{file}": true, "/watch/{open}": true}
	for _, rt := range routes {
		if rt.method != "GET" {
			continue
		}
		w := f.call(rt, "")
		if open[rt.path] {
			if w.Code != http.StatusOK {
				t.Errorf("GET %s without a credential: status %d, want 200 (%.200s)", rt.path, w.Code, w.Body)
			}
			continue
		}
		wantError(t, "GET "+rt.path+" without a credential", w, http.StatusUnauthorized)
		wantError(t, "GET "+rt.path+" from another site", f.call(rt, "", with(bearer, "Sec-Fetch-Site", "cross-site")...), http.StatusForbidden)
		if calls := f.node.Calls(); len(calls) != 0 {
			t.Errorf("refused GET %s reached the node: %v", rt.path, calls)
		}
		if w := f.call(rt, "", bearer...); w.Code/100 != 2 {
			t.Errorf("GET %s with the token: status %d, want 2xx (%.200s)", rt.path, w.Code, w.Body)
		}
		f.node.Calls()
	}
}

// Off loopback everything but content by CID needs the token; the UI asks
// for it once and then works on its session.
func TestOffLoopback(t *testing.T) {
	const api, gw = "192.0.2.10:8101", "192.0.2.10:8102"
	f := newFixture(t, api, gw)
	for _, rt := range routes {
		public := rt.path == "/api/v1/id" || rt.path == "/ipfs/{file}" || rt.path == "/api/v1/login" ||
			rt.path == "/" || rt.path == "/ui/app.js"
		w := f.call(rt, "")
		if public {
			if w.Code == http.StatusUnauthorized && rt.path != "/api/v1/login" {
				t.Errorf("%s %s: status 401, want it open", rt.method, rt.path)
			}
		} else {
			wantError(t, rt.method+" "+rt.path+" without the token", w, http.StatusUnauthorized)
		}
		f.node.Calls()
		if rt.path == "/api/v1/login" {
			continue // its own token check, below
		}
		if w := f.call(rt, "", bearer...); w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
			t.Errorf("%s %s with the token: status %d (%.200s)", rt.method, rt.path, w.Code, w.Body)
		}
	}

	// The page is a login form until the token is given.
	w := f.do(req{method: "GET", path: "/"})
	if !strings.Contains(w.Body.String(), "shardcast-login") || strings.Contains(w.Body.String(), f.srv.keys.csrf) ||
		w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("GET / off loopback without a session: want the login page and no cookie, got %d %q", w.Code, w.Header())
	}
	login := func(token string) *httptest.ResponseRecorder {
		return f.do(req{method: "POST", path: "/api/v1/login", body: `{"token":"` + token + `"}`,
			header: []string{"Content-Type", mediaJSON, "Origin", "http://" + api}})
	}
	wantError(t, "login with a wrong token", login("nope"), http.StatusUnauthorized)
	w = login(testToken)
	c := w.Result().Cookies()
	if w.Code != http.StatusOK || len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("login: status %d, cookies %v", w.Code, c)
	}
	session := c[0].Name + "=" + c[0].Value
	w = f.do(req{method: "GET", path: "/", header: []string{"Cookie", session}})
	if !strings.Contains(w.Body.String(), f.srv.keys.csrf) {
		t.Fatalf("GET / with the session: no CSRF token in the page")
	}
	if w := f.do(req{method: "GET", path: "/api/v1/wallet", header: []string{"Cookie", session, CSRFHeader, f.srv.keys.csrf}}); w.Code != http.StatusOK {
		t.Errorf("wallet with the session: status %d", w.Code)
	}

	// /watch takes a capability from an authenticated call, for a <video>.
	w = f.do(req{method: "GET", path: "/api/v1/campaigns/" + f.open + "/watch", header: bearer})
	var wr WatchResponse
	if err := json.Unmarshal(w.Body.Bytes(), &wr); err != nil || !strings.Contains(wr.URL, "?cap=") {
		t.Fatalf("watch URL: %d %.200q", w.Code, w.Body)
	}
	path := strings.TrimPrefix(wr.URL, "http://"+gw)
	if w := f.do(req{method: "GET", path: path}); w.Code == http.StatusUnauthorized {
		t.Errorf("/watch with its capability: status %d", w.Code)
	}
	other := strings.Replace(path, f.open, f.pay, 1)
	wantError(t, "/watch with another campaign's capability", f.do(req{method: "GET", path: other}), http.StatusUnauthorized)
}

func TestWatchCapability(t *testing.T) {
	k := newKeys(testToken, "8101")
	now := time.Unix(1_800_000_000, 0)
	capa := k.watchCapability("campaign-a", now.Add(time.Hour))
	for _, tt := range []struct {
		id, capa string
		at       time.Time
		ok       bool
	}{
		{"campaign-a", capa, now, true},
		{"campaign-a", capa, now.Add(time.Hour), true},
		{"campaign-a", capa, now.Add(time.Hour + time.Second), false},
		{"campaign-b", capa, now, false},
		{"campaign-a", "", now, false},
		{"campaign-a", strings.Replace(capa, "1800003600", "1900003600", 1), now, false},
		{"campaign-a", capa[:len(capa)-2], now, false},
		{"campaign-a", newKeys("other token", "8101").watchCapability("campaign-a", now.Add(time.Hour)), now, false},
	} {
		if err := k.checkWatchCapability(tt.id, tt.capa, tt.at); (err == nil) != tt.ok {
			t.Errorf("check(%s, %q, %v) = %v, want ok %v", tt.id, tt.capa, tt.at.Unix(), err, tt.ok)
		}
	}
}

func TestStrictJSON(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	donate := "/api/v1/campaigns/" + f.open + "/donate"
	for _, tt := range []struct {
		body   string
		status int
	}{
		{`{"amount":100}`, http.StatusBadGateway}, // reaches the node
		{`{"amount":100,"extra":1}`, http.StatusBadRequest},
		{`{"amount":100,"amount":200}`, http.StatusBadRequest},
		{`{"amount":100,"AMOUNT":200}`, http.StatusBadRequest},
		{`{"amount":100} x`, http.StatusBadRequest},
		{`{"amount":100}{"amount":1}`, http.StatusBadRequest},
		{`{"amount":100}}`, http.StatusBadRequest},
		{`[{"amount":100}]`, http.StatusBadRequest},
		{`"amount"`, http.StatusBadRequest},
		{`{"amount":"100"}`, http.StatusBadRequest},
		{`{"amount":1e400}`, http.StatusBadRequest},
		{`{"amount":100`, http.StatusBadRequest},
		{`{"amount":-5}`, http.StatusBadRequest},
		{`amount=100`, http.StatusBadRequest},
		{"{\"amount\":100}\n", http.StatusBadGateway},
	} {
		w := f.do(req{method: "POST", path: donate, body: tt.body, header: with(bearer, "Content-Type", mediaJSON)})
		if tt.status == http.StatusBadGateway {
			if w.Code != tt.status {
				t.Errorf("%q: status %d, want %d (%.200s)", tt.body, w.Code, tt.status, w.Body)
			}
			continue
		}
		wantError(t, fmt.Sprintf("%q", tt.body), w, tt.status)
	}
	f.node.Calls()
	// Nested objects are checked too.
	if err := unmarshalStrict([]byte(`{"a":{"b":1,"b":2}}`), &map[string]any{}); err == nil {
		t.Error("a duplicate key in a nested object was accepted")
	}
	// Keys encoding/json takes for one field, by Unicode case folding
	// (U+017F long s, U+212A Kelvin sign), are one key.
	var buy struct {
		Shares int    `json:"shares"`
		Token  string `json:"token"`
	}
	for _, body := range []string{`{"shares":1,"\u017fhares":99}`, `{"shares":1,"ſhares":99}`, `{"token":"a","to\u212aen":"b"}`} {
		if err := unmarshalStrict([]byte(body), &buy); err == nil {
			t.Errorf("%s: accepted as %+v; want a duplicate key refused", body, buy)
		}
	}
	if err := unmarshalStrict([]byte(`{"a":[{"b":1},{"b":2}],"c":{"b":3}}`), &map[string]any{}); err != nil {
		t.Errorf("equal keys in different objects: %v", err)
	}
}

// Client mistakes are 4xx, never 502.
func TestClientMistakes(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	js := with(bearer, "Content-Type", mediaJSON)
	for _, tt := range []struct {
		r      req
		status int
	}{
		{req{method: "POST", path: "/api/v1/connect", body: `{"addr":"nonsense"}`, header: js}, http.StatusBadRequest},
		{req{method: "POST", path: "/api/v1/connect", body: `{"addr":"/ip4/127.0.0.1/tcp/1"}`, header: js}, http.StatusBadRequest},
		{req{method: "POST", path: "/api/v1/campaigns/" + f.open + "/buy", body: `{"shares":1}`, header: js}, http.StatusBadRequest},
		{req{method: "POST", path: "/api/v1/campaigns/" + f.open + "/release", body: `{}`, header: js}, http.StatusBadRequest},
		{req{method: "POST", path: "/api/v1/campaigns/nope/buy", body: `{}`, header: js}, http.StatusBadRequest},
		{req{method: "GET", path: "/api/v1/campaigns/" + f.open + "/key", header: bearer}, http.StatusBadRequest},
		{req{method: "GET", path: "/api/v1/campaigns/" + f.open + "/sales?bucket=x", header: bearer}, http.StatusBadRequest},
		{req{method: "POST", path: "/api/v1/publish?price=x", body: "x", header: with(bearer, "Content-Type", mediaUpload)}, http.StatusBadRequest},
		{req{method: "POST", path: "/api/v1/nothing", header: js}, http.StatusNotFound},
	} {
		wantError(t, tt.r.method+" "+tt.r.path+" "+tt.r.body, f.do(tt.r), tt.status)
	}
	if calls := f.node.Calls(); len(calls) != 0 {
		t.Errorf("mistakes reached the node: %v", calls)
	}
}

func TestBodyLimits(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	f.srv.MaxUpload = 1000
	big := `{"amount":1` + strings.Repeat(" ", MaxJSONBody) + `}`
	wantError(t, "a JSON body over 64 KiB", f.do(req{method: "POST", path: "/api/v1/campaigns/" + f.open + "/donate", body: big,
		header: with(bearer, "Content-Type", mediaJSON)}), http.StatusRequestEntityTooLarge)
	up := with(bearer, "Content-Type", mediaUpload)
	wantError(t, "an upload over the limit", f.do(req{method: "POST", path: "/api/v1/add", body: strings.Repeat("x", 1001), header: up}),
		http.StatusRequestEntityTooLarge)
	// Without a length, the limit stops the read.
	r := httptest.NewRequest("POST", "http://"+apiAddr+"/api/v1/add", io.MultiReader(strings.NewReader(strings.Repeat("x", 5000))))
	r.ContentLength = -1
	r.Header.Set("Authorization", "Bearer "+testToken)
	r.Header.Set("Content-Type", mediaUpload)
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	wantError(t, "a chunked upload over the limit", w, http.StatusRequestEntityTooLarge)
	if w := f.do(req{method: "POST", path: "/api/v1/add", body: strings.Repeat("x", 1000), header: up}); w.Code != http.StatusOK {
		t.Errorf("an upload at the limit: status %d (%.200s)", w.Code, w.Body)
	}
}

func TestRanges(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	var many []string
	for i := range 50 {
		many = append(many, fmt.Sprintf("%d-%d", i*10, i*10+4))
	}
	wantError(t, "50 ranges", f.do(req{method: "GET", path: "/ipfs/" + f.file.String(), header: []string{"Range", "bytes=" + strings.Join(many, ",")}}),
		http.StatusRequestedRangeNotSatisfiable)
	w := f.do(req{method: "GET", path: "/ipfs/" + f.file.String(), header: []string{"Range", "bytes=" + strings.Join(many[:3], ",")}})
	if w.Code != http.StatusPartialContent {
		t.Errorf("3 ranges: status %d, want 206", w.Code)
	}
	w = f.do(req{method: "GET", path: "/ipfs/" + f.file.String(), header: []string{"Range", "bytes=10-19"}})
	if w.Code != http.StatusPartialContent || w.Body.String() != string(f.fileData[10:20]) {
		t.Errorf("one range: status %d, body %.200q", w.Code, w.Body)
	}
}

// Content gets its own origin's sandbox; the API's old content paths
// point there.
func TestGatewayHeadersAndMoved(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	for _, p := range []string{"/ipfs/" + f.file.String(), "/watch/" + f.open, "/watch/" + f.pay, "/nothing"} {
		w := f.do(req{method: "GET", path: p, on: "gateway"})
		if w.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(w.Header().Get("Content-Security-Policy"), "sandbox;") {
			t.Errorf("%s: headers %v, want nosniff and a sandbox", p, w.Header())
		}
	}
	for _, tt := range []struct{ host, want string }{
		{"127.0.0.1:8101", "http://127.0.0.1:8102/ipfs/" + f.file.String() + "?x=1"},
		{"localhost:8101", "http://localhost:8102/ipfs/" + f.file.String() + "?x=1"},
	} {
		r := httptest.NewRequest("GET", "http://"+tt.host+"/ipfs/"+f.file.String()+"?x=1", nil)
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != tt.want {
			t.Errorf("old path on %s: %d to %q, want 307 to %q", tt.host, w.Code, w.Header().Get("Location"), tt.want)
		}
	}
	wantError(t, "POST to an old path", f.do(req{method: "POST", path: "/watch/x", on: "api"}), http.StatusGone)
}

func TestMediaOnly(t *testing.T) {
	for in, want := range map[string]string{
		"video/webm": "video/webm", "audio/ogg; codecs=opus": "audio/ogg; codecs=opus", "image/png": "image/png",
		"text/html": mediaUpload, "text/html; charset=utf-8": mediaUpload, "image/svg+xml": mediaUpload,
		"application/xhtml+xml": mediaUpload, "application/javascript": mediaUpload, "": mediaUpload,
		"video/../text/html": mediaUpload, "video/mp4\r\nX: y": mediaUpload, "application/octet-stream": mediaUpload,
	} {
		if got := mediaOnly(in); got != want {
			t.Errorf("mediaOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

// A client that stops sending its JSON body is cut off by the read
// deadline, not left holding the connection.
func TestSlowBodyTimedOut(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	f.srv.JSONReadTimeout = 200 * time.Millisecond
	ts := httptest.NewServer(f.api)
	defer ts.Close()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/campaigns/%s/donate HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"amou", f.open, apiAddr, testToken)
	// The bound only keeps a broken server from hanging the test; the
	// server's deadline is far below it.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to a stalled body: %v", err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d, want 408", resp.StatusCode)
	}
	// And the server closes the connection.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the connection stayed open")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("the connection stayed open until the test's own deadline")
	}
	if calls := f.node.Calls(); len(calls) != 0 {
		t.Errorf("a stalled request reached the node: %v", calls)
	}
}

func FuzzUnmarshalStrict(f *testing.F) {
	for _, s := range []string{`{"amount":1}`, `{"shares":2,"shares":3}`, `{"a":{"b":[1,{"c":2}]}}`, `{}x`, `[`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var d DonateRequest
		if unmarshalStrict(raw, &d) != nil {
			return
		}
		// What is accepted is one object that plain decoding reads the
		// same way.
		var again DonateRequest
		if len(strings.TrimSpace(string(raw))) > 0 {
			if err := json.Unmarshal(raw, &again); err != nil || again != d {
				t.Fatalf("accepted %q as %+v; json.Unmarshal: %+v, %v", raw, d, again, err)
			}
		}
	})
}

// Go's profiler is a secret read: it needs the token (or the UI's session
// with its CSRF header) even on loopback, refuses pages of other sites
// that hold a credential, and is not on the gateway.
func TestProfilerNeedsToken(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	session := []string{"Cookie", f.srv.keys.cookie + "=" + f.srv.keys.session}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/allocs", "/debug/pprof/trace?seconds=0.05"} {
		for _, tt := range []struct {
			name   string
			header []string
			status int
		}{
			{"no credential", nil, http.StatusUnauthorized},
			{"a wrong token", []string{"Authorization", "Bearer " + strings.Repeat("0", 64)}, http.StatusUnauthorized},
			{"the session without the CSRF header", session, http.StatusUnauthorized},
			{"the token from another site", with(bearer, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden},
			{"the token with another origin", with(bearer, "Origin", "https://evil.example"), http.StatusForbidden},
			{"the session from another site", with(session, CSRFHeader, f.srv.keys.csrf, "Sec-Fetch-Site", "same-site"), http.StatusForbidden},
		} {
			wantError(t, "GET "+p+" with "+tt.name, f.do(req{method: "GET", path: p, header: tt.header}), tt.status)
		}
		if w := f.do(req{method: "POST", path: p, header: with(bearer, "Content-Type", mediaJSON)}); w.Code/100 != 4 {
			t.Errorf("POST %s: status %d, want 4xx", p, w.Code)
		}
		if w := f.do(req{method: "GET", path: p, on: "gateway", header: bearer}); w.Code != http.StatusNotFound {
			t.Errorf("GET %s on the gateway: status %d, want 404", p, w.Code)
		}
		for _, h := range [][]string{bearer, with(session, CSRFHeader, f.srv.keys.csrf)} {
			if w := f.do(req{method: "GET", path: p, header: h}); w.Code != http.StatusOK || w.Body.Len() == 0 {
				t.Errorf("GET %s with %s: status %d, %d bytes; want 200 and a profile", p, h[0], w.Code, w.Body.Len())
			}
		}
	}
	if calls := f.node.Calls(); len(calls) != 0 {
		t.Errorf("the profiler reached the node: %v", calls)
	}
}
