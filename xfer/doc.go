// Package xfer moves blocks directly between shardcast peers, beside
// bitswap.
//
// Bitswap is what every IPFS node speaks, and shardcast keeps it: Kubo
// fetches our blocks and we fetch Kubo's. Between two shardcast peers it is
// slow for what we do: wants are batched every few milliseconds, so each
// round trip of a seek (root, inner node, leaf) pays that delay, and
// per-block bookkeeping bounds throughput.
//
// xfer speaks two protocols. /shardcast/blocks/1.1.0 (Protocol11) keeps a
// few long-lived streams per peer that carry every fetch from it, many
// wants in flight on each. A fetch takes the stream with the fewest wants
// waiting and opens another (up to the server's limit) while every one has
// some: a server answers a stream's wants in order, and a seek must not
// wait behind the window it abandoned.
//
//	client → server, frames:
//	  want:    0x00, uvarint id, uvarint len (1..128), CID bytes
//	  cancel:  0x01, uvarint id
//	server → client, one answer per want, in any order:
//	  uvarint id, status byte: 0 = block follows (uvarint len ≤ MaxBlockSize,
//	  block bytes), 1 = not held, 2 = cancelled before it was served
//
// The client picks ids; an id is in use from its want until its answer.
// At most peerlimit.XferWantsInFlight wants may be unanswered on a stream
// and a peer may hold peerlimit.XferStreamsPerPeer streams; a server resets
// a stream that breaks a rule (an unknown frame, an id in use, a want over
// the limit, a CID that does not parse) and closes one left silent for
// peerlimit.XferIdle. Our server answers in the order of the wants, reading
// a few blocks from its store ahead of the one it sends; a cancel skips a
// want not yet read. A client drops a stream on which wants go unanswered,
// with not a byte arriving, for its stall timeout (DefaultStallTimeout).
//
// /shardcast/blocks/1.0.0 (Protocol), still served and still used with
// peers that do not announce 1.1.0, is one stream per request:
//
//	request:  uvarint n (1..MaxRequest), then n × (uvarint len, CID bytes)
//	response: for each requested CID, in order: one status byte
//	          (0 = block follows, 1 = not held), and for 0: uvarint len, block bytes
//
// Exchange wraps bitswap: a block is asked first of peers that answered
// this session before (round robin, so a file held by several peers is
// fetched from all of them at once), then of a few other connected peers
// that speak xfer, and only then of bitswap, which also finds providers
// through the DHT. Every block received is hashed against its CID before
// it is returned; a peer that sends a wrong block has its stream reset, is
// dropped from the session and is not asked over xfer again for a while
// (banTime).
package xfer
