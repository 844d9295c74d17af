package campaign

import (
	"crypto/rand"
	"errors"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

func TestOpenCommitments(t *testing.T) {
	_, _, c, err := shares.Split(rand.Reader, 8)
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	x := c.X()
	_, _, other, err := shares.Split(rand.Reader, 8)
	if err != nil {
		t.Fatal(err)
	}
	otherData, err := other.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	manifest := func(edit func(m *Manifest)) *Manifest {
		m := testManifest(ModelShards)
		m.Schedule, m.Goal, m.Shards, m.SecretCommitment = nil, 0, 8, x[:]
		edit(m)
		return m
	}
	tests := []struct {
		name string
		m    *Manifest
		data []byte
		ok   bool
	}{
		{"matching", manifest(func(m *Manifest) {}), data, true},
		{"other N", manifest(func(m *Manifest) { m.Shards = 9 }), data, false},
		{"other X", manifest(func(m *Manifest) {}), otherData, false},
		{"truncated", manifest(func(m *Manifest) {}), data[:len(data)-1], false},
		{"C_0 and X of another split", manifest(func(m *Manifest) {}), append(append([]byte{}, data[:41]...), otherData[41:]...), false},
		{"model pay", testManifest(ModelPay), data, false},
	}
	for _, tt := range tests {
		got, err := tt.m.OpenCommitments(tt.data)
		if tt.ok {
			if err != nil || got.N() != 8 {
				t.Errorf("%s: got %v, want 8 checked commitments", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: got %v, want ErrBadManifest", tt.name, err)
		}
	}
}
