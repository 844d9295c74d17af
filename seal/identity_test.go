package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"filippo.io/age"
)

// BIP-173 "Test vectors": strings with a valid Bech32 checksum.
var bip173Valid = []string{
	"A12UEL5L",
	"a12uel5l",
	"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
	"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
	"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
	"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
	"?1ezyfcl",
}

// BIP-173 invalid strings, with the reason the BIP gives.
var bip173Invalid = map[string]string{
	"\x201nwldj5": "HRP character out of range",
	"\x7f1axkwrx": "HRP character out of range",
	"\x801eym55h": "HRP character out of range",
	"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx": "overall max length exceeded",
	"pzry9x0s0muk":  "no separator character",
	"1pzry9x0s0muk": "empty HRP",
	"x1b4n0q5v":     "invalid data character",
	"li1dgmt3":      "too short checksum",
	"de1lg7wt\xff":  "invalid character in checksum",
	"A1G7SGD8":      "checksum calculated with uppercase form of HRP",
	"10a06t8":       "empty HRP",
	"1qzzfhee":      "empty HRP",
	"a12UEL5L":      "mixed case",
}

func TestBech32Vectors(t *testing.T) {
	for _, s := range bip173Valid {
		hrp, data, err := bech32Decode5(s)
		if err != nil {
			t.Errorf("bech32Decode5(%q): got %v, want nil", s, err)
			continue
		}
		if got, want := bech32Encode5(hrp, data), strings.ToLower(s); got != want {
			t.Errorf("re-encoding %q: got %q, want %q", s, got, want)
		}
	}
	for s, why := range bip173Invalid {
		if _, _, err := bech32Decode5(s); err == nil {
			t.Errorf("bech32Decode5(%q) (%s): got nil error, want one", s, why)
		}
	}
	// The BIP's "abcdef" vector carries the 5-bit values 0..31 in order;
	// as bytes they are 00443214c74254b635cf84653a56d7c675be77df.
	d5 := make([]byte, 32)
	for i := range d5 {
		d5[i] = byte(i)
	}
	const abcdef = "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"
	if got := bech32Encode5("abcdef", d5); got != abcdef {
		t.Errorf("bech32Encode5(abcdef, 0..31): got %q, want %q", got, abcdef)
	}
	raw, _ := hex.DecodeString("00443214c74254b635cf84653a56d7c675be77df")
	if got := bech32Encode("abcdef", raw); got != abcdef {
		t.Errorf("bech32Encode(abcdef, bytes): got %q, want %q", got, abcdef)
	}
	hrp, data, err := bech32Decode(abcdef)
	if err != nil || hrp != "abcdef" || !bytes.Equal(data, raw) {
		t.Errorf("bech32Decode(%q): got %q %x %v, want abcdef %x nil", abcdef, hrp, data, err, raw)
	}
}

func TestRegroupPadding(t *testing.T) {
	tests := []struct {
		d5   []byte
		want string // hex, or "" for an error
	}{
		{[]byte{}, ""},               // empty input is fine: no bytes
		{[]byte{31, 28}, "ff"},       // 10 bits: 8 data bits, 2 zero padding bits
		{[]byte{31, 29}, "error"},    // non-zero padding
		{[]byte{31, 28, 0}, "error"}, // 15 bits: 7 bits of padding is a whole extra group
	}
	for _, tt := range tests {
		got, err := regroup5to8(tt.d5)
		switch {
		case tt.want == "error" && err == nil:
			t.Errorf("regroup5to8(%v): got %x, want an error", tt.d5, got)
		case tt.want != "error" && (err != nil || hex.EncodeToString(got) != tt.want):
			t.Errorf("regroup5to8(%v): got %x %v, want %s", tt.d5, got, err, tt.want)
		}
	}
}

func TestIdentityVector(t *testing.T) {
	// age.md, "The X25519 recipient type": the identity 0x42 × 32.
	const (
		wantID  = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
		wantRcp = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
	)
	var seed [32]byte
	for i := range seed {
		seed[i] = 0x42
	}
	if got := FormatIdentity(seed); got != wantID {
		t.Errorf("FormatIdentity(0x42…): got %s, want %s", got, wantID)
	}
	id, err := IdentityFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	if got := id.String(); got != wantID {
		t.Errorf("IdentityFromSeed(0x42…).String(): got %s, want %s", got, wantID)
	}
	if got := id.Recipient().String(); got != wantRcp {
		t.Errorf("recipient: got %s, want %s", got, wantRcp)
	}
	got, err := decodeIdentity(wantID)
	if err != nil || got != seed {
		t.Errorf("decodeIdentity: got %x %v, want %x nil", got, err, seed)
	}
}

func TestIdentityMatchesAge(t *testing.T) {
	for range 64 {
		var seed [32]byte
		rand.Read(seed[:])
		s := FormatIdentity(seed)
		ageID, err := age.ParseX25519Identity(s)
		if err != nil {
			t.Fatalf("age.ParseX25519Identity(FormatIdentity(seed)): %v", err)
		}
		if got := ageID.String(); got != s {
			t.Fatalf("age re-encodes %s as %s", s, got)
		}
		gen, err := NewIdentity()
		if err != nil {
			t.Fatal(err)
		}
		id, err := ParseIdentity(gen.String())
		if err != nil {
			t.Fatalf("ParseIdentity(generated): %v", err)
		}
		if got, want := id.Recipient().String(), gen.Recipient().String(); got != want {
			t.Fatalf("ParseIdentity changed the key: got %s, want %s", got, want)
		}
	}
}

func TestParseIdentityRejects(t *testing.T) {
	const good = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
	bad := map[string]string{
		"empty":         "",
		"lowercase":     strings.ToLower(good),
		"mixed case":    good[:20] + strings.ToLower(good[20:]),
		"bad checksum":  good[:len(good)-1] + "Y",
		"bad character": good[:20] + "B" + good[21:],
		"truncated":     good[:len(good)-1],
		"trailing line": good + "\n",
		"leading space": " " + good,
		"recipient":     "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",
		"hybrid":        "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR",
	}
	for name, s := range bad {
		if _, err := ParseIdentity(s); err == nil {
			t.Errorf("ParseIdentity(%s): got nil error, want one", name)
		} else if len(s) > 20 && strings.Contains(err.Error(), s[16:]) {
			t.Errorf("ParseIdentity(%s): error %q repeats the secret", name, err)
		}
	}
	if _, err := ParseIdentity(good); err != nil {
		t.Errorf("ParseIdentity(good): got %v, want nil", err)
	}
}

func TestDeriveIdentity(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	a1, err := DeriveIdentity(secret, "a")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := DeriveIdentity(secret, "a")
	b, _ := DeriveIdentity(secret, "b")
	if a1.String() != a2.String() {
		t.Errorf("DeriveIdentity is not deterministic: got %s and %s", a1, a2)
	}
	if a1.String() == b.String() {
		t.Errorf("purposes a and b gave the same identity %s", a1)
	}
	// Regression vector: HKDF-SHA-256(ikm = 0x07 × 32, salt = "", info =
	// "shardcast node identity v1"), 32 bytes, as the X25519 secret; checked
	// once against golang.org/x/crypto/hkdf.
	const want = "AGE-SECRET-KEY-192LAMAVJJZ80QTFWJ6J609045UAFDLF8JF6FK0YPXQ7PARZAR4QQ75LJJQ"
	n, _ := DeriveIdentity(secret, "shardcast node identity v1")
	if got := n.String(); got != want {
		t.Errorf("node identity vector: got %s, want %s", got, want)
	}
	if _, err := DeriveIdentity(secret[:31], "a"); err == nil {
		t.Errorf("DeriveIdentity(31-byte secret): got nil error, want one")
	}
}
