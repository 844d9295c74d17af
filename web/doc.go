// Package web is the browser front end of a shardcast daemon: one page of
// plain HTML, CSS and JavaScript, embedded in the binary, with no build step,
// no third-party code and no network access beyond the daemon that serves
// it, so it works offline and on loopback.
//
// The page is a single-page app with hash routes — #/ (catalog), #/c/ID
// (campaign: buy, donate, live progress, own receipts), #/watch/ID (player,
// or a locked state) and #/studio (publish, sales, release), one script
// per page (catalog.js, campaign.js, player.js, studio.js) over the
// shared parts (core.js) and the router (app.js) — and talks only
// to the daemon's JSON API under /api/v1/, on the same origin, and plays
// from the /watch/ID stream on the daemon's gateway, an origin of its own
// that the page's policy allows as media-src. Test money on the test rail
// is labelled as such wherever it is spent.
//
// Every API call carries the CSRF token the daemon put in the page
// (<meta name="shardcast-csrf">) as the X-Shardcast-CSRF header, next to the
// session cookie; a page served with Page.Login is a form that trades the
// API token for that cookie (a daemon off loopback).
//
// Handler serves the page at / and its assets under /ui/; mount it on
// exactly those paths next to the API ("GET /{$}" and "GET /ui/"). The
// server fills in each page (Page); the handler keeps no state and calls
// nothing: every action happens in the browser through the API, which
// stays the single place that checks and performs it.
//
// The page shows each campaign as the API says it stands (its "stage",
// "owned" and "can_buy", from campaign.FiguresOf), never by its own
// arithmetic: Buy appears only where a buy can succeed, with the API's
// quote (the shares left at each price and the total for the number
// chosen) and a confirmation naming the rail before money moves. Errors
// are said in words from the API's error "kind", inline where the action
// was, and stay until the next try. Refreshes change only what changed,
// keep keyboard focus where it is, and announce only what changed.
//
// Stable element ids for tests and scripts: #catalog (each campaign an
// element with data-id and data-stage), #state (data-stage), #deadline,
// #buy, #shares, #quote (data-amount: the total quoted, minor units),
// #confirm and #confirm-pay, #buy-result (data-amount: the total paid),
// #donate, #progress (a <progress> whose value and max are the figures
// shown), #how, #tiers, #watch-link, #player (the <video>) and #locked.
package web
