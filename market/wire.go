package market

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf8"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
)

// ProtocolID is the libp2p stream protocol of the market: one request and
// one response per stream.
const ProtocolID protocol.ID = "/shardcast/market/1.0.0"

// Limits of the wire format. Each bounds what one untrusted message can
// make a peer allocate or do.
const (
	// MaxMessageSize bounds a frame's body. The largest message is a
	// delivery of MaxSharesPerOffer shares (360,000 bytes plus age's
	// header) with its receipt.
	MaxMessageSize = 1 << 20
	// MaxSharesPerOffer bounds the shares one offer sells.
	MaxSharesPerOffer = 10_000

	maxRecipient = 128      // an age X25519 recipient is 62 characters
	maxRailName  = 32       // as in manifests
	maxRequest   = 8 << 10  // a payment request (test rail ≈ 300, BOLT 11 ≈ 400–1,500)
	maxProof     = 8 << 10  // a proof of payment or a refund voucher
	maxMessage   = 1 << 10  // an error's text
	maxCID       = 128      // a CID's binary form
	maxPeerID    = 128      // a peer ID's binary form
	maxReceipt   = 64 << 10 // an encoded receipt: ≤ 3 bytes per index
	sigSize      = 64       // Ed25519
)

// errWire is wrapped by every decoding error.
var errWire = errors.New("malformed market message")

// Message types, the first byte of every body.
const (
	typeQuote     byte = 1
	typeOffer     byte = 2
	typePay       byte = 3
	typeRedeliver byte = 4
	typeDelivery  byte = 5
	typeError     byte = 6
	typeReceipt   byte = 7 // not sent alone: embedded in deliveries, stored in ledgers
	// typeLockedOffer is an offer whose shares travel sealed under a key
	// the rail's payment reveals (see lock.go).
	typeLockedOffer byte = 8
	typePledged     byte = 9
	// typeWithdraw is a buyer's word that it will never pay an offer.
	typeWithdraw byte = 10
)

// readFrame reads one frame: the body's length as a minimal uvarint, then
// the body, 1 to max bytes.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var n uint64
	var c [1]byte
	for i := 0; ; i++ {
		if _, err := io.ReadFull(r, c[:]); err != nil {
			if i > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("reading frame length: %w", err)
		}
		if i == 3 || (c[0] == 0 && i > 0) { // 3 bytes of 7 bits hold more than MaxMessageSize
			return nil, fmt.Errorf("%w: frame length is not a minimal uvarint below 2^21", errWire)
		}
		n |= uint64(c[0]&0x7f) << (7 * i)
		if c[0] < 0x80 {
			break
		}
	}
	if n == 0 || n > uint64(max) {
		return nil, fmt.Errorf("%w: frame of %d bytes, want 1 to %d", errWire, n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %d-byte frame: %w", n, err)
	}
	return body, nil
}

// appendFrame appends body as a frame.
func appendFrame(dst, body []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...)
}

// encoder appends fields to a body.
type encoder struct{ b []byte }

func newEncoder(typ byte) *encoder { return &encoder{b: append(make([]byte, 0, 256), typ)} }

func (e *encoder) uvarint(v uint64)    { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) byte1(v byte)        { e.b = append(e.b, v) }
func (e *encoder) raw(v []byte)        { e.b = append(e.b, v...) }
func (e *encoder) bytes(v []byte)      { e.uvarint(uint64(len(v))); e.raw(v) }
func (e *encoder) str(v string)        { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) cid(c cid.Cid)       { e.bytes(c.Bytes()) }
func (e *encoder) peer(p peer.ID)      { e.str(string(p)) }
func (e *encoder) time(t time.Time)    { e.uvarint(uint64(t.UnixNano())) }
func (e *encoder) amount(a pay.Amount) { e.uvarint(uint64(a.Minor)); e.str(a.Currency) }

// indices writes a strictly increasing list: its length, the first index,
// then each gap less one.
func (e *encoder) indices(v []uint32) {
	e.uvarint(uint64(len(v)))
	for i, x := range v {
		if i == 0 {
			e.uvarint(uint64(x))
		} else {
			e.uvarint(uint64(x - v[i-1] - 1))
		}
	}
}

// decoder reads fields from a body; the first error sticks and later
// reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(field, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s: %s", errWire, field, fmt.Sprintf(format, args...))
	}
}

// uvarint reads a minimal uvarint.
func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(field, "truncated or overlong integer")
		return 0
	}
	if n > 1 && d.b[n-1] == 0 {
		d.fail(field, "integer not in its shortest form")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// int63 reads a uvarint in [lo, MaxInt64].
func (d *decoder) int63(field string, lo int64) int64 {
	v := d.uvarint(field)
	if d.err == nil && (v > math.MaxInt64 || int64(v) < lo) {
		d.fail(field, "%d out of range [%d, 2^63)", v, lo)
		return 0
	}
	return int64(v)
}

func (d *decoder) raw(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail(field, "truncated: %d bytes left, want %d", len(d.b), n)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte1(field string) byte {
	if v := d.raw(field, 1); v != nil {
		return v[0]
	}
	return 0
}

// bytes reads a length-prefixed byte string of lo to hi bytes. The result
// aliases the body.
func (d *decoder) bytes(field string, lo, hi int) []byte {
	n := d.uvarint(field)
	if d.err == nil && (n < uint64(lo) || n > uint64(hi)) {
		d.fail(field, "%d bytes, want %d to %d", n, lo, hi)
		return nil
	}
	return d.raw(field, int(n))
}

// str reads a length-prefixed UTF-8 string of lo to hi bytes.
func (d *decoder) str(field string, lo, hi int) string {
	b := d.bytes(field, lo, hi)
	if d.err == nil && !utf8.Valid(b) {
		d.fail(field, "not UTF-8")
		return ""
	}
	return string(b)
}

// printable reads a string of printable ASCII (0x21–0x7e).
func (d *decoder) printable(field string, lo, hi int) string {
	s := d.str(field, lo, hi)
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			d.fail(field, "byte %#x is not printable ASCII", s[i])
			return ""
		}
	}
	return s
}

func (d *decoder) cid(field string) cid.Cid {
	b := d.bytes(field, 1, maxCID)
	if d.err != nil {
		return cid.Undef
	}
	c, err := cid.Cast(b)
	if err != nil || string(c.Bytes()) != string(b) {
		d.fail(field, "not a CID in canonical binary form")
		return cid.Undef
	}
	return c
}

func (d *decoder) peer(field string) peer.ID {
	b := d.bytes(field, 1, maxPeerID)
	if d.err != nil {
		return ""
	}
	p, err := peer.IDFromBytes(b)
	if err != nil || string(p) != string(b) {
		d.fail(field, "not a peer ID")
		return ""
	}
	return p
}

// time reads Unix nanoseconds, after 1970.
func (d *decoder) time(field string) time.Time {
	ns := d.int63(field, 1)
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// amount reads a positive amount in a currency of 3 to 8 letters A–Z.
func (d *decoder) amount(field string) pay.Amount {
	a := pay.Amount{Minor: d.int63(field, 1), Currency: d.str(field+" currency", 3, 8)}
	for i := 0; i < len(a.Currency); i++ {
		if c := a.Currency[i]; c < 'A' || c > 'Z' {
			d.fail(field, "currency %q is not 3 to 8 letters A-Z", a.Currency)
		}
	}
	return a
}

// rail reads a rail name as manifests spell it: [a-z][a-z0-9-]*.
func (d *decoder) rail(field string) string {
	s := d.str(field, 1, maxRailName)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			d.fail(field, "%q is not a rail name", s)
			return ""
		}
	}
	return s
}

// indices reads a strictly increasing list of share indices, each below
// campaign.MaxShares, at most MaxSharesPerOffer of them.
func (d *decoder) indices(field string) []uint32 {
	n := d.uvarint(field)
	if d.err == nil && n > MaxSharesPerOffer {
		d.fail(field, "%d indices, at most %d allowed", n, MaxSharesPerOffer)
	}
	if d.err != nil || n == 0 {
		return nil
	}
	v := make([]uint32, 0, min(n, uint64(len(d.b))))
	next := uint64(0)
	for i := uint64(0); i < n; i++ {
		x := next + d.uvarint(field)
		if d.err != nil {
			return nil
		}
		if x >= campaign.MaxShares {
			d.fail(field, "index %d ≥ %d", x, campaign.MaxShares)
			return nil
		}
		v = append(v, uint32(x))
		next = x + 1
	}
	return v
}

// end fails if bytes are left over and returns the sticky error.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("message", "%d bytes after the last field", len(d.b))
	}
	return d.err
}

// header checks a body's type byte and returns a decoder of the rest.
func header(body []byte, typ byte, name string) *decoder {
	d := &decoder{b: body}
	if t := d.byte1("type"); d.err == nil && t != typ {
		d.fail("type", "%d, want %d (%s)", t, typ, name)
	}
	return d
}
