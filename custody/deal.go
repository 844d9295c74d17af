package custody

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// IdentityPurpose derives a custodian's age identity from its libp2p key
// (seal.DeriveIdentity). It is not the node's identity, to which creators
// wrap the keys a node buys: a custodian publishes what it decrypted at
// the deadline, so the key it decrypts deals with must never open
// anything else, or a forged deal could make it publish a buyer's key.
const IdentityPurpose = "shardcast custody identity v1"

// Identity returns the custodian's age identity for a libp2p private key.
func Identity(key crypto.PrivKey) (*age.X25519Identity, error) {
	raw, err := key.Raw()
	if err != nil {
		return nil, fmt.Errorf("custody: reading peer key: %w", err)
	}
	return seal.DeriveIdentity(raw, IdentityPurpose)
}

// A Deal gives one custodian its part: the terms, the custodian's index
// in them, and its part sealed to it alone, signed by the creator. A Deal
// that decodes has a valid creator signature.
type Deal struct {
	Terms  *Terms
	Index  uint8  // 1 … M: Terms.Custodians[Index-1] holds the part
	Sealed []byte // an age file to the custodian's identity holding the 33-byte part
	Sig    []byte

	enc []byte
}

// NewDeal seals part to recipient and signs the deal with the creator's
// key, which must be the terms' creator.
func NewDeal(creator crypto.PrivKey, t *Terms, part shares.Part, recipient age.Recipient) (*Deal, error) {
	te, err := t.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if int(part.Index) < 1 || int(part.Index) > len(t.Custodians) {
		return nil, fmt.Errorf("custody: dealing part %d of %d", part.Index, len(t.Custodians))
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipient)
	if err != nil {
		return nil, fmt.Errorf("custody: sealing part %d: %w", part.Index, err)
	}
	pb, _ := part.MarshalBinary()
	if _, err := w.Write(pb); err != nil {
		return nil, fmt.Errorf("custody: sealing part %d: %w", part.Index, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("custody: sealing part %d: %w", part.Index, err)
	}
	if buf.Len() > MaxSealedPart {
		return nil, fmt.Errorf("custody: sealed part is %d bytes, over %d", buf.Len(), MaxSealedPart)
	}
	b := dealBody(te, part.Index, buf.Bytes())
	pub, sig, err := sign(creator, dealContext, b)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pub, t.Creator) {
		return nil, fmt.Errorf("custody: signing a deal with a key that is not the terms' creator")
	}
	return &Deal{Terms: t, Index: part.Index, Sealed: buf.Bytes(), Sig: sig, enc: append(b, sig...)}, nil
}

func dealBody(terms []byte, index uint8, sealed []byte) []byte {
	b := append([]byte(dealMagic), version)
	b = appendVec(b, terms)
	b = append(b, index)
	return appendVec(b, sealed)
}

// MarshalBinary returns the deal's encoding.
func (d *Deal) MarshalBinary() ([]byte, error) {
	if d.enc == nil {
		return nil, fmt.Errorf("custody: encoding a deal that was not made by NewDeal or decoded")
	}
	return bytes.Clone(d.enc), nil
}

// Hash returns SHA-256 of the deal's encoding, which acceptances sign.
func (d *Deal) Hash() Hash { return sha256.Sum256(d.enc) }

// Custodian returns the key of the custodian the deal is for.
func (d *Deal) Custodian() ed25519.PublicKey { return d.Terms.Custodians[d.Index-1] }

// UnmarshalBinary decodes a deal and checks the creator's signature.
func (d *Deal) UnmarshalBinary(b []byte) error {
	r := reader{b: b, msg: "custody deal"}
	r.header(dealMagic)
	te := r.vec(1, MaxTerms, "terms")
	idx := r.u8("index")
	sealed := r.vec(1, MaxSealedPart, "sealed part")
	sig := r.next(ed25519.SignatureSize, "signature")
	if err := r.end(); err != nil {
		return err
	}
	t := new(Terms)
	if err := t.UnmarshalBinary(te); err != nil {
		return fmt.Errorf("custody: decoding deal: %w", err)
	}
	if idx < 1 || int(idx) > len(t.Custodians) {
		return fmt.Errorf("custody: decoding deal: index %d, want 1 to %d", idx, len(t.Custodians))
	}
	body := b[:len(b)-ed25519.SignatureSize]
	if err := verify(t.Creator, dealContext, body, sig); err != nil {
		return fmt.Errorf("custody: deal's creator signature: %w", err)
	}
	*d = Deal{Terms: t, Index: idx, Sealed: bytes.Clone(sealed), Sig: bytes.Clone(sig), enc: bytes.Clone(b)}
	return nil
}

// Open decrypts the deal's part with the custodian's identity and checks
// it: its index is the deal's, and it verifies against the commitments
// (which the terms already bound to X).
func (d *Deal) Open(id age.Identity) (shares.Part, error) {
	var p shares.Part
	rd, err := age.Decrypt(bytes.NewReader(d.Sealed), id)
	if err != nil {
		return p, fmt.Errorf("custody: opening part %d: %w", d.Index, err)
	}
	pb, err := io.ReadAll(io.LimitReader(rd, shares.PartSize+1))
	if err != nil {
		return p, fmt.Errorf("custody: opening part %d: %w", d.Index, err)
	}
	if err := p.UnmarshalBinary(pb); err != nil {
		return p, fmt.Errorf("custody: opening part %d: %w", d.Index, err)
	}
	if p.Index != d.Index {
		return shares.Part{}, fmt.Errorf("custody: deal %d holds part %d", d.Index, p.Index)
	}
	if err := d.Terms.Custody.VerifyPart(p); err != nil {
		return shares.Part{}, fmt.Errorf("custody: part %d: %w", d.Index, err)
	}
	return p, nil
}

// An Acceptance is a custodian's word that it checked and keeps its part
// of a deal: its signature over the terms' hash, its index and the
// deal's hash. An Acceptance that decodes has a valid signature; Check
// binds it to terms.
type Acceptance struct {
	TermsHash Hash
	Index     uint8
	DealHash  Hash
	Custodian ed25519.PublicKey
	Sig       []byte
}

// AcceptanceSize is the size of every acceptance.
const AcceptanceSize = 4 + 1 + 32 + 1 + 32 + 32 + ed25519.SignatureSize

// Accept signs the custodian's acceptance of d.
func Accept(custodian crypto.PrivKey, d *Deal) (*Acceptance, error) {
	th, err := d.Terms.Hash()
	if err != nil {
		return nil, err
	}
	a := &Acceptance{TermsHash: th, Index: d.Index, DealHash: d.Hash()}
	pub, sig, err := sign(custodian, acceptContext, a.body(d.Custodian()))
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(pub, d.Custodian()) {
		return nil, fmt.Errorf("custody: accepting deal %d with a key that is not its custodian's", d.Index)
	}
	a.Custodian, a.Sig = pub, sig
	return a, nil
}

func (a *Acceptance) body(key ed25519.PublicKey) []byte {
	b := append([]byte(acceptMagic), version)
	b = append(b, a.TermsHash[:]...)
	b = append(b, a.Index)
	b = append(b, a.DealHash[:]...)
	return append(b, key...)
}

// MarshalBinary encodes a.
func (a *Acceptance) MarshalBinary() ([]byte, error) {
	if len(a.Custodian) != ed25519.PublicKeySize || len(a.Sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("custody: encoding an unsigned acceptance")
	}
	return append(a.body(a.Custodian), a.Sig...), nil
}

// UnmarshalBinary decodes an acceptance and checks its signature.
func (a *Acceptance) UnmarshalBinary(b []byte) error {
	r := reader{b: b, msg: "custody acceptance"}
	r.header(acceptMagic)
	var n Acceptance
	copy(n.TermsHash[:], r.next(32, "terms hash"))
	n.Index = r.u8("index")
	copy(n.DealHash[:], r.next(32, "deal hash"))
	n.Custodian = bytes.Clone(r.key("custodian key"))
	n.Sig = bytes.Clone(r.next(ed25519.SignatureSize, "signature"))
	if err := r.end(); err != nil {
		return err
	}
	if n.Index == 0 {
		return fmt.Errorf("custody: decoding custody acceptance: index 0")
	}
	if err := verify(n.Custodian, acceptContext, n.body(n.Custodian), n.Sig); err != nil {
		return fmt.Errorf("custody: acceptance signature: %w", err)
	}
	*a = n
	return nil
}

// Check reports whether a is the acceptance of terms t by its custodian
// at a.Index; its signature was checked when it was made or decoded.
func (a *Acceptance) Check(t *Terms) error {
	th, err := t.Hash()
	if err != nil {
		return err
	}
	if a.TermsHash != th {
		return fmt.Errorf("custody: acceptance is for other terms")
	}
	if a.Index == 0 || int(a.Index) > len(t.Custodians) || !bytes.Equal(t.Custodians[a.Index-1], a.Custodian) {
		return fmt.Errorf("custody: acceptance of part %d is not signed by its custodian", a.Index)
	}
	return nil
}
