package shares

import (
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"math/bits"

	"filippo.io/edwards25519"
)

// VerifyPart reports whether p is the part the commitments promise at
// p.Index: whether f(j)·G = Σ_k j^k·A_k for j = p.Index, 1 ≤ j ≤ M. The
// left side is one constant-time fixed-base multiplication of the secret
// value; the right side works on public data only (Horner's rule, T−1
// multiplications by the small integer j). It returns nil or a *PartError.
//
// VerifyPart does not know the campaign: run CheckX once on the
// commitments before trusting what verifies against them.
func (c *Custody) VerifyPart(p Part) error {
	if c.T() == 0 {
		return fmt.Errorf("shares: verifying a custody part against empty commitments")
	}
	if p.Index == 0 || int(p.Index) > c.m {
		return &PartError{Index: p.Index, Reason: fmt.Sprintf("index out of range [1, %d]", c.m)}
	}
	var v edwards25519.Scalar
	if _, err := v.SetCanonicalBytes(p.Value[:]); err != nil {
		return &PartError{Index: p.Index, Reason: "value is not a canonical scalar"}
	}
	var got, want edwards25519.Point
	got.ScalarBaseMult(&v)
	c.evalAt(p.Index, &want)
	if !equalPoints(&got, &want) {
		return &PartError{Index: p.Index, Reason: "does not match the custody commitments"}
	}
	return nil
}

// evalAt sets out to Σ_k j^k·A_k, the commitment to f(j), by Horner's
// rule. It runs in variable time: j and the A_k are public.
func (c *Custody) evalAt(j uint8, out *edwards25519.Point) {
	out.Set(&c.pts[c.t-1])
	for k := c.t - 2; k >= 0; k-- {
		mulSmall(out, out, j)
		out.Add(out, &c.pts[k])
	}
}

// mulSmall sets dst to j·p by double-and-add over the bits of j (at most
// 7 doublings and 7 additions), in variable time.
func mulSmall(dst, p *edwards25519.Point, j uint8) {
	if j == 0 {
		dst.Set(edwards25519.NewIdentityPoint())
		return
	}
	var r edwards25519.Point
	r.Set(p)
	for bit := bits.Len8(j) - 2; bit >= 0; bit-- {
		r.Add(&r, &r)
		if j>>bit&1 == 1 {
			r.Add(&r, p)
		}
	}
	dst.Set(&r)
}

// batchDomain separates the hash that draws VerifyParts' coefficients.
const batchDomain = "shardcast/shares/v1 custody batch"

// batchMin is the fewest parts VerifyParts checks as a batch: below it,
// one evaluation of the commitments per part costs less than the T-point
// multiplication (about 4 parts at T = 2, 6 at T = 67).
const batchMin = 5

// VerifyParts verifies every part like VerifyPart, all at once: it draws
// coefficients r_i by hashing the commitments and all the parts, and
// checks the one equation (Σ r_i·f(j_i))·G = Σ_k (Σ_i r_i·j_i^k)·A_k,
// which a set with any bad part passes with probability about 2^-252. That
// is one fixed-base and one T-point multiplication instead of one
// evaluation of the commitments per part: about 13 times less work than
// VerifyPart in a loop at M = 100, T = 67, and more as M grows. Fewer
// than 5 parts it verifies one by one, which is cheaper. If the equation
// fails, it verifies the parts one by one and returns the *PartError of
// the first bad one in slice order. Repeated indices are not its concern
// (see CombineParts).
func (c *Custody) VerifyParts(parts []Part) error {
	if c.T() == 0 {
		return fmt.Errorf("shares: verifying custody parts against empty commitments")
	}
	if len(parts) < batchMin {
		for _, p := range parts {
			if err := c.VerifyPart(p); err != nil {
				return err
			}
		}
		return nil
	}
	vals := make([]edwards25519.Scalar, len(parts))
	defer clear(vals)
	for i, p := range parts {
		if p.Index == 0 || int(p.Index) > c.m {
			return &PartError{Index: p.Index, Reason: fmt.Sprintf("index out of range [1, %d]", c.m)}
		}
		if _, err := vals[i].SetCanonicalBytes(p.Value[:]); err != nil {
			return &PartError{Index: p.Index, Reason: "value is not a canonical scalar"}
		}
	}

	h := sha512.New()
	h.Write([]byte(batchDomain))
	enc, _ := c.MarshalBinary()
	h.Write(enc)
	var buf [PartSize]byte
	for _, p := range parts {
		b, _ := p.AppendBinary(buf[:0])
		h.Write(b)
	}
	seed := h.Sum(nil)
	defer clear(seed)

	coef := make([]edwards25519.Scalar, c.t)
	var s, r, pw, j edwards25519.Scalar
	defer func() { s, r, pw = edwards25519.Scalar{}, edwards25519.Scalar{}, edwards25519.Scalar{} }()
	var wide [64]byte
	for i, p := range parts {
		h.Reset()
		h.Write(seed)
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(i)))
		if _, err := r.SetUniformBytes(h.Sum(wide[:0])); err != nil {
			panic("shares: SetUniformBytes rejected 64 bytes: " + err.Error())
		}
		s.MultiplyAdd(&r, &vals[i], &s)
		setSmall(&j, p.Index)
		pw.Set(&r)
		for k := range coef {
			coef[k].Add(&coef[k], &pw)
			pw.Multiply(&pw, &j)
		}
	}
	clear(wide[:])

	scalars := make([]*edwards25519.Scalar, c.t)
	points := make([]*edwards25519.Point, c.t)
	for k := range coef {
		scalars[k], points[k] = &coef[k], &c.pts[k]
	}
	var got, want edwards25519.Point
	got.ScalarBaseMult(&s)
	want.VarTimeMultiScalarMult(scalars, points)
	if equalPoints(&got, &want) {
		return nil
	}
	for _, p := range parts {
		if err := c.VerifyPart(p); err != nil {
			return err
		}
	}
	return fmt.Errorf("shares: %d custody parts fail together but each verifies: %w", len(parts), ErrBadPart)
}

// CombineParts rebuilds the secret from custody parts, given in any order,
// and checks it against x, the X of the campaign's commitments. It first
// checks that the commitments deal x (CheckX), then that the parts have
// distinct indices in [1, M] and that there are at least T of them, then
// verifies every part (VerifyParts), and interpolates f(0) from the first T
// by Lagrange's formula; parts beyond T are verified but do not change the
// result. It returns a *PartError (wrapping ErrBadPart) naming the first
// duplicate, out-of-range or invalid part, an error wrapping
// ErrTooFewParts when fewer than T distinct parts are given, and never a
// wrong secret: the result is returned only once x·G = X.
//
// The cost is that of VerifyParts, one more fixed-base multiplication,
// and O(T²) scalar multiplications and one inversion for the Lagrange
// coefficients. The interpolation multiplies the secret values in
// constant time.
func CombineParts(c *Custody, x [PointSize]byte, parts []Part) ([ScalarSize]byte, error) {
	var secret [ScalarSize]byte
	if err := c.CheckX(x); err != nil {
		return secret, err
	}
	var seen [MaxCustodians + 1]bool
	for _, p := range parts {
		if p.Index == 0 || int(p.Index) > c.m {
			return secret, &PartError{Index: p.Index, Reason: fmt.Sprintf("index out of range [1, %d]", c.m)}
		}
		if seen[p.Index] {
			return secret, &PartError{Index: p.Index, Reason: "given twice"}
		}
		seen[p.Index] = true
	}
	if len(parts) < c.t {
		return secret, fmt.Errorf("shares: %d custody parts, want %d: %w", len(parts), c.t, ErrTooFewParts)
	}
	if err := c.VerifyParts(parts); err != nil {
		return secret, err
	}

	use := parts[:c.t]
	// The Lagrange coefficients at 0, λ_i = Π_{m≠i} x_m / (x_m − x_i), on
	// public data, with one inversion for all the denominators.
	xs := make([]edwards25519.Scalar, len(use))
	for i, p := range use {
		setSmall(&xs[i], p.Index)
	}
	lambda := make([]edwards25519.Scalar, len(use))
	den := make([]edwards25519.Scalar, len(use))
	var d edwards25519.Scalar
	for i := range use {
		setSmall(&lambda[i], 1)
		setSmall(&den[i], 1)
		for m := range use {
			if m != i {
				lambda[i].Multiply(&lambda[i], &xs[m])
				den[i].Multiply(&den[i], d.Subtract(&xs[m], &xs[i]))
			}
		}
	}
	invertScalars(den)

	var s, v edwards25519.Scalar
	defer func() { s, v = edwards25519.Scalar{}, edwards25519.Scalar{} }()
	for i, p := range use {
		lambda[i].Multiply(&lambda[i], &den[i])
		if _, err := v.SetCanonicalBytes(p.Value[:]); err != nil {
			return secret, &PartError{Index: p.Index, Reason: "value is not a canonical scalar"} // unreachable after VerifyParts
		}
		s.MultiplyAdd(&lambda[i], &v, &s)
	}
	got := baseMultEncode(&s)
	if subtle.ConstantTimeCompare(got[:], x[:]) != 1 {
		// Unreachable for parts that verify against commitments that deal x.
		return secret, fmt.Errorf("shares: the %d custody parts do not combine to the secret committed in X: %w", c.t, ErrBadPart)
	}
	copy(secret[:], s.Bytes())
	return secret, nil
}

// invertScalars replaces every element of v, none of them zero, by its
// inverse with one inversion (Montgomery's trick).
func invertScalars(v []edwards25519.Scalar) {
	prefix := make([]edwards25519.Scalar, len(v))
	var acc, t edwards25519.Scalar
	setSmall(&acc, 1)
	for i := range v {
		prefix[i].Set(&acc)
		acc.Multiply(&acc, &v[i])
	}
	acc.Invert(&acc)
	for i := len(v) - 1; i >= 0; i-- {
		t.Multiply(&acc, &prefix[i])
		acc.Multiply(&acc, &v[i])
		v[i].Set(&t)
	}
}
