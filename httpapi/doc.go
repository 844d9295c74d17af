// Package httpapi is the HTTP side of a shardcast daemon, on one listener:
//
//   - /ipfs/CID[/path]: the standard IPFS path gateway (boxo's), with Range
//     and ETag. A request for a whole UnixFS file takes a faster path of our
//     own that keeps a deep window of blocks in flight and, on a Range,
//     fetches the blocks at the requested offset first.
//     That path and /watch hold the status line until the first byte of the
//     body is ready: a read that fails before it gets an error status, one
//     that fails after it aborts the connection (serveContent).
//   - /api/v1/...: JSON for the shardcast CLI. Errors are {"error": "..."}
//     with a fitting status.
//     GET /api/v1/check and POST /api/v1/repo/verify audit the repo when
//     the Server is given an Integrity.
//
// The package does not know how a node is built: it is handed a Backend.
package httpapi
