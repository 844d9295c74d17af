// Package httpapi is the HTTP side of a shardcast daemon, on one listener:
//
//   - /ipfs/CID[/path]: the standard IPFS path gateway (boxo's), with Range
//     and ETag. A request for a whole UnixFS file takes a faster path of our
//     own that keeps a deep window of blocks in flight and, on a Range,
//     fetches the blocks at the requested offset first.
//   - /api/v1/...: JSON for the shardcast CLI. Errors are {"error": "..."}
//     with a fitting status.
//
// The package does not know how a node is built: it is handed a Backend.
package httpapi
