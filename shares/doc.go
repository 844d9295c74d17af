// Package shares splits a campaign secret into N verifiable additive
// shares, all of which are needed to rebuild it: the key material of the
// "pay for your shard" model.
//
// # Construction
//
// The group is ristretto255 (RFC 9496), of prime order
// l = 2^252 + 27742317777372353535851937790883648493, with its standard
// generator G. Split draws N shares s_0 … s_{N-1} uniformly at random from
// the scalars mod l and sets the secret to their sum,
//
//	x = Σ s_i,
//
// and publishes the commitments X = x·G and C_i = s_i·G, so that Σ C_i = X.
// A share (i, s_i) is valid iff s_i·G = C_i: one fixed-base multiplication,
// whatever N is. An Aggregate stands for a set of shares by the sum of their
// values; it is valid iff (Σ s_i)·G equals the sum of their commitments, and
// the aggregate of all N shares has x as its sum. Combine adds all N values
// and checks the single equation x·G = X. ContentSeed turns x into the seed
// from which another package derives the content's age identity.
//
// Scalars and points are 32-byte canonical encodings (RFC 9496, Section 4);
// every decoder here rejects non-canonical ones, so each value has exactly
// one encoding.
//
// # Why additive shares
//
// A campaign unlocks only once every share is sold (or released at the
// deadline), so no threshold is wanted. Shamir shares with Feldman
// commitments would cost t+1 multiplications to verify one share — with
// t = N that is O(N) per share and O(N²) for a campaign — and O(N²) to
// interpolate. Additive shares verify in O(1) each and combine with N
// scalar additions and one multiplication, which keeps 10^6-share
// campaigns practical.
//
// # What is promised
//
//   - Combine never returns a wrong secret: whatever the shares, it returns
//     x with x·G = X or an error.
//   - Once Check has accepted the commitments (Σ C_i = X, every point
//     canonical), shares accepted by Verify (or aggregates accepted by
//     VerifyAggregate) always combine into x: a share that passed Verify
//     can never poison the combine. Without Check, a creator could publish
//     commitments that no set of valid shares satisfies; every node runs
//     Check once per campaign.
//   - Any set of shares short of all N reveals nothing about x: its values
//     are independent of x, each uniformly random. Against someone who also
//     holds the public X, what protects x is the discrete logarithm problem
//     in ristretto255.
//   - Split, Verify, VerifyBatch and Combine work on secret values with
//     constant-time group arithmetic. Check and VerifyAggregate work on
//     public data.
//
// # What is not
//
//   - There is no threshold: one withheld share blocks the unlock for
//     everybody. The deadline release of unsold shares covers that; a
//     scheme that does not depend on the creator being online is not here.
//   - The creator knows x and every share, and can always publish them.
//   - Shares carry no campaign identity, signature or encryption: a share
//     is bound to a campaign only by being checked against its commitments,
//     and keeping an unsold share secret in transit is the caller's job.
//
// # Use
//
// The creator calls Split, keeps the shares, and publishes the commitments
// (Commitments.MarshalBinary) with the campaign. A node loads them with
// UnmarshalBinary, or from a stream with ReadCommitments, which reads
// exactly the 41 + 32·N bytes of the N it expects and refuses a header
// for another N before reading a point; it runs Check once, then checks every share it hears with
// Verify (or many at once with VerifyBatch), and rebuilds the secret with
// Combine (or CombineAggregate) when it has all N. Share.String and
// Aggregate.String never print a value, so shares can be logged.
//
// # Formats
//
// A Share is 36 bytes: the index as a big-endian uint32, then the value.
// The commitments file is "SCMT", version byte 0x01, N as a big-endian
// uint32, X, then C_0 … C_{N-1}: 41 + 32·N bytes. An Aggregate is the
// number of ranges as a big-endian uint32, each range as big-endian
// uint32 start and end (half-open, sorted, non-empty, separated by at
// least one index), then the 32-byte sum. ContentSeed is HKDF-SHA256
// (RFC 5869) of the 32-byte secret with salt "shardcast/shares/v1" and
// info "content identity", 32 bytes of output.
//
// # Implementation and cost
//
// Group arithmetic is github.com/gtank/ristretto255 over
// filippo.io/edwards25519: faster here than cloudflare/circl's
// group.Ristretto255 (docs/BENCHMARKS.md), which also builds on a module
// (bwesterb/go-ristretto) that is not in this project's module graph. The batch paths go below gtank's API, onto
// filippo.io/edwards25519 and its field package, with three operations
// the tests check against gtank (including a differential fuzzer):
// decoding straight to an Edwards point; the batched double-and-encode of
// ristretto.group (Split and VerifyBatch compute (s_i/2)·G and encode 256
// doubled points with one field inversion, saving the inverse square root
// of each encoding); and prefix sums of the decoded commitments, kept
// affine (64 bytes per share) by Check, which make VerifyAggregate
// O(number of ranges) and let Verify compare points instead of encodings.
//
// Every operation is linear in the number of shares, with about one
// scalar multiplication per share (Combine only adds); docs/BENCHMARKS.md
// gives the times per share and for N = 10^6, with their command. Split,
// Check and VerifyBatch spread their work over GOMAXPROCS goroutines;
// their results do not depend on it.
package shares
