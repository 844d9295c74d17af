package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shardcast/shardcast/internal/testnet"
)

// axeVersion is the axe-core that scripts/tools.sh pins (axe).
const axeVersion = "4.14.1"

// axeSource returns axe-core's script, as scripts/tools.sh caches it under
// SHARDCAST_TOOLS. It skips the test when it is missing, unless
// SHARDCAST_REQUIRE_TOOLS says the tools must be there.
func axeSource(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SHARDCAST_TOOLS")
	if dir == "" {
		if home, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(home, "shardcast-tools")
		}
	}
	path := filepath.Join(dir, "axe-core-"+axeVersion+".min.js")
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("SHARDCAST_REQUIRE_TOOLS") != "" {
			t.Fatalf("axe-core %s (scripts/tools.sh axe): %v", axeVersion, err)
		}
		t.Skipf("axe-core %s is not installed (scripts/tools.sh axe): %v", axeVersion, err)
	}
	return string(b)
}

// accessible runs axe-core in the page as it is and fails the test on
// every serious or critical violation.
func accessible(t *testing.T, ctx context.Context, axe, name string) {
	t.Helper()
	if !eval[bool](t, ctx, `typeof window.axe === "object"`) {
		eval[bool](t, ctx, axe+"\n;true")
	}
	type result struct {
		Bad    []string `json:"bad"`
		Passes int      `json:"passes"`
	}
	r := eval[result](t, ctx, `axe.run(document).then(r => ({passes: r.passes.length, bad: r.violations
		.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "))}))`)
	if r.Passes == 0 {
		t.Errorf("%s: axe-core checked nothing", name)
	}
	for _, v := range r.Bad {
		t.Errorf("%s: %s", name, v)
	}
}

// checkPage checks a page in one state at desktop and phone widths: no
// serious accessibility violation at either, no horizontal scroll on the
// phone; it keeps a screenshot of each as artifacts/ui-NAME.png and
// artifacts/ui-NAME-phone.png.
func checkPage(t *testing.T, ctx context.Context, axe, name string) {
	t.Helper()
	accessible(t, ctx, axe, name)
	screenshot(t, ctx, name)
	step(t, ctx, name+" on a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("%s is %d px wide on a 390 px screen, want no horizontal scroll", name, w)
	}
	accessible(t, ctx, axe, name+" on a phone")
	screenshot(t, ctx, name+"-phone")
	step(t, ctx, "back to a desktop screen", chromedp.EmulateViewport(900, 700))
}

// noBuy fails the test if the page offers an enabled Buy.
func noBuy(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	if eval[bool](t, ctx, `!!document.querySelector('#buy:not([disabled]), #confirm-pay:not([disabled])')`) {
		t.Errorf("%s: the page offers an enabled Buy", what)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`(e => e ? e.textContent : "")(document.querySelector(%q))`, sel))
}

// Every state of a campaign, shown as what it is and offering only what
// can succeed, in a real browser at desktop and phone widths, each page
// checked with axe-core: on sale (with the deadline's date and a quote),
// the early tier sold out (the quote for two shares is what the receipt
// says was paid), owned (shares, and access to a pay film), funded,
// released at the deadline, ended and locked (also on the player), a
// buy the wallet cannot pay (said in words, inline, leaving no receipt),
// the catalog keeping focus across a refresh, and the creator's
// dashboard.
func TestUIStates(t *testing.T) {
	axe := axeSource(t)
	ctx := browser(t)
	net := testnet.New(t, binary)
	// Two creators: a node keeps at most a few campaigns of each creator
	// it does not follow.
	creator, seller := net.Node("creator"), net.Node("seller")
	fan, backer, bystander := net.Node("fan"), net.Node("backer"), net.Node("bystander")
	creator.Start()
	for _, n := range []*testnet.Node{seller, fan, backer, bystander} {
		n.Start("--bootstrap", creator.Addr())
	}
	film := filepath.Join("..", "cmd", "shardcast", "internal", "demo", "sample.webm")
	four := creator.MustRun("publish", film, "--model", "shards", "--shards", "4", "--price", "1.00", "--early", "1:0.50",
		"--deadline", "24h", "--title", "Four shares", "--description", "Unlocks for everyone at four shares.")
	release := creator.MustRun("publish", film, "--model", "shards", "--shards", "4", "--price", "1.00",
		"--deadline", "45s", "--title", "Released at the deadline")
	locked := creator.MustRun("publish", film, "--model", "shards", "--shards", "4", "--price", "1.00",
		"--deadline", "45s", "--shortfall", "locked", "--title", "Stays locked")
	pay := seller.MustRun("publish", film, "--model", "pay", "--price", "2.00", "--title", "Pay to watch")
	dear := seller.MustRun("publish", film, "--model", "pay", "--price", "5000000.00", "--title", "Too dear")
	for _, id := range []string{four, release, locked, pay, dear} {
		waitCampaign(t, fan, id)
	}
	waitCampaign(t, backer, four)
	for _, id := range []string{four, release, locked} {
		waitCampaign(t, bystander, id)
	}
	fanURL := "http://" + fan.API + "/"

	// On sale: the deadline's date in plain sight, a countdown, the
	// prices with the shares left at each, and a quote.
	step(t, ctx, "the fan's page of an open campaign",
		chromedp.Navigate(fanURL+"#/c/"+four),
		chromedp.WaitVisible(chromedp.CSS("#buy:not([disabled])")),
		chromedp.WaitVisible(chromedp.CSS("#tiers")))
	if st := eval[string](t, ctx, `document.getElementById('state').dataset.stage`); st != "open" {
		t.Errorf("stage %q, want open", st)
	}
	if d := text(t, ctx, "#deadline time"); !strings.HasPrefix(d, "Ends ") || !strings.Contains(d, fmt.Sprint(time.Now().Add(24*time.Hour).Year())) {
		t.Errorf("the deadline shows %q, want its date", d)
	}
	if c := text(t, ctx, "#deadline .countdown"); !strings.HasSuffix(c, "left") {
		t.Errorf("countdown %q", c)
	}
	if q := text(t, ctx, "#quote"); !strings.Contains(q, "0.50 USD") {
		t.Errorf("quote for one share %q, want 0.50 USD", q)
	}
	if how := text(t, ctx, "#how"); !strings.Contains(how, "unlocks for everyone") || !strings.Contains(how, "creator's node") {
		t.Errorf("how it works: %q", how)
	}
	if strings.Contains(eval[string](t, ctx, `document.getElementById('main').textContent`), "In the pool") {
		t.Error("the page still says \"In the pool\"")
	}
	checkPage(t, ctx, axe, "state-open")

	// The catalog: a sale elsewhere changes a card; focus stays on the
	// link it was on, and the list is no live region.
	step(t, ctx, "the fan's catalog",
		chromedp.Navigate(fanURL+"#/"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#catalog [data-id=%q] [data-focus=details]`, four))))
	eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector('#catalog [data-id=%q] [data-focus=details]').focus(), true)`, four))
	backer.MustRun("buy", four)
	poll[bool](t, ctx, "the catalog after a sale elsewhere",
		fmt.Sprintf(`document.querySelector('#catalog [data-id=%q]').textContent.includes("1 of 4 shares sold")`, four), 60*time.Second)
	if got := eval[string](t, ctx, `(a => (a.closest('[data-id]') || {dataset: {}}).dataset.id + " " + a.dataset.focus)(document.activeElement)`); got != four+" details" {
		t.Errorf("focus after the refresh is on %q, want %q", got, four+" details")
	}
	if eval[bool](t, ctx, `document.getElementById('catalog').hasAttribute('aria-live')`) {
		t.Error("the whole catalog is a live region")
	}
	checkPage(t, ctx, axe, "catalog")

	// The early tier sold out: its row says none left, the price is the
	// next tier's, and the quote for two shares is what is paid.
	step(t, ctx, "the campaign past its early tier",
		chromedp.Navigate(fanURL+"#/c/"+four),
		chromedp.WaitVisible(chromedp.CSS("#tiers tbody tr[data-left='0']")),
		chromedp.SetValue(chromedp.CSS("#shares"), "2"))
	eval[bool](t, ctx, `(document.getElementById('shares').dispatchEvent(new Event('input')), true)`)
	quote := poll[string](t, ctx, "the quote of two shares", `(q => q.dataset.amount === "200" && q.dataset.amount)(document.getElementById('quote'))`, 10*time.Second)
	step(t, ctx, "asking to buy two shares", chromedp.Click(chromedp.CSS("#buy")), chromedp.WaitVisible(chromedp.CSS("#confirm-pay")))
	if c := text(t, ctx, "#confirm"); !strings.Contains(c, "2.00 USD") || !strings.Contains(c, "TEST MONEY") || !strings.Contains(c, "2 shares") {
		t.Errorf("the confirmation says %q, want the total, the rail and the shares", c)
	}
	checkPage(t, ctx, axe, "state-early-sold-out")
	step(t, ctx, "paying", chromedp.Click(chromedp.CSS("#confirm-pay")))
	paid := poll[string](t, ctx, "the receipt", `(r => r && r.dataset.amount)(document.querySelector('#buy-result.inline-ok'))`, 60*time.Second)
	if paid != quote {
		t.Fatalf("paid %s minor units, quoted %s", paid, quote)
	}
	poll[bool](t, ctx, "the receipt in the list", `!!document.querySelector('#receipt-rows tr[data-amount="200"][data-status="complete"]')`, 30*time.Second)

	// Owned: no Buy.
	poll[bool](t, ctx, "the owned state", `!!document.querySelector('[data-state=owned]')`, 30*time.Second)
	noBuy(t, ctx, "shares owned")
	checkPage(t, ctx, axe, "state-owned")
	fan.MustRun("buy", pay)
	step(t, ctx, "a pay film bought", chromedp.Navigate(fanURL+"#/c/"+pay), chromedp.WaitVisible(chromedp.CSS("#watch-link")))
	noBuy(t, ctx, "access owned")
	if got := text(t, ctx, "#watch-link"); got != "Play" {
		t.Errorf("the owned film's main button says %q, want Play", got)
	}
	checkPage(t, ctx, axe, "state-owned-pay")

	// A buy the wallet cannot pay: said in words where it was, and no
	// receipt left behind.
	step(t, ctx, "buying what the wallet cannot pay",
		chromedp.Navigate(fanURL+"#/c/"+dear),
		chromedp.WaitVisible(chromedp.CSS("#buy:not([disabled])")),
		chromedp.Click(chromedp.CSS("#buy")), chromedp.WaitVisible(chromedp.CSS("#confirm-pay")),
		chromedp.Click(chromedp.CSS("#confirm-pay")),
		chromedp.WaitVisible(chromedp.CSS("#buy-result.inline-error")))
	if e := text(t, ctx, "#buy-result > p"); !strings.Contains(e, "does not hold enough") || strings.Contains(e, "HTTP") || strings.Contains(e, dear) {
		t.Errorf("the error says %q, want words about the wallet without IDs", e)
	}
	poll[bool](t, ctx, "no receipt of the failed buy", `!!document.getElementById('no-receipts')`, 10*time.Second)
	checkPage(t, ctx, axe, "error-funds")

	// Funded: the fourth share sold, the film is everyone's.
	backer.MustRun("buy", four)
	bystURL := "http://" + bystander.API + "/"
	step(t, ctx, "a funded campaign", chromedp.Navigate(bystURL+"#/c/"+four))
	poll[bool](t, ctx, "funded", `(s => s && s.dataset.stage === "funded")(document.getElementById('state'))`, 90*time.Second)
	noBuy(t, ctx, "funded")
	if c := eval[int](t, ctx, `document.querySelectorAll('#deadline .countdown').length`); c != 0 {
		t.Errorf("a funded campaign still counts down")
	}
	step(t, ctx, "the funded film plays", chromedp.WaitVisible(chromedp.CSS("#watch-link")))
	checkPage(t, ctx, axe, "state-funded")

	// Released at the deadline by the creator's node: free, not sold.
	testnet.Eventually(t, 120*time.Second, "the bystander sees "+release+" released", func() error {
		var st struct{ Stage string }
		if err := json.Unmarshal([]byte(bystander.MustRun("status", release, "--json")), &st); err != nil || st.Stage != "released" {
			return fmt.Errorf("stage %q (%v)", st.Stage, err)
		}
		return nil
	})
	step(t, ctx, "a released campaign", chromedp.Navigate(bystURL+"#/c/"+release))
	poll[bool](t, ctx, "released", `(s => s && s.dataset.stage === "released")(document.getElementById('state'))`, 30*time.Second)
	noBuy(t, ctx, "released")
	if s := text(t, ctx, "#state"); !strings.Contains(s, "free for everyone") || !strings.Contains(s, "0 of 4 were sold") {
		t.Errorf("the released campaign says %q", s)
	}
	checkPage(t, ctx, axe, "state-released")

	// Ended short and locked: no Buy, no countdown, and it says so.
	step(t, ctx, "an ended, locked campaign", chromedp.Navigate(bystURL+"#/c/"+locked))
	poll[bool](t, ctx, "locked", `(s => s && s.dataset.stage === "locked")(document.getElementById('state'))`, 60*time.Second)
	noBuy(t, ctx, "ended and locked")
	if s := text(t, ctx, "#state"); !strings.Contains(s, "stays locked") {
		t.Errorf("the locked campaign says %q", s)
	}
	if d := text(t, ctx, "#deadline"); !strings.HasPrefix(d, "Ended ") || strings.Contains(d, "left") {
		t.Errorf("the deadline of an ended campaign says %q", d)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#watch-link').length`); n != 0 {
		t.Error("a locked film offers the player")
	}
	checkPage(t, ctx, axe, "state-locked")
	step(t, ctx, "the locked film's player", chromedp.Navigate(bystURL+"#/watch/"+locked), chromedp.WaitVisible(chromedp.CSS("#locked")))
	if b := text(t, ctx, "#locked .button"); b == "Open the player" || strings.HasPrefix(b, "Buy") {
		t.Errorf("the locked player's main button says %q", b)
	}
	checkPage(t, ctx, axe, "player-locked")

	// The dashboard: a pay campaign shows sales and revenue, not a bar;
	// every campaign with money in has a line, its legend in its colour.
	step(t, ctx, "the creator's dashboard",
		chromedp.Navigate("http://"+seller.API+"/#/studio"),
		chromedp.WaitVisible(chromedp.CSS("#totals")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#sales-legend li[data-id=%q]`, pay))))
	if s := eval[string](t, ctx, `Array.from(document.querySelectorAll('#chart text.sales')).map(t => t.textContent).join("|")`); !strings.Contains(s, "1 sold · 2.00 USD revenue") {
		t.Errorf("the pay campaign in the chart: %q", s)
	}
	for _, id := range []string{pay} {
		stroke := eval[string](t, ctx, fmt.Sprintf(`getComputedStyle(document.querySelector('#sales-chart path[data-id=%q]')).stroke`, id))
		swatch := eval[string](t, ctx, fmt.Sprintf(`getComputedStyle(document.querySelector('#sales-legend rect[data-id=%q]')).fill`, id))
		if stroke != swatch || stroke == "" {
			t.Errorf("%s: line %q, legend %q", id, stroke, swatch)
		}
	}
	checkPage(t, ctx, axe, "studio-states")
}
