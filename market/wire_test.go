package market

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/pay"
)

// testPeer is a fixed peer ID.
func testPeer(t testing.TB) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(testKey(t, "buyer"))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var testTime = time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)

// testMessages returns one valid message of each type, signed where
// signatures apply.
func testMessages(t testing.TB) []interface{ encode() []byte } {
	t.Helper()
	key := testKey(t, "creator")
	camp := rawCID("campaign")
	buyer := testPeer(t)
	rcpt := testIdentity(t, "buyer").Recipient().String()
	o := &Offer{ID: OfferID{1, 2, 3}, Campaign: camp, Kind: KindBuy, Buyer: buyer, Recipient: rcpt,
		Indices: []uint32{0, 1, 7, 1000, 9_999_999}, Price: pay.Amount{Minor: 1150, Currency: "USD"}, Rail: "test",
		Request: "testmoney:AAAA", Expires: testTime}
	if err := o.sign(key); err != nil {
		t.Fatal(err)
	}
	r := &Receipt{Offer: o.ID, Campaign: camp, Buyer: buyer, Kind: KindBuy, Indices: o.Indices, Amount: o.Price, Time: testTime}
	if err := r.sign(key); err != nil {
		t.Fatal(err)
	}
	return []interface{ encode() []byte }{
		&quote{Campaign: camp, Kind: KindBuy, Shares: 5, Rail: "test", Recipient: rcpt},
		&quote{Campaign: camp, Kind: KindDonate, Amount: 500, Rail: "lightning"},
		offerMsg{o},
		&payment{ID: o.ID, Proof: []byte("proof of payment")},
		&redeliver{ID: o.ID},
		&delivery{ID: o.ID, Payload: []byte("age-encryption.org/v1 …"), Receipt: r},
		&errorMsg{Code: CodeExpired, Message: "offer expired", Voucher: []byte("voucher")},
		&errorMsg{Code: CodeSoldOut, Message: "no shares left — désolé"},
		receiptMsg{r},
		&withdraw{ID: o.ID},
	}
}

// offerMsg and receiptMsg give Offer and Receipt the encode method of
// the other messages.
type offerMsg struct{ *Offer }

func (o offerMsg) encode() []byte { return o.Marshal() }

type receiptMsg struct{ *Receipt }

func (r receiptMsg) encode() []byte { return r.Marshal() }

// decodeAny decodes a body of any type, receipts included.
func decodeAny(body []byte) (interface{ encode() []byte }, error) {
	if len(body) > 0 && body[0] == typeReceipt {
		r, err := DecodeReceipt(body)
		if err != nil {
			return nil, err
		}
		return receiptMsg{r}, nil
	}
	m, err := decodeMessage(body)
	if err != nil {
		return nil, err
	}
	if o, ok := m.(*Offer); ok {
		return offerMsg{o}, nil
	}
	return m.(interface{ encode() []byte }), nil
}

func TestRoundTrip(t *testing.T) {
	for _, m := range testMessages(t) {
		body := m.encode()
		got, err := decodeAny(body)
		if err != nil {
			t.Errorf("%T: %v", m, err)
			continue
		}
		if again := got.encode(); !bytes.Equal(again, body) {
			t.Errorf("%T re-encodes differently:\ngot  %x\nwant %x", m, again, body)
		}
		frame := appendFrame(nil, body)
		read, err := readFrame(bytes.NewReader(frame), MaxMessageSize)
		if err != nil || !bytes.Equal(read, body) {
			t.Errorf("%T framed: got %x, %v", m, read, err)
		}
	}
}

// TestQuoteVector pins the encoding of a quote.
func TestQuoteVector(t *testing.T) {
	q := &quote{Campaign: rawCID("campaign"), Kind: KindBuy, Shares: 300, Rail: "test", Recipient: "age1x"}
	got := hex.EncodeToString(q.encode())
	want := "01" + "24" + hex.EncodeToString(rawCID("campaign").Bytes()) + "01" + "ac02" + "00" + "04" + hex.EncodeToString([]byte("test")) + "05" + hex.EncodeToString([]byte("age1x"))
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	msgs := testMessages(t)
	quoteBody := msgs[0].encode()
	offerBody := msgs[2].encode()
	errBody := msgs[6].encode()
	donation := msgs[1].encode()
	tests := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"unknown type", []byte{99}},
		{"trailing byte", append(bytes.Clone(quoteBody), 0)},
		{"truncated", quoteBody[:len(quoteBody)-1]},
		{"offer truncated signature", offerBody[:len(offerBody)-1]},
		{"non-minimal integer", append(append(bytes.Clone(quoteBody[:38]), 0x85, 0x00), quoteBody[39:]...)},
		{"unknown kind", func() []byte { b := bytes.Clone(quoteBody); b[38] = 3; return b }()},
		{"purchase with an amount", (&quote{Campaign: rawCID("c"), Kind: KindBuy, Amount: 1, Rail: "test", Recipient: "age1x"}).encode()},
		{"purchase without recipient", (&quote{Campaign: rawCID("c"), Kind: KindBuy, Rail: "test"}).encode()},
		{"donation without amount", (&quote{Campaign: rawCID("c"), Kind: KindDonate, Rail: "test"}).encode()},
		{"donation with shares", (&quote{Campaign: rawCID("c"), Kind: KindDonate, Amount: 5, Shares: 1, Rail: "test"}).encode()},
		{"too many shares", (&quote{Campaign: rawCID("c"), Kind: KindBuy, Shares: MaxSharesPerOffer + 1, Rail: "test", Recipient: "age1x"}).encode()},
		{"bad rail name", (&quote{Campaign: rawCID("c"), Kind: KindDonate, Amount: 5, Rail: "Test"}).encode()},
		{"recipient with a space", (&quote{Campaign: rawCID("c"), Kind: KindBuy, Rail: "test", Recipient: "age1 x"}).encode()},
		{"not a CID", append([]byte{typeRedeliver}, bytes.Repeat([]byte{0}, 15)...)},
		{"error code zero", (&errorMsg{Message: "x"}).encode()},
		{"error message not UTF-8", (&errorMsg{Code: 1, Message: "\xff"}).encode()},
		{"error voucher too long", (&errorMsg{Code: 1, Voucher: make([]byte, maxProof+1)}).encode()},
		{"error trailing", append(bytes.Clone(errBody), 1)},
		{"donation as purchase", func() []byte { b := bytes.Clone(donation); b[38] = byte(KindBuy); return b }()},
		{"pay without proof", (&payment{}).encode()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := decodeAny(tt.body); err == nil {
				t.Errorf("decoded %x as %+v, want an error", tt.body, m)
			} else if !errors.Is(err, errWire) && !strings.Contains(err.Error(), "receipt") {
				t.Errorf("got %v, want an error wrapping errWire", err)
			}
		})
	}
}

func TestOfferIndicesLimits(t *testing.T) {
	o := *testMessages(t)[2].(offerMsg).Offer
	for _, tt := range []struct {
		indices []uint32
		ok      bool
	}{
		{[]uint32{9_999_999}, true},
		{[]uint32{10_000_000}, false},
		{nil, true},
	} {
		o.Indices = tt.indices
		_, err := DecodeOffer(o.Marshal())
		if got := err == nil; got != tt.ok {
			t.Errorf("indices %v: got %v, want ok %v", tt.indices, err, tt.ok)
		}
	}
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		max  int
		want []byte
		ok   bool
	}{
		{"one byte", []byte{1, 7}, 10, []byte{7}, true},
		{"at the limit", append([]byte{3}, 1, 2, 3), 3, []byte{1, 2, 3}, true},
		{"over the limit", append([]byte{4}, 1, 2, 3, 4), 3, nil, false},
		{"empty body", []byte{0}, 10, nil, false},
		{"non-minimal length", []byte{0x81, 0x00, 7}, 10, nil, false},
		{"length of four bytes", []byte{0x80, 0x80, 0x80, 0x01}, MaxMessageSize, nil, false},
		{"truncated body", []byte{3, 1}, 10, nil, false},
		{"truncated length", []byte{0x80}, 10, nil, false},
		{"nothing", nil, 10, nil, false},
		{"two-byte length", append([]byte{0x80, 0x01}, make([]byte, 128)...), 200, make([]byte, 128), true},
	}
	for _, tt := range tests {
		got, err := readFrame(bytes.NewReader(tt.in), tt.max)
		if (err == nil) != tt.ok || !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %x, %v, want %x (ok %v)", tt.name, got, err, tt.want, tt.ok)
		}
	}
	if _, err := readFrame(bytes.NewReader(nil), 10); !errors.Is(err, io.EOF) {
		t.Errorf("empty stream: got %v, want io.EOF", err)
	}
}

func TestSignatures(t *testing.T) {
	c := newCreator(t, 4, nil, nil)
	m := c.manifests[c.pay]
	o := testMessages(t)[2].(offerMsg).Offer
	if err := o.Verify(m); err != nil {
		t.Fatal(err)
	}
	// A receipt's signature does not verify as an offer's, nor the reverse.
	r := testMessages(t)[8].(receiptMsg).Receipt
	swapped := *r
	swapped.Sig = o.Sig
	if err := swapped.Verify(m); !errors.Is(err, ErrBadOffer) {
		t.Errorf("receipt with an offer's signature: got %v, want ErrBadOffer", err)
	}
	other, _ := testManifest(t, testKey(t, "other"), "pay", nil)
	if err := o.Verify(other); !errors.Is(err, ErrBadOffer) {
		t.Errorf("offer checked against another creator: got %v, want ErrBadOffer", err)
	}
	id, err := ParseOfferID(o.ID.String())
	if err != nil || id != o.ID {
		t.Errorf("ParseOfferID(%q): got %v, %v", o.ID, id, err)
	}
	for _, s := range []string{"", "01", strings.Repeat("AB", 16), o.ID.String() + "00", strings.Repeat("zz", 16)} {
		if _, err := ParseOfferID(s); err == nil {
			t.Errorf("ParseOfferID(%q) succeeded", s)
		}
	}
}
