// Package content stores and moves the bytes of shardcast: UnixFS files
// (CIDv1, raw leaves, balanced layout) in a block store on disk, and readers
// that fetch a file's blocks from whichever peers have them.
//
// What to use:
//   - OpenStore opens the on-disk block store (flatfs: one file a block),
//     every read of which is checked against the block's CID.
//   - Import turns a stream of plaintext or ciphertext into a UnixFS DAG in a
//     store and returns its root CID. Leaves are 1 MiB: fewer, larger blocks
//     move faster over bitswap and cost fewer files on disk, and stay well
//     under the 2 MiB block limit every IPFS implementation accepts.
//   - Open returns a File for a root CID: ReadAt for random access, and
//     NewReader for a sequential stream that keeps a window of blocks in
//     flight ahead of the reader. A Reader that seeks abandons its window and
//     starts a new one at the new position, so a seek never queues behind the
//     rest of the file. SeqReaderAt serves io.ReaderAt callers that read
//     mostly in order (decryption of a film) from one such Reader.
//
// Concurrent reads of one block through a File share one fetch, so a
// prefetch and the read it prepares never move the same block twice.
//
// Every block a File returns was verified against its CID by the block
// getter underneath: bitswap and xfer hash what they receive, and the store
// hashes what it reads. OpenStore wraps the store in Verified, which removes
// and logs a block that does not match and reports a CorruptError (which
// also reads as not found); Refetching, the local side of a node's block
// service, fetches such a block again through an exchange within a time
// limit, or fails with a RepairError naming it. Store.Scan hashes every
// block, for audits.
//
// The package knows nothing of the network: callers hand it a
// blockservice.BlockGetter, online or offline, and an exchange.
package content
