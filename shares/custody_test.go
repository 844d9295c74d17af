package shares_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

// deal draws a campaign secret the way a creator does (Split) and deals it
// to m custodians with threshold t, both from a deterministic rng.
func deal(tb testing.TB, seed byte, t, m int) (secret, x [32]byte, parts []shares.Part, c *shares.Custody) {
	tb.Helper()
	rng := rand.NewChaCha8([32]byte{seed, byte(t), byte(m)})
	secret, _, sc, err := shares.Split(rng, 1)
	if err != nil {
		tb.Fatal(err)
	}
	parts, c, err = shares.Deal(rng, secret, t, m)
	if err != nil {
		tb.Fatalf("Deal(T=%d, M=%d): %v", t, m, err)
	}
	return secret, sc.X(), parts, c
}

// pick returns the parts whose bit is set in mask, in index order.
func pick(parts []shares.Part, mask uint64) []shares.Part {
	var out []shares.Part
	for i, p := range parts {
		if mask>>i&1 == 1 {
			out = append(out, p)
		}
	}
	return out
}

func reversed(ps []shares.Part) []shares.Part {
	out := make([]shares.Part, len(ps))
	for i, p := range ps {
		out[len(ps)-1-i] = p
	}
	return out
}

// TestDealEverySubset: for every T ≤ M ≤ 6, every part verifies, every
// set of T parts (in either order) rebuilds the secret, and every set of
// T−1 parts is refused.
func TestDealEverySubset(t *testing.T) {
	for m := 1; m <= 6; m++ {
		for th := 1; th <= m; th++ {
			t.Run(fmt.Sprintf("M=%d,T=%d", m, th), func(t *testing.T) {
				secret, x, parts, c := deal(t, 1, th, m)
				if c.T() != th || c.M() != m || len(parts) != m {
					t.Fatalf("got T=%d M=%d %d parts, want T=%d M=%d", c.T(), c.M(), len(parts), th, m)
				}
				if got := c.X(); got != x {
					t.Errorf("A_0: got %x, want X %x", got, x)
				}
				if err := c.CheckX(x); err != nil {
					t.Errorf("CheckX: %v", err)
				}
				for i, p := range parts {
					if p.Index != uint8(i+1) {
						t.Errorf("part %d: got index %d", i, p.Index)
					}
					if err := c.VerifyPart(p); err != nil {
						t.Errorf("VerifyPart(%v): %v", p, err)
					}
				}
				if err := c.VerifyParts(parts); err != nil {
					t.Errorf("VerifyParts: %v", err)
				}
				for mask := uint64(0); mask < 1<<m; mask++ {
					sub := pick(parts, mask)
					switch len(sub) {
					case th:
						for _, order := range [][]shares.Part{sub, reversed(sub)} {
							got, err := shares.CombineParts(c, x, order)
							if err != nil || got != secret {
								t.Errorf("CombineParts(%v): got %x, %v, want the secret", order, got, err)
							}
						}
					case th - 1:
						got, err := shares.CombineParts(c, x, sub)
						if !errors.Is(err, shares.ErrTooFewParts) {
							t.Errorf("CombineParts(%v): got %x, %v, want ErrTooFewParts", sub, got, err)
						}
						if got != ([32]byte{}) {
							t.Errorf("CombineParts(%v) refused but returned %x", sub, got)
						}
					}
				}
			})
		}
	}
}

// TestDealLarge: the largest committees combine from a random subset,
// and every part verifies.
func TestDealLarge(t *testing.T) {
	for _, tc := range []struct{ t, m int }{{67, 100}, {1, 255}, {128, 255}, {255, 255}} {
		t.Run(fmt.Sprintf("M=%d,T=%d", tc.m, tc.t), func(t *testing.T) {
			secret, x, parts, c := deal(t, 2, tc.t, tc.m)
			for _, p := range parts {
				if err := c.VerifyPart(p); err != nil {
					t.Fatalf("VerifyPart(%v): %v", p, err)
				}
			}
			if err := c.VerifyParts(parts); err != nil {
				t.Fatalf("VerifyParts: %v", err)
			}
			rng := rand.New(rand.NewChaCha8([32]byte{3}))
			sub := append([]shares.Part(nil), parts...)
			rng.Shuffle(len(sub), func(i, j int) { sub[i], sub[j] = sub[j], sub[i] })
			got, err := shares.CombineParts(c, x, sub[:tc.t])
			if err != nil || got != secret {
				t.Errorf("CombineParts of %d shuffled parts: got %x, %v, want the secret", tc.t, got, err)
			}
		})
	}
}

func TestDealErrors(t *testing.T) {
	var one [32]byte
	one[0] = 1
	tests := []struct {
		name   string
		secret [32]byte
		t, m   int
		rand   []byte
	}{
		{"M = 0", one, 1, 0, nil},
		{"M = 256", one, 1, 256, nil},
		{"T = 0", one, 0, 3, nil},
		{"T > M", one, 4, 3, nil},
		{"T negative", one, -1, 3, nil},
		{"secret l", l, 2, 3, make([]byte, 64)},
		{"short randomness", one, 3, 3, make([]byte, 127)},
		{"top coefficient always zero", one, 2, 3, make([]byte, 640)},
		{"top coefficient zero, then EOF", one, 2, 3, make([]byte, 64)},
	}
	for _, tt := range tests {
		if ps, c, err := shares.Deal(bytes.NewReader(tt.rand), tt.secret, tt.t, tt.m); err == nil {
			t.Errorf("%s: got %d parts, %v, nil error", tt.name, len(ps), c)
		}
	}
	// A zero top coefficient is drawn again: 64 zero bytes, then 64 ones.
	rnd := append(make([]byte, 64), bytes.Repeat([]byte{1}, 64)...)
	_, c, err := shares.Deal(bytes.NewReader(rnd), one, 2, 2)
	if err != nil {
		t.Fatalf("Deal after a zero top coefficient: %v", err)
	}
	if a1, _ := c.Commitment(1); a1 == ([32]byte{}) {
		t.Errorf("A_1 is the identity after a redraw")
	}
}

// TestVerifyPartRejects: every way of getting a part wrong is caught by
// VerifyPart and refused by CombineParts, with a *PartError naming it.
func TestVerifyPartRejects(t *testing.T) {
	const th, m = 3, 5
	_, x, parts, c := deal(t, 4, th, m)
	_, _, others, _ := deal(t, 5, th, m)
	flip := parts[1]
	flip.Value[0] ^= 1
	swapped := shares.Part{Index: 2, Value: parts[2].Value}
	tests := []struct {
		name  string
		part  shares.Part
		index uint8
	}{
		{"value changed", flip, 2},
		{"another index's value", swapped, 2},
		{"index 0", shares.Part{Index: 0, Value: parts[0].Value}, 0},
		{"index M+1", shares.Part{Index: m + 1, Value: parts[0].Value}, m + 1},
		{"index 255", shares.Part{Index: 255, Value: parts[0].Value}, 255},
		{"non-canonical value", shares.Part{Index: 1, Value: l}, 1},
		{"another dealing", others[0], 1},
		{"zero value", shares.Part{Index: 3}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.VerifyPart(tt.part)
			var pe *shares.PartError
			if !errors.As(err, &pe) || pe.Index != tt.index || !errors.Is(err, shares.ErrBadPart) {
				t.Fatalf("VerifyPart: got %v, want a PartError for index %d", err, tt.index)
			}
			// Among T−1 good parts with other indices, or with all the good
			// ones beside it, CombineParts refuses and names it.
			var good []shares.Part
			for _, p := range parts {
				if p.Index != tt.part.Index && len(good) < th-1 {
					good = append(good, p)
				}
			}
			for _, set := range [][]shares.Part{append(good, tt.part), append([]shares.Part{tt.part}, good...)} {
				got, err := shares.CombineParts(c, x, set)
				if !errors.As(err, &pe) || pe.Index != tt.index {
					t.Errorf("CombineParts(%v): got %x, %v, want a PartError for index %d", set, got, err, tt.index)
				}
			}
			if err := c.VerifyParts(append(good, tt.part)); !errors.As(err, &pe) || pe.Index != tt.index {
				t.Errorf("VerifyParts: got %v, want a PartError for index %d", err, tt.index)
			}
			if tt.part.Index >= 1 && tt.part.Index <= m {
				all := append([]shares.Part(nil), parts...)
				all[tt.part.Index-1] = tt.part
				if err := c.VerifyParts(all); !errors.As(err, &pe) || pe.Index != tt.index {
					t.Errorf("VerifyParts of all with a bad one: got %v, want a PartError for index %d", err, tt.index)
				}
				if got, err := shares.CombineParts(c, x, all); !errors.Is(err, shares.ErrBadPart) {
					t.Errorf("CombineParts of all with a bad one: got %x, %v, want ErrBadPart", got, err)
				}
			}
		})
	}
}

func TestCombinePartsRefuses(t *testing.T) {
	const th, m = 3, 5
	secret, x, parts, c := deal(t, 6, th, m)
	_, otherX, otherParts, other := deal(t, 7, th, m)

	var pe *shares.PartError
	if _, err := shares.CombineParts(c, x, []shares.Part{parts[0], parts[1], parts[1]}); !errors.As(err, &pe) || pe.Index != 2 {
		t.Errorf("a part given twice: got %v, want a PartError for index 2", err)
	}
	if _, err := shares.CombineParts(c, x, nil); !errors.Is(err, shares.ErrTooFewParts) {
		t.Errorf("no parts: got %v, want ErrTooFewParts", err)
	}
	// Commitments that deal another secret are refused before any part is
	// looked at, even with parts that verify against them.
	if err := other.CheckX(x); err == nil {
		t.Errorf("CheckX of commitments for another X: got nil error")
	}
	if got, err := shares.CombineParts(other, x, otherParts[:th]); err == nil {
		t.Errorf("CombineParts against commitments for another X: got %x, nil error", got)
	}
	if got, err := shares.CombineParts(c, otherX, parts[:th]); err == nil {
		t.Errorf("CombineParts against another X: got %x, nil error", got)
	}
	var empty shares.Custody
	if _, err := shares.CombineParts(&empty, x, parts); err == nil {
		t.Errorf("CombineParts against empty commitments: got nil error")
	}
	if err := empty.VerifyParts(parts); err == nil {
		t.Errorf("VerifyParts against empty commitments: got nil error")
	}
	if err := c.VerifyParts(nil); err != nil {
		t.Errorf("VerifyParts(nil): got %v, want nil", err)
	}
	if err := empty.VerifyPart(parts[0]); err == nil {
		t.Errorf("VerifyPart against empty commitments: got nil error")
	}
	if err := empty.CheckX(x); err == nil {
		t.Errorf("CheckX of empty commitments: got nil error")
	}
	if _, err := empty.MarshalBinary(); err == nil {
		t.Errorf("MarshalBinary of empty commitments: got nil error")
	}
	if empty.T() != 0 || empty.M() != 0 || empty.X() != ([32]byte{}) {
		t.Errorf("empty commitments: got T=%d M=%d X=%x", empty.T(), empty.M(), empty.X())
	}

	// Whatever mix of good, tampered, repeated and foreign parts it is
	// given, CombineParts returns the secret or an error, never another
	// value.
	rng := rand.New(rand.NewChaCha8([32]byte{8}))
	for range 300 {
		var set []shares.Part
		for range rng.IntN(m + 3) {
			p := parts[rng.IntN(m)]
			switch rng.IntN(6) {
			case 0:
				p.Value[rng.IntN(31)] ^= byte(1 + rng.IntN(255))
			case 1:
				p = otherParts[rng.IntN(m)]
			case 2:
				p.Index = uint8(rng.IntN(256))
			}
			set = append(set, p)
		}
		allGood := true
		for _, p := range set {
			allGood = allGood && c.VerifyPart(p) == nil
		}
		if err := c.VerifyParts(set); (err == nil) != allGood {
			t.Fatalf("VerifyParts(%v): got %v, want an error iff some part fails VerifyPart (all good: %v)", set, err, allGood)
		}
		got, err := shares.CombineParts(c, x, set)
		if err == nil && got != secret {
			t.Fatalf("CombineParts(%v) returned a wrong secret %x", set, got)
		}
		if err != nil && !errors.Is(err, shares.ErrBadPart) && !errors.Is(err, shares.ErrTooFewParts) {
			t.Fatalf("CombineParts(%v): got %v, want ErrBadPart or ErrTooFewParts", set, err)
		}
	}
}

func TestPartEncoding(t *testing.T) {
	p := shares.Part{Index: 0xa5}
	for i := range 31 {
		p.Value[i] = byte(i)
	}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(b), "a5000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e00"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var back shares.Part
	if err := back.UnmarshalBinary(b); err != nil || back != p {
		t.Errorf("round trip: got %v, %v", back, err)
	}
	if got := p.String(); strings.Contains(got, "0102") || !strings.Contains(got, "165") {
		t.Errorf("String: got %q, want the index and not the value", got)
	}
	bad := map[string][]byte{
		"empty":      nil,
		"short":      b[:32],
		"long":       append(bytes.Clone(b), 0),
		"index 0":    append([]byte{0}, b[1:]...),
		"value l":    append([]byte{1}, l[:]...),
		"value ones": append([]byte{1}, bytes.Repeat([]byte{0xff}, 32)...),
	}
	for name, in := range bad {
		if err := back.UnmarshalBinary(in); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
}

func TestCustodyEncoding(t *testing.T) {
	_, x, _, c := deal(t, 9, 3, 4)
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(b), shares.CustodySize(3); got != want || want != 7+3*32 {
		t.Fatalf("length: got %d, want %d", got, want)
	}
	if got, want := hex.EncodeToString(b[:7]), "53434344010304"; got != want {
		t.Errorf("header: got %s, want %s", got, want)
	}
	if !bytes.Equal(b[7:39], x[:]) {
		t.Errorf("A_0 is not X")
	}
	var back shares.Custody
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := back.MarshalBinary()
	if !bytes.Equal(b, b2) || back.T() != 3 || back.M() != 4 || back.X() != x {
		t.Errorf("round trip differs")
	}
	for k := range 3 {
		got, err := back.Commitment(k)
		if err != nil || !bytes.Equal(got[:], b[7+32*k:7+32*(k+1)]) {
			t.Errorf("Commitment(%d): got %x, %v", k, got, err)
		}
	}
	for _, k := range []int{-1, 3} {
		if _, err := back.Commitment(k); err == nil {
			t.Errorf("Commitment(%d): got nil error", k)
		}
	}

	edit := func(f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	point := func(k int, v []byte) []byte {
		return edit(func(b []byte) []byte { copy(b[7+32*k:], v); return b })
	}
	bad := map[string][]byte{
		"empty":              nil,
		"header only":        b[:7],
		"short header":       b[:6],
		"truncated":          b[:len(b)-1],
		"trailing":           append(bytes.Clone(b), 0),
		"magic":              edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version 0":          edit(func(b []byte) []byte { b[4] = 0; return b }),
		"version 2":          edit(func(b []byte) []byte { b[4] = 2; return b }),
		"T = 0":              edit(func(b []byte) []byte { b[5] = 0; return b[:7] }),
		"M = 0":              edit(func(b []byte) []byte { b[6] = 0; return b }),
		"T > M":              edit(func(b []byte) []byte { b[5] = 4; b[6] = 3; return append(b, b[7:39]...) }),
		"T = 2 with 3":       edit(func(b []byte) []byte { b[5] = 2; return b }),
		"A_0 non-canonical":  point(0, bytes.Repeat([]byte{0xff}, 32)),
		"A_1 non-canonical":  point(1, l[:]),
		"A_2 negative":       point(2, append([]byte{1}, make([]byte, 31)...)),
		"A_2 the identity":   point(2, make([]byte, 32)),
		"T = 1 with 3":       edit(func(b []byte) []byte { b[5] = 1; return b }),
		"M = 255, T = 3 + 1": edit(func(b []byte) []byte { b[6] = 255; return append(b, 0) }),
	}
	for name, in := range bad {
		var c2 shares.Custody
		if err := c2.UnmarshalBinary(in); err == nil {
			t.Errorf("%s: got nil error", name)
		}
		if c2.T() != 0 {
			t.Errorf("%s: a refused decode left T = %d", name, c2.T())
		}
	}
	// A middle coefficient may be zero, and with T = 1 the identity is the
	// commitment to the secret 0: both are fine.
	for name, in := range map[string][]byte{
		"A_1 the identity":       point(1, make([]byte, 32)),
		"T = 1, A_0 identity":    append([]byte("SCCD\x01\x01\x01"), make([]byte, 32)...),
		"M = 255":                edit(func(b []byte) []byte { b[6] = 255; return b }),
		"T = M = 1, A_0 = X":     append([]byte("SCCD\x01\x01\x01"), x[:]...),
		"A_0 other, still valid": point(0, b[7+32:7+64]),
	} {
		var c2 shares.Custody
		if err := c2.UnmarshalBinary(in); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func ExampleDeal() {
	// The creator has a campaign secret and its commitments (Split); it
	// deals the secret to 3 custodians, any 2 of whom can release it.
	secret, _, c, err := shares.Split(nil, 10)
	if err != nil {
		panic(err)
	}
	parts, custody, err := shares.Deal(nil, secret, 2, 3)
	if err != nil {
		panic(err)
	}

	// Each custodian checks the commitments against the campaign's X and
	// its own part before accepting it.
	fmt.Println(custody.CheckX(c.X()), custody.VerifyPart(parts[1]))

	// At the deadline, any node combines two released parts.
	got, err := shares.CombineParts(custody, c.X(), []shares.Part{parts[2], parts[0]})
	fmt.Println(got == secret, err)
	_, err = shares.CombineParts(custody, c.X(), parts[:1])
	fmt.Println(err)
	// Output:
	// <nil> <nil>
	// true <nil>
	// shares: 1 custody parts, want 2: too few custody parts
}

// TestDealByHand: with small coefficients the parts can be checked by
// hand. Secret 1, a_1 = 2, a_2 = 3: f(j) = 1 + 2j + 3j², so the parts are
// 6, 17, 34, 57, and the commitments are 1·G, 2·G, 3·G.
func TestDealByHand(t *testing.T) {
	small := func(v byte) (s [32]byte) { s[0] = v; return s }
	var rnd []byte
	for _, a := range []byte{2, 3} {
		s := small(a)
		rnd = append(append(rnd, s[:]...), make([]byte, 32)...)
	}
	parts, c, err := shares.Deal(bytes.NewReader(rnd), small(1), 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []byte{6, 17, 34, 57} {
		if got := parts[i]; got.Index != uint8(i+1) || got.Value != small(want) {
			t.Errorf("part %d: got index %d value %x, want %d", i+1, got.Index, got.Value, want)
		}
	}
	for k := range 3 {
		want, _ := shares.SecretCommitment(small(byte(k + 1)))
		if got, _ := c.Commitment(k); got != want {
			t.Errorf("A_%d: got %x, want %d·G = %x", k, got, k+1, want)
		}
	}
}
