package custody

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// seeds returns valid encodings of every message, for the fuzz targets.
func seeds(t testing.TB) map[string][][]byte {
	f := newFixture(t, 2, 3, time.Unix(1_900_000_000, 0))
	d := f.deal(t, 1)
	a, err := Accept(f.custodians[0], d)
	if err != nil {
		t.Fatal(err)
	}
	good := f.release(t, 1, f.parts[0], f.terms.Deadline)
	early := f.release(t, 2, f.parts[1], f.terms.Deadline.Add(-time.Hour))
	rec := &Record{Deal: d, Part: f.parts[0], Release: good}
	frame := func(typ byte, body []byte) []byte {
		var b bytes.Buffer
		writeFrame(&b, typ, body)
		return b.Bytes()
	}
	return map[string][][]byte{
		"FuzzTerms":      {must(f.terms.MarshalBinary())},
		"FuzzDeal":       {must(d.MarshalBinary())},
		"FuzzAcceptance": {must(a.MarshalBinary())},
		"FuzzRelease":    {must(good.MarshalBinary()), must(early.MarshalBinary())},
		"FuzzProof":      {must((&Proof{Terms: f.terms, Release: early}).MarshalBinary())},
		"FuzzRecord":     {must(rec.MarshalBinary()), must((&Record{Deal: d, Part: f.parts[0]}).MarshalBinary())},
		"FuzzFrame":      {frame(msgHello, nil), frame(msgRefused, []byte("busy")), {0x80, 0x01, 3}},
	}
}

// TestWriteFuzzCorpus writes the seeds under testdata/fuzz when
// CUSTODY_WRITE_CORPUS is set; the corpus is committed.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("CUSTODY_WRITE_CORPUS") == "" {
		t.Skip("set CUSTODY_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	for target, bs := range seeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, b := range bs {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type codec interface {
	MarshalBinary() ([]byte, error)
	UnmarshalBinary([]byte) error
}

// roundTrip: whatever decodes re-encodes to the same bytes.
func roundTrip(f *testing.F, name string, fresh func() codec) {
	for _, b := range seeds(f)[name] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v := fresh()
		if err := v.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := v.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded but does not encode: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("two encodings of one value:\n%x\n%x", b, out)
		}
	})
}

func FuzzTerms(f *testing.F) { roundTrip(f, "FuzzTerms", func() codec { return new(Terms) }) }
func FuzzDeal(f *testing.F)  { roundTrip(f, "FuzzDeal", func() codec { return new(Deal) }) }
func FuzzAcceptance(f *testing.F) {
	roundTrip(f, "FuzzAcceptance", func() codec { return new(Acceptance) })
}
func FuzzRelease(f *testing.F) { roundTrip(f, "FuzzRelease", func() codec { return new(Release) }) }

// FuzzProof also checks that Verify never panics on a decoded proof.
func FuzzProof(f *testing.F) {
	for _, b := range seeds(f)["FuzzProof"] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Proof
		if err := p.UnmarshalBinary(b); err != nil {
			return
		}
		if out, err := p.MarshalBinary(); err != nil || !bytes.Equal(out, b) {
			t.Fatalf("proof re-encodes differently (%v)", err)
		}
		p.Verify()
	})
}

// FuzzRecord: a record file on disk is read back only whole.
func FuzzRecord(f *testing.F) {
	for _, b := range seeds(f)["FuzzRecord"] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := decodeRecord(b)
		if err != nil {
			return
		}
		if out, err := rec.MarshalBinary(); err != nil || !bytes.Equal(out, b) {
			t.Fatalf("record re-encodes differently (%v)", err)
		}
	})
}

// FuzzFrame: the frame reader never reads past its bound and accepts
// only minimal lengths.
func FuzzFrame(f *testing.F) {
	for _, b := range seeds(f)["FuzzFrame"] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, body, err := readFrame(bufio.NewReader(bytes.NewReader(b)), 300)
		if err != nil {
			return
		}
		if len(body)+1 > 300 {
			t.Fatalf("a frame of %d bytes", len(body)+1)
		}
		var w bytes.Buffer
		writeFrame(&w, typ, body)
		if !bytes.HasPrefix(b, w.Bytes()) {
			t.Fatalf("frame %x re-encodes as %x", b[:w.Len()], w.Bytes())
		}
	})
}
