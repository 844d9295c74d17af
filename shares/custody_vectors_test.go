package shares_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

var updateCustody = flag.Bool("update-custody", false, "rewrite "+custodyVectorsFile+" from the generator")

const custodyVectorsFile = "testdata/custody_vectors.json"

// custodyVectors is the file of dealing vectors: for a secret, T, M and
// the bytes Deal reads, the exact encodings of the commitments and of
// every part. A change of Deal's use of randomness, of the polynomial or
// of an encoding fails TestCustodyVectors.
type custodyVectors struct {
	Comment string          `json:"comment"`
	Vectors []custodyVector `json:"vectors"`
}

type custodyVector struct {
	Name    string   `json:"name"`
	Secret  string   `json:"secret"`
	T       int      `json:"t"`
	M       int      `json:"m"`
	Rand    string   `json:"rand"`
	Custody string   `json:"custody"`
	Parts   []string `json:"parts"`
}

// genCustodyVectors makes the vectors from fixed ChaCha8 seeds.
func genCustodyVectors(t *testing.T) custodyVectors {
	cases := []struct {
		name   string
		t, m   int
		secret string // hex, or "" for a random one
		zero   bool   // the first draw of the top coefficient is zero
	}{
		{name: "T=1, M=1", t: 1, m: 1},
		{name: "T=1, M=3: every part is the secret", t: 1, m: 3},
		{name: "T=2, M=3", t: 2, m: 3},
		{name: "T=3, M=5", t: 3, m: 5},
		{name: "T=5, M=7", t: 5, m: 7},
		{name: "T=2, M=3, secret 0", t: 2, m: 3, secret: "00"},
		{name: "T=2, M=3, secret l-1", t: 2, m: 3, secret: "ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"},
		{name: "T=2, M=2, top coefficient drawn again", t: 2, m: 2, zero: true},
		{name: "T=3, M=255", t: 3, m: 255},
	}
	out := custodyVectors{Comment: "shares.Deal vectors: secret, T, M and the bytes Deal reads (64 per coefficient a_1 … a_{T-1}, reduced mod l); " +
		"custody is the commitments encoding, parts[j-1] the encoding of part j. Regenerate with go test ./shares -run TestCustodyVectors -update-custody"}
	for i, tc := range cases {
		rng := rand.NewChaCha8([32]byte{'c', 'u', 's', 't', byte(i)})
		var secret [32]byte
		if tc.secret != "" {
			b, _ := hex.DecodeString(tc.secret)
			copy(secret[:], b)
		} else {
			var wide [64]byte
			rng.Read(wide[:])
			s, _, _, err := shares.Split(bytes.NewReader(wide[:]), 1)
			if err != nil {
				t.Fatal(err)
			}
			secret = s
		}
		rnd := make([]byte, 64*(tc.t-1))
		rng.Read(rnd)
		if tc.zero {
			rnd = append(make([]byte, 64), rnd...)
		}
		parts, c, err := shares.Deal(bytes.NewReader(rnd), secret, tc.t, tc.m)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		cb, _ := c.MarshalBinary()
		v := custodyVector{Name: tc.name, Secret: hex.EncodeToString(secret[:]), T: tc.t, M: tc.m,
			Rand: hex.EncodeToString(rnd), Custody: hex.EncodeToString(cb)}
		for _, p := range parts {
			pb, _ := p.MarshalBinary()
			v.Parts = append(v.Parts, hex.EncodeToString(pb))
		}
		out.Vectors = append(out.Vectors, v)
	}
	return out
}

func TestCustodyVectors(t *testing.T) {
	if *updateCustody {
		b, err := json.MarshalIndent(genCustodyVectors(t), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(custodyVectorsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(custodyVectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var file custodyVectors
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			secret := [32]byte(mustDecodeHex(t, v.Secret))
			rnd := bytes.NewReader(mustDecodeHex(t, v.Rand))
			parts, c, err := shares.Deal(rnd, secret, v.T, v.M)
			if err != nil {
				t.Fatal(err)
			}
			if rnd.Len() != 0 {
				t.Errorf("Deal left %d of the vector's random bytes unread", rnd.Len())
			}
			cb, _ := c.MarshalBinary()
			if got := hex.EncodeToString(cb); got != v.Custody {
				t.Errorf("custody: got %s, want %s", got, v.Custody)
			}
			if len(parts) != len(v.Parts) {
				t.Fatalf("got %d parts, want %d", len(parts), len(v.Parts))
			}
			for i, p := range parts {
				if pb, _ := p.MarshalBinary(); hex.EncodeToString(pb) != v.Parts[i] {
					t.Errorf("part %d: got %x, want %s", i+1, pb, v.Parts[i])
				}
			}

			// The stored encodings decode, verify and combine on their own.
			var dc shares.Custody
			if err := dc.UnmarshalBinary(mustDecodeHex(t, v.Custody)); err != nil {
				t.Fatal(err)
			}
			x, err := shares.SecretCommitment(secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := dc.CheckX(x); err != nil {
				t.Error(err)
			}
			var dps []shares.Part
			for _, h := range v.Parts[len(v.Parts)-v.T:] {
				var p shares.Part
				if err := p.UnmarshalBinary(mustDecodeHex(t, h)); err != nil {
					t.Fatal(err)
				}
				dps = append(dps, p)
			}
			if got, err := shares.CombineParts(&dc, x, dps); err != nil || got != secret {
				t.Errorf("CombineParts of the last T stored parts: got %x, %v, want %x", got, err, secret)
			}
		})
	}
}

func mustDecodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
