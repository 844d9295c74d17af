// Package seal encrypts shardcast content as standard age files, opens them
// for random access (seeking in a video), and hands content keys to buyers.
//
// # Format
//
// A sealed work is an age v1 file (https://age-encryption.org/v1, C2SP
// age.md), byte for byte: a text header with one recipient stanza per
// recipient and an HMAC-SHA-256 under a key derived from the file key, a
// 16-byte nonce, then the payload in 64 KiB chunks, each sealed with
// ChaCha20-Poly1305 under HKDF-SHA-256(file key, nonce, "payload") and a
// nonce made of the chunk counter and a last-chunk flag. Any age
// implementation decrypts it: `age -d -i key.txt film.age` with the stock CLI.
//
// Each work is encrypted to its own X25519 "content identity". [NewIdentity]
// makes a random one; [IdentityFromSeed] and [DeriveIdentity] make one
// deterministically (a campaign derives it from its secret, a node derives its
// long-term identity from its private key). [FormatIdentity] and
// [ParseIdentity] convert to and from the "AGE-SECRET-KEY-1…" string that
// age-keygen writes, so a released key works with the age CLI.
//
// # Use
//
//   - [Encrypt] (or [EncryptReader]) seals a stream to one or more recipients,
//     normally the content identity's Recipient(). It encrypts chunks on all
//     cores (on two cores about twice as fast as age.Encrypt), with the same
//     framing byte for byte.
//   - [OpenReaderAt] opens ciphertext held in any io.ReaderAt with the
//     content identity; [NewReadSeeker] turns the result into an
//     io.ReadSeeker for http.ServeContent.
//   - [WrapIdentity] seals the content identity to a buyer's own age
//     recipient (the "pay" model); [UnwrapIdentity] opens it.
//
// # Promises
//
// Nothing here returns unauthenticated plaintext. Opening a file checks the
// header MAC and the final chunk, so truncation and extension are detected
// before any read; each read authenticates the whole chunks it touches, and a
// chunk that fails yields an error, never bytes. Random access decrypts only
// the 64 KiB chunks a read touches ([ChunkSize]).
//
// # What not to use it for
//
// age files are encrypted, not signed: anyone who knows a recipient can make
// a valid file for it, so the authenticity of a work comes from its content
// address (CID) and the creator's signed manifest, not from seal. Every
// holder of a content identity can decrypt and re-share the work; seal does
// not hide who may read, revoke access or watermark copies. Content
// identities are secrets: never log them; give each work its own.
package seal
