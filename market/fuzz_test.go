package market

import (
	"bytes"
	"testing"
)

// seeds adds the encoding of every test message of type typ.
func seeds(f *testing.F, typ byte) {
	for _, m := range testMessages(f) {
		if b := m.encode(); b[0] == typ {
			f.Add(b)
		}
	}
}

// roundTrip checks that an accepted body re-encodes to the same bytes.
func roundTrip(t *testing.T, body []byte, decode func([]byte) (interface{ encode() []byte }, error)) {
	m, err := decode(body)
	if err != nil {
		return
	}
	if again := m.encode(); !bytes.Equal(again, body) {
		t.Fatalf("accepted %x, re-encodes as %x", body, again)
	}
}

func FuzzQuote(f *testing.F) {
	seeds(f, typeQuote)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) { return decodeQuote(b) })
	})
}

func FuzzOffer(f *testing.F) {
	seeds(f, typeOffer)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) {
			o, err := DecodeOffer(b)
			if err != nil {
				return nil, err
			}
			return offerMsg{o}, nil
		})
	})
}

func FuzzPay(f *testing.F) {
	seeds(f, typePay)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) { return decodePayment(b) })
	})
}

func FuzzRedeliver(f *testing.F) {
	seeds(f, typeRedeliver)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) { return decodeRedeliver(b) })
	})
}

func FuzzWithdraw(f *testing.F) {
	seeds(f, typeWithdraw)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) { return decodeWithdraw(b) })
	})
}

func FuzzDelivery(f *testing.F) {
	seeds(f, typeDelivery)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) { return decodeDelivery(b) })
	})
}

func FuzzReceipt(f *testing.F) {
	seeds(f, typeReceipt)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) {
			r, err := DecodeReceipt(b)
			if err != nil {
				return nil, err
			}
			return receiptMsg{r}, nil
		})
	})
}

func FuzzError(f *testing.F) {
	seeds(f, typeError)
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) { return decodeError(b) })
	})
}

// FuzzFrame checks that readFrame never reads more than a frame, and that
// what it accepts is the frame appendFrame writes.
func FuzzFrame(f *testing.F) {
	for _, m := range testMessages(f) {
		f.Add(appendFrame(nil, m.encode()))
	}
	f.Add([]byte{0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		body, err := readFrame(r, 4096)
		if err != nil {
			return
		}
		consumed := len(b) - r.Len()
		if again := appendFrame(nil, body); !bytes.Equal(again, b[:consumed]) {
			t.Fatalf("read %x from %x, which frames as %x", body, b[:consumed], again)
		}
	})
}
