// Package lightning is shardcast's Lightning rail: a pay.Rail over one
// LND node's REST API (LND v0.19, built with the invoicesrpc and
// routerrpc sub-servers), authenticated by a macaroon in the
// Grpc-Metadata-macaroon header over TLS pinned to the node's own
// certificate.
//
// Amounts are in "BTC" only, in millisatoshis (pay's minor unit of BTC);
// other currencies fail with pay.ErrCurrency. An invoice's ID is its
// payment hash in lowercase hex, its Request the BOLT 11 string, its
// Payee the node's 33-byte secp256k1 key.
//
// # How each call maps to LND
//
//   - CreateInvoice: POST /v1/invoices (value_msat, memo, expiry), or for
//     a hold invoice POST /v2/invoices/hodl with the given PaymentHash (or
//     the hash of a preimage the rail makes and keeps in memory), then
//     GET /v1/payreq to describe it exactly as the payer will see it.
//     A hold invoice with a HoldUntil gets a cltv_expiry (the final CLTV
//     delta) long enough for the HTLC to outlive HoldUntil: its duration
//     in 10-minute blocks, 15% more for blocks that come early, LND's
//     12-block holdexpirydelta and 12 blocks of slack, at least LND's
//     default of 80. At most 1728 blocks, which a payer's LND (whose
//     route time lock is capped at 2016) accepts over a few hops; so
//     MaxHold is 10 days 6 hours 50 minutes, and a HoldUntil beyond it
//     is refused with pay.ErrHoldTooLong.
//   - Decode: GET /v1/payreq/{request}; anything LND refuses is
//     pay.ErrBadRequest.
//   - Pay: POST /v2/router/send, streaming until the payment is final; a
//     failed payment arrives as HTTP 200 with status FAILED and becomes an
//     error (pay.ErrCanceled when the payee refused it, as a canceled hold
//     invoice does). Paying again, or concurrently, follows the node's
//     existing payment (GET /v2/router/track/{hash}) instead of paying
//     twice. The Payment's Proof and Preimage are both the preimage.
//   - Claim ignores the proof — the node sees its payments itself — and
//     reports the status (an expired invoice is pay.ErrExpired); Lookup
//     is GET /v1/invoice/{hash}; Wait follows GET
//     /v2/invoices/subscribe/{hash}, a subscription, never polling.
//   - Settle: POST /v2/invoices/settle, after checking the preimage
//     against the payment hash (pay.ErrPreimage); Cancel: POST
//     /v2/invoices/cancel, which fails the payer's held payment and so
//     returns its funds.
//   - RefundVoucher is the payment hash of a Canceled or Expired invoice:
//     the network itself gave the money back, so Refund only checks (by
//     tracking the payment) that it failed and reports its amount.
//   - Balance: GET /v1/balance/channels, the local side in msat, plus
//     the pending HTLCs (GET /v1/channels) whose outcome the node already
//     knows — an incoming one of a settled invoice, an outgoing one of a
//     failed payment — so that a balance agrees with Wait and Pay at once
//     rather than after the channel's commitment update.
//
// # What is promised, and what is not
//
//   - What LND commits is durable; the rail keeps no state of its own
//     except the preimages of hold invoices issued without a payment hash,
//     which live in memory: after a restart such an invoice can only be
//     canceled. Give a PaymentHash when that matters.
//   - Decode reports Hold from HoldMarker at the end of the description,
//     which this rail's hold invoices carry; BOLT 11 itself cannot say
//     whether an invoice is a hold invoice, so a payee can lie about it.
//   - LND cancels expired invoices itself; an invoice open or canceled
//     unpaid past its expiry is reported Expired.
//   - Routing fees are capped by Options.FeeLimitMsat; Balance counts the
//     node's channels only, not its on-chain wallet.
//
// The package imports no LND code (its modules cannot share a build with
// libp2p's); it speaks JSON over HTTP with the standard library.
package lightning
