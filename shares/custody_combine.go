package shares

import (
	"crypto/subtle"
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

// CombineParts rebuilds the secret from custody parts, given in any order,
// and checks it against x, the X of the campaign's commitments. It first
// checks that the commitments deal x (CheckX), then that the parts have
// distinct indices in [1, M] and that there are at least T of them, then
// verifies every part (VerifyPart), and interpolates f(0) from the first T
// by Lagrange's formula; parts beyond T are verified but do not change the
// result. It returns a *PartError (wrapping ErrBadPart) naming the first
// duplicate, out-of-range or invalid part, an error wrapping
// ErrTooFewParts when fewer than T distinct parts are given, and never a
// wrong secret: the result is returned only once x·G = X.
//
// The cost is T+1 fixed-base multiplications and T evaluations of the
// commitments (O(T²) point additions in all), and T scalar inversions.
// The interpolation multiplies the secret values in constant time.
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
	for _, p := range parts {
		if err := c.VerifyPart(p); err != nil {
			return secret, err
		}
	}

	use := parts[:c.t]
	var s, v, num, den, xm, xi, d edwards25519.Scalar
	defer func() { s, v = edwards25519.Scalar{}, edwards25519.Scalar{} }()
	for i, p := range use {
		// λ_i = Π_{m≠i} x_m / (x_m − x_i), public.
		setSmall(&num, 1)
		setSmall(&den, 1)
		setSmall(&xi, p.Index)
		for m, q := range use {
			if m == i {
				continue
			}
			setSmall(&xm, q.Index)
			num.Multiply(&num, &xm)
			den.Multiply(&den, d.Subtract(&xm, &xi))
		}
		num.Multiply(&num, den.Invert(&den))
		if _, err := v.SetCanonicalBytes(p.Value[:]); err != nil {
			return secret, &PartError{Index: p.Index, Reason: "value is not a canonical scalar"} // unreachable after VerifyPart
		}
		s.MultiplyAdd(&num, &v, &s)
	}
	got := baseMultEncode(&s)
	if subtle.ConstantTimeCompare(got[:], x[:]) != 1 {
		// Unreachable for parts that verify against commitments that deal x.
		return secret, fmt.Errorf("shares: the %d custody parts do not combine to the secret committed in X: %w", c.t, ErrBadPart)
	}
	copy(secret[:], s.Bytes())
	return secret, nil
}
