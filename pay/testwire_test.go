package pay

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The vectors and seed corpora are made from fixed keys (seeds of 32
// bytes 0x01 for the payee, 0x02 for the payer) and fixed fields, so that
// PAY_WRITE_TESTDATA=1 go test -run TestVectors rewrites them identically.

func vectorRequest() *testRequest {
	q := &testRequest{
		Amount:  Amount{250, "USD"},
		Created: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		Hold:    true,
		Memo:    "TEST MONEY: campaign bafy… shares 3-5",
	}
	q.Expires = q.Created + int64(time.Hour)
	copy(q.Payee[:], keyFrom(1).Public().(ed25519.PublicKey))
	copy(q.ID[:], "0123456789abcdef")
	q.PaymentHash[0] = 0xaa
	q.sign(keyFrom(1))
	return q
}

func vectorProof(q *testRequest) *testProof {
	p := &testProof{Digest: requestDigest(q.marshal()), ID: q.ID, Amount: q.Amount}
	copy(p.Payer[:], keyFrom(2).Public().(ed25519.PublicKey))
	p.sign(keyFrom(2))
	return p
}

func vectorVoucher(q *testRequest) *testVoucher {
	v := &testVoucher{Digest: requestDigest(q.marshal()), ID: q.ID, Amount: q.Amount, Reason: reasonCanceled, Payee: q.Payee}
	v.sign(keyFrom(1))
	return v
}

type vector struct {
	Name string `json:"name"`
	Hex  string `json:"hex"`
}

func vectors() []vector {
	q := vectorRequest()
	return []vector{
		{"request", hex.EncodeToString(q.marshal())},
		{"proof", hex.EncodeToString(vectorProof(q).marshal())},
		{"voucher", hex.EncodeToString(vectorVoucher(q).marshal())},
	}
}

// TestVectors checks the encodings against testdata/vectors.json, and
// that each vector decodes, verifies and re-encodes to itself.
func TestVectors(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	if os.Getenv("PAY_WRITE_TESTDATA") != "" {
		writeTestdata(t, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []vector
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	got := vectors()
	if len(got) != len(want) {
		t.Fatalf("got %d vectors, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("vector %s: got %s, want %s", want[i].Name, got[i].Hex, want[i].Hex)
		}
		raw, _ := hex.DecodeString(want[i].Hex)
		var again []byte
		var err error
		switch want[i].Name {
		case "request":
			var q *testRequest
			if q, err = parseTestRequestBinary(raw); err == nil {
				err, again = q.verify(), q.marshal()
			}
		case "proof":
			var p *testProof
			if p, err = parseTestProof(raw); err == nil {
				err, again = p.verify(), p.marshal()
			}
		case "voucher":
			var v *testVoucher
			if v, err = parseTestVoucher(raw); err == nil {
				err, again = v.verify(), v.marshal()
			}
		}
		if err != nil || !bytes.Equal(again, raw) {
			t.Errorf("vector %s: decode, verify, encode: %v, round trip %v", want[i].Name, err, bytes.Equal(again, raw))
		}
	}
}

func writeTestdata(t *testing.T, path string) {
	b, err := json.MarshalIndent(vectors(), "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	q := vectorRequest()
	req, proof, voucher := q.marshal(), vectorProof(q).marshal(), vectorVoucher(q).marshal()
	corpus := map[string]map[string]string{
		"FuzzRequest": {
			"valid":     fmt.Sprintf("string(%q)", q.String()),
			"truncated": fmt.Sprintf("string(%q)", q.String()[:60]),
			"plain":     fmt.Sprintf("string(%q)", requestPrefix+b64(plainRequest())),
		},
		"FuzzProof": {
			"valid":     fmt.Sprintf("[]byte(%q)", proof),
			"truncated": fmt.Sprintf("[]byte(%q)", proof[:len(proof)-1]),
			"request":   fmt.Sprintf("[]byte(%q)", req),
		},
		"FuzzVoucher": {
			"valid":     fmt.Sprintf("[]byte(%q)", voucher),
			"truncated": fmt.Sprintf("[]byte(%q)", voucher[:40]),
			"proof":     fmt.Sprintf("[]byte(%q)", proof),
		},
	}
	for target, files := range corpus {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n"+body+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// plainRequest is a signed request for a plain invoice with an empty
// label-only memo.
func plainRequest() []byte {
	q := vectorRequest()
	q.Hold, q.PaymentHash, q.Memo = false, [32]byte{}, TestMemoLabel
	q.sign(keyFrom(1))
	return q.marshal()
}

func TestParseRejects(t *testing.T) {
	q := vectorRequest()
	good := q.marshal()
	edit := func(f func(q *testRequest)) []byte {
		c := *q
		f(&c)
		c.sign(keyFrom(1))
		return c.marshal()
	}
	tests := []struct {
		name string
		raw  []byte
	}{
		{"empty", nil},
		{"magic", append([]byte("SCTX"), good[4:]...)},
		{"version", append(append([]byte("SCTR"), 2), good[5:]...)},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"truncated", good[:len(good)-1]},
		{"zero amount", edit(func(q *testRequest) { q.Amount.Minor = 0 })},
		{"negative amount", edit(func(q *testRequest) { q.Amount.Minor = -5 })},
		{"lowercase currency", edit(func(q *testRequest) { q.Amount.Currency = "usd" })},
		{"long currency", edit(func(q *testRequest) { q.Amount.Currency = "ABCDEFGHI" })},
		{"expires at creation", edit(func(q *testRequest) { q.Expires = q.Created })},
		{"hash without hold", edit(func(q *testRequest) { q.Hold = false })},
		{"unlabelled memo", edit(func(q *testRequest) { q.Memo = "real money" })},
		{"invalid UTF-8 memo", edit(func(q *testRequest) { q.Memo = TestMemoLabel + "\xff" })},
		{"long memo", edit(func(q *testRequest) { q.Memo = TestMemoLabel + strings.Repeat(".", MaxMemo) })},
	}
	for _, tt := range tests {
		if _, err := parseTestRequestBinary(tt.raw); err == nil {
			t.Errorf("%s: got nil error", tt.name)
		}
	}
	flags := bytes.Clone(good)
	flags[5+32+16+8+1+3+8+8] = 3
	if _, err := parseTestRequestBinary(flags); err == nil {
		t.Errorf("unknown flags: got nil error")
	}
	for _, s := range []string{"", "testmoney:", "testmoney:" + b64(good) + "=", "TESTMONEY:" + b64(good), "testmoney:" + b64(good)[1:]} {
		if _, _, err := parseTestRequest(s); err == nil {
			t.Errorf("parseTestRequest(%.30q…): got nil error", s)
		}
	}
}

// FuzzRequest: no input panics the decoder, and whatever it accepts
// encodes back to the same text.
func FuzzRequest(f *testing.F) {
	f.Add(vectorRequest().String())
	f.Add(requestPrefix + b64(plainRequest()))
	f.Fuzz(func(t *testing.T, s string) {
		q, raw, err := parseTestRequest(s)
		if err != nil {
			return
		}
		_ = q.verify()
		if q.String() != s || !bytes.Equal(q.marshal(), raw) {
			t.Fatalf("round trip: got %q, want %q", q.String(), s)
		}
		if inv := q.invoice(raw); inv.Request != s {
			t.Fatalf("Invoice.Request: got %q, want %q", inv.Request, s)
		}
	})
}

// FuzzProof: as FuzzRequest, for proofs.
func FuzzProof(f *testing.F) {
	q := vectorRequest()
	f.Add(vectorProof(q).marshal())
	f.Add(q.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseTestProof(b)
		if err != nil {
			return
		}
		_ = p.verify()
		if got := p.marshal(); !bytes.Equal(got, b) {
			t.Fatalf("round trip: got %x, want %x", got, b)
		}
	})
}

// FuzzVoucher: as FuzzRequest, for refund vouchers.
func FuzzVoucher(f *testing.F) {
	q := vectorRequest()
	f.Add(vectorVoucher(q).marshal())
	f.Add(vectorProof(q).marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseTestVoucher(b)
		if err != nil {
			return
		}
		_ = v.verify()
		if got := v.marshal(); !bytes.Equal(got, b) {
			t.Fatalf("round trip: got %x, want %x", got, b)
		}
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
