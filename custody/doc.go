// Package custody lets a campaign's deadline release happen without its
// creator: the creator deals the campaign's secret x to M custodians,
// ordinary peers of the network, any T of whom publish their parts at the
// deadline so that every node rebuilds x (shares.Deal, shares.CombineParts).
//
// It sits between shares, seal and campaign below and flow above: it holds
// the custody messages and their one encoding each, the custodian's store,
// the custody protocol over libp2p streams, and the check of releases that
// any node runs. When to deal, to whom, and what to do with a rebuilt
// secret or a proof are flow's business.
//
// # Messages
//
//   - Terms: the public part, the same for all custodians — campaign, the
//     creator's key, X, the deadline, the custodians' keys in index order
//     and the commitments A_0 … A_{T-1} (A_0 = X is checked on decoding).
//     Their hash (Terms.Hash) is what every other message names.
//   - Deal: the terms, the custodian's index and its part sealed (age) to
//     the custodian's custody identity (Identity, derived from its peer key
//     under IdentityPurpose), signed by the creator.
//   - Acceptance: the custodian's signature over the terms hash, its index
//     and the deal's hash; what a campaign's state carries.
//   - Release: the custodian's part in clear, with the time it says it
//     released, signed by the custodian.
//   - Proof: terms and a release that is dated before the deadline, names
//     a part other than its custodian's, or fails VerifyPart; anyone checks
//     it with Proof.Verify alone.
//
// Every encoding is canonical (fixed fields, 2-byte lengths with bounds,
// nothing after the end) and every decoder checks what the message's own
// bytes can prove: a Deal, Acceptance or Release that decodes carries a
// valid signature; Terms that decode have commitments bound to X.
//
// # Protocol
//
// /shardcast/custody/1.0.0, one deal per stream, each frame a uvarint
// length and a body starting with its type: the creator sends Hello, the
// custodian answers its custody recipient (the stream's secure channel
// says whose it is), the creator sends the Deal, the custodian answers
// Accepted with its Acceptance or Refused with a reason. Server checks
// the deal, opens and verifies its part, and stores it durably before it
// signs; DealTo deals to M custodians in parallel.
//
// # Store
//
// A custodian keeps one file per campaign's terms (Store): the deal, its
// part and, once made, its release. Due lists the records past their
// deadline and not released, so a custodian that was down across a
// deadline acts when back; Store.Release signs the one release of a part,
// at or after the deadline, and records it before returning it, so that
// publishing it again after a crash publishes the same message.
//
// # What is promised
//
//   - A custodian signs an acceptance only for a part that verifies
//     against commitments bound to X, and only once the part is on disk
//     (fsynced): an acceptance it gave survives its crash.
//   - A node rebuilds x only from parts that verify, and returns x only
//     when x·G = X (Collector.Unlock); fewer than T valid parts give
//     nothing.
//   - A release dated before the deadline or false is answered with a
//     Proof that any node verifies from the proof alone; a custodian that
//     released honestly can never be proven to misbehave.
//
// # What is not
//
//   - T colluding custodians can rebuild x before the deadline and keep
//     quiet; nothing here sees that (the trust assumption, chosen per
//     campaign).
//   - A release dated at or after the deadline but published before it
//     (its custodian lying about the time) is ignored by nodes whose clock
//     says it is early (MaxClockSkew), but proves nothing to others.
//   - M − T + 1 custodians that never answer block the release by custody.
package custody
