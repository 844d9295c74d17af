// Package web is the browser front end of a shardcast daemon: one page of
// plain HTML, CSS and JavaScript, embedded in the binary, with no build step,
// no third-party code and no network access beyond the daemon that serves
// it, so it works offline and on loopback.
//
// The page is a single-page app with hash routes — #/ (catalog), #/c/ID
// (campaign: buy, donate, live progress, own receipts), #/watch/ID (player,
// or a locked state) and #/studio (publish, sales, release) — and talks only
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
// stays the single place that checks and performs it. Stable element ids for tests and scripts: #catalog (each
// campaign an element with data-id), #buy, #donate, #progress (a <progress>
// whose value and max are the figures shown), #player (the <video>) and
// #locked.
package web
