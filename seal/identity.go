package seal

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"strings"

	"filippo.io/age"
)

// identityHRP is the Bech32 human-readable part of age X25519 identities.
const identityHRP = "AGE-SECRET-KEY-"

// identityLen is the length of an encoded identity: hrp, "1", 52 data
// characters (256 bits in 5-bit groups) and a 6-character checksum.
const identityLen = len(identityHRP) + 1 + 52 + 6

// NewIdentity generates a fresh random content identity.
func NewIdentity() (*age.X25519Identity, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("generating age identity: %w", err)
	}
	return id, nil
}

// IdentityFromSeed returns the age X25519 identity whose secret scalar is
// seed itself, as age.md defines it (identity = 32 bytes, clamped by X25519).
// Every seed is valid; the same seed always gives the same identity, so
// IdentityFromSeed(seed).String() is the key a stock age CLI accepts.
//
// seed must be secret and uniformly random, or derived from such a secret
// with [DeriveIdentity].
func IdentityFromSeed(seed [32]byte) (*age.X25519Identity, error) {
	s := FormatIdentity(seed)
	id, err := age.ParseX25519Identity(s)
	if err != nil {
		// Unreachable for a correct encoder: every 32-byte string is a scalar.
		return nil, fmt.Errorf("building age identity from seed: %w", err)
	}
	return id, nil
}

// DeriveIdentity derives an age X25519 identity from a high-entropy secret
// (at least 32 bytes of it) with HKDF-SHA-256(ikm = secret, salt = empty,
// info = purpose). Different purposes give independent identities, so one
// secret can key several roles: a node may derive its long-term identity
// from its private key under "shardcast node identity v1", and a campaign
// its content identity from its secret scalar under a purpose of its own.
func DeriveIdentity(secret []byte, purpose string) (*age.X25519Identity, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("deriving age identity for %q: secret is %d bytes, want at least 32", purpose, len(secret))
	}
	k, err := hkdf.Key(sha256.New, secret, nil, purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving age identity for %q: %w", purpose, err)
	}
	return IdentityFromSeed([32]byte(k))
}

// FormatIdentity encodes a 32-byte X25519 secret as an age identity string,
// "AGE-SECRET-KEY-1" followed by 58 uppercase Bech32 characters.
func FormatIdentity(seed [32]byte) string {
	return strings.ToUpper(bech32Encode(identityHRP, seed[:]))
}

// ParseIdentity parses an age X25519 identity string ("AGE-SECRET-KEY-1…",
// uppercase, no surrounding space), as written by [FormatIdentity], by
// age.X25519Identity.String and by age-keygen.
func ParseIdentity(s string) (*age.X25519Identity, error) {
	seed, err := decodeIdentity(s)
	if err != nil {
		return nil, err
	}
	return IdentityFromSeed(seed)
}

// decodeIdentity returns the secret scalar of a canonical identity string.
func decodeIdentity(s string) ([32]byte, error) {
	var seed [32]byte
	if len(s) != identityLen || !strings.HasPrefix(s, identityHRP+"1") || strings.ToUpper(s) != s {
		return seed, fmt.Errorf("parsing age identity: not an uppercase %q key of %d characters", identityHRP, identityLen)
	}
	hrp, data, err := bech32Decode(s)
	if err != nil {
		return seed, fmt.Errorf("parsing age identity: %w", err)
	}
	if hrp != strings.ToLower(identityHRP) || len(data) != len(seed) {
		return seed, fmt.Errorf("parsing age identity: %w: %d bytes", errBech32, len(data))
	}
	copy(seed[:], data)
	return seed, nil
}
