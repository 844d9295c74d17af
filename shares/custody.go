package shares

import (
	"bytes"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"io"

	"filippo.io/edwards25519"
)

// The custody commitments format, version 1:
//
//	offset  size  field
//	0       4     magic "SCCD"
//	4       1     version, 0x01
//	5       1     T, the threshold, 1 ≤ T ≤ M
//	6       1     M, the number of custodians, 1 ≤ M ≤ MaxCustodians
//	7       32·T  A_0 … A_{T-1}, A_k = a_k·G, canonical encodings;
//	              A_{T-1} is not the identity when T ≥ 2
//
// Nothing follows. A Part is the index j (one byte, 1 ≤ j ≤ M) then
// f(j), a canonical scalar: 33 bytes.
const (
	custodyMagic   = "SCCD"
	custodyVersion = 1
	custodyHeader  = 4 + 1 + 1 + 1

	// MaxCustodians is the largest number of custodians Deal deals to and
	// the encodings accept. Part indices 1 … 255 fit one byte; a campaign
	// asks each custodian to accept its part at publish and verifying a
	// part costs O(T), so a few dozen custodians is already a large
	// committee.
	MaxCustodians = 255
	// PartSize is the size of an encoded Part: index then value.
	PartSize = 1 + ScalarSize
)

// ErrBadPart is wrapped by every error that says a custody part is not
// what the commitments promise. Errors about one given part are a
// *PartError, which names it.
var ErrBadPart = errors.New("bad custody part")

// ErrTooFewParts is wrapped by the error of CombineParts when it is given
// fewer than T parts with distinct indices.
var ErrTooFewParts = errors.New("too few custody parts")

// PartError says which custody part is bad and why. It wraps ErrBadPart.
type PartError struct {
	// Index is the index of the bad part as given (it may be out of range).
	Index uint8
	// Reason says what is wrong with it, without its value.
	Reason string
}

func (e *PartError) Error() string {
	return fmt.Sprintf("shares: custody part %d: %s", e.Index, e.Reason)
}

// Unwrap returns ErrBadPart.
func (e *PartError) Unwrap() error { return ErrBadPart }

// Part is one custodian's part of a campaign secret: f(Index) for the
// dealt polynomial f with f(0) = x. Value is a canonical scalar (32
// bytes, little-endian) and Index is in [1, M].
type Part struct {
	Index uint8
	Value [ScalarSize]byte
}

// MarshalBinary encodes p as 33 bytes: Index, then Value.
func (p Part) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, PartSize))
}

// AppendBinary appends the 33-byte encoding of p to b.
func (p Part) AppendBinary(b []byte) ([]byte, error) {
	return append(append(b, p.Index), p.Value[:]...), nil
}

// UnmarshalBinary decodes a 33-byte part. It rejects any other length,
// index 0 (f(0) is the secret itself, never a part) and a value that is
// not a canonical scalar, so that an accepted part re-encodes to the same
// bytes. Whether the index is at most M is for VerifyPart to say.
func (p *Part) UnmarshalBinary(b []byte) error {
	if len(b) != PartSize {
		return fmt.Errorf("shares: custody part is %d bytes, want %d", len(b), PartSize)
	}
	if b[0] == 0 {
		return &PartError{Index: 0, Reason: "index 0 is the secret, not a part"}
	}
	if _, err := edwards25519.NewScalar().SetCanonicalBytes(b[1:]); err != nil {
		return &PartError{Index: b[0], Reason: "value is not a canonical scalar"}
	}
	p.Index = b[0]
	copy(p.Value[:], b[1:])
	return nil
}

// String names the part without revealing its value, so that a part can
// be logged.
func (p Part) String() string {
	return fmt.Sprintf("custody part #%d", p.Index)
}

// Custody holds the public commitments of a dealing: the threshold T, the
// number of custodians M, and the Feldman commitments A_0 … A_{T-1} to the
// coefficients of f, with A_0 = x·G = X. A decoded Custody has canonical
// points only. It is safe for concurrent use, except that UnmarshalBinary
// must not run concurrently with anything else.
type Custody struct {
	t, m int
	enc  []byte               // t × PointSize
	pts  []edwards25519.Point // the decoded A_k
}

// T returns the threshold: how many parts rebuild the secret.
func (c *Custody) T() int {
	if c == nil {
		return 0
	}
	return c.t
}

// M returns the number of custodians dealt to.
func (c *Custody) M() int {
	if c == nil {
		return 0
	}
	return c.m
}

// X returns the encoding of A_0, which is X = x·G for an honest dealing.
func (c *Custody) X() [PointSize]byte {
	var out [PointSize]byte
	if c.T() > 0 {
		copy(out[:], c.enc[:PointSize])
	}
	return out
}

// Commitment returns the encoding of A_k.
func (c *Custody) Commitment(k int) ([PointSize]byte, error) {
	var out [PointSize]byte
	if k < 0 || k >= c.T() {
		return out, fmt.Errorf("shares: custody commitment %d out of range [0, %d)", k, c.T())
	}
	copy(out[:], c.enc[k*PointSize:])
	return out, nil
}

// CheckX reports whether the commitments deal the secret committed in x,
// the X of the campaign's commitments (Commitments.X): whether A_0 = X.
// Custodians accepting a part, and nodes before taking released parts,
// run it once per campaign; parts that verify against commitments for
// another X would rebuild another secret.
func (c *Custody) CheckX(x [PointSize]byte) error {
	if c.T() == 0 {
		return fmt.Errorf("shares: checking empty custody commitments")
	}
	if !bytes.Equal(c.enc[:PointSize], x[:]) {
		return fmt.Errorf("shares: custody commitments deal another secret: A_0 is not X")
	}
	return nil
}

// Deal splits secret x among m custodians so that any t of them can
// rebuild it: it draws a polynomial f of degree t−1 with f(0) = x,
// returns the parts (j, f(j)) for j = 1 … m (Index j at position j−1) and
// the commitments A_k = a_k·G to the coefficients of f, with A_0 = X.
//
// rand is read for 64 bytes per coefficient a_1 … a_{t−1}, in that order,
// each reduced modulo the group order (so the coefficients are uniform);
// nil means crypto/rand.Reader. Should a_{t−1} come out zero (probability
// 2^-252), another 64 bytes are read for it, so that f has degree exactly
// t−1; after 8 zeros in a row Deal gives up on the reader. The parts and commitments are a pure function of x and the bytes
// read. Secret values are handled with constant-time scalar arithmetic.
func Deal(rand io.Reader, secret [ScalarSize]byte, t, m int) ([]Part, *Custody, error) {
	if m < 1 || m > MaxCustodians {
		return nil, nil, fmt.Errorf("shares: cannot deal to %d custodians: want 1 to %d", m, MaxCustodians)
	}
	if t < 1 || t > m {
		return nil, nil, fmt.Errorf("shares: cannot deal with threshold %d to %d custodians: want 1 to %d", t, m, m)
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	a := make([]edwards25519.Scalar, t)
	defer clear(a)
	if _, err := a[0].SetCanonicalBytes(secret[:]); err != nil {
		return nil, nil, fmt.Errorf("shares: secret is not a canonical scalar")
	}
	var buf [64]byte
	defer clear(buf[:])
	var zero edwards25519.Scalar
	for k := 1; k < t; k++ {
		for try := 0; ; try++ {
			if try == 8 {
				return nil, nil, fmt.Errorf("shares: randomness gave a zero top coefficient %d times", try)
			}
			if _, err := io.ReadFull(rand, buf[:]); err != nil {
				return nil, nil, fmt.Errorf("shares: reading randomness for coefficient %d: %w", k, err)
			}
			if _, err := a[k].SetUniformBytes(buf[:]); err != nil {
				panic("shares: SetUniformBytes rejected 64 bytes: " + err.Error())
			}
			if k < t-1 || a[k].Equal(&zero) == 0 {
				break
			}
		}
	}

	parts := make([]Part, m)
	var j, v edwards25519.Scalar
	for i := range parts {
		idx := uint8(i + 1)
		setSmall(&j, idx)
		// Horner: f(j) = a_0 + j·(a_1 + j·(… + j·a_{t−1})).
		v.Set(&a[t-1])
		for k := t - 2; k >= 0; k-- {
			v.MultiplyAdd(&v, &j, &a[k])
		}
		parts[i].Index = idx
		copy(parts[i].Value[:], v.Bytes())
	}
	v = zero

	// The commitments, as Split makes its own: (a_k/2)·G for every k, then
	// one batched double-and-encode; doubling the halves gives the points.
	c := &Custody{t: t, m: m, enc: make([]byte, t*PointSize), pts: make([]edwards25519.Point, t)}
	coef := make([]Share, t)
	defer clear(coef)
	for k := range a {
		copy(coef[k].Value[:], a[k].Bytes())
	}
	w := new(worker)
	valid := w.flags(t)
	for k := range valid {
		valid[k] = true
	}
	w.commit(coef, c.enc, valid)
	for k := range c.pts {
		c.pts[k].Add(&w.points[k], &w.points[k])
	}
	return parts, c, nil
}

// setSmall sets s to the integer v.
func setSmall(s *edwards25519.Scalar, v uint8) {
	var b [ScalarSize]byte
	b[0] = v
	if _, err := s.SetCanonicalBytes(b[:]); err != nil {
		panic("shares: a small integer is not a canonical scalar: " + err.Error())
	}
}

// MarshalBinary encodes the commitments in the format above.
func (c *Custody) MarshalBinary() ([]byte, error) {
	return c.AppendBinary(make([]byte, 0, custodyHeader+c.T()*PointSize))
}

// AppendBinary appends the encoding of c to b.
func (c *Custody) AppendBinary(b []byte) ([]byte, error) {
	if c.T() == 0 {
		return nil, fmt.Errorf("shares: encoding empty custody commitments")
	}
	b = append(b, custodyMagic...)
	b = append(b, custodyVersion, byte(c.t), byte(c.m))
	return append(b, c.enc...), nil
}

// CustodySize returns the size of the custody commitments of threshold t:
// 7 + 32·t bytes.
func CustodySize(t int) int {
	return custodyHeader + t*PointSize
}

// UnmarshalBinary decodes the format above. Unlike the share commitments,
// it decodes every point (T ≤ 255 of them): it rejects a wrong magic or
// version, T = 0, M = 0, T > M, a length other than 7 + 32·T, a
// non-canonical point, and an identity A_{T−1} when T ≥ 2 (the
// commitments would promise a polynomial of lower degree, which fewer than
// T parts determine). An accepted encoding re-encodes to the same bytes.
func (c *Custody) UnmarshalBinary(b []byte) error {
	if len(b) < custodyHeader {
		return fmt.Errorf("shares: custody commitments are %d bytes, shorter than the %d-byte header", len(b), custodyHeader)
	}
	if string(b[:4]) != custodyMagic {
		return fmt.Errorf("shares: custody commitments start with %q, want %q", b[:4], custodyMagic)
	}
	if b[4] != custodyVersion {
		return fmt.Errorf("shares: custody commitments version %d, want %d", b[4], custodyVersion)
	}
	t, m := int(b[5]), int(b[6])
	if m < 1 {
		return fmt.Errorf("shares: custody commitments for %d custodians, want 1 to %d", m, MaxCustodians)
	}
	if t < 1 || t > m {
		return fmt.Errorf("shares: custody commitments with threshold %d for %d custodians, want 1 to %d", t, m, m)
	}
	if want := CustodySize(t); len(b) != want {
		return fmt.Errorf("shares: custody commitments with threshold %d are %d bytes, want %d", t, len(b), want)
	}
	enc := b[custodyHeader:]
	pts := make([]edwards25519.Point, t)
	for k := range pts {
		if !decodePoint(&pts[k], enc[k*PointSize:(k+1)*PointSize]) {
			return fmt.Errorf("shares: custody commitment A_%d is not a canonical ristretto255 encoding", k)
		}
	}
	if t >= 2 && bytes.Equal(enc[(t-1)*PointSize:], make([]byte, PointSize)) {
		return fmt.Errorf("shares: custody commitment A_%d is the identity: the polynomial has degree below %d", t-1, t-1)
	}
	c.t, c.m, c.enc, c.pts = t, m, bytes.Clone(enc), pts
	return nil
}
