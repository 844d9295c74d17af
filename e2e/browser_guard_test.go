package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/shardcast/shardcast/internal/testnet"
)

// guardNet is a creator with a pay, an open and a shards campaign, and a
// buyer holding test money: the victims of the attacks below.
type guardNet struct {
	creator, buyer       *testnet.Node
	pay, open, shards    string
	targets, secretReads []string // URLs of state changes and of secrets, on both nodes
}

func startGuardNet(t *testing.T) *guardNet {
	t.Helper()
	net := testnet.New(t, binary)
	g := &guardNet{creator: net.Node("creator"), buyer: net.Node("buyer")}
	g.creator.Start()
	g.buyer.Start("--bootstrap", g.creator.Addr())
	path, _ := randomFile(t, 40, 256<<10)
	g.pay = g.creator.MustRun("publish", path, "--model", "pay", "--price", "1.00", "--media-type", "video/webm")
	g.open = g.creator.MustRun("publish", path, "--model", "open", "--goal", "100")
	g.shards = g.creator.MustRun("publish", path, "--model", "shards", "--shards", "4", "--price", "1.00", "--deadline", "24h")
	for _, id := range []string{g.pay, g.open, g.shards} {
		waitCampaign(t, g.buyer, id)
	}
	for _, n := range []*testnet.Node{g.creator, g.buyer} {
		api := "http://" + n.API
		g.targets = append(g.targets,
			api+"/api/v1/campaigns/"+g.pay+"/buy",
			api+"/api/v1/campaigns/"+g.shards+"/buy",
			api+"/api/v1/campaigns/"+g.open+"/donate",
			api+"/api/v1/campaigns/"+g.shards+"/release",
			api+"/api/v1/publish?model=open&currency=USD&title=evil",
			api+"/api/v1/add",
			api+"/api/v1/connect")
		g.secretReads = append(g.secretReads,
			api+"/api/v1/campaigns/"+g.pay+"/key",
			api+"/api/v1/wallet",
			api+"/api/v1/receipts")
	}
	return g
}

// state is everything an attack could change, as the CLI reads it.
func (g *guardNet) state(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, n := range []*testnet.Node{g.creator, g.buyer} {
		fmt.Fprintf(&b, "%s wallet %d\n", n.Name, walletBalance(t, n))
		fmt.Fprintf(&b, "%s receipts %s\n", n.Name, n.MustRun("receipts", "--json"))
		var cs []struct {
			ID       string `json:"id"`
			Sold     int64  `json:"sold"`
			Pooled   int64  `json:"pooled"`
			Raised   int64  `json:"raised"`
			Donated  int64  `json:"donated"`
			Unlocked bool   `json:"unlocked"`
		}
		if err := json.Unmarshal([]byte(n.MustRun("campaigns", "--json")), &cs); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s catalog %+v\n", n.Name, cs)
	}
	return b.String()
}

// attackPage is a page of another origin that tries every way a page can
// send a request without the daemon's consent: no-cors fetches with a
// simple content type, fetches that need a preflight, forms (urlencoded,
// text/plain with a JSON-looking body) submitted into frames, and <img>
// and <script> loads of secrets. It waits for every answer, then sets
// window.report.
var attackPage = template.Must(template.New("attack").Parse(`<!doctype html>
<html><head><title>attack</title></head><body>
<script>
const targets = {{.Targets}};
const reads = {{.Reads}};
(async () => {
  const reached = [];
  const waits = [];
  let i = 0;
  const form = (url, enctype, name, value) => {
    const f = document.createElement("iframe");
    f.name = "f" + (i++);
    document.body.append(f);
    const done = new Promise((res) => { f.onload = res; });
    const fm = document.createElement("form");
    fm.method = "POST"; fm.action = url; fm.target = f.name; fm.enctype = enctype;
    const in1 = document.createElement("input");
    in1.name = name; in1.value = value;
    fm.append(in1);
    document.body.append(fm);
    fm.submit();
    waits.push(done);
  };
  for (const url of targets) {
    waits.push(fetch(url, { method: "POST", mode: "no-cors", credentials: "include",
      headers: { "Content-Type": "text/plain" }, body: '{"shares":1,"amount":100,"addr":"x"}' })
      .then((r) => { if (r.type !== "opaque") reached.push("no-cors " + url + " " + r.status); }, () => {}));
    waits.push(fetch(url, { method: "POST", credentials: "include",
      headers: { "Content-Type": "application/json" }, body: '{"shares":1,"amount":100}' })
      .then((r) => reached.push("cors " + url + " " + r.status), () => {}));
    form(url, "application/x-www-form-urlencoded", "shares", "1");
    form(url, "text/plain", '{"shares":1,"amount":100,"x":"', '"}');
  }
  for (const url of reads) {
    waits.push(new Promise((res) => { const im = new Image(); im.onload = im.onerror = res; im.src = url; }));
    waits.push(new Promise((res) => {
      const s = document.createElement("script"); s.onload = s.onerror = res; s.src = url; document.body.append(s);
    }));
    waits.push(fetch(url, { credentials: "include" }).then((r) => r.text()).then((t) => reached.push("read " + url + " " + t.slice(0, 60)), () => {}));
  }
  await Promise.all(waits);
  window.report = { reached, attempts: waits.length };
})();
</script></body></html>`))

// A page of another origin, in a browser that holds the UI's session
// cookie, tries to buy, donate, publish, release, connect, add and read
// keys: nothing changes and nothing is read.
func TestBrowserCrossOriginRequestsRefused(t *testing.T) {
	ctx := browser(t, chromedp.Flag("host-resolver-rules", "MAP evil.test 127.0.0.1"))
	g := startGuardNet(t)
	before := g.state(t)

	targets, _ := json.Marshal(g.targets)
	reads, _ := json.Marshal(g.secretReads)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		attackPage.Execute(w, map[string]any{"Targets": template.JS(targets), "Reads": template.JS(reads)})
	}))
	defer evil.Close()
	_, port, _ := net.SplitHostPort(evil.Listener.Addr().String())

	// The victim has the UI open: its browser holds both daemons' session
	// cookies, which SameSite does not keep from another port of
	// 127.0.0.1.
	for _, n := range []*testnet.Node{g.creator, g.buyer} {
		step(t, ctx, "opening "+n.Name+"'s UI", chromedp.Navigate("http://"+n.API+"/"), chromedp.WaitVisible(chromedp.CSS("#catalog")))
	}
	for _, origin := range []string{"http://127.0.0.1:" + port, "http://evil.test:" + port} {
		step(t, ctx, "opening the attack page on "+origin, chromedp.Navigate(origin+"/"))
		raw := poll[string](t, ctx, "the attack on "+origin, `window.report && JSON.stringify(window.report)`, 60*time.Second)
		var rep struct {
			Reached  []string `json:"reached"`
			Attempts int      `json:"attempts"`
		}
		if err := json.Unmarshal([]byte(raw), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Reached) != 0 || rep.Attempts < 4*len(g.targets) {
			t.Errorf("from %s: %d attempts; reached %q, want nothing", origin, rep.Attempts, rep.Reached)
		}
	}
	if after := g.state(t); after != before {
		t.Fatalf("the attacks changed the nodes:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// A page whose name the attacker rebinds to 127.0.0.1 talks to the
// daemon as its own origin, and gets 403 from every route of both
// listeners.
func TestBrowserRebindingRefused(t *testing.T) {
	ctx := browser(t, chromedp.Flag("host-resolver-rules", "MAP evil.test 127.0.0.1"))
	g := startGuardNet(t)
	before := g.state(t)
	for _, hp := range []string{g.buyer.API, g.buyer.Gateway} {
		_, port, _ := net.SplitHostPort(hp)
		origin := "http://evil.test:" + port
		step(t, ctx, "opening "+origin, chromedp.Navigate(origin+"/"))
		body := eval[string](t, ctx, `document.body.innerText`)
		if !strings.Contains(body, "not this daemon's") {
			t.Fatalf("%s/: page %q, want the daemon's refusal", origin, body)
		}
		paths := []string{"/", "/ui/app.js", "/api/v1/id", "/api/v1/campaigns", "/api/v1/wallet", "/api/v1/receipts",
			"/api/v1/campaigns/" + g.pay + "/key", "/api/v1/campaigns/" + g.open, "/watch/" + g.open, "/ipfs/" + g.open, "/metrics"}
		posts := []string{"/api/v1/campaigns/" + g.pay + "/buy", "/api/v1/campaigns/" + g.open + "/donate",
			"/api/v1/campaigns/" + g.shards + "/release", "/api/v1/publish?model=open", "/api/v1/connect", "/api/v1/add", "/api/v1/login"}
		gets, _ := json.Marshal(paths)
		sends, _ := json.Marshal(posts)
		statuses := eval[[]int](t, ctx, fmt.Sprintf(`(async () => {
			const out = [];
			for (const p of %s) out.push((await fetch(p)).status);
			for (const p of %s) out.push((await fetch(p, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })).status);
			return out;
		})()`, gets, sends))
		if len(statuses) != len(paths)+len(posts) {
			t.Fatalf("%s: %d answers", origin, len(statuses))
		}
		for i, st := range statuses {
			if st != http.StatusForbidden {
				t.Errorf("%s%s: status %d, want 403", origin, append(paths, posts...)[i], st)
			}
		}
	}
	if after := g.state(t); after != before {
		t.Fatalf("the rebinding page changed the nodes:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// evilFile is an HTML file with a script that reports what it can reach
// of the daemon that serves it: the wallet, a key, the UI's page (which
// holds the CSRF token), and a donation.
const evilFile = `<!doctype html><html><head><title>evil</title></head><body><script>
document.documentElement.dataset.ran = "1";
(async () => {
  const api = "http://API";
  const reached = [];
  const urls = [api + "/api/v1/wallet", api + "/api/v1/campaigns/PAY/key", api + "/api/v1/receipts", api + "/",
    location.origin + "/api/v1/wallet", location.origin + "/api/v1/campaigns/PAY/key"];
  for (const u of urls) {
    for (const headers of [{}, { "X-Shardcast-CSRF": "guess" }]) {
      try {
        const r = await fetch(u, { credentials: "include", headers });
        const t = await r.text();
        if (r.ok) reached.push(u + " " + r.status + " " + t.slice(0, 60));
      } catch (e) { /* refused */ }
    }
  }
  try {
    await fetch(api + "/api/v1/campaigns/OPEN/donate", { method: "POST", mode: "no-cors", credentials: "include",
      headers: { "Content-Type": "text/plain" }, body: '{"amount":100}' });
  } catch (e) { /* refused */ }
  document.body.dataset.report = JSON.stringify(reached);
  document.title = "ran";
})();
</script></body></html>`

// An HTML file with a script, added by another peer and opened through
// the victim's gateway, runs in a sandbox with no script; and even with
// the page's policy bypassed, its script, on the gateway's origin, reaches
// neither the wallet nor a key, and changes nothing.
func TestBrowserPeerContentIsolated(t *testing.T) {
	ctx := browser(t)
	g := startGuardNet(t)
	// Let the buyer hold a key worth stealing, and the UI's cookie.
	g.buyer.MustRun("buy", g.pay)
	step(t, ctx, "opening the buyer's UI", chromedp.Navigate("http://"+g.buyer.API+"/"), chromedp.WaitVisible(chromedp.CSS("#catalog")))

	html := strings.NewReplacer("http://API", "http://"+g.buyer.API, "PAY", g.pay, "OPEN", g.open).Replace(evilFile)
	file := filepath.Join(t.TempDir(), "evil.html")
	if err := os.WriteFile(file, []byte(html), 0o600); err != nil {
		t.Fatal(err)
	}
	c := g.creator.MustRun("add", file)
	before := g.state(t)
	url := "http://" + g.buyer.Gateway + "/ipfs/" + c + "?filename=evil.html"

	// The gateway does serve it as HTML: what holds is the sandbox.
	hctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := g.buyer.Get(hctx, "/ipfs/"+c+"?filename=evil.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct, csp := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(ct, "text/html") ||
		!strings.HasPrefix(csp, "sandbox") {
		t.Fatalf("the gateway serves evil.html as %q with policy %q", ct, csp)
	}

	step(t, ctx, "opening evil.html through the gateway", chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
	if ran := evalSettled[string](t, ctx, `document.readyState === "complete" ? String(document.documentElement.dataset.ran === "1") : ""`); ran != "false" {
		t.Fatalf("the peer's script ran on the gateway despite the sandbox (ran: %q)", ran)
	}

	// Second layer: with the policy bypassed the script runs, on the
	// gateway's origin, and reaches nothing.
	step(t, ctx, "bypassing the page's policy", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
		return err
	}), chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
	if evalSettled[string](t, ctx, `document.readyState === "complete" ? (document.documentElement.dataset.ran || "no") : ""`) == "no" {
		t.Log("the sandbox held even with the policy bypassed: the script never ran")
	} else {
		raw := poll[string](t, ctx, "the script's report", `document.title === "ran" && document.body.dataset.report`, 60*time.Second)
		var reached []string
		if err := json.Unmarshal([]byte(raw), &reached); err != nil {
			t.Fatal(err)
		}
		if len(reached) != 0 {
			t.Errorf("the peer's script reached %q, want nothing", reached)
		}
	}
	if after := g.state(t); after != before {
		t.Fatalf("the peer's file changed the nodes:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// A daemon whose API and gateway listen on every interface: every route
// but content by CID (and the node's ID, the login and the UI's files)
// answers 401 without the token and works with it; the CLI, which sends
// the token, works as before.
func TestOffLoopbackNeedsToken(t *testing.T) {
	net := testnet.New(t, binary)
	creator, n := net.Node("creator"), net.Node("remote")
	creator.Start()
	n.Start("--api", "0.0.0.0:0", "--gateway", "0.0.0.0:0", "--bootstrap", creator.Addr())
	path, _ := randomFile(t, 41, 64<<10)
	id := creator.MustRun("publish", path, "--model", "open")
	waitCampaign(t, n, id)
	file := n.MustRun("add", path)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		method, path, ctype, body string
		open                      bool
	}{
		{"GET", "/api/v1/id", "", "", true},
		{"GET", "/ipfs/" + file, "", "", true},
		{"GET", "/ui/app.js", "", "", true},
		{"GET", "/api/v1/campaigns", "", "", false},
		{"GET", "/api/v1/campaigns/" + id, "", "", false},
		{"GET", "/api/v1/campaigns/" + id + "/watch", "", "", false},
		{"GET", "/watch/" + id, "", "", false},
		{"GET", "/api/v1/wallet", "", "", false},
		{"GET", "/api/v1/receipts", "", "", false},
		{"GET", "/api/v1/peers", "", "", false},
		{"GET", "/api/v1/campaigns/" + id + "/sales", "", "", false},
		{"GET", "/metrics", "", "", false},
		{"POST", "/api/v1/campaigns/" + id + "/donate", "application/json", `{"amount":1}`, false},
		{"POST", "/api/v1/add", "application/octet-stream", "hello", false},
	} {
		base := n.API
		if strings.HasPrefix(tt.path, "/ipfs/") || strings.HasPrefix(tt.path, "/watch/") {
			base = n.Gateway
		}
		for _, withToken := range []bool{false, true} {
			req, err := http.NewRequestWithContext(ctx, tt.method, "http://"+base+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if withToken {
				req.Header.Set("Authorization", "Bearer "+n.Token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			switch {
			case withToken && resp.StatusCode/100 != 2:
				t.Errorf("%s %s with the token: status %d, want 2xx", tt.method, tt.path, resp.StatusCode)
			case !withToken && tt.open && resp.StatusCode/100 != 2:
				t.Errorf("%s %s without the token: status %d, want 2xx", tt.method, tt.path, resp.StatusCode)
			case !withToken && !tt.open && resp.StatusCode != http.StatusUnauthorized:
				t.Errorf("%s %s without the token: status %d, want 401", tt.method, tt.path, resp.StatusCode)
			}
		}
	}
	// The CLI sends the token, and its watch URL carries a capability.
	if got := n.MustRun("campaigns"); !strings.Contains(got, id) {
		t.Errorf("campaigns: %q, want %s", got, id)
	}
	u := n.MustRun("watch", id)
	if !strings.Contains(u, "/watch/"+id+"?cap=") {
		t.Fatalf("watch printed %q, want a URL with a capability", u)
	}
	resp, err := http.Get(strings.Replace(u, "0.0.0.0", "127.0.0.1", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the watch URL: status %d, want 200", resp.StatusCode)
	}
}

// The web UI of a daemon off loopback: a login form first; with the
// token pasted, the catalog, and a player that streams from the gateway
// through a capability URL, and seeks.
func TestWebUIOffLoopback(t *testing.T) {
	ctx := browser(t)
	n := testnet.New(t, binary).Node("remote")
	n.Start("--api", "0.0.0.0:0", "--gateway", "0.0.0.0:0")
	film := filepath.Join("..", "cmd", "shardcast", "internal", "demo", "sample.webm")
	id := n.MustRun("publish", film, "--model", "open", "--title", "An open film", "--media-type", "video/webm")
	_, port, _ := net.SplitHostPort(n.API)
	ui := "http://127.0.0.1:" + port + "/"

	step(t, ctx, "the login form", chromedp.Navigate(ui), chromedp.WaitVisible(chromedp.CSS("#login-token")))
	if eval[bool](t, ctx, `!!document.getElementById("catalog")`) {
		t.Fatal("the catalog shows before the token is given")
	}
	step(t, ctx, "a wrong token", chromedp.SendKeys(chromedp.CSS("#login-token"), "wrong"), chromedp.Click(chromedp.CSS("#login-submit")))
	poll[bool](t, ctx, "the refusal", `document.getElementById("login-error").textContent.includes("not this daemon's token")`, 30*time.Second)
	step(t, ctx, "logging in",
		chromedp.SetValue(chromedp.CSS("#login-token"), n.Token), chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#catalog [data-id=%q]`, id))))
	step(t, ctx, "the player", chromedp.Navigate(ui+"#/watch/"+id), chromedp.WaitVisible(chromedp.CSS("video#player")))
	src := eval[string](t, ctx, `document.getElementById("player").src`)
	if !strings.Contains(src, "/watch/"+id+"?cap=") || strings.HasPrefix(src, ui) {
		t.Fatalf("player src %q: want the gateway's /watch with a capability", src)
	}
	if res := eval[string](t, ctx, `document.getElementById('player').play().then(() => 'ok', e => e.name)`); res != "ok" {
		t.Fatalf("play(): %s", res)
	}
	poll[float64](t, ctx, "playback", `(v => v.currentTime > 0.5 && v.currentTime)(document.getElementById('player'))`, 30*time.Second)
	mid := eval[float64](t, ctx, `(v => { const m = v.duration / 2; v.currentTime = m; return m; })(document.getElementById('player'))`)
	poll[float64](t, ctx, "playback after the seek",
		fmt.Sprintf(`(v => !v.seeking && v.currentTime > %f && v.currentTime)(document.getElementById('player'))`, mid),
		30*time.Second)
}

// evalSettled evaluates expr until it gives a non-zero value, retrying
// while the tab's JavaScript context is being replaced by a navigation.
func evalSettled[T comparable](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	var v, zero T
	testnet.Eventually(t, 30*time.Second, "evaluating "+expr, func() error {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		got, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
		if err != nil {
			return err
		}
		if got == zero {
			return fmt.Errorf("not yet")
		}
		v = got
		return nil
	})
	return v
}
