// Package httpapi is the HTTP side of a shardcast daemon, on two
// listeners that are two origins:
//
//   - the API (Server.API): /api/v1/... JSON for the CLI and the web UI,
//     the UI itself at / and /ui/, /metrics, and Go's profiler at
//     /debug/pprof/ (a secret read, like /metrics). Errors are one line of
//     {"error": "..."} with a fitting status; a publish whose terms break
//     a rule is answered 400 with the field too, {"error": "...", "term":
//     {"field": "currency", "value": "USD", "reason": "..."}}
//     (TermErrorResponse), so a client can point at its own input.
//     PublishQuery and PublishTerms write and read the publish terms;
//     campaign.Terms.Check, run by the node, holds every rule, and
//     campaign.FiguresOf computes the figures a campaign shows.
//   - the gateway (Server.Gateway): /ipfs/CID[/path], the standard IPFS path
//     gateway (boxo's), with Range and ETag, and /watch/CAMPAIGN, a
//     campaign's plaintext. A request for a whole UnixFS file takes a faster
//     path of our own that keeps a deep window of blocks in flight and, on a
//     Range, fetches the blocks at the requested offset first.
//     That path and /watch hold the status line until the first byte of the
//     body is ready: a read that fails before it gets an error status, one
//     that fails after it aborts the connection (serveContent).
//     GET /api/v1/check and POST /api/v1/repo/verify (on the API) audit the
//     repo when the Server is given an Integrity.
//
// The daemon holds a wallet, keys and the power to publish, and a browser
// runs code from any site next to it, so every request passes the checks
// of guard.go before its handler runs: a Host that names the listener
// (against DNS rebinding), no other Origin or cross-site Sec-Fetch-Site on
// calls that need a credential or carry a body (against CSRF), a credential
// (the repo's API token as a Bearer header, or the web UI's HttpOnly
// SameSite=Strict session cookie with the CSRF token of its page as the
// X-Shardcast-CSRF header) for state changes and secrets, and everywhere but
// content by CID when the API is off loopback; state changes only as POST
// with application/json (uploads application/octet-stream), which no form
// or simple cross-origin request can send. JSON bodies are decoded strictly
// (decode.go) and bounded; uploads are bounded and may not stall.
//
// Content never runs on the API's origin: the gateway is another port, and
// everything it serves carries nosniff and a sandbox policy; /watch serves
// only audio, video and raster image types. A <video> cannot send a
// header, so off loopback /watch takes a capability in its URL, an HMAC
// over the campaign and an expiry, handed out by an authenticated call.
//
// The package does not know how a node is built: it is handed a Backend,
// Campaigns and Market.
package httpapi
