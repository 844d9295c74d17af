package pay

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Wire formats of the test rail. Each message is a fixed sequence of
// fields (integers big-endian) followed by an Ed25519 signature over a
// domain-separation context and every byte before the signature; each has
// exactly one encoding, so decoding and re-encoding gives the input back.
// The layouts are in doc.go.

const (
	requestPrefix  = "testmoney:" // the text form of a request: prefix + base64url, no padding
	requestMagic   = "SCTR"
	proofMagic     = "SCTP"
	voucherMagic   = "SCTV"
	wireVersion    = 1
	requestContext = "shardcast pay test request v1\n"
	proofContext   = "shardcast pay test proof v1\n"
	voucherContext = "shardcast pay test voucher v1\n"

	// TestMemoLabel begins the memo of every test-rail invoice.
	TestMemoLabel = "TEST MONEY"

	maxRequest = 5 + 32 + 16 + 8 + 1 + 8 + 8 + 8 + 1 + 32 + 2 + MaxMemo + 64
)

// Reasons a voucher gives for a refund.
const (
	reasonCanceled byte = 1
	reasonExpired  byte = 2
)

// testRequest is a payee-signed payment request.
type testRequest struct {
	Payee       [32]byte // Ed25519 public key
	ID          [16]byte
	Amount      Amount
	Created     int64 // Unix nanoseconds
	Expires     int64 // Unix nanoseconds, after Created
	Hold        bool
	PaymentHash [32]byte // zero unless Hold and the payee set one
	Memo        string   // starts with TestMemoLabel
	Sig         [64]byte
}

// testProof is a payer-signed statement that it paid a request.
type testProof struct {
	Digest [32]byte // SHA-256 of the binary request
	ID     [16]byte
	Amount Amount
	Payer  [32]byte
	Sig    [64]byte
}

// testVoucher is a payee-signed statement that nothing was or will be
// credited for a request, so its payer may take the payment back.
type testVoucher struct {
	Digest [32]byte
	ID     [16]byte
	Amount Amount
	Reason byte // reasonCanceled or reasonExpired
	Payee  [32]byte
	Sig    [64]byte
}

func appendAmount(b []byte, a Amount) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(a.Minor))
	b = append(b, byte(len(a.Currency)))
	return append(b, a.Currency...)
}

func (r *testRequest) body() []byte {
	b := make([]byte, 0, maxRequest)
	b = append(b, requestMagic...)
	b = append(b, wireVersion)
	b = append(b, r.Payee[:]...)
	b = append(b, r.ID[:]...)
	b = appendAmount(b, r.Amount)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Created))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Expires))
	var flags byte
	if r.Hold {
		flags = 1
	}
	b = append(b, flags)
	b = append(b, r.PaymentHash[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.Memo)))
	return append(b, r.Memo...)
}

func (r *testRequest) marshal() []byte { return append(r.body(), r.Sig[:]...) }

func (r *testRequest) sign(key ed25519.PrivateKey) {
	copy(r.Sig[:], ed25519.Sign(key, append([]byte(requestContext), r.body()...)))
}

func (r *testRequest) String() string {
	return requestPrefix + base64.RawURLEncoding.EncodeToString(r.marshal())
}

func (p *testProof) body() []byte {
	b := make([]byte, 0, 5+32+16+9+8+32)
	b = append(b, proofMagic...)
	b = append(b, wireVersion)
	b = append(b, p.Digest[:]...)
	b = append(b, p.ID[:]...)
	b = appendAmount(b, p.Amount)
	return append(b, p.Payer[:]...)
}

func (p *testProof) marshal() []byte { return append(p.body(), p.Sig[:]...) }

func (p *testProof) sign(key ed25519.PrivateKey) {
	copy(p.Sig[:], ed25519.Sign(key, append([]byte(proofContext), p.body()...)))
}

func (v *testVoucher) body() []byte {
	b := make([]byte, 0, 5+32+16+9+8+1+32)
	b = append(b, voucherMagic...)
	b = append(b, wireVersion)
	b = append(b, v.Digest[:]...)
	b = append(b, v.ID[:]...)
	b = appendAmount(b, v.Amount)
	b = append(b, v.Reason)
	return append(b, v.Payee[:]...)
}

func (v *testVoucher) marshal() []byte { return append(v.body(), v.Sig[:]...) }

func (v *testVoucher) sign(key ed25519.PrivateKey) {
	copy(v.Sig[:], ed25519.Sign(key, append([]byte(voucherContext), v.body()...)))
}

// reader takes fields off a message; the first short read sticks.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || len(r.b) < n {
		r.bad = true
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) uint64() uint64 { return binary.BigEndian.Uint64(r.take(8)) }

func (r *reader) amount() (Amount, error) {
	minor := int64(r.uint64())
	n := int(r.take(1)[0])
	a := Amount{Minor: minor, Currency: string(r.take(n))}
	if r.bad {
		return a, fmt.Errorf("truncated")
	}
	return a, checkAmount(a)
}

func (r *reader) header(magic string) error {
	if string(r.take(4)) != magic {
		return fmt.Errorf("not a %s message", magic)
	}
	if v := r.take(1)[0]; v != wireVersion {
		return fmt.Errorf("unknown version %d", v)
	}
	return nil
}

// finish reads the trailing signature and checks that nothing follows.
func (r *reader) finish(sig *[64]byte) error {
	copy(sig[:], r.take(64))
	if r.bad {
		return fmt.Errorf("truncated")
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return nil
}

// parseTestRequest decodes the text form of a request; it checks the form,
// not the signature.
func parseTestRequest(s string) (*testRequest, []byte, error) {
	enc, ok := strings.CutPrefix(s, requestPrefix)
	if !ok || len(enc) > base64.RawURLEncoding.EncodedLen(maxRequest) {
		return nil, nil, fmt.Errorf("pay: decoding test request: want %q and at most %d bytes: %w", requestPrefix, maxRequest, ErrBadRequest)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, nil, fmt.Errorf("pay: decoding test request: %v: %w", err, ErrBadRequest)
	}
	req, err := parseTestRequestBinary(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("pay: decoding test request: %v: %w", err, ErrBadRequest)
	}
	return req, raw, nil
}

func parseTestRequestBinary(b []byte) (*testRequest, error) {
	r := &reader{b: b}
	var q testRequest
	if err := r.header(requestMagic); err != nil {
		return nil, err
	}
	copy(q.Payee[:], r.take(32))
	copy(q.ID[:], r.take(16))
	var err error
	if q.Amount, err = r.amount(); err != nil {
		return nil, err
	}
	q.Created = int64(r.uint64())
	q.Expires = int64(r.uint64())
	flags := r.take(1)[0]
	copy(q.PaymentHash[:], r.take(32))
	m := int(binary.BigEndian.Uint16(r.take(2)))
	if m > MaxMemo {
		return nil, fmt.Errorf("memo of %d bytes, more than %d", m, MaxMemo)
	}
	q.Memo = string(r.take(m))
	if err := r.finish(&q.Sig); err != nil {
		return nil, err
	}
	switch {
	case q.Expires <= q.Created:
		return nil, fmt.Errorf("expires before it was created")
	case flags > 1:
		return nil, fmt.Errorf("unknown flags %#x", flags)
	case flags == 0 && q.PaymentHash != [32]byte{}:
		return nil, fmt.Errorf("payment hash on an invoice that is not a hold invoice")
	case !utf8.ValidString(q.Memo) || !strings.HasPrefix(q.Memo, TestMemoLabel):
		return nil, fmt.Errorf("memo is not UTF-8 beginning with %q", TestMemoLabel)
	}
	q.Hold = flags == 1
	return &q, nil
}

func (r *testRequest) verify() error {
	if !ed25519.Verify(r.Payee[:], append([]byte(requestContext), r.body()...), r.Sig[:]) {
		return fmt.Errorf("pay: test request %x: bad payee signature: %w", r.ID, ErrBadRequest)
	}
	return nil
}

// parseTestProof decodes a proof; it checks the form, not the signature.
func parseTestProof(b []byte) (*testProof, error) {
	r := &reader{b: b}
	var p testProof
	if err := r.header(proofMagic); err != nil {
		return nil, err
	}
	copy(p.Digest[:], r.take(32))
	copy(p.ID[:], r.take(16))
	var err error
	if p.Amount, err = r.amount(); err != nil {
		return nil, err
	}
	copy(p.Payer[:], r.take(32))
	if err := r.finish(&p.Sig); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *testProof) verify() error {
	if !ed25519.Verify(p.Payer[:], append([]byte(proofContext), p.body()...), p.Sig[:]) {
		return fmt.Errorf("bad payer signature")
	}
	return nil
}

// parseTestVoucher decodes a voucher; it checks the form, not the
// signature.
func parseTestVoucher(b []byte) (*testVoucher, error) {
	r := &reader{b: b}
	var v testVoucher
	if err := r.header(voucherMagic); err != nil {
		return nil, err
	}
	copy(v.Digest[:], r.take(32))
	copy(v.ID[:], r.take(16))
	var err error
	if v.Amount, err = r.amount(); err != nil {
		return nil, err
	}
	v.Reason = r.take(1)[0]
	copy(v.Payee[:], r.take(32))
	if err := r.finish(&v.Sig); err != nil {
		return nil, err
	}
	if v.Reason != reasonCanceled && v.Reason != reasonExpired {
		return nil, fmt.Errorf("unknown refund reason %d", v.Reason)
	}
	return &v, nil
}

func (v *testVoucher) verify() error {
	if !ed25519.Verify(v.Payee[:], append([]byte(voucherContext), v.body()...), v.Sig[:]) {
		return fmt.Errorf("bad payee signature")
	}
	return nil
}

func requestDigest(raw []byte) [32]byte { return sha256.Sum256(raw) }
