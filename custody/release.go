package custody

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/shardcast/shardcast/shares"
)

// A Release is a custodian's part, published in clear at or after the
// deadline, signed by the custodian. At is the time the custodian says it
// released, in whole seconds. A Release that decodes has a valid
// signature; Collector.Add checks the rest against the terms.
type Release struct {
	TermsHash Hash
	At        time.Time
	Part      shares.Part
	Custodian ed25519.PublicKey
	Sig       []byte
}

// NewRelease signs the custodian's release of part at time at.
func NewRelease(custodian crypto.PrivKey, termsHash Hash, at time.Time, part shares.Part) (*Release, error) {
	if at.Unix() <= 0 {
		return nil, fmt.Errorf("custody: release dated %v", at)
	}
	r := &Release{TermsHash: termsHash, At: time.Unix(at.Unix(), 0), Part: part}
	pub, err := rawKey(custodian.GetPublic())
	if err != nil {
		return nil, err
	}
	_, sig, err := sign(custodian, releaseContext, r.body(pub))
	if err != nil {
		return nil, err
	}
	r.Custodian, r.Sig = pub, sig
	return r, nil
}

func (r *Release) body(key ed25519.PublicKey) []byte {
	b := append([]byte(releaseMagic), version)
	b = append(b, r.TermsHash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.At.Unix()))
	pb, _ := r.Part.MarshalBinary()
	b = append(b, pb...)
	return append(b, key...)
}

// MarshalBinary encodes r: ReleaseSize bytes.
func (r *Release) MarshalBinary() ([]byte, error) {
	if len(r.Custodian) != ed25519.PublicKeySize || len(r.Sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("custody: encoding an unsigned release")
	}
	return append(r.body(r.Custodian), r.Sig...), nil
}

// UnmarshalBinary decodes a release and checks its signature.
func (r *Release) UnmarshalBinary(b []byte) error {
	rd := reader{b: b, msg: "custody release"}
	rd.header(releaseMagic)
	var n Release
	copy(n.TermsHash[:], rd.next(32, "terms hash"))
	at := rd.u64("time")
	if rd.err == nil && (at == 0 || at > 1<<40) {
		rd.fail("time %d out of range", at)
	}
	n.At = time.Unix(int64(at), 0)
	pb := rd.next(shares.PartSize, "part")
	n.Custodian = bytes.Clone(rd.key("custodian key"))
	n.Sig = bytes.Clone(rd.next(ed25519.SignatureSize, "signature"))
	if err := rd.end(); err != nil {
		return err
	}
	if err := n.Part.UnmarshalBinary(pb); err != nil {
		return fmt.Errorf("custody: decoding release: %w", err)
	}
	if err := verify(n.Custodian, releaseContext, n.body(n.Custodian), n.Sig); err != nil {
		return fmt.Errorf("custody: release signature: %w", err)
	}
	*r = n
	return nil
}

// ErrMisbehaviour is wrapped by the error of a release that proves its
// custodian misbehaved: Collector.Add returns a Proof with it.
var ErrMisbehaviour = errors.New("custodian misbehaved")

// misbehaviour returns why a signed release of terms t proves its
// custodian misbehaved, or nil if it does not. The release must be for t
// (its terms hash) and by one of t's custodians.
func misbehaviour(t *Terms, r *Release) error {
	idx := t.Index(r.Custodian)
	switch {
	case r.At.Before(t.Deadline):
		return fmt.Errorf("%w: part %d released at %v, before the deadline %v", ErrMisbehaviour, idx, r.At.UTC(), t.Deadline.UTC())
	case int(r.Part.Index) != idx:
		return fmt.Errorf("%w: custodian %d released part %d", ErrMisbehaviour, idx, r.Part.Index)
	}
	if err := t.Custody.VerifyPart(r.Part); err != nil {
		return fmt.Errorf("%w: custodian %d released a part that fails the commitments", ErrMisbehaviour, idx)
	}
	return nil
}

// A Proof that a custodian misbehaved: the terms it accepted and a
// release it signed that is early or false. Anyone can check it with
// Verify, knowing nothing else.
type Proof struct {
	Terms   *Terms
	Release *Release
}

// MarshalBinary encodes p.
func (p *Proof) MarshalBinary() ([]byte, error) {
	te, err := p.Terms.MarshalBinary()
	if err != nil {
		return nil, err
	}
	re, err := p.Release.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := append([]byte(proofMagic), version)
	b = appendVec(b, te)
	return appendVec(b, re), nil
}

// UnmarshalBinary decodes a proof; it checks the release's signature but
// not the misbehaviour (Verify).
func (p *Proof) UnmarshalBinary(b []byte) error {
	r := reader{b: b, msg: "custody proof"}
	r.header(proofMagic)
	te := r.vec(1, MaxTerms, "terms")
	re := r.vec(ReleaseSize, ReleaseSize, "release")
	if err := r.end(); err != nil {
		return err
	}
	var n Proof
	n.Terms, n.Release = new(Terms), new(Release)
	if err := n.Terms.UnmarshalBinary(te); err != nil {
		return fmt.Errorf("custody: decoding proof: %w", err)
	}
	if err := n.Release.UnmarshalBinary(re); err != nil {
		return fmt.Errorf("custody: decoding proof: %w", err)
	}
	*p = n
	return nil
}

// Verify checks the proof and returns the culprit's key and an error
// wrapping ErrMisbehaviour that says what it did; any other error means
// the proof proves nothing.
func (p *Proof) Verify() (ed25519.PublicKey, error) {
	th, err := p.Terms.Hash()
	if err != nil {
		return nil, err
	}
	if p.Release.TermsHash != th {
		return nil, fmt.Errorf("custody: proof's release is for other terms")
	}
	if p.Terms.Index(p.Release.Custodian) == 0 {
		return nil, fmt.Errorf("custody: proof's release: %w", errNotCustodian)
	}
	if err := verify(p.Release.Custodian, releaseContext, p.Release.body(p.Release.Custodian), p.Release.Sig); err != nil {
		return nil, fmt.Errorf("custody: proof's release: %w", err)
	}
	why := misbehaviour(p.Terms, p.Release)
	if why == nil {
		return nil, fmt.Errorf("custody: proof's release is valid: it proves nothing")
	}
	return p.Release.Custodian, why
}
