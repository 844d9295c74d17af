package money

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		s, currency string
		want        int64
		ok          bool
	}{
		{"2.50", "USD", 250, true},
		{"2.5", "USD", 250, true},
		{"2", "EUR", 200, true},
		{"0", "GBP", 0, true},
		{"0.01", "USD", 1, true},
		{"007.10", "USD", 710, true},
		{"1500", "JPY", 1500, true},
		{"7", "XPF", 7, true},
		{"1.234", "KWD", 1234, true},
		{"1", "BTC", 100_000_000_000, true},
		{"0.00000001", "BTC", 1000, true},
		{"0.00000000001", "BTC", 1, true},
		{"21", "SAT", 21_000, true},
		{"0.5", "SAT", 500, true},
		{"12", "MSAT", 12, true},
		{"1", "ABCDEFGH", 100, true},
		{"92233720368547758.07", "USD", math.MaxInt64, true},
		{"92233720368547758.08", "USD", 0, false},
		{"99999999999999999999", "JPY", 0, false},
		{"2.500", "USD", 0, false},
		{"1.5", "JPY", 0, false},
		{"0.000000000001", "BTC", 0, false},
		{"-2.50", "USD", 0, false},
		{"+2.50", "USD", 0, false},
		{"2.", "USD", 0, false},
		{".5", "USD", 0, false},
		{"", "USD", 0, false},
		{"1e3", "USD", 0, false},
		{"1,000", "USD", 0, false},
		{"1_000", "USD", 0, false},
		{" 2", "USD", 0, false},
		{"2 ", "USD", 0, false},
		{"1.2.3", "USD", 0, false},
		{"٣", "USD", 0, false},
		{"2.50", "usd", 0, false},
		{"2.50", "", 0, false},
		{"1", "US", 0, false},
		{"1", "ABCDEFGHI", 0, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.s, tt.currency)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("Parse(%q, %q): got %d, %v; want %d, ok %v", tt.s, tt.currency, got, err, tt.want, tt.ok)
		}
	}
	if _, err := Parse("1", "usd"); !errors.Is(err, ErrCurrency) {
		t.Errorf("Parse in a bad currency: got %v, want %v", err, ErrCurrency)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		v        int64
		currency string
		want     string
	}{
		{250, "USD", "2.50"},
		{5, "USD", "0.05"},
		{0, "EUR", "0.00"},
		{100, "XYZ", "1.00"},
		{5, "JPY", "5"},
		{1234, "KWD", "1.234"},
		{100_000_000_000, "BTC", "1"},
		{250_000, "BTC", "0.0000025"},
		{1, "BTC", "0.00000000001"},
		{2500, "SAT", "2.5"},
		{21_000, "SAT", "21"},
		{12, "MSAT", "12"},
		{-250, "USD", "-2.50"},
		{-199, "USD", "-1.99"},
		{100_000_000, "USD", "1000000.00"},
		{math.MaxInt64, "USD", "92233720368547758.07"},
		{math.MinInt64, "USD", "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := Format(tt.v, tt.currency); got != tt.want {
			t.Errorf("Format(%d, %q): got %q, want %q", tt.v, tt.currency, got, tt.want)
		}
	}
}

// TestRoundTrip checks that Format's output parses back.
func TestRoundTrip(t *testing.T) {
	for _, c := range []string{"USD", "JPY", "KWD", "BTC", "SAT", "MSAT"} {
		for _, v := range []int64{0, 1, 9, 10, 99, 100, 12345, 100_000_000_000, math.MaxInt64} {
			s := Format(v, c)
			if got, err := Parse(s, c); err != nil || got != v {
				t.Errorf("Parse(Format(%d, %s) = %q): got %d, %v", v, c, s, got, err)
			}
		}
	}
}

func TestBitcoin(t *testing.T) {
	for c, want := range map[string]bool{"BTC": true, "SAT": true, "MSAT": true, "USD": false, "btc": false, "": false} {
		if got := Bitcoin(c); got != want {
			t.Errorf("Bitcoin(%q): got %v, want %v", c, got, want)
		}
	}
}

// FuzzParse: what parses is a non-negative amount that formats back to a
// string that parses to the same amount, and only strings of ASCII digits
// with at most one point parse.
func FuzzParse(f *testing.F) {
	f.Add("2.50", "USD")
	f.Add("0.00000001234", "BTC")
	f.Fuzz(func(t *testing.T, s, currency string) {
		v, err := Parse(s, currency)
		if err != nil {
			if v != 0 {
				t.Fatalf("Parse(%q, %q): got %d with error %v", s, currency, v, err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("Parse(%q, %q): got negative %d", s, currency, v)
		}
		if strings.Trim(s, "0123456789.") != "" || strings.Count(s, ".") > 1 {
			t.Fatalf("Parse(%q, %q): accepted %d", s, currency, v)
		}
		text := Format(v, currency)
		w, err := Parse(text, currency)
		if err != nil || w != v {
			t.Fatalf("round trip of %q (%s): got %d, %v, want %d", s, text, w, err, v)
		}
	})
}
