package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The web UI on Lightning, in a real browser against a real regtest
// network: the creator publishes an all-or-nothing shards campaign from
// its Creator page; the buyer's campaign page shows the price in BTC and
// says a pledge is held, not taken, after buying.
func TestWebUILightning(t *testing.T) {
	ctx := browser(t)
	_, creator, buyer := lnNodes(t)
	film, err := filepath.Abs(filepath.Join("..", "cmd", "shardcast", "internal", "demo", "sample.webm"))
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "the creator's publish form",
		chromedp.Navigate("http://"+creator.API+"/#/studio"),
		chromedp.WaitVisible(chromedp.CSS("#pub-rail")),
		chromedp.SetUploadFiles(chromedp.CSS("#pub-file"), []string{film}),
		chromedp.SetValue(chromedp.CSS("#pub-model"), "shards"),
		chromedp.SetValue(chromedp.CSS("#pub-rail"), "lightning"))
	// Choosing Lightning switches the currency to BTC and offers all or
	// nothing, as a person's click would.
	eval[bool](t, ctx, `document.getElementById('pub-rail').dispatchEvent(new Event('change'))`)
	if cur := eval[string](t, ctx, `document.getElementById('pub-currency').value`); cur != "BTC" {
		t.Fatalf("currency after choosing Lightning: %q, want BTC", cur)
	}
	deadline := time.Now().Add(2 * time.Hour).Format("2006-01-02T15:04")
	step(t, ctx, "publishing on Lightning, all or nothing",
		chromedp.SetValue(chromedp.CSS("#pub-title"), "A pledged film"),
		chromedp.SetValue(chromedp.CSS("#pub-price"), "0.00001"),
		chromedp.SetValue(chromedp.CSS("#pub-shards"), "3"),
		chromedp.SetValue(chromedp.CSS("#pub-deadline"), deadline),
		chromedp.SetValue(chromedp.CSS("#pub-shortfall"), "locked"),
		chromedp.Click(chromedp.CSS("#pub-aon")),
		chromedp.Click(chromedp.CSS("#pub-submit")),
		chromedp.WaitVisible(chromedp.CSS("#mine-note")))
	id := strings.TrimPrefix(eval[string](t, ctx, `decodeURIComponent(location.hash)`), "#/c/")
	st := lnStatusOf(t, creator, id)
	if st.Currency != "BTC" || st.Price != 1_000_000 || !strings.Contains(creator.MustRun("status", id), "all or nothing") {
		t.Fatalf("published from the UI: %s %d msat; status:\n%s", st.Currency, st.Price, creator.MustRun("status", id))
	}
	waitCampaign(t, buyer, id)

	step(t, ctx, "the buyer's campaign page",
		chromedp.Navigate("http://"+buyer.API+"/#/c/"+id),
		chromedp.WaitVisible(chromedp.CSS("#buy")))
	page := eval[string](t, ctx, `document.querySelector('main').innerText`)
	if !strings.Contains(page, "0.00001 BTC") || strings.Contains(page, "TEST MONEY") {
		t.Fatalf("the campaign page should show 0.00001 BTC and no TEST MONEY:\n%s", page)
	}
	step(t, ctx, "pledging", chromedp.Click(chromedp.CSS("#buy")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-pay")), chromedp.Click(chromedp.CSS("#confirm-pay")))
	msg := poll[string](t, ctx, "the pledge's message",
		`(s => s.includes('Pledged') && s)((document.getElementById('buy-result') || {}).textContent || "")`, 60*time.Second)
	if !strings.Contains(msg, "0.00001 BTC over Lightning") || !strings.Contains(msg, "returned otherwise") {
		t.Fatalf("message after pledging: %q", msg)
	}
	screenshot(t, ctx, "lightning-pledge")
	if st := lnStatusOf(t, creator, id); st.Pledged != 1 {
		t.Fatalf("creator holds %d pledges after the UI's, want 1", st.Pledged)
	}
	// The creator's signed figures reach the buyer's page.
	poll[bool](t, ctx, "the pledge among the page's figures",
		`document.querySelector('main').innerText.includes('Pledged\n1 of 3')`, 60*time.Second)
}
