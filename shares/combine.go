package shares

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"math/bits"

	"filippo.io/edwards25519"
)

// Combine rebuilds the secret x = Σ s_i from all N shares, given in any
// order, and checks it against X: it needs every index 0..N-1 exactly
// once. It fails on a missing index, and with an error wrapping
// ErrBadShare on a duplicate or out-of-range index, a non-canonical value,
// or a set whose sum does not match X (some share is bad: Verify finds
// which). It never returns a wrong secret.
//
// Combine does not verify the shares one by one: the single check
// (Σ s_i)·G = X decides, in a prime-order group, whether the sum is the
// secret. Its cost is N scalar additions and one base multiplication.
func Combine(c *Commitments, shares []Share) ([ScalarSize]byte, error) {
	var secret [ScalarSize]byte
	n := c.N()
	if n == 0 {
		return secret, fmt.Errorf("shares: combining against empty commitments")
	}
	seen := make([]uint64, (n+63)/64)
	var x, v edwards25519.Scalar
	for _, s := range shares {
		if int64(s.Index) >= int64(n) {
			return secret, fmt.Errorf("shares: share index %d out of range [0, %d): %w", s.Index, n, ErrBadShare)
		}
		w, bit := s.Index/64, uint64(1)<<(s.Index%64)
		if seen[w]&bit != 0 {
			return secret, fmt.Errorf("shares: share %d appears twice: %w", s.Index, ErrBadShare)
		}
		seen[w] |= bit
		if _, err := v.SetCanonicalBytes(s.Value[:]); err != nil {
			return secret, fmt.Errorf("shares: share %d: value is not a canonical scalar: %w", s.Index, ErrBadShare)
		}
		x.Add(&x, &v)
	}
	if len(shares) < n {
		first := 0
		for w, word := range seen {
			if word != ^uint64(0) {
				first = 64*w + bits.TrailingZeros64(^word)
				break
			}
		}
		return secret, fmt.Errorf("shares: %d of %d shares missing, the first is %d", n-len(shares), n, first)
	}
	if baseMultEncode(&x) != c.x {
		return secret, fmt.Errorf("shares: the %d shares do not combine to the secret committed in X: %w", n, ErrBadShare)
	}
	copy(secret[:], x.Bytes())
	return secret, nil
}

// CombineAggregate returns the secret from an aggregate of all N shares
// (the single range [0, N)), after checking its Sum against X.
func CombineAggregate(c *Commitments, a Aggregate) ([ScalarSize]byte, error) {
	n := c.N()
	if len(a.Ranges) != 1 || a.Ranges[0].Start != 0 || int64(a.Ranges[0].End) != int64(n) {
		return [ScalarSize]byte{}, fmt.Errorf("shares: %v does not cover all %d shares", a, n)
	}
	if err := c.VerifyAggregate(a); err != nil {
		return [ScalarSize]byte{}, err
	}
	return a.Sum, nil
}

// SecretCommitment returns the encoding of x·G for a secret x, the X of
// its commitments. It fails if secret is not a canonical scalar.
func SecretCommitment(secret [ScalarSize]byte) ([PointSize]byte, error) {
	var x edwards25519.Scalar
	if _, err := x.SetCanonicalBytes(secret[:]); err != nil {
		return [PointSize]byte{}, fmt.Errorf("shares: secret is not a canonical scalar")
	}
	return baseMultEncode(&x), nil
}

// The HKDF-SHA256 parameters of ContentSeed.
const (
	contentSeedSalt = "shardcast/shares/v1"
	contentSeedInfo = "content identity"
)

// ContentSeed derives the 32-byte seed of the content's identity from the
// campaign secret: HKDF-SHA256 (RFC 5869) with the 32-byte secret encoding
// as input keying material, salt "shardcast/shares/v1" and info
// "content identity". The seed is as secret as x; whoever rebuilds x
// (from all N shares) derives the same seed.
func ContentSeed(secret [ScalarSize]byte) [32]byte {
	k, err := hkdf.Key(sha256.New, secret[:], []byte(contentSeedSalt), contentSeedInfo, 32)
	if err != nil {
		panic("shares: HKDF-SHA256 refused a 32-byte output: " + err.Error())
	}
	return [32]byte(k)
}
