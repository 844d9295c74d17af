// Package pay moves money for shardcast's market behind one interface,
// Rail, with amounts as integers in minor units of a currency (Amount),
// never floats.
//
// # Rails
//
// A Rail has a payee side (CreateInvoice, Claim, Lookup, Wait, Settle,
// Cancel, RefundVoucher) and a payer side (Decode, Pay, Refund, Balance).
// A sale runs the same way on every rail: the payee issues an invoice and
// sends its Request; the payer Decodes it, checks amount and payee, Pays
// it and sends the payment's Proof; the payee Claims it, or Waits until
// its rail reports the invoice Settled. A hold invoice stops at Accepted
// — the funds locked — until the payee Settles it (with the preimage of
// its PaymentHash, if it has one) or Cancels it, which gives the payer
// its money back. The package paytest holds the conformance suite every
// rail passes.
//
// Two rails are meant: "test", in this package, and "lightning" (an LND
// node over its REST API: invoices, hold invoices, settle/cancel, and the
// preimage revealed to the payer on settlement, which makes a key paid
// for with SHA-256(key) as payment hash arrive atomically with the
// payment). The interface is shaped so that such a rail fits unchanged:
// its Claim may ignore the proof and report what its node observed, its
// Pay of a hold invoice may return only once the payee settled or
// canceled it, and its refund voucher may be just the payment hash, since
// the network itself returns the funds of a canceled hold invoice.
//
// This package imports no network, HTTP or campaign code: the market
// carries requests, proofs and vouchers between buyer and creator, and
// the node wires rails to the market.
//
// # The test rail
//
// TestRail moves real balances of TEST MONEY: every invoice memo starts
// with "TEST MONEY", and Invoice.String and Payment.String say it. Each
// node keeps its own TestRail in one SQLite file (internal/sqlwriter:
// WAL, synchronous=FULL): a wallet per currency, which starts with
// TestOptions.InitialBalance (by default DefaultTestBalance, 1,000,000.00
// of a two-decimal currency), the invoices it issued, the payments it
// made and the proofs it accepted. The rail's Ed25519 key (a libp2p
// Ed25519 key's Raw bytes will do) signs its requests as payee and its
// proofs as payer.
//
//   - Pay verifies the payee's signature on the request and its expiry,
//     then, in one transaction, debits the payer's wallet and records the
//     payment; the proof is the payer's signature over the request's
//     digest, the amount and the payer's key.
//   - Claim verifies the proof's signature, that it pays exactly this
//     request, amount and currency, and that the invoice has not expired,
//     then in one transaction settles the invoice and credits the payee
//     (a hold invoice becomes Accepted and credits nothing until Settle).
//   - The payer's wallet lives in another node's ledger, so a refund
//     travels as a voucher: for a Canceled invoice, or an Expired one
//     (its proof came too late), RefundVoucher returns the payee's
//     signature over the request's digest and amount, stating that
//     nothing was or will be credited for it; the payer's Refund checks
//     it against the recorded payment and credits the payment back, once.
//     Issuing a voucher for an expired invoice records it as Expired, so
//     no later claim can settle it.
//
// # What is promised
//
//   - Every state change is committed, fsync'd, before the call returns;
//     after a crash at any instant each payment, claim, settlement and
//     refund is either wholly applied or not at all (the tests kill a
//     process mid-payment and check). TestRail.Check verifies the ledger
//     invariant: each balance is what its wallet started with, less
//     payments, plus refunds and settled invoices.
//   - Money is conserved across payer and payee: a payment is credited to
//     the payee at most once (Claim and Settle are idempotent), refunded
//     to the payer at most once and only when the payee's own signature
//     says it will never be credited, and Pay never charges twice for a
//     request.
//   - Forged, altered, replayed-onto-another-invoice, underpaid or
//     wrong-currency proofs, requests and vouchers are rejected with
//     ErrBadProof, ErrBadRequest, ErrUnderpaid or ErrCurrency; every
//     decoder accepts exactly one encoding of each message.
//   - Wait wakes on committed changes (and at expiry), not by polling.
//
// # What is not
//
//   - Test money is bookkeeping between cooperating nodes: nothing stops
//     a node from editing its own ledger or minting wallets. It exists for
//     demos and tests; real money takes the lightning rail.
//   - An invoice is for one payer. A second payer of an invoice someone
//     else already paid is refused (ErrState) and gets no voucher.
//   - The test rail reveals no preimage to the payer (Payment.Preimage is
//     nil); the market delivers keys by other means on it.
//   - Expiry is judged on each side's own clock; an Accepted hold invoice
//     does not expire.
//
// # Formats
//
// Integers are big-endian; an amount is Minor as int64 (8 bytes), then
// the currency's length (1 byte, 3–8) and its letters. Each message ends
// with an Ed25519 signature (64 bytes) over a context string followed by
// every byte before the signature; the contexts are "shardcast pay test
// request v1\n", "… proof v1\n" and "… voucher v1\n".
//
//	request  "SCTR" 0x01 | payee key (32) | invoice ID (16) | amount |
//	         created (8) | expires (8), Unix ns, expires > created |
//	         flags (1): 0x01 hold | payment hash (32), zero unless hold |
//	         memo length (2, ≤ 512) | memo, UTF-8, starting "TEST MONEY" |
//	         payee signature (64)
//	proof    "SCTP" 0x01 | SHA-256 of the binary request (32) |
//	         invoice ID (16) | amount | payer key (32) | payer signature (64)
//	voucher  "SCTV" 0x01 | SHA-256 of the binary request (32) |
//	         invoice ID (16) | amount | reason (1): 1 canceled, 2 expired |
//	         payee key (32) | payee signature (64)
//
// A request travels as text: "testmoney:" and the binary request in
// unpadded base64url. Invoice IDs are the 16 bytes in lowercase hex.
//
// # Performance
//
// One goroutine writes each ledger and commits the operations queued
// meanwhile in one transaction (each in its own savepoint), so concurrent
// claims share an fsync. See BenchmarkPayClaim.
package pay
