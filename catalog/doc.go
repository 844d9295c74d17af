// Package catalog keeps the campaigns a node knows and spreads them, along
// with the proofs that get a cheating creator's campaigns refused.
//
// A campaign is its signed manifest (package campaign); the catalog accepts
// one only after campaign.Decode has verified it, stores it on disk by its
// ID, and announces it on a gossipsub topic. The creator's signed state
// records (sold, raised, released) travel on the same topic and the newest
// per campaign is kept. Gossip only reaches peers that are subscribed when a
// message is sent, so on every new connection the two peers also exchange
// everything they know over a small stream protocol, and every 10 s a node
// pulls a few peers' catalogs: a node that joins late still learns the
// whole catalog. A node that publishes also pushes what it published to the
// peers it is connected to.
//
// # Proofs of misbehaviour
//
// A proof of misbehaviour shows that a creator sold bad shares. The
// catalog treats it as an opaque byte string of at most MaxProofSize bytes:
// the market package defines and checks it, and the node hands the catalog
// a ProofVerifier (WithProofVerifier) that says whom a proof accuses and
// why (market.DecodeProof, then Proof.Verify against the commitments the
// proof's manifest names). Only proofs the verifier accepts are stored or forwarded. Once a
// creator is accused,
//
//   - Add refuses the creator's manifests and AddState their states, with
//     errors wrapping ErrRejected;
//   - the creator's campaigns already held stay readable, but Get and List
//     report them with Entry.Rejected set to the proof's reason;
//   - the proof travels to every node: on the topic, in the sync records
//     (before any campaign) and in the push protocol (Gossip.PublishProof),
//     and a node that learns a proof from a peer pushes it on to its own
//     peers, once, so that it spreads even before the gossip mesh forms.
//
// A proof travels as the record 'P' followed by its bytes, beside 'M' (a
// manifest) and 'S' (a state: the campaign ID's length in one byte, the ID,
// the state). Sync and push streams carry records each preceded by its
// length as a uvarint, at most 1+MaxProofSize bytes.
//
// The catalog keeps one proof per accused creator, as
// proofs/<hex SHA-256 of the proof> in its directory, written atomically
// (temporary file, fsync, rename). The file is "SCPF" 0x01, then the
// creator's peer ID, the campaign's CID and the reason (UTF-8), each as a
// uvarint length and the bytes, then the proof to the end of the file. On
// Open these files are trusted without calling the verifier again (it may
// need the network): only verified proofs are written, and a file whose
// proof does not hash to its name is skipped.
//
// The verifier is called with a deadline of 30 s, at most 4 calls at a
// time, and once for the same bytes however many peers offer them at once;
// the topic's validator drops (without blame) a proof that finds every
// call busy, and sync or push bring it again. An error wrapping context.Canceled or
// context.DeadlineExceeded means "could not tell": such a proof is
// dropped without counting against the peer that sent it, and may come
// again. Any other error condemns the proof. The verdict is remembered
// for 10 minutes, so that the same bytes are not verified again and again,
// then forgotten, so that a proof refused for want of something the
// verifier could not fetch comes back with the next sync.
//
// # Budget and rates
//
// Campaigns of creators the node does not follow — not its own, never
// bought from, not opened by the user (WithFollowed, Follow) — are kept
// within a Budget (by default 512 campaigns, 8 MiB of manifests and
// states, 4 per creator; package peerlimit names the figures). When it is
// full, a new one evicts the oldest campaign of the peer that brought the
// most (its source: the relay or the syncing peer), from memory and disk,
// so that a flood through one connection evicts its own and leaves room
// for what others bring. A creator over its share is refused with
// ErrBudget. An evicted campaign is refused for 10 minutes while the
// budget is full (syncs would otherwise fetch and evict it again and
// again), then comes back with the next sync that still carries it.
// Followed campaigns are outside the budget and never evicted. OnEvict
// hears of evictions.
//
// Each peer gets token buckets (package peerlimit): manifests, states and
// proofs it relays on the topic or pushes, the syncs it asks of this node
// and its push streams, and the syncs this node starts with it (at most
// 8 run at once, however many connections or topic joins ask for them).
// Over its rate, a gossip message is ignored
// (pubsub.ValidationIgnore: the relay is not blamed, since it may only
// forward what others published), and a sync or push stream is reset.
// One sync brings at most 16,384 records. At most 32 proofs are stored,
// at most 4 of them against creators of whom the catalog holds no
// campaign; a valid proof beyond that is neither stored nor relayed.
//
// # What bad input gets
//
// Forged or altered manifests, states and proofs are rejected by the
// topic's validator, which costs the sender its gossipsub score, and are
// never stored. Messages that are merely unwelcome (a manifest of an
// accused creator, a proof the node cannot check now) are ignored, not
// held against the sender: it may not have learnt of the proof yet.
//
// Proofs larger than 1 MiB less 4 KiB travel by push and sync only, since
// gossipsub drops messages above its 1 MiB default.
package catalog
