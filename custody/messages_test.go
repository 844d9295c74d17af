package custody

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/shares"
)

var deadline = time.Unix(1_900_000_000, 0)

func TestRoundTrips(t *testing.T) {
	f := newFixture(t, 2, 3, deadline)
	d := f.deal(t, 2)
	a, err := Accept(f.custodians[1], d)
	if err != nil {
		t.Fatal(err)
	}
	r := f.release(t, 2, f.parts[1], deadline)
	bad := f.release(t, 3, f.parts[0], deadline)
	p := &Proof{Terms: f.terms, Release: bad}
	for _, tt := range []struct {
		name string
		m    interface {
			MarshalBinary() ([]byte, error)
		}
		fresh func() interface{ UnmarshalBinary([]byte) error }
	}{
		{"terms", f.terms, func() interface{ UnmarshalBinary([]byte) error } { return new(Terms) }},
		{"deal", d, func() interface{ UnmarshalBinary([]byte) error } { return new(Deal) }},
		{"acceptance", a, func() interface{ UnmarshalBinary([]byte) error } { return new(Acceptance) }},
		{"release", r, func() interface{ UnmarshalBinary([]byte) error } { return new(Release) }},
		{"proof", p, func() interface{ UnmarshalBinary([]byte) error } { return new(Proof) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			v := tt.fresh()
			if err := v.UnmarshalBinary(b); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			b2, err := v.(interface{ MarshalBinary() ([]byte, error) }).MarshalBinary()
			if err != nil || !bytes.Equal(b, b2) {
				t.Fatalf("re-encoding differs (%v)", err)
			}
			if err := tt.fresh().UnmarshalBinary(append(b, 0)); err == nil {
				t.Error("a trailing byte was accepted")
			}
			for _, n := range []int{0, 4, len(b) - 1} {
				if err := tt.fresh().UnmarshalBinary(b[:n]); err == nil {
					t.Errorf("%d of %d bytes accepted", n, len(b))
				}
			}
		})
	}
	if err := a.Check(f.terms); err != nil {
		t.Errorf("acceptance: %v", err)
	}
	if a.DealHash != d.Hash() {
		t.Error("acceptance names another deal")
	}
	if len(r.Sig) != 64 || ReleaseSize != len(must(r.MarshalBinary())) || AcceptanceSize != len(must(a.MarshalBinary())) {
		t.Error("sizes differ from the constants")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecodersRefuse(t *testing.T) {
	f := newFixture(t, 2, 3, deadline)
	d := f.deal(t, 1)
	db := must(d.MarshalBinary())
	tb := must(f.terms.MarshalBinary())
	r := f.release(t, 1, f.parts[0], deadline)
	rb := must(r.MarshalBinary())

	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	other := newFixture(t, 2, 3, deadline)
	repeated := *f.terms
	repeated.Custodians = append(repeated.Custodians[:2:2], repeated.Custodians[0])

	for _, tt := range []struct {
		name string
		dec  interface{ UnmarshalBinary([]byte) error }
		b    []byte
		want string
	}{
		{"deal signed by another key", new(Deal), flip(db, len(db)-1), "signature"},
		{"deal with a byte of its terms changed", new(Deal), flip(db, 7+2+len("campaign-1")), "signature"},
		{"deal index out of range", new(Deal), func() []byte { c := bytes.Clone(db); c[7+len(tb)] = 9; return c }(), "index"},
		{"terms with commitments of another X", new(Terms), must((&Terms{Campaign: f.terms.Campaign, Creator: f.terms.Creator, X: f.terms.X, Deadline: deadline, Custodians: f.terms.Custodians, Custody: other.terms.Custody}).marshalUnchecked()), "X"},
		{"terms of another version", new(Terms), flip(tb, 4), "version"},
		{"terms with a repeated custodian", new(Terms), must(repeated.marshalUnchecked()), "twice"},
		{"release with a changed part", new(Release), flip(rb, 4+1+32+8+5), "signature"},
		{"release of another magic", new(Release), flip(rb, 0), "starts with"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.dec.UnmarshalBinary(tt.b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestDealOpen(t *testing.T) {
	f := newFixture(t, 2, 3, deadline)
	d := f.deal(t, 2)
	id, _ := Identity(f.custodians[1])
	p, err := d.Open(id)
	if err != nil || p != f.parts[1] {
		t.Fatalf("Open = %v, %v; want part 2", p, err)
	}
	wrongID, _ := Identity(f.custodians[0])
	if _, err := d.Open(wrongID); err == nil {
		t.Error("another custodian opened the part")
	}
	// A creator that seals a part that is not on the polynomial.
	wrong := f.parts[1]
	wrong.Value[0] ^= 1
	bad, err := NewDeal(f.creator, f.terms, wrong, id.Recipient())
	if err == nil {
		_, err = bad.Open(id)
	}
	if !errors.Is(err, shares.ErrBadPart) {
		t.Errorf("a wrong part: err = %v, want ErrBadPart", err)
	}
	// A part sealed for index 2 in the deal of index 3.
	sealed, err := NewDeal(f.creator, f.terms, f.parts[1], id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	sealed.Index = 3
	if _, err := sealed.Open(id); err == nil {
		t.Error("a part of another index was accepted")
	}
}
