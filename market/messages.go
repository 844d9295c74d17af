package market

import (
	"encoding/hex"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/shares"
)

// Kind says what a buyer asks for.
type Kind uint8

// Kinds of sale.
const (
	KindBuy    Kind = 1 // access (model pay) or shares (model shards)
	KindDonate Kind = 2 // a donation, on any model; nothing is delivered
)

func (k Kind) String() string {
	switch k {
	case KindBuy:
		return "buy"
	case KindDonate:
		return "donate"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (d *decoder) kind(field string) Kind {
	k := Kind(d.byte1(field))
	if d.err == nil && k != KindBuy && k != KindDonate {
		d.fail(field, "unknown kind %d", k)
	}
	return k
}

// OfferID names an offer: 16 random bytes chosen by the creator.
type OfferID [16]byte

// String returns the ID in lowercase hex.
func (id OfferID) String() string { return hex.EncodeToString(id[:]) }

// ParseOfferID parses what String returns.
func ParseOfferID(s string) (OfferID, error) {
	var id OfferID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) || hex.EncodeToString(b) != s {
		return id, fmt.Errorf("parsing offer ID %q: want 32 lowercase hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

func (d *decoder) offerID(field string) OfferID {
	var id OfferID
	copy(id[:], d.raw(field, len(id)))
	return id
}

// Signature contexts: a signature covers the context followed by the
// message's encoding up to the signature, so an offer's signature never
// verifies as a receipt's, nor as a manifest's.
const (
	offerContext   = "shardcast-market-offer-v1:"
	receiptContext = "shardcast-market-receipt-v1:"
)

func sign(key crypto.PrivKey, context string, unsigned []byte) ([]byte, error) {
	sig, err := key.Sign(append([]byte(context), unsigned...))
	if err == nil && len(sig) != sigSize {
		err = fmt.Errorf("signature of %d bytes, want an Ed25519 one", len(sig))
	}
	return sig, err
}

// creatorKey returns the Ed25519 key a manifest names (campaign.Decode
// has checked it).
func creatorKey(m *campaign.Manifest) (crypto.PubKey, error) {
	pub, err := crypto.UnmarshalPublicKey(m.CreatorKey)
	if err != nil {
		return nil, fmt.Errorf("manifest's creator key: %w", err)
	}
	if pub.Type() != pb.KeyType_Ed25519 {
		return nil, fmt.Errorf("manifest's creator key is %v, want Ed25519", pub.Type())
	}
	return pub, nil
}

func verify(pub crypto.PubKey, context string, unsigned, sig []byte) error {
	if len(sig) != sigSize {
		return fmt.Errorf("signature of %d bytes, want %d", len(sig), sigSize)
	}
	ok, err := pub.Verify(append([]byte(context), unsigned...), sig)
	if err != nil || !ok {
		return fmt.Errorf("signature does not verify")
	}
	return nil
}

// quote asks the creator for an offer.
type quote struct {
	Campaign  cid.Cid
	Kind      Kind
	Shares    int    // buy in model shards: K; 0 otherwise
	Amount    int64  // donate: the amount in the manifest's currency; 0 otherwise
	Rail      string // the rail the buyer pays with
	Recipient string // buy: the buyer's age X25519 recipient; optional for donations
}

func (q *quote) encode() []byte {
	e := newEncoder(typeQuote)
	e.cid(q.Campaign)
	e.byte1(byte(q.Kind))
	e.uvarint(uint64(q.Shares))
	e.uvarint(uint64(q.Amount))
	e.str(q.Rail)
	e.str(q.Recipient)
	return e.b
}

func decodeQuote(body []byte) (*quote, error) {
	d := header(body, typeQuote, "quote")
	q := &quote{Campaign: d.cid("campaign"), Kind: d.kind("kind")}
	shares := d.uvarint("shares")
	q.Amount = d.int63("amount", 0)
	q.Rail = d.rail("rail")
	q.Recipient = d.printable("recipient", 0, maxRecipient)
	if d.err == nil {
		switch {
		case shares > MaxSharesPerOffer:
			d.fail("shares", "%d, at most %d allowed", shares, MaxSharesPerOffer)
		case q.Kind == KindBuy && (q.Amount != 0 || q.Recipient == ""):
			d.fail("quote", "a purchase names a recipient and no amount")
		case q.Kind == KindDonate && (shares != 0 || q.Amount == 0):
			d.fail("quote", "a donation names an amount and no shares")
		}
	}
	q.Shares = int(shares)
	if err := d.end(); err != nil {
		return nil, err
	}
	return q, nil
}

// An Offer is the creator's signed answer to a quote: what it sells to
// whom, at what price, until when, and the rail's payment request.
type Offer struct {
	ID        OfferID
	Campaign  cid.Cid
	Kind      Kind
	Buyer     peer.ID
	Recipient string   // deliveries are encrypted to it; empty for donations
	Indices   []uint32 // shards: the shares reserved for the buyer, increasing
	Price     pay.Amount
	Rail      string
	Request   string // the rail's payment request (pay.Invoice.Request)
	Expires   time.Time
	// Lock and Sealed make delivery atomic with payment on a rail that
	// reveals preimages (Lightning): Sealed is the shares sealed under a
	// key k (sealShares), Lock is SHA-256(k), and the request is a hold
	// invoice whose payment hash is Lock. Both nil otherwise.
	Lock   []byte
	Sealed []byte
	Sig    []byte // the creator's Ed25519 signature
}

func (o *Offer) unsigned() []byte {
	typ := typeOffer
	if o.Lock != nil {
		typ = typeLockedOffer
	}
	e := newEncoder(typ)
	e.raw(o.ID[:])
	e.cid(o.Campaign)
	e.byte1(byte(o.Kind))
	e.peer(o.Buyer)
	e.str(o.Recipient)
	e.indices(o.Indices)
	e.amount(o.Price)
	e.str(o.Rail)
	e.str(o.Request)
	e.time(o.Expires)
	if o.Lock != nil {
		e.raw(o.Lock)
		e.bytes(o.Sealed)
	}
	return e.b
}

// Marshal returns the offer's encoding, signature included.
func (o *Offer) Marshal() []byte { return append(o.unsigned(), o.Sig...) }

func (o *Offer) sign(key crypto.PrivKey) (err error) {
	o.Sig, err = sign(key, offerContext, o.unsigned())
	return err
}

// Verify checks the offer's signature against the creator key of m.
func (o *Offer) Verify(m *campaign.Manifest) error {
	pub, err := creatorKey(m)
	if err == nil {
		err = verify(pub, offerContext, o.unsigned(), o.Sig)
	}
	if err != nil {
		return fmt.Errorf("offer %v: %v: %w", o.ID, err, ErrBadOffer)
	}
	return nil
}

// DecodeOffer parses an encoded offer without checking its signature.
func DecodeOffer(body []byte) (*Offer, error) {
	typ := typeOffer
	if len(body) > 0 && body[0] == typeLockedOffer {
		typ = typeLockedOffer
	}
	d := header(body, typ, "offer")
	o := &Offer{
		ID:        d.offerID("id"),
		Campaign:  d.cid("campaign"),
		Kind:      d.kind("kind"),
		Buyer:     d.peer("buyer"),
		Recipient: d.printable("recipient", 0, maxRecipient),
		Indices:   d.indices("indices"),
		Price:     d.amount("price"),
		Rail:      d.rail("rail"),
		Request:   d.printable("request", 1, maxRequest),
		Expires:   d.time("expires"),
	}
	if typ == typeLockedOffer {
		o.Lock = d.raw("lock", lockSize)
		o.Sealed = d.bytes("sealed", sealOverhead+1, MaxSharesPerOffer*shares.ShareSize+sealOverhead)
		if d.err == nil && (o.Kind != KindBuy || len(o.Indices) == 0) {
			d.fail("lock", "only a sale of shares is sealed")
		}
	}
	o.Sig = d.raw("sig", sigSize)
	if d.err == nil && o.Kind == KindDonate && len(o.Indices) > 0 {
		d.fail("indices", "a donation reserves no shares")
	}
	if d.err == nil && o.Kind == KindBuy && o.Recipient == "" {
		d.fail("recipient", "a purchase needs one")
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return o, nil
}

// A Receipt is the creator's signed statement that it was paid: for which
// offer, campaign, buyer, shares and amount, and when.
type Receipt struct {
	Offer    OfferID
	Campaign cid.Cid
	Buyer    peer.ID
	Kind     Kind
	Indices  []uint32 // shards: the shares sold
	Amount   pay.Amount
	Time     time.Time
	Sig      []byte // the creator's Ed25519 signature
}

func (r *Receipt) unsigned() []byte {
	e := newEncoder(typeReceipt)
	e.raw(r.Offer[:])
	e.cid(r.Campaign)
	e.peer(r.Buyer)
	e.byte1(byte(r.Kind))
	e.indices(r.Indices)
	e.amount(r.Amount)
	e.time(r.Time)
	return e.b
}

// Marshal returns the receipt's encoding, signature included.
func (r *Receipt) Marshal() []byte { return append(r.unsigned(), r.Sig...) }

func (r *Receipt) sign(key crypto.PrivKey) (err error) {
	r.Sig, err = sign(key, receiptContext, r.unsigned())
	return err
}

// Verify checks the receipt's signature against the creator key of m.
func (r *Receipt) Verify(m *campaign.Manifest) error {
	pub, err := creatorKey(m)
	if err == nil {
		err = verify(pub, receiptContext, r.unsigned(), r.Sig)
	}
	if err != nil {
		return fmt.Errorf("receipt for offer %v: %v: %w", r.Offer, err, ErrBadOffer)
	}
	return nil
}

// DecodeReceipt parses an encoded receipt without checking its signature.
func DecodeReceipt(body []byte) (*Receipt, error) {
	d := header(body, typeReceipt, "receipt")
	r := &Receipt{
		Offer:    d.offerID("offer"),
		Campaign: d.cid("campaign"),
		Buyer:    d.peer("buyer"),
		Kind:     d.kind("kind"),
		Indices:  d.indices("indices"),
		Amount:   d.amount("amount"),
		Time:     d.time("time"),
		Sig:      d.raw("sig", sigSize),
	}
	if d.err == nil && r.Kind == KindDonate && len(r.Indices) > 0 {
		d.fail("indices", "a donation sells no shares")
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return r, nil
}

// payment hands the creator the proof that an offer was paid.
type payment struct {
	ID    OfferID
	Proof []byte // pay.Payment.Proof
}

func (p *payment) encode() []byte {
	e := newEncoder(typePay)
	e.raw(p.ID[:])
	e.bytes(p.Proof)
	return e.b
}

func decodePayment(body []byte) (*payment, error) {
	d := header(body, typePay, "pay")
	p := &payment{ID: d.offerID("id"), Proof: d.bytes("proof", 1, maxProof)}
	if err := d.end(); err != nil {
		return nil, err
	}
	return p, nil
}

// redeliver asks again for the delivery of a settled offer.
type redeliver struct{ ID OfferID }

func (r *redeliver) encode() []byte {
	e := newEncoder(typeRedeliver)
	e.raw(r.ID[:])
	return e.b
}

func decodeRedeliver(body []byte) (*redeliver, error) {
	d := header(body, typeRedeliver, "redeliver")
	r := &redeliver{ID: d.offerID("id")}
	if err := d.end(); err != nil {
		return nil, err
	}
	return r, nil
}

// withdraw tells the creator that the buyer will never pay an offer (its
// payment failed for good), so that the creator cancels the invoice and
// frees the shares at once rather than at expiry.
type withdraw struct{ ID OfferID }

func (r *withdraw) encode() []byte {
	e := newEncoder(typeWithdraw)
	e.raw(r.ID[:])
	return e.b
}

func decodeWithdraw(body []byte) (*withdraw, error) {
	d := header(body, typeWithdraw, "withdraw")
	r := &withdraw{ID: d.offerID("id")}
	if err := d.end(); err != nil {
		return nil, err
	}
	return r, nil
}

// delivery answers the payment of an offer: what was bought, encrypted to
// the buyer's recipient, and the receipt.
type delivery struct {
	ID OfferID
	// Payload is, for model pay, the envelope of the content identity
	// (seal.WrapIdentity); for model shards, an age file holding the
	// shares' 36-byte encodings in index order; empty for donations.
	Payload []byte
	Receipt *Receipt
}

func (v *delivery) encode() []byte {
	e := newEncoder(typeDelivery)
	e.raw(v.ID[:])
	e.bytes(v.Payload)
	e.bytes(v.Receipt.Marshal())
	return e.b
}

func decodeDelivery(body []byte) (*delivery, error) {
	d := header(body, typeDelivery, "delivery")
	v := &delivery{ID: d.offerID("id"), Payload: d.bytes("payload", 0, MaxMessageSize)}
	rb := d.bytes("receipt", 1, maxReceipt)
	if err := d.end(); err != nil {
		return nil, err
	}
	r, err := DecodeReceipt(rb)
	if err != nil {
		return nil, fmt.Errorf("delivery's receipt: %w", err)
	}
	v.Receipt = r
	return v, nil
}

// errorMsg refuses a request.
type errorMsg struct {
	Code    Code
	Message string
	Voucher []byte // CodeExpired: the rail's refund voucher, if any
}

func (m *errorMsg) encode() []byte {
	e := newEncoder(typeError)
	e.byte1(byte(m.Code))
	e.str(m.Message)
	e.bytes(m.Voucher)
	return e.b
}

func decodeError(body []byte) (*errorMsg, error) {
	d := header(body, typeError, "error")
	m := &errorMsg{Code: Code(d.byte1("code")), Message: d.str("message", 0, maxMessage), Voucher: d.bytes("voucher", 0, maxProof)}
	if d.err == nil && m.Code == 0 {
		d.fail("code", "zero")
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	if len(m.Voucher) == 0 {
		m.Voucher = nil
	}
	return m, nil
}

// decodeMessage decodes a body of any type sent alone.
func decodeMessage(body []byte) (any, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", errWire)
	}
	switch body[0] {
	case typeQuote:
		return decodeQuote(body)
	case typeOffer, typeLockedOffer:
		return DecodeOffer(body)
	case typePledged:
		return decodePledged(body)
	case typePay:
		return decodePayment(body)
	case typeRedeliver:
		return decodeRedeliver(body)
	case typeWithdraw:
		return decodeWithdraw(body)
	case typeDelivery:
		return decodeDelivery(body)
	case typeError:
		return decodeError(body)
	}
	return nil, fmt.Errorf("%w: unknown message type %d", errWire, body[0])
}
