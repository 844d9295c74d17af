// Package pool keeps and spreads the shares of "pay for your shard"
// campaigns, and unlocks a campaign's content when all of its shares are
// public.
//
// A shards campaign splits its secret x into N additive shares (package
// shares); buyers' nodes and the creator publish the shares they hold, and
// once a node knows all N it combines them into x, checks x·G against the
// manifest's secret commitment X, and derives the content's age identity
// (seal.IdentityFromSeed of shares.ContentSeed(x)). A Pool is one node's
// store of verified shares; Gossip spreads it over gossipsub and a sync
// stream protocol.
//
// # Use
//
// Open the pool in a directory of the repo, register OnUnlock, and call
// Track for every shards campaign the node follows, with its decoded
// manifest and the commitments from Manifest.OpenCommitments. StartGossip
// joins the topic of each tracked campaign; pass the node's gossipsub
// instance, created with PubSubOptions so that senders of invalid shares
// lose their score. Publish announces shares a node sold, bought or
// released; shares heard from peers are stored by the topic validator.
// Unlocked and Secret answer whether a campaign is open.
//
// Forget deletes what the pool holds of a campaign the node no longer
// keeps (its catalog evicted it), on disk and in memory.
//
// Add verifies before it stores and is all or nothing: a batch with any
// invalid share stores none. Do not feed it shares to be kept secret:
// whatever the pool holds it serves to every peer that asks.
//
// # What is promised
//
//   - Every share the pool reports (Known, Have, Shares, Snapshot) or
//     serves has passed Commitments.VerifyBatch (or Verify) in this
//     process, or — for a campaign that Open finds complete on disk —
//     combines with the others to the secret committed in X. Invalid
//     shares never reach the disk.
//   - Secret never returns a wrong secret; OnUnlock fires once per
//     campaign and callback, and only with the identity of the true
//     secret.
//   - Add returns after the new shares are on disk (appended, fsynced). A
//     crash at any instant loses at most the batch being written: Open
//     cuts a torn final record, and Track re-verifies stored shares and
//     rewrites the file without any that fail.
//   - A gossip message with any bad share is rejected as a whole, never
//     forwarded, and counts as an invalid delivery against its sender.
//
// # What is not
//
//   - The pool cannot make anyone publish: a withheld share blocks the
//     unlock until the creator releases unsold shares at the deadline.
//   - Gossip reaches only peers subscribed when a message is sent; sync on
//     topic join and every 10 s (anti-entropy) covers the rest, so a share
//     may take that long to reach a peer whose queue dropped it.
//   - A peer that sends a bad snapshot is only disconnected from that
//     exchange: the sync protocol has no score of its own.
//
// # Aggregates are not on the wire
//
// An aggregate proves only the sum of the shares it covers: (Σ s_i)·G =
// Σ C_i holds for forged shares s_i + d, s_j − d. It cannot stand in for
// checking each share, so a message carrying an aggregate next to its
// shares would still need VerifyBatch on every share, and an aggregate
// alone gives a node nothing it can store, serve or forward share by
// share. The one useful aggregate, the whole set [0, N), is the secret
// itself. Version 1 therefore carries shares only; the kind byte leaves
// room for more, and a message of any other kind is rejected.
//
// # Formats (integers big-endian)
//
// A share record is shares.Share's 36 bytes: index (uint32), value (32).
//
// Gossip message, on topic "/shardcast/pool/1/<campaign ID>" (TopicPrefix
// followed by the campaign's CID string):
//
//	kind   1 byte   'S' (0x53): shares
//	count  uint16   1 to MaxBatch (1024)
//	count × 36-byte records, indices strictly increasing
//
// Pool snapshot, the shares a node knows as one object; its CID is CIDv1,
// raw codec, sha2-256 of these bytes:
//
//	magic    4 bytes  "SCPS"
//	version  1 byte   0x01
//	campaign          the campaign ID, a CIDv1 in binary (36 bytes for dag-cbor, sha2-256)
//	count    uint32   ≤ shares.MaxShares
//	count × 36-byte records, indices strictly increasing
//
// Sync, protocol "/shardcast/pool-sync/1.0.0": the asker writes a request
// and closes its side; the other answers and closes.
//
//	request   version 0x01, the campaign ID (binary CIDv1), then the CID of
//	          the asker's own snapshot if it knows any share
//	response  'N' (nothing: no share of it, or the same snapshot), or
//	          'S' followed by the snapshot
//
// Every decoder accepts only canonical encodings (one encoding per value;
// the fuzz targets check the round trip) and checks framing and that each
// value is a canonical scalar, never the shares against commitments: Add
// does that. A node asks for a snapshot when a peer joins the topic and
// every 10 s from two random topic peers, until its campaign is complete;
// it serves at most 4 snapshots at a time.
//
// On disk, per campaign: "<campaign ID>.manifest", the signed manifest,
// written once atomically; "<campaign ID>.shares", 36-byte records
// appended in arrival order and fsynced. Flat files rather than SQLite:
// records are fixed-size, written once and never updated, so an append
// and an fsync is all the durability they need, with no schema, no
// transaction log and no second copy.
//
// # Cost
//
// Check reads a pool directory without changing it and reports what does
// not hold together (a manifest that does not decode or is not its file's,
// a torn or undecodable share record, an index outside its campaign or
// stored with two values), for the audit a user runs with shardcast check.
//
// Add costs one VerifyBatch and one fsync per batch, and is bounded by
// the verification; a snapshot is encoded and hashed in one pass. Memory:
// 32 bytes per known share and N/8 bytes per campaign. The benchmarks
// (go test -run XXX -bench . ./pool/) and their figures are in
// docs/BENCHMARKS.md.
package pool
