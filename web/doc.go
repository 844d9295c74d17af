// Package web is the browser front end of a shardcast daemon: one page of
// plain HTML, CSS and JavaScript, embedded in the binary, with no build step,
// no third-party code and no network access beyond the daemon that serves
// it, so it works offline and on loopback.
//
// The page is a single-page app with hash routes — #/ (catalog), #/c/ID
// (campaign: buy, donate, live progress, own receipts), #/watch/ID (player,
// or a locked state) and #/studio (publish, sales, release) — and talks only
// to the daemon's JSON API under /api/v1/ and its /watch/ID stream, on the
// same origin. Test money on the test rail is labelled as such wherever it
// is spent.
//
// Handler serves the page at / and its assets under /ui/; mount it on
// exactly those paths next to the API ("GET /{$}" and "GET /ui/"). The
// handler keeps no state and calls nothing: every action happens in the
// browser through the API, which stays the single place that checks and
// performs it. Stable element ids for tests and scripts: #catalog (each
// campaign an element with data-id), #buy, #donate, #progress (a <progress>
// whose value and max are the figures shown), #player (the <video>) and
// #locked.
package web
