package shares

import (
	"bytes"
	"math/bits"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
)

func TestMulSmall(t *testing.T) {
	rng := rand.NewChaCha8([32]byte{20})
	p := new(edwards25519.Point).ScalarBaseMult(randomScalar(rng))
	for j := range 256 {
		var got edwards25519.Point
		mulSmall(&got, p, uint8(j))
		want := new(edwards25519.Point).ScalarMult(smallScalar(uint64(j)), p)
		if got.Equal(want) != 1 {
			t.Errorf("mulSmall(%d): got another point than ScalarMult", j)
		}
	}
	// dst may be p.
	q := new(edwards25519.Point).Set(p)
	mulSmall(q, q, 200)
	if want := new(edwards25519.Point).ScalarMult(smallScalar(200), p); q.Equal(want) != 1 {
		t.Errorf("mulSmall(q, q, 200): got another point than ScalarMult")
	}
}

// TestEvalAt checks Horner's rule on the commitments against a
// multi-scalar multiplication by the powers j^k.
func TestEvalAt(t *testing.T) {
	rng := rand.NewChaCha8([32]byte{21})
	var secret [ScalarSize]byte
	copy(secret[:], randomScalar(rng).Bytes())
	_, c, err := Deal(rng, secret, 9, 255)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []uint8{1, 2, 3, 100, 254, 255} {
		pows := make([]*edwards25519.Scalar, c.t)
		pts := make([]*edwards25519.Point, c.t)
		pw := smallScalar(1)
		for k := range pows {
			pows[k], pts[k] = edwards25519.NewScalar().Set(pw), &c.pts[k]
			pw.Multiply(pw, smallScalar(uint64(j)))
		}
		want := new(edwards25519.Point).VarTimeMultiScalarMult(pows, pts)
		var got edwards25519.Point
		c.evalAt(j, &got)
		if !equalPoints(&got, want) {
			t.Errorf("evalAt(%d): got another point than Σ j^k·A_k", j)
		}
	}
}

// TestFewerThanTRevealNothing: for any T−1 parts of a dealing of x and any
// other secret x', exactly one draw of the coefficients makes Deal(x')
// hand out the same T−1 parts (the polynomial through (0, x') and those
// parts). Whatever the secret, T−1 custodians see the same parts with the
// same probability, so their parts say nothing about it; what they learn
// of x comes from X alone.
func TestFewerThanTRevealNothing(t *testing.T) {
	rng := rand.NewChaCha8([32]byte{22})
	for th := 2; th <= 5; th++ {
		m := th + 2
		var x1, x2 [ScalarSize]byte
		copy(x1[:], randomScalar(rng).Bytes())
		copy(x2[:], randomScalar(rng).Bytes())
		parts, c1, err := Deal(rng, x1, th, m)
		if err != nil {
			t.Fatal(err)
		}
		for mask := uint(0); mask < 1<<m; mask++ {
			if bits.OnesCount(mask) != th-1 {
				continue
			}
			xs := []uint8{0}
			ys := []*edwards25519.Scalar{mustScalarPtr(t, x2[:])}
			for i, p := range parts {
				if mask>>i&1 == 1 {
					xs = append(xs, p.Index)
					ys = append(ys, mustScalarPtr(t, p.Value[:]))
				}
			}
			coeffs := interpolate(xs, ys)
			// Deal reduces 64 bytes per coefficient: a canonical scalar
			// followed by 32 zero bytes reduces to itself.
			var rnd []byte
			for _, a := range coeffs[1:] {
				rnd = append(append(rnd, a.Bytes()...), make([]byte, 32)...)
			}
			parts2, c2, err := Deal(bytes.NewReader(rnd), x2, th, m)
			if err != nil {
				t.Fatalf("T=%d mask %b: Deal(x'): %v", th, mask, err)
			}
			for i := range parts {
				if same := parts2[i] == parts[i]; same != (mask>>i&1 == 1) {
					t.Errorf("T=%d mask %b: part %d the same for x and x': %v", th, mask, i+1, same)
				}
			}
			if c2.X() == c1.X() {
				t.Errorf("T=%d: x and x' have the same commitment", th)
			}
		}
	}
}

func mustScalarPtr(t *testing.T, b []byte) *edwards25519.Scalar {
	s, err := edwards25519.NewScalar().SetCanonicalBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// interpolate returns the coefficients, lowest first, of the polynomial of
// degree len(xs)−1 through the points (xs[i], ys[i]).
func interpolate(xs []uint8, ys []*edwards25519.Scalar) []*edwards25519.Scalar {
	n := len(xs)
	out := make([]*edwards25519.Scalar, n)
	for k := range out {
		out[k] = edwards25519.NewScalar()
	}
	for i := range xs {
		basis := []*edwards25519.Scalar{smallScalar(1)}
		den := smallScalar(1)
		for m := range xs {
			if m == i {
				continue
			}
			// basis · (z − x_m)
			next := make([]*edwards25519.Scalar, len(basis)+1)
			for k := range next {
				next[k] = edwards25519.NewScalar()
			}
			xm := smallScalar(uint64(xs[m]))
			for k, b := range basis {
				next[k+1].Add(next[k+1], b)
				next[k].Subtract(next[k], new(edwards25519.Scalar).Multiply(xm, b))
			}
			basis = next
			den.Multiply(den, new(edwards25519.Scalar).Subtract(smallScalar(uint64(xs[i])), xm))
		}
		w := new(edwards25519.Scalar).Multiply(ys[i], den.Invert(den))
		for k, b := range basis {
			out[k].MultiplyAdd(w, b, out[k])
		}
	}
	return out
}
