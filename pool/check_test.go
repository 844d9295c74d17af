package pool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

func TestCheck(t *testing.T) {
	f := newFixture(t, 8, 77)
	record := func(s shares.Share) []byte {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	other := f.shares[1]
	other.Value = f.shares[2].Value
	for _, tc := range []struct {
		name   string
		damage func(dir string)
		want   []string // one substring per problem; none for a healthy pool
	}{
		{"healthy", func(string) {}, nil},
		{"torn last record", func(dir string) {
			appendFile(t, filepath.Join(dir, f.id.String()+sharesSuffix), []byte{1, 2, 3})
		}, []string{"torn record of 3 bytes"}},
		{"one index with two values", func(dir string) {
			appendFile(t, filepath.Join(dir, f.id.String()+sharesSuffix), record(other))
		}, []string{"share index 1 stored with two different values"}},
		{"index outside the campaign", func(dir string) {
			s := f.shares[0]
			s.Index = 8
			appendFile(t, filepath.Join(dir, f.id.String()+sharesSuffix), record(s))
		}, []string{"share index 8, but the campaign has 8 shares"}},
		{"manifest edited", func(dir string) {
			p := filepath.Join(dir, f.id.String()+manifestSuffix)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 1
			os.WriteFile(p, b, 0o600)
		}, []string{f.id.String() + manifestSuffix}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := openPool(t, dir)
			if err := p.Track(f.id, f.m, f.open(t)); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Add(f.id, f.shares[:4]); err != nil {
				t.Fatal(err)
			}
			p.Close()
			tc.damage(dir)
			errs := Check(dir)
			if len(errs) != len(tc.want) {
				t.Fatalf("Check: %v, want %d problems", errs, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("problem %q does not say %q", errs[i], w)
				}
			}
		})
	}
	if errs := Check(filepath.Join(t.TempDir(), "none")); len(errs) != 0 {
		t.Fatalf("Check of a missing pool: %v", errs)
	}
}
