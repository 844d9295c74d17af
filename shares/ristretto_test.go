package shares

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
	"github.com/gtank/ristretto255"
)

// RFC 9496, Appendix A.1: the encodings of 0·B … 15·B.
var smallMultiples = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
	"6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
	"94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
	"da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
	"e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
	"f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
	"44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
	"903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c",
	"02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
	"20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f",
	"bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
	"e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460",
	"aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
	"46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e",
	"e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e",
}

// RFC 9496, Appendix A.2: encodings that must be rejected.
var badEncodings = []string{
	"00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
	"c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
	"c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
	"47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
	"f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
	"87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
	"26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
	"4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
	"de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
	"bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
	"2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
	"f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
	"8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
	"2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
	"3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
	"a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
	"d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
	"8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
	"32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
	"227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
	"5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
	"445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func smallScalar(i uint64) *edwards25519.Scalar {
	var b [32]byte
	for k := range 8 {
		b[k] = byte(i >> (8 * k))
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(b[:])
	if err != nil {
		panic(err)
	}
	return s
}

func randomScalar(rng *rand.ChaCha8) *edwards25519.Scalar {
	var b [64]byte
	rng.Read(b[:])
	s, _ := edwards25519.NewScalar().SetUniformBytes(b[:])
	return s
}

func TestDecodeSmallMultiples(t *testing.T) {
	for i, h := range smallMultiples {
		var p, want edwards25519.Point
		if !decodePoint(&p, mustHex(t, h)) {
			t.Fatalf("decode %d·B: got rejected, want accepted", i)
		}
		want.ScalarBaseMult(smallScalar(uint64(i)))
		if !equalPoints(&p, &want) {
			t.Errorf("decode %d·B: got a different point", i)
		}
	}
}

func TestDecodeBadEncodings(t *testing.T) {
	p := edwards25519.NewGeneratorPoint()
	for _, h := range badEncodings {
		if decodePoint(p, mustHex(t, h)) {
			t.Errorf("decode %s: got accepted, want rejected", h)
		}
	}
	for _, in := range [][]byte{nil, make([]byte, 31), make([]byte, 33)} {
		if decodePoint(p, in) {
			t.Errorf("decode of %d bytes: got accepted, want rejected", len(in))
		}
	}
	if !equalPoints(p, edwards25519.NewGeneratorPoint()) {
		t.Errorf("a rejected decode changed the point")
	}
}

func TestEncodeDoubledSmallMultiples(t *testing.T) {
	points := make([]edwards25519.Point, 8)
	for i := range points {
		points[i].ScalarBaseMult(smallScalar(uint64(i)))
	}
	out := make([]byte, 32*len(points))
	ok := make([]bool, len(points))
	var d doubleEncoder
	d.encodeDoubled(points, out, ok)
	if ok[0] {
		t.Errorf("identity: got ok, want the fallback flag")
	}
	for i := 1; i < len(points); i++ {
		if !ok[i] {
			t.Errorf("2·%d·B: got no ok flag", i)
		}
		if got, want := hex.EncodeToString(out[32*i:32*i+32]), smallMultiples[2*i]; got != want {
			t.Errorf("2·%d·B: got %s, want %s", i, got, want)
		}
	}
}

// TestEncodeDoubledMatchesGtank checks the batch formula on random points,
// with the identity mixed in, against gtank/ristretto255's encoding.
func TestEncodeDoubledMatchesGtank(t *testing.T) {
	rng := rand.NewChaCha8([32]byte{1})
	const n = 600
	scalars := make([]*edwards25519.Scalar, n)
	points := make([]edwards25519.Point, n)
	for i := range points {
		scalars[i] = randomScalar(rng)
		if i%97 == 5 {
			scalars[i] = edwards25519.NewScalar()
		}
		points[i].ScalarBaseMult(scalars[i])
	}
	out := make([]byte, 32*n)
	ok := make([]bool, n)
	var d doubleEncoder
	for _, size := range []int{1, 2, 7, 256, n} {
		d.encodeDoubled(points[:size], out, ok)
		for i := range size {
			two := edwards25519.NewScalar().Add(scalars[i], scalars[i])
			want := baseMultEncode(two)
			isZero := scalars[i].Equal(edwards25519.NewScalar()) == 1
			if ok[i] == isZero {
				t.Errorf("batch %d, point %d: got ok %v for zero %v", size, i, ok[i], isZero)
			}
			if !bytes.Equal(out[32*i:32*i+32], want[:]) {
				t.Errorf("batch %d, point %d: got %x, want %x", size, i, out[32*i:32*i+32], want)
			}
		}
	}
}

func TestDecodeMatchesGtank(t *testing.T) {
	rng := rand.NewChaCha8([32]byte{2})
	for range 300 {
		s := randomScalar(rng)
		enc := baseMultEncode(s)
		var p, want edwards25519.Point
		if !decodePoint(&p, enc[:]) {
			t.Fatalf("decode %x: got rejected, want accepted", enc)
		}
		if !equalPoints(&p, want.ScalarBaseMult(s)) {
			t.Fatalf("decode %x: got a different point", enc)
		}
		checkDecodeAgainstGtank(t, enc[:])
		var junk [32]byte
		rng.Read(junk[:])
		checkDecodeAgainstGtank(t, junk[:])
	}
}

// checkDecodeAgainstGtank checks that decodePoint and gtank agree on
// whether in is valid and, if so, on 2·P.
func checkDecodeAgainstGtank(t *testing.T, in []byte) {
	t.Helper()
	var p edwards25519.Point
	mine := decodePoint(&p, in)
	e, err := ristretto255.NewIdentityElement().SetCanonicalBytes(in)
	if mine != (err == nil) {
		t.Fatalf("decode %x: got accepted %v, gtank says %v", in, mine, err)
	}
	if !mine {
		return
	}
	out := make([]byte, 32)
	ok := make([]bool, 1)
	var d doubleEncoder
	d.encodeDoubled([]edwards25519.Point{p}, out, ok)
	want := ristretto255.NewIdentityElement().Add(e, e).Bytes()
	if ok[0] && !bytes.Equal(out, want) {
		t.Fatalf("decode %x then double: got %x, want %x", in, out, want)
	}
}

func FuzzDecodePoint(f *testing.F) {
	for _, h := range smallMultiples[:4] {
		f.Add(mustHex(f, h))
	}
	for _, h := range badEncodings[:6] {
		f.Add(mustHex(f, h))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecodeAgainstGtank(t, in)
	})
}

func TestInvertBatch(t *testing.T) {
	rng := rand.NewChaCha8([32]byte{3})
	v := make([]field.Element, 50)
	orig := make([]field.Element, len(v))
	for i := range v {
		if i%7 != 3 {
			var b [64]byte
			rng.Read(b[:])
			v[i].SetWideBytes(b[:])
		}
		orig[i] = v[i]
	}
	invertBatch(v, make([]field.Element, len(v)))
	var prod field.Element
	for i := range v {
		prod.Multiply(&v[i], &orig[i])
		want := &feOne
		if orig[i].Equal(&feZero) == 1 {
			want = &feZero
		}
		if prod.Equal(want) != 1 {
			t.Errorf("element %d: got v·v⁻¹ = %x, want %x", i, prod.Bytes(), want.Bytes())
		}
	}
}

func TestScalarHalf(t *testing.T) {
	two := edwards25519.NewScalar().Add(&scalarHalf, &scalarHalf)
	if two.Equal(smallScalar(1)) != 1 {
		t.Errorf("got 2·half = %x, want 1", two.Bytes())
	}
}
