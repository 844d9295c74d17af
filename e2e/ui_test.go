package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shardcast/shardcast/internal/testnet"
)

const chromium = "/usr/bin/chromium"

// browser starts a headless Chromium for the test and returns its context
// (the first tab). It skips the test when Chromium is not installed, unless
// SHARDCAST_REQUIRE_TOOLS says the tools must be there.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("SHARDCAST_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is not installed: %v", chromium, err)
		}
		t.Skipf("%s is not installed", chromium)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox,
		chromedp.NoFirstRun, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(900, 700),
	}
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// The first action starts the browser; it runs on the undeadlined
	// context, which lives as long as the test.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(900, 700)); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return bctx
}

// step runs actions with a deadline and fails the test with what on error.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) with a
// deadline.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// poll waits until a JavaScript expression is truthy and returns its value.
func poll[T any](t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Poll[T](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v", what, expr, err)
	}
	return v
}

// screenshot saves the tab as artifacts/ui-NAME.png at the repository root.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ui-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The web UI in a real browser: a buyer finds a shards film in its catalog,
// buys a share from the campaign page and sees the progress bar move; a
// bystander's player is locked until the creator releases the unsold
// shares, then plays the film and seeks to its middle.
func TestWebUI(t *testing.T) {
	ctx := browser(t)
	net := testnet.New(t, binary)
	creator, buyer, bystander := net.Node("creator"), net.Node("buyer"), net.Node("bystander")
	creator.Start()
	buyer.Start("--bootstrap", creator.Addr())
	bystander.Start("--bootstrap", creator.Addr())

	film := filepath.Join("..", "cmd", "shardcast", "internal", "demo", "sample.webm")
	id := creator.MustRun("publish", film, "--model", "shards", "--shards", "4", "--price", "1.00", "--early", "1:0.50",
		"--deadline", "24h", "--title", "A film in four shares", "--description", "A test pattern and a tone.")
	waitCampaign(t, buyer, id)
	waitCampaign(t, bystander, id)

	// The buyer's catalog lists the campaign, locked.
	step(t, ctx, "buyer's catalog",
		chromedp.Navigate("http://"+buyer.API+"/"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#catalog [data-id=%q] a`, id))))
	if got := eval[string](t, ctx, fmt.Sprintf(
		`document.querySelector('#catalog [data-id=%q] [data-unlocked]').dataset.unlocked`, id)); got != "false" {
		t.Fatalf("catalog badge: unlocked %q, want false", got)
	}
	screenshot(t, ctx, "catalog")

	// The campaign page: buy one share, the progress bar moves without a
	// reload.
	step(t, ctx, "opening the campaign",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#catalog [data-id=%q] h2 a`, id))),
		chromedp.WaitVisible(chromedp.CSS("#buy")),
		chromedp.WaitReady(chromedp.CSS("#progress[data-max='4']")))
	before := eval[int](t, ctx, `Number(document.getElementById('progress').dataset.value)`)
	step(t, ctx, "buying a share", chromedp.Click(chromedp.CSS("#buy")),
		chromedp.WaitVisible(chromedp.CSS("#confirm-pay")), chromedp.Click(chromedp.CSS("#confirm-pay")))
	after := poll[int](t, ctx, "the progress bar after the buy",
		fmt.Sprintf(`(n => n > %d && n)(Number(document.getElementById('progress').dataset.value))`, before), 60*time.Second)
	if after != before+1 {
		t.Fatalf("progress after buying 1 share: got %d, want %d", after, before+1)
	}
	poll[bool](t, ctx, "the buyer's receipt", `!!document.getElementById('my-shares')`, 30*time.Second)
	// The page shows the API's price of the next share, the one charged:
	// past the early share, 1.00.
	figure := func(label string) string {
		return fmt.Sprintf(`(d => d ? d.nextElementSibling.textContent : "")(Array.from(document.querySelectorAll('dt')).find(d => d.textContent === %q))`, label)
	}
	if got := poll[string](t, ctx, "the price after the early share", fmt.Sprintf(`(p => p.includes("1.00") && p)(%s)`, figure("Price now")), 30*time.Second); !strings.Contains(got, "1.00") {
		t.Fatalf("price now after the early share: %q", got)
	}
	if got := eval[string](t, ctx, figure("Prices")); !strings.Contains(got, "0.50") || !strings.Contains(got, "1.00") {
		t.Errorf("the page's price tiers: %q", got)
	}
	screenshot(t, ctx, "campaign")
	step(t, ctx, "a phone-sized screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the campaign page is %d px wide on a 390 px screen, want no horizontal scroll", w)
	}
	screenshot(t, ctx, "campaign-phone")
	step(t, ctx, "back to a desktop screen", chromedp.EmulateViewport(900, 700))

	// The creator's dashboard shows the sale and a release button.
	step(t, ctx, "creator's dashboard",
		chromedp.Navigate("http://"+creator.API+"/#/studio"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#mine tr[data-id=%q] button.release`, id))),
		chromedp.WaitReady(chromedp.CSS("#chart rect.bar")),
		// The sale shows in the chart of sales over time.
		chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`#sales-chart path[data-id=%q]`, id))))
	screenshot(t, ctx, "studio")

	// Publishing from the dashboard: an open campaign with a goal, then a
	// donation from its page moves its progress bar.
	abs, err := filepath.Abs(film)
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "publishing from the dashboard",
		chromedp.SetUploadFiles(chromedp.CSS("#pub-file"), []string{abs}),
		chromedp.SetValue(chromedp.CSS("#pub-model"), "open"),
		chromedp.SetValue(chromedp.CSS("#pub-title"), "An open film"),
		chromedp.SetValue(chromedp.CSS("#pub-goal"), "5.00"),
		chromedp.SetValue(chromedp.CSS("#pub-suggested"), "1, 2.50"),
		chromedp.Click(chromedp.CSS("#pub-submit")),
		chromedp.WaitVisible(chromedp.CSS("#mine-note")),
		chromedp.WaitReady(chromedp.CSS("#progress[data-max='500']")))
	open := strings.TrimPrefix(eval[string](t, ctx, `decodeURIComponent(location.hash)`), "#/c/")
	waitCampaign(t, buyer, open)
	step(t, ctx, "the buyer's page of the open campaign",
		chromedp.Navigate("http://"+buyer.API+"/#/c/"+open),
		chromedp.WaitVisible(chromedp.CSS("#donate")),
		chromedp.WaitReady(chromedp.CSS("#progress[data-max='500']")))
	step(t, ctx, "donating", chromedp.Click(chromedp.CSS("#donate")))
	if got := poll[int](t, ctx, "the progress bar after the donation",
		`(n => n > 0 && n)(Number(document.getElementById('progress').dataset.value))`, 30*time.Second); got != 100 {
		t.Fatalf("donated after one click on the first suggestion: got %d, want 100", got)
	}
	screenshot(t, ctx, "open")

	// The bystander cannot play it yet.
	step(t, ctx, "bystander's locked player",
		chromedp.Navigate("http://"+bystander.API+"/#/watch/"+id),
		chromedp.WaitVisible(chromedp.CSS("#locked")))
	if n := eval[int](t, ctx, `document.querySelectorAll('#player').length`); n != 0 {
		t.Fatalf("the locked player page has %d video elements, want 0", n)
	}
	screenshot(t, ctx, "locked")

	// The creator releases the unsold shares; the bystander's page turns
	// into a player by itself.
	if got := creator.MustRun("release", id); got != "3" {
		t.Fatalf("release printed %q, want 3", got)
	}
	testnet.Eventually(t, 90*time.Second, "the bystander unlocks "+id, func() error {
		if st := statusOf(t, bystander, id); !st.Unlocked {
			return fmt.Errorf("locked, %d of %d shares pooled", st.Pooled, st.Needed)
		}
		return nil
	})
	step(t, ctx, "the player replaces the lock", chromedp.WaitVisible(chromedp.CSS("video#player")))
	if res := eval[string](t, ctx, `document.getElementById('player').play().then(() => 'ok', e => e.name)`); res != "ok" {
		t.Fatalf("play(): %s", res)
	}
	poll[float64](t, ctx, "playback", `(v => v.currentTime > 0.5 && v.currentTime)(document.getElementById('player'))`, 30*time.Second)
	screenshot(t, ctx, "player")

	// Seek to the middle; playback goes on from there.
	mid := eval[float64](t, ctx, `(v => { const m = v.duration / 2; v.currentTime = m; return m; })(document.getElementById('player'))`)
	if mid < 3 {
		t.Fatalf("duration/2 = %v s; the sample should be ≈ 15 s long", mid)
	}
	got := poll[float64](t, ctx, "playback after the seek",
		fmt.Sprintf(`(v => !v.seeking && !v.paused && v.currentTime > %f && v.currentTime)(document.getElementById('player'))`, mid+0.5),
		30*time.Second)
	if got > mid+10 {
		t.Fatalf("currentTime after seeking to %.1f s: %.1f s", mid, got)
	}
	screenshot(t, ctx, "player-seeked")
}
