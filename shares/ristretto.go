package shares

import (
	"bytes"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// This file holds the few ristretto255 operations that
// github.com/gtank/ristretto255 does not expose and that the batch paths
// need: decoding straight to an edwards25519.Point (so that decoded
// commitments can be summed and kept as prefix sums), the ristretto255
// equality test on such points, and the batched double-and-encode of
// RFC 9496's companion website (one field inversion per batch instead of
// one inverse square root per point). Everything here is checked against
// gtank/ristretto255 by the tests, including a differential fuzzer.

// Read-only constants of RFC 9496, Section 4.1, little-endian.
var (
	feD              = mustElement([]byte{0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00, 0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52})
	feSqrtM1         = mustElement([]byte{0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f, 0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b})
	feInvSqrtAMinusD = mustElement([]byte{0xea, 0x40, 0x5d, 0x80, 0xaa, 0xfd, 0xc8, 0x99, 0xbe, 0x72, 0x41, 0x5a, 0x17, 0x16, 0x2f, 0x9d, 0x40, 0xd8, 0x01, 0xfe, 0x91, 0x7b, 0xc2, 0x16, 0xa2, 0xfc, 0xaf, 0xcf, 0x05, 0x89, 0x6c, 0x78})
	feZero           field.Element
	feOne            = *new(field.Element).One()
	feTwo            = *new(field.Element).Add(&feOne, &feOne)
)

// scalarHalf is (l+1)/2, the inverse of 2 modulo the group order l.
var scalarHalf = mustScalar([]byte{0xf7, 0xe9, 0x7a, 0x2e, 0x8d, 0x31, 0x09, 0x2c, 0x6b, 0xce, 0x7b, 0x51, 0xef, 0x7c, 0x6f, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08})

func mustElement(b []byte) field.Element {
	e, err := new(field.Element).SetBytes(b)
	if err != nil {
		panic("shares: bad field constant: " + err.Error())
	}
	return *e
}

func mustScalar(b []byte) edwards25519.Scalar {
	s, err := edwards25519.NewScalar().SetCanonicalBytes(b)
	if err != nil {
		panic("shares: bad scalar constant: " + err.Error())
	}
	return *s
}

// decodePoint sets p to the element encoded by in, following the Decode
// operation of RFC 9496, Section 4.3.1. It reports whether in is the
// canonical encoding of an element; if not, p is unchanged.
func decodePoint(p *edwards25519.Point, in []byte) bool {
	if len(in) != 32 {
		return false
	}
	var s field.Element
	s.SetBytes(in)
	// Values ≥ p and a set high bit do not round-trip; negative s is not
	// canonical either.
	if !bytes.Equal(s.Bytes(), in) || s.IsNegative() == 1 {
		return false
	}

	var ss, u1, u2, u2Sqr, v, tmp, invSqrt, denX, denY field.Element
	ss.Square(&s)
	u1.Subtract(&feOne, &ss)
	u2.Add(&feOne, &ss)
	u2Sqr.Square(&u2)
	// v = -(D * u1^2) - u2^2
	v.Square(&u1).Multiply(&v, &feD).Negate(&v).Subtract(&v, &u2Sqr)
	_, wasSquare := invSqrt.SqrtRatio(&feOne, tmp.Multiply(&v, &u2Sqr))
	denX.Multiply(&invSqrt, &u2)
	denY.Multiply(&invSqrt, &denX).Multiply(&denY, &v)

	var x, y, z, t field.Element
	x.Multiply(&feTwo, &s).Multiply(&x, &denX).Absolute(&x)
	y.Multiply(&u1, &denY)
	z.One()
	t.Multiply(&x, &y)
	if wasSquare == 0 || t.IsNegative() == 1 || y.Equal(&feZero) == 1 {
		return false
	}
	if _, err := p.SetExtendedCoordinates(&x, &y, &z, &t); err != nil {
		return false // unreachable for a successful decode
	}
	return true
}

// equalPoints reports whether p and q represent the same ristretto255
// element (RFC 9496, Section 4.3.3). It runs in constant time.
func equalPoints(p, q *edwards25519.Point) bool {
	x1, y1, _, _ := p.ExtendedCoordinates()
	x2, y2, _, _ := q.ExtendedCoordinates()
	var a, b field.Element
	r := a.Multiply(x1, y2).Equal(b.Multiply(y1, x2))
	r |= a.Multiply(y1, y2).Equal(b.Multiply(x1, x2))
	return r == 1
}

// invertBatch replaces every element of v by its inverse with one field
// inversion and three multiplications per element (Montgomery's trick).
// Zero elements stay zero and do not spoil the others. scratch must be at
// least as long as v.
func invertBatch(v, scratch []field.Element) {
	var acc, t field.Element
	acc.One()
	for i := range v {
		scratch[i] = acc
		acc.Multiply(&acc, t.Select(&feOne, &v[i], v[i].Equal(&feZero)))
	}
	acc.Invert(&acc)
	for i := len(v) - 1; i >= 0; i-- {
		isZero := v[i].Equal(&feZero)
		t.Select(&feOne, &v[i], isZero)
		v[i].Multiply(&acc, &scratch[i])
		v[i].Select(&feZero, &v[i], isZero)
		acc.Multiply(&acc, &t)
	}
}

// doubleEncoder encodes 2·P for a batch of points with one inversion for
// the whole batch (the "batched double-and-encode" of ristretto.group).
// Its buffers are reused across calls; it is not safe for concurrent use.
type doubleEncoder struct {
	e, f, g, h, inv, scratch []field.Element
}

// encodeDoubled writes the canonical encoding of 2·points[i] to
// out[32*i:32*i+32] and reports, per point, whether the fast formula
// applied (ok[i]). A point whose e·f·g·h is zero (the identity, or an
// exceptional point) gets ok[i] = false and must be encoded another way.
func (d *doubleEncoder) encodeDoubled(points []edwards25519.Point, out []byte, ok []bool) {
	n := len(points)
	if cap(d.e) < n {
		d.e = make([]field.Element, n)
		d.f = make([]field.Element, n)
		d.g = make([]field.Element, n)
		d.h = make([]field.Element, n)
		d.inv = make([]field.Element, n)
		d.scratch = make([]field.Element, n)
	}
	e, f, g, h, inv := d.e[:n], d.f[:n], d.g[:n], d.h[:n], d.inv[:n]

	var xx, yy, zz, dtt, eg, fh field.Element
	for i := range points {
		X, Y, Z, T := points[i].ExtendedCoordinates()
		xx.Square(X)
		yy.Square(Y)
		zz.Square(Z)
		dtt.Square(T).Multiply(&dtt, &feD)
		e[i].Add(Y, Y).Multiply(&e[i], X) // 2XY
		f[i].Add(&zz, &dtt)               // Z² + dT²
		g[i].Add(&yy, &xx)                // Y² - aX², a = -1
		h[i].Subtract(&zz, &dtt)          // Z² - dT²
		eg.Multiply(&e[i], &g[i])
		fh.Multiply(&f[i], &h[i])
		inv[i].Multiply(&eg, &fh)
		ok[i] = inv[i].Equal(&feZero) == 0
	}
	invertBatch(inv, d.scratch[:n])

	var zInv, tInv, magic, minusE, fSqrtA, ee, gg, hh, s, t field.Element
	for i := range points {
		eg.Multiply(&e[i], &g[i])
		fh.Multiply(&f[i], &h[i])
		zInv.Multiply(&eg, &inv[i])
		tInv.Multiply(&fh, &inv[i])

		neg1 := t.Multiply(&eg, &zInv).IsNegative()
		minusE.Negate(&e[i])
		fSqrtA.Multiply(&f[i], &feSqrtM1)
		ee.Select(&g[i], &e[i], neg1)
		gg.Select(&minusE, &g[i], neg1)
		hh.Select(&fSqrtA, &h[i], neg1)
		magic.Select(&feSqrtM1, &feInvSqrtAMinusD, neg1)

		neg2 := t.Multiply(&hh, &ee).Multiply(&t, &zInv).IsNegative()
		t.Negate(&gg)
		gg.Select(&t, &gg, neg2)

		// s = |(h - g) · magic · g · Tinv|
		t.Multiply(&gg, &tInv).Multiply(&t, &magic)
		s.Subtract(&hh, &gg).Multiply(&s, &t).Absolute(&s)
		copy(out[32*i:32*i+32], s.Bytes())
	}
}
