package seal

import (
	"errors"
	"fmt"
	"strings"
)

// This file is a small Bech32 codec written from BIP-173
// (https://github.com/bitcoin/bips/blob/master/bip-0173.mediawiki).
// age encodes keys as Bech32 but keeps its codec internal, so we carry our own.
// The length limit of 90 characters is kept: every age key string fits in it.

// bech32Alphabet maps 5-bit values to characters (BIP-173, "Bech32").
const bech32Alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// bech32MaxLen is BIP-173's limit on the length of a whole string.
const bech32MaxLen = 90

// bech32Rev maps a lowercase character to its 5-bit value, or -1.
var bech32Rev = func() (t [128]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(bech32Alphabet); i++ {
		t[bech32Alphabet[i]] = int8(i)
	}
	return t
}()

// bech32Polymod is the BCH checksum function of BIP-173 over 5-bit values.
func bech32Polymod(chk uint32, values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	for _, v := range values {
		b := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i, g := range gen {
			if (b>>uint(i))&1 == 1 {
				chk ^= g
			}
		}
	}
	return chk
}

// bech32HRPSum feeds the expanded human-readable part (high bits, a zero,
// low bits) through the checksum. hrp must already be lowercase.
func bech32HRPSum(hrp string) uint32 {
	exp := make([]byte, 0, 2*len(hrp)+1)
	for i := 0; i < len(hrp); i++ {
		exp = append(exp, hrp[i]>>5)
	}
	exp = append(exp, 0)
	for i := 0; i < len(hrp); i++ {
		exp = append(exp, hrp[i]&31)
	}
	return bech32Polymod(1, exp)
}

// bech32Encode5 encodes 5-bit values under a lowercase hrp.
func bech32Encode5(hrp string, data []byte) string {
	chk := bech32Polymod(bech32HRPSum(hrp), data)
	chk = bech32Polymod(chk, make([]byte, 6)) ^ 1
	var b strings.Builder
	b.Grow(len(hrp) + 1 + len(data) + 6)
	b.WriteString(hrp)
	b.WriteByte('1')
	for _, v := range data {
		b.WriteByte(bech32Alphabet[v])
	}
	for i := 5; i >= 0; i-- {
		b.WriteByte(bech32Alphabet[(chk>>(5*uint(i)))&31])
	}
	return b.String()
}

// bech32Encode encodes bytes as a lowercase Bech32 string with the given hrp.
func bech32Encode(hrp string, data []byte) string {
	return bech32Encode5(strings.ToLower(hrp), regroup8to5(data))
}

var errBech32 = errors.New("malformed bech32 string")

// bech32Decode5 splits s into its lowercase hrp and 5-bit data (checksum
// removed), verifying case, characters, length and checksum.
func bech32Decode5(s string) (hrp string, data []byte, err error) {
	if len(s) > bech32MaxLen {
		return "", nil, fmt.Errorf("%w: %d characters, more than %d", errBech32, len(s), bech32MaxLen)
	}
	lower := strings.ToLower(s)
	if lower != s && strings.ToUpper(s) != s {
		return "", nil, fmt.Errorf("%w: mixed case", errBech32)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return "", nil, fmt.Errorf("%w: invalid byte at %d", errBech32, i)
		}
	}
	sep := strings.LastIndexByte(lower, '1')
	if sep < 1 || len(lower)-sep-1 < 6 {
		return "", nil, fmt.Errorf("%w: separator at %d of %d", errBech32, sep, len(s))
	}
	hrp = lower[:sep]
	rest := lower[sep+1:]
	data = make([]byte, len(rest))
	for i := 0; i < len(rest); i++ {
		v := bech32Rev[rest[i]]
		if v < 0 {
			return "", nil, fmt.Errorf("%w: invalid character at %d", errBech32, sep+1+i)
		}
		data[i] = byte(v)
	}
	if bech32Polymod(bech32HRPSum(hrp), data) != 1 {
		return "", nil, fmt.Errorf("%w: bad checksum", errBech32)
	}
	return hrp, data[:len(data)-6], nil
}

// bech32Decode decodes s into its lowercase hrp and bytes. The padding bits
// of the last group must be zero and fewer than five.
func bech32Decode(s string) (hrp string, data []byte, err error) {
	hrp, d5, err := bech32Decode5(s)
	if err != nil {
		return "", nil, err
	}
	data, err = regroup5to8(d5)
	if err != nil {
		return "", nil, err
	}
	return hrp, data, nil
}

// regroup8to5 splits bytes into 5-bit groups, padding the last with zeros.
func regroup8to5(data []byte) []byte {
	out := make([]byte, 0, (len(data)*8+4)/5)
	var acc uint32
	var bits uint
	for _, b := range data {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out = append(out, byte(acc>>bits)&31)
		}
	}
	if bits > 0 {
		out = append(out, byte(acc<<(5-bits))&31)
	}
	return out
}

// regroup5to8 joins 5-bit groups into bytes, rejecting non-canonical padding.
func regroup5to8(d5 []byte) ([]byte, error) {
	out := make([]byte, 0, len(d5)*5/8)
	var acc uint32
	var bits uint
	for _, v := range d5 {
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	if bits >= 5 || acc&(1<<bits-1) != 0 {
		return nil, fmt.Errorf("%w: non-zero or overlong padding", errBech32)
	}
	return out, nil
}
