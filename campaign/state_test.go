package campaign

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	cid "github.com/ipfs/go-cid"
)

func signedState(t testing.TB, s *State) []byte {
	t.Helper()
	if err := s.Sign(testKey(t, "creator")); err != nil {
		t.Fatal(err)
	}
	data, err := EncodeState(s)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestStateRoundTrip(t *testing.T) {
	m, _, id := signed(t, ModelShards)
	s := testState(id)
	data := signedState(t, s)
	got, err := DecodeState(data, id, m)
	if err != nil {
		t.Fatalf("DecodeState: %v", err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("got %+v, want %+v", got, s)
	}
}

// A state with pledges round-trips; one that spells out "pledged": 0 is
// not canonical, since the field is left out when zero.
func TestStatePledged(t *testing.T) {
	m, _, id := signed(t, ModelShards)
	s := testState(id)
	s.Pledged = 7
	data := signedState(t, s)
	got, err := DecodeState(data, id, m)
	if err != nil || got.Pledged != 7 {
		t.Fatalf("DecodeState: pledged %v, err %v; want 7", got, err)
	}
	s.Pledged = 0
	plain := signedState(t, s)
	if bytes.Contains(plain, []byte(sPledged)) {
		t.Fatal("a state without pledges encodes the pledged field")
	}
	s.Pledged = -1
	if err := s.Sign(testKey(t, "creator")); !errors.Is(err, ErrBadState) {
		t.Fatalf("signing a negative pledge count: got %v, want ErrBadState", err)
	}
}

func TestStateRules(t *testing.T) {
	shards, _, shardsID := signed(t, ModelShards)
	pay, _, payID := signed(t, ModelPay)
	tests := []struct {
		name string
		pay  bool // check against the pay campaign instead of the shards one
		edit func(s *State)
		want string
	}{
		{"valid", false, func(s *State) {}, ""},
		{"valid pay", true, func(s *State) {}, ""},
		{"all sold and unlocked", false, func(s *State) { s.Sold, s.Unlocked = 440, true }, ""},
		{"released and unlocked", false, func(s *State) { s.Released, s.Unlocked = true, true }, ""},
		{"released, not yet unlocked", false, func(s *State) { s.Released = true }, ""},
		{"sold more than N", false, func(s *State) { s.Sold = 441 }, "sold 441 of 440"},
		{"unlocked too early", false, func(s *State) { s.Unlocked = true }, "unlocked with 120"},
		{"released in model pay", true, func(s *State) { s.Released = true }, "only to model shards"},
		{"unlocked in model pay", true, func(s *State) { s.Unlocked = true }, "only to model shards"},
		{"pledged", false, func(s *State) { s.Pledged = 320 }, ""},
		{"pledged beyond N", false, func(s *State) { s.Pledged = 321 }, "pledged 321 of 440"},
		{"pledged in model pay", true, func(s *State) { s.Pledged = 1 }, "only to model shards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, id := shards, shardsID
			if tt.pay {
				m, id = pay, payID
			}
			s := testState(id)
			tt.edit(s)
			_, err := DecodeState(signedState(t, s), id, m)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			case err != nil && !errors.Is(err, ErrBadState):
				t.Errorf("got %v, want it to wrap ErrBadState", err)
			}
		})
	}
}

func TestStateSignRejects(t *testing.T) {
	_, _, id := signed(t, ModelShards)
	tests := []struct {
		name string
		edit func(s *State)
	}{
		{"no campaign", func(s *State) { s.Campaign = cid.Undef }},
		{"negative sold", func(s *State) { s.Sold = -1 }},
		{"negative raised", func(s *State) { s.Raised = -1 }},
		{"seq beyond int64", func(s *State) { s.Seq = 1 << 63 }},
		{"no time", func(s *State) { s.Time = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testState(id)
			tt.edit(s)
			if err := s.Sign(testKey(t, "creator")); !errors.Is(err, ErrBadState) {
				t.Errorf("got %v, want ErrBadState", err)
			}
		})
	}
}

func TestStateForgery(t *testing.T) {
	m, _, id := signed(t, ModelShards)
	_, _, otherID := signed(t, ModelPay)
	other := testManifest(ModelShards) // same campaign, another creator
	if err := other.Sign(testKey(t, "other")); err != nil {
		t.Fatal(err)
	}
	good := signedState(t, testState(id))

	byOther := testState(id)
	if err := byOther.Sign(testKey(t, "other")); err != nil {
		t.Fatal(err)
	}
	byOtherData, err := EncodeState(byOther)
	if err != nil {
		t.Fatal(err)
	}
	unsigned, err := testState(id).encode(false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		id   cid.Cid
		m    *Manifest
	}{
		{"signed by another key", byOtherData, id, m},
		{"signature stripped", unsigned, id, m},
		{"another campaign's ID", good, otherID, m},
		{"another creator's manifest", good, id, other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := DecodeState(tt.data, tt.id, tt.m); !errors.Is(err, ErrBadState) {
				t.Errorf("got %+v, %v; want ErrBadState", got, err)
			}
		})
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x01
		if got, err := DecodeState(bad, id, m); !errors.Is(err, ErrBadState) {
			t.Fatalf("byte %d flipped: got %+v, %v; want ErrBadState", i, got, err)
		}
	}
	for n := range len(good) {
		if _, err := DecodeState(good[:n], id, m); !errors.Is(err, ErrBadState) {
			t.Fatalf("truncated to %d bytes: got %v, want ErrBadState", n, err)
		}
	}
}

func TestNewer(t *testing.T) {
	s := func(seq uint64) *State { return &State{Seq: seq} }
	tests := []struct {
		name string
		a, b *State
		want bool
	}{
		{"higher seq", s(2), s(1), true},
		{"lower seq", s(1), s(2), false},
		{"same seq", s(3), s(3), false},
		{"anything beats nothing", s(0), nil, true},
		{"nothing beats nothing", nil, nil, false},
		{"nothing is never newer", nil, s(0), false},
	}
	for _, tt := range tests {
		if got := Newer(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
