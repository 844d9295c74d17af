package market

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/shares"
)

// Atomic delivery. On a rail that reveals preimages (pay.Revealer), a
// sale of shares is sealed: the creator picks a random key k, seals the
// shares under it, and issues a hold invoice whose payment hash is
// SHA-256(k). Paying the invoice reveals k to the buyer, so the buyer
// holds the shares the moment the creator takes the money — even if the
// creator then vanishes. If the shares k opens are not the shares the
// signed offer names, the offer and k together prove it to anyone.

const (
	lockSize     = sha256.Size // Offer.Lock
	keySize      = chacha20poly1305.KeySize
	sealOverhead = chacha20poly1305.Overhead
	sealContext  = "shardcast-market-sealed-v1:"
	pledgeCtx    = "shardcast-market-pledge-v1:"
	proofMagic   = "SCMP\x01"
)

// sealShares seals the encoded shares of an offer under k:
// ChaCha20-Poly1305 with k as the key, a zero nonce (k seals one message
// only) and the context and offer ID as associated data.
func sealShares(k []byte, id OfferID, plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.New(k)
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, make([]byte, aead.NonceSize()), plain, append([]byte(sealContext), id[:]...)), nil
}

// openSealed opens what sealShares sealed.
func openSealed(k []byte, id OfferID, sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.New(k)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, make([]byte, aead.NonceSize()), sealed, append([]byte(sealContext), id[:]...))
}

// openLocked opens the sealed shares of a locked offer with the key the
// payment revealed and checks each against the commitments. Any failure
// is the creator's: the offer is signed and k matches its lock.
func openLocked(o *Offer, k []byte, c *shares.Commitments) ([]shares.Share, error) {
	if len(k) != keySize || !bytes.Equal(sha256Of(k), o.Lock) {
		return nil, fmt.Errorf("key does not match the offer's lock")
	}
	plain, err := openSealed(k, o.ID, o.Sealed)
	if err != nil {
		return nil, fmt.Errorf("the sealed shares do not open: %w", err)
	}
	defer clear(plain)
	return decodeShares(o, plain, c)
}

// decodeShares decodes the encodings of an offer's shares, in its index
// order, and verifies each against the commitments.
func decodeShares(o *Offer, plain []byte, c *shares.Commitments) ([]shares.Share, error) {
	if len(plain) != len(o.Indices)*shares.ShareSize {
		return nil, fmt.Errorf("%d bytes of shares, want %d", len(plain), len(o.Indices)*shares.ShareSize)
	}
	out := make([]shares.Share, len(o.Indices))
	for i := range out {
		if err := out[i].UnmarshalBinary(plain[i*shares.ShareSize : (i+1)*shares.ShareSize]); err != nil {
			return nil, err
		}
		if out[i].Index != o.Indices[i] {
			return nil, fmt.Errorf("share %d delivered in place of %d", out[i].Index, o.Indices[i])
		}
	}
	if err := c.VerifyBatch(out); err != nil {
		return nil, err
	}
	return out, nil
}

func sha256Of(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// pledged answers the payment of a pledge in an all-or-nothing campaign:
// the creator holds the buyer's funds until the campaign's deadline, then
// settles (the shares arrive with the preimage) or cancels (the funds
// return). It is signed like offers, over its own context.
type pledged struct {
	ID    OfferID
	Until time.Time // the campaign's deadline
	Sig   []byte
}

func (p *pledged) unsigned() []byte {
	e := newEncoder(typePledged)
	e.raw(p.ID[:])
	e.time(p.Until)
	return e.b
}

func (p *pledged) encode() []byte { return append(p.unsigned(), p.Sig...) }

func (p *pledged) sign(key crypto.PrivKey) (err error) {
	p.Sig, err = sign(key, pledgeCtx, p.unsigned())
	return err
}

func (p *pledged) verify(m *campaign.Manifest) error {
	pub, err := creatorKey(m)
	if err == nil {
		err = verify(pub, pledgeCtx, p.unsigned(), p.Sig)
	}
	if err != nil {
		return fmt.Errorf("pledge of offer %v: %v: %w", p.ID, err, ErrBadOffer)
	}
	return nil
}

func decodePledged(body []byte) (*pledged, error) {
	d := header(body, typePledged, "pledged")
	p := &pledged{ID: d.offerID("id"), Until: d.time("until"), Sig: d.raw("sig", sigSize)}
	if err := d.end(); err != nil {
		return nil, err
	}
	return p, nil
}

// ErrNotProof is wrapped by every error of Proof.Verify: the bytes do not
// prove that the creator cheated.
var ErrNotProof = errors.New("not a proof of misbehaviour")

// A Proof shows that a creator sold bad shares: its signed, locked offer
// and the key k that paying the offer's invoice revealed. k hashes to the
// offer's lock, so only the creator could have chosen it; yet what it
// opens is not the shares the offer names. The campaign's manifest comes
// along, so the proof stands alone but for the commitments.
//
// Encoding: "SCMP" 0x01, the manifest (uvarint length, campaign.Encode's
// bytes), the offer (uvarint length, Offer.Marshal), then k (32 bytes).
type Proof struct {
	Manifest []byte
	Offer    *Offer
	Key      []byte
}

// Marshal returns the proof's encoding.
func (p *Proof) Marshal() []byte {
	e := &encoder{b: []byte(proofMagic)}
	e.bytes(p.Manifest)
	e.bytes(p.Offer.Marshal())
	e.raw(p.Key)
	return e.b
}

// DecodeProof parses an encoded proof; Verify checks it.
func DecodeProof(b []byte) (*Proof, error) {
	if !bytes.HasPrefix(b, []byte(proofMagic)) {
		return nil, fmt.Errorf("market: decoding proof: no %q header: %w", proofMagic[:4], ErrNotProof)
	}
	d := &decoder{b: b[len(proofMagic):]}
	p := &Proof{Manifest: d.bytes("manifest", 1, campaign.MaxManifestSize)}
	ob := d.bytes("offer", 1, MaxMessageSize)
	p.Key = d.raw("key", keySize)
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("market: decoding proof: %w: %w", err, ErrNotProof)
	}
	o, err := DecodeOffer(ob)
	if err != nil {
		return nil, fmt.Errorf("market: decoding proof's offer: %w: %w", err, ErrNotProof)
	}
	p.Offer = o
	return p, nil
}

// Check verifies everything a proof claims except the shares: the
// manifest and its signature, that the offer is for that campaign, locked
// and signed by its creator, and that k opens the lock. It returns the
// manifest, whose commitments Verify needs.
func (p *Proof) Check() (*campaign.Manifest, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("market: proof: %s: %w", fmt.Sprintf(format, args...), ErrNotProof)
	}
	if p.Offer == nil {
		return nil, bad("no offer")
	}
	m, err := campaign.Decode(p.Manifest)
	if err != nil {
		return nil, bad("manifest: %v", err)
	}
	o := p.Offer
	if id := campaign.ID(p.Manifest); !id.Equals(o.Campaign) {
		return nil, bad("offer %v is for campaign %v, the manifest is %v", o.ID, o.Campaign, id)
	}
	if m.Model != campaign.ModelShards || o.Lock == nil {
		return nil, bad("offer %v sells no sealed shares", o.ID)
	}
	if err := o.Verify(m); err != nil {
		return nil, bad("%v", err)
	}
	if len(p.Key) != keySize || !bytes.Equal(sha256Of(p.Key), o.Lock) {
		return nil, bad("the key does not open offer %v's lock", o.ID)
	}
	return m, nil
}

// Verify returns why the proof shows that the creator cheated, given the
// campaign's commitments (the caller checks that they are the ones the
// manifest names); an error wrapping ErrNotProof if it does not.
func (p *Proof) Verify(c *shares.Commitments) (reason string, err error) {
	m, err := p.Check()
	if err != nil {
		return "", err
	}
	if c == nil || c.N() != m.Shards {
		return "", fmt.Errorf("market: proof: no commitments for the campaign's %d shares: %w", m.Shards, ErrNotProof)
	}
	if _, err := openLocked(p.Offer, p.Key, c); err != nil {
		return fmt.Sprintf("offer %v sold shares %s of campaign %v that fail: %v",
			p.Offer.ID, indexList(p.Offer.Indices), p.Offer.Campaign, err), nil
	}
	return "", fmt.Errorf("market: proof: the shares of offer %v are good: %w", p.Offer.ID, ErrNotProof)
}

// Campaign returns the campaign the proof is about.
func (p *Proof) Campaign() cid.Cid { return p.Offer.Campaign }

// Creator returns the creator the proof accuses, as the manifest names it
// (valid once Check passed).
func (p *Proof) Creator() (peer.ID, error) {
	m, err := p.Check()
	if err != nil {
		return "", err
	}
	return m.Creator, nil
}

// indexList prints a few indices.
func indexList(v []uint32) string {
	if len(v) > 8 {
		return fmt.Sprintf("%v… (%d)", v[:8], len(v))
	}
	return fmt.Sprint(v)
}

// corruptFirstShare flips the low bit of the first share's value in the
// encoded shares of a locked offer (a 4-byte index, then the 32-byte
// little-endian scalar: still a canonical scalar, but not the committed
// one). Tests that play a cheating creator seal with it.
func corruptFirstShare(_ *Offer, plain []byte) {
	if len(plain) > 4 {
		plain[4] ^= 1
	}
}
