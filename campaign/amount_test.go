package campaign

import (
	"math"
	"testing"
	"time"
)

func TestParseAmount(t *testing.T) {
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
		{"1.234", "KWD", 1234, true},
		{"1", "BTC", 100_000_000_000, true},
		{"0.00000001", "BTC", 1000, true},
		{"0.00000000001", "BTC", 1, true},
		{"21", "SAT", 21_000, true},
		{"0.5", "SAT", 500, true},
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
		{"1.2.3", "USD", 0, false},
		{"٣", "USD", 0, false},
		{"2.50", "usd", 0, false},
		{"2.50", "", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.s, tt.currency)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseAmount(%q, %q): got %d, %v; want %d, ok %v", tt.s, tt.currency, got, err, tt.want, tt.ok)
		}
	}
}

func TestFormatAmount(t *testing.T) {
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
		{-250, "USD", "-2.50"},
		{math.MaxInt64, "USD", "92233720368547758.07"},
		{math.MinInt64, "USD", "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := FormatAmount(tt.v, tt.currency); got != tt.want {
			t.Errorf("FormatAmount(%d, %q): got %q, want %q", tt.v, tt.currency, got, tt.want)
		}
	}
}

// TestAmountRoundTrip checks that FormatAmount's output parses back.
func TestAmountRoundTrip(t *testing.T) {
	for _, c := range []string{"USD", "JPY", "KWD", "BTC", "SAT", "MSAT"} {
		for _, v := range []int64{0, 1, 9, 10, 99, 100, 12345, 100_000_000_000, math.MaxInt64} {
			s := FormatAmount(v, c)
			if got, err := ParseAmount(s, c); err != nil || got != v {
				t.Errorf("ParseAmount(FormatAmount(%d, %s) = %q): got %d, %v", v, c, s, got, err)
			}
		}
	}
}

func TestParseDeadline(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 500_000_000, time.UTC)
	tests := []struct {
		s    string
		want time.Time
		ok   bool
	}{
		{"90s", time.Date(2026, 5, 1, 12, 1, 30, 0, time.UTC), true},
		{"72h", time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC), true},
		{"1h30m", time.Date(2026, 5, 1, 13, 30, 0, 0, time.UTC), true},
		{"2026-12-31T23:59:59Z", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{"2026-06-01T02:00:00+02:00", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"2026-06-01T00:00:00.75Z", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"0s", time.Time{}, false},
		{"-5m", time.Time{}, false},
		{"300ms", time.Time{}, false}, // rounds down to now
		{"2020-01-01T00:00:00Z", time.Time{}, false},
		{"2026-05-01T12:00:00Z", time.Time{}, false},
		{"2026-06-01", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
		{"", time.Time{}, false},
		{"9999-12-31T23:59:59Z", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), true},
	}
	for _, tt := range tests {
		got, err := ParseDeadline(tt.s, now)
		if !got.Equal(tt.want) || (err == nil) != tt.ok {
			t.Errorf("ParseDeadline(%q): got %v, %v; want %v, ok %v", tt.s, got, err, tt.want, tt.ok)
		}
		if err == nil && (got.Location() != time.UTC || got.Nanosecond() != 0) {
			t.Errorf("ParseDeadline(%q): got %v, want whole seconds in UTC", tt.s, got)
		}
	}
}
