package campaign

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/iotest"

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

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// endless is an endless stream of zeros: a forged commitments file of
// any size.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestReadCommitments: a file of the size the manifest implies is read in
// one stream and checked; a file of another size, or a campaign over the
// caller's cap, is refused before a byte is read; a huge forged file is
// never read beyond what N implies.
func TestReadCommitments(t *testing.T) {
	_, _, c, err := shares.Split(rand.Reader, 8)
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	x := c.X()
	m := testManifest(ModelShards)
	m.Schedule, m.Goal, m.Shards, m.SecretCommitment = nil, 0, 8, x[:]
	huge := testManifest(ModelShards)
	huge.Schedule, huge.Goal, huge.Shards, huge.SecretCommitment = nil, 0, MaxShares, x[:]
	tests := []struct {
		name     string
		m        *Manifest
		r        io.Reader
		size     int64
		max      int
		wantErr  error
		maxBytes int64 // most bytes the reader may give
	}{
		{"matching", m, bytes.NewReader(data), int64(len(data)), 100, nil, int64(len(data))},
		{"a size that is not 41+32N", m, endless{}, 1 << 40, 100, ErrBadManifest, 0},
		{"over the cap", huge, endless{}, shares.CommitmentsSize(MaxShares), 1000, ErrTooLarge, 0},
		{"forged header", m, endless{}, int64(len(data)), 100, ErrBadManifest, 41},
		{"trailing bytes", m, io.MultiReader(bytes.NewReader(data), endless{}), int64(len(data)), 100, ErrBadManifest, int64(len(data)) + 1},
		{"source fails", m, io.MultiReader(bytes.NewReader(data[:50]), iotest.ErrReader(io.ErrClosedPipe)), int64(len(data)), 100, io.ErrClosedPipe, 50},
	}
	for _, tt := range tests {
		cr := &countingReader{r: tt.r}
		got, err := tt.m.ReadCommitments(cr, tt.size, tt.max)
		switch {
		case tt.wantErr == nil && (err != nil || got.N() != 8):
			t.Errorf("%s: got %v, want 8 checked commitments", tt.name, err)
		case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.wantErr)
		}
		if tt.wantErr == io.ErrClosedPipe && errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: a failing source condemned the manifest: %v", tt.name, err)
		}
		if cr.n > tt.maxBytes {
			t.Errorf("%s: read %d bytes, want at most %d", tt.name, cr.n, tt.maxBytes)
		}
	}
}
