// Package market sells a creator's campaigns to buyers over a libp2p
// stream protocol, moves the money on a pay.Rail, and keeps both sides'
// records in a crash-safe SQLite ledger.
//
// # Protocol
//
// ProtocolID is "/shardcast/market/1.0.0". Each stream carries one
// request from the buyer and one answer from the creator, each a frame:
// the body's length as a minimal uvarint (1 byte to MaxMessageSize, 1 MiB)
// and the body. A sale takes two streams:
//
//	buyer → Quote{campaign, kind, K or amount, rail, recipient}
//	creator → Offer{id, campaign, kind, buyer, recipient, indices, price, rail, request, expires, sig}
//	buyer pays the request on the rail, then
//	buyer → Pay{id, proof}          (or Redeliver{id}: the same, without a proof)
//	creator → Delivery{id, payload, Receipt{id, campaign, buyer, kind, indices, amount, time, sig}}
//
// Any request may instead be answered with Error{code, message, voucher}
// (see Code; an expired offer's error carries the rail's refund voucher).
// A buyer whose payment failed for good sends Withdraw{id}: the creator
// ends the offer if it is still unpaid — its invoice canceled, its
// shares freed — and answers as for an expired offer.
//
// # Atomic delivery and pledges
//
// On a rail that reveals preimages (pay.Revealer: Lightning), a sale of
// shares is locked: the creator draws a key k, seals the shares under it
// (ChaCha20-Poly1305, key k, zero nonce, associated data
// "shardcast-market-sealed-v1:" and the offer ID) into the offer, and
// invoices a hold invoice whose payment hash is Lock = SHA-256(k). The
// buyer checks that the invoice's hash is the lock, pays, and sends
// Redeliver{id} while the payment is under way; the creator waits until
// the invoice is held, settles it with k — which reveals k to the buyer
// with the money — records the sale and delivers as usual. The buyer
// opens the sealed shares with k and verifies them; a creator that
// vanishes after settling cannot keep them. If they fail, the signed
// offer and k are a Proof anyone can check against the commitments.
//
// In an all-or-nothing campaign the held invoice is a pledge: the
// creator records it and answers Pledged{id, until, sig}, and the funds
// stay locked. When every share is pledged or sold it settles them all;
// at the deadline short of that (or on an early release) it cancels them
// all, which returns the funds (EndPledges). The outcome is recorded
// before it is acted on and finished after any restart. Hold invoices
// are held until the deadline plus PledgeGrace.
//
// # Encoding
//
// A body is a type byte (1 quote, 2 offer, 3 pay, 4 redeliver, 5
// delivery, 6 error, 7 receipt, 8 locked offer, 9 pledged, 10 withdraw) and the fields
// in the order above, with nothing after them:
//
//	int        minimal uvarint; amounts and times must fit in int64
//	bytes      uvarint length, then the bytes, each field with its bound
//	string     bytes holding UTF-8 (recipient and request: printable ASCII)
//	kind       one byte: 1 buy, 2 donate
//	id         16 bytes
//	cid, peer  bytes: the binary CID or peer ID, in canonical form
//	indices    int count (≤ MaxSharesPerOffer), the first index, then each
//	           gap less one: strictly increasing, each below 10,000,000
//	amount     int minor units (> 0), then string currency (3–8 of A–Z)
//	time       int Unix nanoseconds (> 0)
//	sig        64 bytes, Ed25519, last field
//	code       one byte (> 0)
//
// Quote: cid campaign, kind, int shares, int amount, string rail, string
// recipient. A purchase names a recipient and amount 0 (and K ≥ 1 in
// model shards, 0 or 1 in model pay); a donation names an amount and 0
// shares. Offer: id, cid, kind, peer buyer, string recipient, indices,
// amount price, string rail, string request, time expires, sig. Pay: id,
// bytes proof. Redeliver: id. Withdraw: id. Delivery: id, bytes payload,
// bytes receipt.
// Receipt: id offer, cid, peer buyer, kind, indices, amount, time, sig.
// A locked offer is an offer with, before sig, the lock (32 bytes) and
// bytes sealed (the K shares' encodings sealed, 16 bytes longer); only
// purchases of shares are locked. Pledged: id, time until, sig, signed
// over "shardcast-market-pledge-v1:". A Proof (a file, not a message) is
// "SCMP" 0x01, bytes manifest, bytes offer, then k (32 bytes).
// Error: code, string message, bytes voucher (possibly empty). Every
// decoder accepts exactly one encoding of each message.
//
// Offers and receipts are signed with the creator's libp2p Ed25519 key,
// the one the manifest names, over "shardcast-market-offer-v1:" or
// "shardcast-market-receipt-v1:" followed by the body up to the
// signature.
//
// The payload of a delivery is, for model pay, the content identity
// wrapped to the buyer's age X25519 recipient (seal.WrapIdentity); for
// model shards, an age file encrypted to that recipient whose plaintext
// is the 36-byte encodings of the shares (shares.Share.MarshalBinary) in
// the offer's index order; for a donation, empty.
//
// # Use
//
// A creator's node opens a Ledger and calls NewServer with its host, its
// key, its rails and a Source of its campaigns and their secrets. A
// buyer's node calls NewClient with its host, ledger, age identity and
// rails, then Buy or Donate with an Order holding the campaign's verified
// manifest (and, for shards, its opened commitments); the Purchase it
// returns holds the content identity or the verified shares. The ledger
// answers the node's questions: Stats, Sold, SalesOverTime, Purchases.
//
// The market tells the layer above what happened through one interface,
// Events (ServerOptions.Events, ClientOptions.Events): a sale made durable
// (Committed), a pledge recorded or ended (Pledged), shares a payment
// unsealed (Delivered), a creator caught sealing bad shares (Caught), a
// purchase completed (Completed). It never calls back otherwise.
//
// Failure injection for tests of the whole network (a crash right after a
// sale is durable, a creator sealing a corrupted share) exists only in
// builds with the tag shardcasttest; a normal build has none.
//
// # Purchases
//
// A purchase belongs to the buyer's Client, not to the call that asked
// for it. The Client records it (PurchaseRecord, with the caller's
// request ID if any) before any money moves, then drives it under its
// own context; Buy and Donate only wait, and return a *PendingError if
// their ctx ends first. Its record moves once, from paying to an end:
//
//	paying ──payment refused for good (pay.Definitive)──▶ failed   (nothing paid; the creator is told: Withdraw)
//	paying ──offer ran out before it was paid───────────▶ expired  (nothing paid)
//	paying ──delivery verified──────────────────────────▶ complete
//	paying ──offer expired with the payment unclaimed───▶ refunded (the creator's voucher redeemed)
//	paying ──hold invoice canceled (Lightning)──────────▶ refunded
//
// (a pledge shows as pledged while its funds are held). Any other error
// — a creator that cannot be reached, a rail whose answer is lost — is
// ambiguous: the purchase stays paying, and the Client asks again,
// pausing between attempts (RetryMin doubling to RetryMax), the rail
// first (Pay pays a request once, so asking again is how it learns
// whether it paid) and then the creator. At start ResumeAll drives every
// purchase still paying, on every rail. A request ID seen before returns
// that purchase's outcome: the stored delivery, re-verified, or its end.
// CheckPurchases verifies the buyer's side: each complete purchase holds
// its delivery and receipt, and each debit of a rail that lists its
// payments belongs to a purchase delivered, refunded or still paying.
//
// Shares are handed out lowest free index first, and share i always costs
// the manifest's PriceOf(i), so a buyer checks any offer's price with the
// manifest alone. An index whose offer expired unpaid is sold again, at
// its own price.
//
// # What is promised
//
//   - A share index is never sold twice, nor held by two open offers: the
//     ledger's primary keys forbid it, whatever the server's memory says.
//   - A sale is committed (fsync'd, with its delivery and receipt) before
//     the delivery is sent, and a settled sale is never lost: after a
//     crash at any instant the buyer's retry, or a Redeliver, gets the
//     same delivery, and the ledger counts the sale once.
//   - Paying is idempotent: retries hand over the same proof, and the
//     creator answers a settled offer with its stored delivery.
//   - An offer expires with its invoice: the creator cancels the invoice
//     before freeing the shares, so a late payment cannot settle it, and
//     a payment that arrives too late is refused with a refund voucher
//     that the client redeems.
//   - Every purchase ends, and says how: a purchase whose record says
//     failed or expired moved no money and never will (it is never
//     resumed); complete means delivered and verified; refunded means the
//     payment came back. While it says paying, the client drives it, and
//     the caller is told it is pending, never that it failed. One request
//     ID buys once.
//   - A client accepts nothing unverified: offers and receipts must carry
//     the manifest's creator signature and the manifest's price, and every
//     share must match its commitment; otherwise ErrBadOffer.
//
// # What is not
//
//   - The client cannot check that a delivered content identity opens the
//     content; only decrypting the file (seal) shows it. The signed offer
//     and receipt are the buyer's evidence if it does not.
//   - On the test rail, a creator that takes the money and never delivers
//     cannot be forced to; its signed offer proves what it promised. On
//     Lightning, shares are delivered atomically (above); access to model
//     pay is not: its content identity cannot be checked before the
//     content is decrypted.
//   - All-or-nothing pledges need a rail that holds and reveals
//     (Lightning). A creator offline at its deadline settles or cancels
//     late; LND cancels a held invoice by itself shortly before its CLTV
//     expiry, so funds are never locked past it.
//   - A creator that takes a test-rail payment and loses its ledger (or
//     refuses the proof) leaves the purchase paying, with the creator's
//     answer as its note; the client asks again at each start.
//   - Peer IDs cost nothing. An unpaid offer of shares holds them for
//     ReserveTTL (2 minutes; its invoice expires with it), and one buyer
//     peer may hold at most MaxOpenOffers unpaid offers (8) holding at
//     most MaxReservedShares shares (1,000) in one campaign, and send
//     QuoteRate quotes (5 a second, bursts of 20); beyond, quotes are
//     refused with CodeBusy. Many identities can still reserve more, each
//     within those bounds, for as long as they keep quoting. The rows of
//     offers that expired unpaid are deleted PruneAfter (24 hours) after
//     they expired, so a buyer whose payment came too late has that long
//     to ask for its refund voucher; settled offers are kept for ever.
//     The host's resource manager must allow enough streams per peer for
//     its buyers.
//
// # Performance
//
// BenchmarkSales runs complete sales through one creator from 1,000
// concurrent buyer goroutines on 4 buyer hosts, all on loopback in one
// process, so buyers and creator share the cores; BenchmarkLedgerSale
// measures the ledger alone. A sale's CPU goes mostly to age's two X25519
// operations and the two SQLite ledgers (the creator's and its rail's).
// The figures, with the commands that made them, are in
// docs/BENCHMARKS.md.
package market
