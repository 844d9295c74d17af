package custody

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/shares"
)

// The encodings (all integers big-endian, "vec" = 2-byte length then the
// bytes; nothing may follow the last field):
//
//	Terms      "SCCT" 1 | vec campaign (1–128) | creator key 32 | X 32 |
//	           deadline 8 (Unix seconds, > 0) | M 1 | M custodian keys 32 each |
//	           vec commitments (shares.Custody, CustodySize(T) bytes)
//	Deal       "SCCL" 1 | vec terms | index 1 | vec sealed part (age file) |
//	           creator's signature 64
//	Acceptance "SCCA" 1 | terms hash 32 | index 1 | deal hash 32 |
//	           custodian key 32 | custodian's signature 64
//	Release    "SCCR" 1 | terms hash 32 | at 8 (Unix seconds) | part 33 |
//	           custodian key 32 | custodian's signature 64
//	Proof      "SCCP" 1 | vec terms | vec release
//
// Keys are Ed25519 public keys (the libp2p peer keys); a signature is
// Ed25519 over its context string followed by every byte of the message
// before the signature.
const (
	version = 1

	termsMagic   = "SCCT"
	dealMagic    = "SCCL"
	acceptMagic  = "SCCA"
	releaseMagic = "SCCR"
	proofMagic   = "SCCP"

	// The signing contexts, distinct from every other message of the
	// protocol (docs/PROTOCOL.md lists them all).
	dealContext    = "shardcast-custody-deal-v1:"
	acceptContext  = "shardcast-custody-accept-v1:"
	releaseContext = "shardcast-custody-release-v1:"
	// termsHashContext prefixes the terms when hashing them.
	termsHashContext = "shardcast-custody-terms-v1:"

	// MaxCampaignID bounds the campaign identity a deal names (a binary
	// CID is about 36 bytes).
	MaxCampaignID = 128
	// MaxSealedPart bounds the age file holding a custodian's part: one
	// X25519 stanza and 33 bytes of payload take about 250.
	MaxSealedPart = 1024
	// MaxTerms is the largest encoding of terms: 255 custodians and a
	// threshold of 255.
	MaxTerms = 4 + 1 + 2 + MaxCampaignID + 32 + 32 + 8 + 1 + shares.MaxCustodians*32 + 2 + 7 + shares.MaxCustodians*shares.PointSize
	// MaxDeal is the largest encoding of a deal.
	MaxDeal = 4 + 1 + 2 + MaxTerms + 1 + 2 + MaxSealedPart + ed25519.SignatureSize
	// ReleaseSize is the size of every release.
	ReleaseSize = 4 + 1 + 32 + 8 + shares.PartSize + 32 + ed25519.SignatureSize
	// MaxProof is the largest encoding of a proof.
	MaxProof = 4 + 1 + 2 + MaxTerms + 2 + ReleaseSize
)

// Hash is a SHA-256 digest naming a message.
type Hash [sha256.Size]byte

// String returns the hash in hexadecimal.
func (h Hash) String() string { return fmt.Sprintf("%x", h[:]) }

// Terms are the public part of one campaign's custody, the same for every
// custodian: which campaign, whose, the secret's commitment X, the
// deadline, the custodians in index order (custodian j holds part j) and
// the commitments to the polynomial. Anyone who has the terms can verify
// acceptances, releases and proofs.
type Terms struct {
	Campaign   []byte            // the campaign's identity (its binary CID)
	Creator    ed25519.PublicKey // the creator's peer key
	X          [shares.PointSize]byte
	Deadline   time.Time // whole seconds
	Custodians []ed25519.PublicKey
	Custody    *shares.Custody // T = Custody.T(), M = len(Custodians)
}

// MarshalBinary encodes t as above. It fails on terms the decoder would
// refuse.
func (t *Terms) MarshalBinary() ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	b, err := t.marshalUnchecked()
	if err != nil {
		return nil, fmt.Errorf("custody: encoding terms: %w", err)
	}
	return b, nil
}

// Hash returns the hash that acceptances and releases sign:
// SHA-256("shardcast-custody-terms-v1:" + encoding).
func (t *Terms) Hash() (Hash, error) {
	b, err := t.MarshalBinary()
	if err != nil {
		return Hash{}, err
	}
	return sha256.Sum256(signed(termsHashContext, b)), nil
}

// T returns the threshold: how many parts rebuild the secret.
func (t *Terms) T() int { return t.Custody.T() }

// Index returns custodian key's index (1 … M), or 0 if it is not one of
// the custodians.
func (t *Terms) Index(key ed25519.PublicKey) int {
	for i, k := range t.Custodians {
		if bytes.Equal(k, key) {
			return i + 1
		}
	}
	return 0
}

func (t *Terms) check() error {
	switch {
	case len(t.Campaign) < 1 || len(t.Campaign) > MaxCampaignID:
		return fmt.Errorf("custody: terms name a campaign of %d bytes, want 1 to %d", len(t.Campaign), MaxCampaignID)
	case len(t.Creator) != ed25519.PublicKeySize:
		return fmt.Errorf("custody: terms' creator key is %d bytes, want %d", len(t.Creator), ed25519.PublicKeySize)
	case t.Deadline.Unix() <= 0 || !t.Deadline.Equal(time.Unix(t.Deadline.Unix(), 0)):
		return fmt.Errorf("custody: terms' deadline %v is not a whole second after 1970", t.Deadline)
	case len(t.Custodians) < 1 || len(t.Custodians) > shares.MaxCustodians:
		return fmt.Errorf("custody: terms name %d custodians, want 1 to %d", len(t.Custodians), shares.MaxCustodians)
	case t.Custody == nil || t.Custody.M() != len(t.Custodians):
		return fmt.Errorf("custody: terms' commitments are not for %d custodians", len(t.Custodians))
	}
	for i, k := range t.Custodians {
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("custody: terms' custodian %d key is %d bytes, want %d", i+1, len(k), ed25519.PublicKeySize)
		}
		for _, o := range t.Custodians[:i] {
			if bytes.Equal(k, o) {
				return fmt.Errorf("custody: terms name custodian %d twice", i+1)
			}
		}
	}
	if err := t.Custody.CheckX(t.X); err != nil {
		return fmt.Errorf("custody: terms' commitments: %w", err)
	}
	return nil
}

// UnmarshalBinary decodes terms, refusing any encoding but the canonical
// one, repeated custodians, and commitments whose A_0 is not X.
func (t *Terms) UnmarshalBinary(b []byte) error {
	r := reader{b: b, msg: "custody terms"}
	r.header(termsMagic)
	var n Terms
	n.Campaign = bytes.Clone(r.vec(1, MaxCampaignID, "campaign"))
	n.Creator = bytes.Clone(r.key("creator key"))
	copy(n.X[:], r.next(shares.PointSize, "X"))
	d := r.u64("deadline")
	if r.err == nil && (d == 0 || d > 1<<40) {
		r.fail("deadline %d out of range", d)
	}
	n.Deadline = time.Unix(int64(d), 0)
	m := int(r.u8("custodian count"))
	for range m {
		n.Custodians = append(n.Custodians, bytes.Clone(r.key("custodian key")))
	}
	c := r.vec(shares.CustodySize(1), shares.CustodySize(shares.MaxCustodians), "commitments")
	if err := r.end(); err != nil {
		return err
	}
	n.Custody = new(shares.Custody)
	if err := n.Custody.UnmarshalBinary(c); err != nil {
		return fmt.Errorf("custody: decoding terms: %w", err)
	}
	if err := n.check(); err != nil {
		return err
	}
	*t = n
	return nil
}

// PeerID returns the peer ID of an Ed25519 peer key.
func PeerID(key ed25519.PublicKey) (peer.ID, error) {
	pub, err := crypto.UnmarshalEd25519PublicKey(key)
	if err != nil {
		return "", fmt.Errorf("custody: peer key: %w", err)
	}
	return peer.IDFromPublicKey(pub)
}

// PeerKey returns the Ed25519 key of a peer ID, which holds it inline;
// custodians and creators must have Ed25519 keys.
func PeerKey(id peer.ID) (ed25519.PublicKey, error) {
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return nil, fmt.Errorf("custody: key of peer %s: %w", id, err)
	}
	return rawKey(pub)
}

func rawKey(pub crypto.PubKey) (ed25519.PublicKey, error) {
	if pub.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("custody: peer key is of type %v, want Ed25519", pub.Type())
	}
	raw, err := pub.Raw()
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("custody: reading Ed25519 peer key: %v", err)
	}
	return ed25519.PublicKey(raw), nil
}

// sign signs context + msg with a libp2p Ed25519 key and returns its
// public key.
func sign(key crypto.PrivKey, context string, msg []byte) (ed25519.PublicKey, []byte, error) {
	pub, err := rawKey(key.GetPublic())
	if err != nil {
		return nil, nil, err
	}
	sig, err := key.Sign(signed(context, msg))
	if err != nil {
		return nil, nil, fmt.Errorf("custody: signing: %w", err)
	}
	return pub, sig, nil
}

// errNotCustodian says a key is not among the terms' custodians.
var errNotCustodian = errors.New("not a custodian of these terms")

// marshalUnchecked encodes t without checking it.
func (t *Terms) marshalUnchecked() ([]byte, error) {
	c, err := t.Custody.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := append([]byte(termsMagic), version)
	b = appendVec(b, t.Campaign)
	b = append(b, t.Creator...)
	b = append(b, t.X[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Deadline.Unix()))
	b = append(b, byte(len(t.Custodians)))
	for _, k := range t.Custodians {
		b = append(b, k...)
	}
	return appendVec(b, c), nil
}
