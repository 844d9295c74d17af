// Package catalog keeps the campaigns a node knows and spreads them, along
// with the proofs that get a cheating creator's campaigns refused.
//
// A campaign is its signed manifest (package campaign); the catalog accepts
// one only after campaign.Decode has verified it, stores it on disk by its
// ID, and announces it on a gossipsub topic. The creator's signed state
// records (sold, raised, released) travel on the same topic and the newest
// per campaign is kept. Gossip only reaches peers that are subscribed when a
// message is sent, so on every new connection the two peers also exchange
// everything they know over a small stream protocol, and every
// antiEntropyEvery a node pulls a few peers' catalogs: a node that joins
// late still learns the whole catalog.
//
// # Proofs of misbehaviour
//
// A proof of misbehaviour shows that a creator sold bad shares. The
// catalog treats it as an opaque byte string of at most MaxProofSize bytes:
// the market package defines and checks it, and the node hands the catalog
// a ProofVerifier (WithProofVerifier) that says whom a proof accuses and
// why. Only proofs the verifier accepts are stored or forwarded. Once a
// creator is accused,
//
//   - Add refuses the creator's manifests and AddState their states, with
//     errors wrapping ErrRejected;
//   - the creator's campaigns already held stay readable, but Get and List
//     report them with Entry.Rejected set to the proof's reason;
//   - the proof travels to every node: on the topic (kind 'P'), in the sync
//     records and in the push protocol (Gossip.PublishProof).
//
// The catalog keeps one proof per accused creator, in its directory as
// proofs/<hex SHA-256 of the proof>, written atomically. Each file holds,
// besides the proof, what the verifier said of it, and is trusted on Open
// without calling the verifier again (the verifier may need the network;
// the file is checked against its name, and only verified proofs are ever
// written). See proofFile for the layout.
//
// The verifier is called with a deadline of verifyTimeout and at most
// maxVerifying at a time. An error wrapping context.Canceled or
// context.DeadlineExceeded means "could not tell": such a proof is
// dropped without counting against the peer that sent it, and may come
// again. Any other error condemns the proof; it is remembered for a while
// so that the same bytes are not verified twice.
//
// # What bad input gets
//
// Forged or altered manifests, states and proofs are rejected by the
// topic's validator, which costs the sender its gossipsub score, and are
// never stored. Messages that are merely unwelcome (a manifest of an
// accused creator, a proof the node cannot check now) are ignored, not
// held against the sender: it may not have learnt of the proof yet.
//
// Proofs larger than maxGossipProof travel by push and sync only, since
// gossipsub drops messages above its 1 MiB default.
package catalog
