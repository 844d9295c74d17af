// Package xfer moves blocks directly between shardcast peers, beside
// bitswap.
//
// Bitswap is what every IPFS node speaks, and shardcast keeps it: Kubo
// fetches our blocks and we fetch Kubo's. Between two shardcast peers it is
// slow for what we do: wants are batched every few milliseconds, so each
// round trip of a seek (root, inner node, leaf) pays that delay, and
// per-block bookkeeping bounds throughput. xfer is a plain request/response
// protocol, /shardcast/blocks/1.0.0, one libp2p stream per request:
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
// it is returned; a peer that sends a wrong block is dropped from the
// session.
package xfer
