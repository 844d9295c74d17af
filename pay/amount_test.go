package pay_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/shardcast/shardcast/pay"
)

func TestAmountString(t *testing.T) {
	tests := []struct {
		a    pay.Amount
		want string
	}{
		{pay.Amount{250, "USD"}, "2.50 USD"},
		{pay.Amount{5, "EUR"}, "0.05 EUR"},
		{pay.Amount{0, "EUR"}, "0.00 EUR"},
		{pay.Amount{-199, "USD"}, "-1.99 USD"},
		{pay.Amount{500, "JPY"}, "500 JPY"},
		{pay.Amount{1234, "KWD"}, "1.234 KWD"},
		{pay.Amount{1_000_000, "BTC"}, "0.00001000000 BTC"},
		{pay.Amount{pay.DefaultTestBalance, "USD"}, "1000000.00 USD"},
		{pay.Amount{math.MinInt64, "USD"}, "-92233720368547758.08 USD"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%#v.String(): got %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		s, currency string
		want        int64
		ok          bool
	}{
		{"2.50", "USD", 250, true},
		{"2.5", "USD", 250, true},
		{"2", "USD", 200, true},
		{"0.01", "EUR", 1, true},
		{"500", "JPY", 500, true},
		{"0.00000001", "BTC", 1000, true},
		{"92233720368547758.07", "USD", math.MaxInt64, true},
		{"92233720368547758.08", "USD", 0, false},
		{"2.505", "USD", 0, false},
		{"1.5", "JPY", 0, false},
		{"-1", "USD", 0, false},
		{"+1", "USD", 0, false},
		{".5", "USD", 0, false},
		{"5.", "USD", 0, false},
		{"1e3", "USD", 0, false},
		{"1,000", "USD", 0, false},
		{" 1", "USD", 0, false},
		{"", "USD", 0, false},
		{"1", "usd", 0, false},
		{"1", "US", 0, false},
	}
	for _, tt := range tests {
		a, err := pay.ParseAmount(tt.s, tt.currency)
		if (err == nil) != tt.ok || (tt.ok && a != (pay.Amount{tt.want, tt.currency})) {
			t.Errorf("ParseAmount(%q, %q): got %v, %v, want %d (ok %v)", tt.s, tt.currency, a, err, tt.want, tt.ok)
		}
	}
	if _, err := pay.ParseAmount("1", "usd"); !errors.Is(err, pay.ErrCurrency) {
		t.Errorf("ParseAmount in a bad currency: got %v, want %v", err, pay.ErrCurrency)
	}
}

// FuzzParseAmount: what parses formats back to a string that parses to
// the same amount.
func FuzzParseAmount(f *testing.F) {
	f.Add("2.50", "USD")
	f.Add("0.00000001234", "BTC")
	f.Fuzz(func(t *testing.T, s, currency string) {
		a, err := pay.ParseAmount(s, currency)
		if err != nil {
			return
		}
		text, ok := strings.CutSuffix(a.String(), " "+currency)
		if !ok {
			t.Fatalf("%v.String() does not end in the currency", a)
		}
		b, err := pay.ParseAmount(text, currency)
		if err != nil || b != a {
			t.Fatalf("round trip of %q: got %v, %v, want %v", s, b, err, a)
		}
	})
}

func TestStatusText(t *testing.T) {
	for s := pay.Open; s <= pay.Expired; s++ {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var got pay.Status
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("JSON round trip of %v: got %v, %v (%s)", s, got, err, b)
		}
	}
	if _, err := json.Marshal(pay.Status(0)); err == nil {
		t.Errorf("marshaling status 0: got nil error")
	}
	var s pay.Status
	if err := s.UnmarshalText([]byte("paid")); err == nil {
		t.Errorf(`UnmarshalText("paid"): got nil error`)
	}
}
