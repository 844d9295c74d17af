// Package campaign defines shardcast's campaign manifests and state
// records: what a creator publishes about a work and its terms, signed with
// the creator's libp2p key and addressed by CID, so that any peer can check
// a campaign with nothing but its bytes.
//
// # Manifest
//
// A Manifest is an IPLD map encoded as canonical DAG-CBOR (IPLD
// specification "DAG-CBOR": shortest integer and length forms, map keys
// sorted by length then bytewise, links as CBOR tag 42). The campaign ID
// is the CIDv1 of the signed block, codec dag-cbor (0x71), multihash
// sha2-256: ID(data). A manifest never changes; what changes is its State.
//
// Fields, by wire name (int is a CBOR integer within int64; minor units are
// cents, or millisatoshi for BTC and SAT, never floats; times are Unix
// seconds in 1970–9999):
//
//	version            int     always 1
//	model              string  "open" | "pay" | "shards"
//	title              string  1–200 characters, no control characters
//	description        string  ≤ 10,000 characters, newlines and tabs allowed; omitted when empty
//	content            link    the UnixFS file: plaintext (open), an age file (pay, shards)
//	content_size       int     plaintext bytes, ≥ 0
//	media_type         string  e.g. "video/webm" (RFC 2045 syntax, ≤ 255 bytes)
//	creator            string  the creator's peer ID, base58 ("12D3KooW…")
//	creator_key        bytes   the creator's libp2p public key (protobuf), Ed25519
//	created            int     Unix seconds
//	currency           string  3–5 capital letters: "USD", "EUR", "BTC", "SAT" …
//	price              int     minor units per share (shards) or per access (pay); > 0 there, absent in open
//	schedule           list    shards, optional: [{"count": int, "price": int}, …] — the first count
//	                           shares at price, the next tier after them, then price; ≤ 32 tiers
//	goal               int     shards: optional; N must then be the fewest shares whose prices reach
//	                           it (ceil(goal/price) without a schedule); open: optional donation goal
//	suggested          list    open: up to 16 suggested donations (int, > 0)
//	shards             int     shards: N, 1 ≤ N ≤ 10,000,000
//	commitments        link    shards: the shares.Commitments file (a raw block or UnixFS file)
//	secret_commitment  bytes   shards: X = x·G (32 bytes), the same as in the commitments file
//	deadline           int     shards: Unix seconds, after created
//	rails              list    1–8 distinct rail names ([a-z][a-z0-9-]*, e.g. ["test", "lightning"])
//	all_or_nothing     bool    shards: pledges settle only if the goal is met; omitted when false
//	shortfall          string  shards: "release" (unsold shares are published at the deadline) or
//	                           "locked" (they are not; the work stays locked)
//	sig                bytes   Ed25519 signature, 64 bytes
//
// A field marked for a model is absent in the others, and an optional
// field is absent rather than zero, so every manifest has exactly one
// encoding. The whole block is at most MaxManifestSize (64 KiB).
//
// The signature is the creator's Ed25519 signature over the bytes
// "shardcast-manifest-v1:" followed by the canonical encoding of the
// manifest without its "sig" field. The creator's peer ID must be the one
// derived from creator_key, so a verifier needs nothing else.
//
// # State
//
// A State is the creator's signed record of how a campaign stands:
//
//	campaign  link  the campaign ID
//	seq       int   increases with every record the creator publishes (≥ 0)
//	sold      int   shares sold (shards), accesses sold (pay), donations (open)
//	raised    int   minor units of the manifest's currency
//	released  bool  shards: unsold shares were published
//	unlocked  bool  shards: all N shares are public
//	pledged   int   shards, optional: shares pledged and held in an
//	                all-or-nothing campaign; absent when 0
//	time      int   Unix seconds
//	sig       bytes Ed25519 signature by the manifest's creator over
//	                "shardcast-state-v1:" and the encoding without "sig"
//
// All fields but pledged are always present; sold + pledged ≤ N. Newer
// orders records of one campaign by seq.
//
// # Use
//
// A creator fills in a Manifest, calls Sign with its key, then Encode,
// which returns the block and the campaign ID. A peer that receives a
// manifest calls Decode, which checks everything (canonical encoding,
// fields, the rules of the model, the key, the signature); for a shards
// campaign it then loads the commitments with OpenCommitments, or with
// ReadCommitments from a stream: that checks the file's size against
// 41 + 32·N and N against the caller's cap (ErrTooLarge) before reading
// a byte, so a forged file of any size costs at most what N implies. State
// records go through State.Sign, EncodeState and DecodeState, which checks
// them against the campaign's manifest. PriceOf and PriceFor price shares
// under the schedule; SharesForGoal and ParseDeadline turn the CLI's flags
// into manifest fields.
//
// # Publishing
//
// Terms are what a creator asks for; Terms.Check is the one place the
// rules of publishing live. It fills in the defaults (Terms.Defaults:
// media type, the test rail, USD or BTC on Lightning alone, the release
// shortfall, N from the goal), checks the choices and how they go together
// (Terms.CheckChoices: model, known rails, all or nothing only for shards
// on Lightning alone, the shortfall only for shards), then what the
// publishing node's rails can do, given as plain data (RailCaps: the rails
// available, why one is missing, how long a pledge can be held), then the
// rules of the model that Validate holds, and returns the manifest to fill
// in and sign. A broken rule is a *TermError naming the field by its wire
// name, never a flag of a client; it wraps ErrBadManifest, and Validate's
// errors carry one too.
//
// # Figures
//
// FiguresOf computes what is shown of a campaign: the price of the next
// share or access, sold, pledged, raised, donated, pooled of needed, the
// goal, the deadline, whether the node can read it and, for all or
// nothing, the outcome. Shows says which of them a model gives meaning to.
//
// # Amounts
//
// Amounts are int64 counts of a currency's minor unit; package money
// says how many decimals each currency has and parses and formats them.
// A manifest's currency is 3 to 5 capital letters, a narrower rule than
// money's.
//
// # What is promised
//
//   - Decode accepts a byte string only if it is the canonical encoding of
//     a valid manifest signed by the key it names: changing any byte,
//     swapping the key or stripping the signature is rejected with an
//     error wrapping ErrBadManifest, and one manifest has one campaign ID.
//   - Encode returns only what Decode accepts; DecodeState and EncodeState
//     likewise, with ErrBadState.
//   - Decoding untrusted bytes is bounded: size limits before parsing, a
//     nesting depth of 4, an allocation budget, and no panics.
//
// # What is not
//
//   - A manifest proves who published the terms, not that the content or
//     the commitments it links to exist, match content_size or decrypt:
//     the content layer checks blocks against their CIDs, and
//     OpenCommitments checks the commitments against the manifest.
//   - State records are claims of the creator. Two records with the same
//     seq are an equivocation that Newer does not resolve; nothing here
//     stops a creator from signing false counts.
//   - This package knows of the payment rails only their names and what a
//     campaign's terms must say for them (lightning moves BTC; pledges are
//     Lightning hold invoices); what a node's rails can do it is told
//     (RailCaps). It knows no network and no storage.
package campaign
