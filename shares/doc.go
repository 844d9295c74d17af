// Package shares splits a campaign secret into N verifiable additive
// shares, all of which are needed to rebuild it: the key material of the
// "pay for your shard" model. It also deals the same secret to custodians,
// any T of M of whom can rebuild it (see Custody below).
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
//   - There is no threshold among the shares: one withheld share blocks
//     the unlock for everybody. The deadline release of unsold shares
//     covers that, and custody (below) lets that release happen without
//     the creator.
//   - The creator knows x and every share, and can always publish them.
//   - Shares carry no campaign identity, signature or encryption: a share
//     is bound to a campaign only by being checked against its commitments,
//     and keeping an unsold share secret in transit is the caller's job.
//
// # Custody
//
// So that the deadline release does not need the creator's node, Deal
// gives x to M custodians with Shamir's threshold scheme over the same
// group, made verifiable by Feldman's commitments: it draws a polynomial
//
//	f(z) = a_0 + a_1·z + … + a_{T-1}·z^{T-1},  a_0 = x,
//
// of degree exactly T−1 with random a_1 … a_{T-1}, gives custodian j the
// part (j, f(j)) for j = 1 … M, and publishes A_k = a_k·G, so that
// A_0 = X, the X of the campaign's commitments. A part is valid iff
// f(j)·G = Σ_k j^k·A_k (VerifyPart, O(T) on public data plus one
// fixed-base multiplication; VerifyParts checks many parts with one
// random linear combination and one T-point multiplication). CheckX binds
// the commitments to the campaign (A_0 = X). CombineParts takes any T
// distinct valid parts, interpolates f(0) by Lagrange's formula and checks
// the result against X. 1 ≤ T ≤ M ≤ MaxCustodians (255).
//
// What is promised:
//
//   - Any T distinct parts that verify against commitments that passed
//     CheckX rebuild x: a part that verifies always combines correctly,
//     since the commitments fix f in a group of prime order.
//   - CombineParts never returns a wrong secret: it returns x with
//     x·G = X, or a *PartError (wrapping ErrBadPart) naming a bad,
//     repeated or out-of-range part, or an error wrapping ErrTooFewParts.
//   - Fewer than T parts reveal nothing about x beyond X: for any T−1
//     parts and any candidate secret, exactly one polynomial of degree
//     T−1 passes through them, so the parts of T−1 custodians are equally
//     likely whatever x is. Against them, who also see X and the A_k,
//     what protects x is the discrete logarithm problem, as for the shares.
//   - The commitments promise degree exactly T−1: the decoder refuses an
//     identity A_{T-1}, so a dealer cannot quietly lower the threshold it
//     announces.
//   - Deal, VerifyPart and the interpolation in CombineParts handle secret
//     values with constant-time scalar arithmetic and fixed-base
//     multiplication. The evaluation of the commitments and the
//     multi-scalar multiplication of VerifyParts run in variable time on
//     public data (indices, commitments, coefficients hashed from the parts).
//
// What is not:
//
//   - T colluding custodians can rebuild x at any time, before the
//     deadline: that is the trust assumption of custody, chosen per
//     campaign (who the custodians are, and T). Nothing here can see a
//     combine that is kept quiet.
//   - M − T + 1 custodians that never answer block the release by custody.
//   - The dealer (the creator) knows x and f; the commitments prove that
//     the parts are consistent with X, not that the creator keeps quiet.
//   - Parts carry no campaign identity, signature or encryption: binding a
//     part to a campaign and a custodian, encrypting it to its custodian,
//     and when it may be published, are the caller's job.
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
// For custody the creator calls Deal with x, publishes the commitments
// (Custody.MarshalBinary) with the campaign, and gives part j to custodian
// j alone. A custodian runs CheckX against the campaign's X and VerifyPart
// on its part before accepting it. At release every node runs CheckX once,
// checks each part it hears (VerifyPart, or VerifyParts for many), and
// calls CombineParts when it has T. Part.String never prints a value.
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
// The custody commitments are "SCCD", version byte 0x01, T and M as one
// byte each, then A_0 … A_{T-1}: 7 + 32·T bytes. A Part is 33 bytes: the
// index j (1 … 255) as one byte, then f(j). VerifyParts draws its
// coefficients as SHA-512 of "shardcast/shares/v1 custody batch", the
// commitments' encoding and every part's, then for part i SHA-512 of that
// digest and i as a big-endian uint32, reduced modulo l.
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
//
// Deal commits to its coefficients the way Split commits to shares.
// VerifyPart evaluates the custody commitments by Horner's rule, each
// step a double-and-add over the 8 bits of the index; VerifyParts uses
// filippo.io/edwards25519's variable-time multi-scalar multiplication.
// Custody figures for M up to 255 are in docs/BENCHMARKS.md.
package shares
