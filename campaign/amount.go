package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// exponents lists the currencies whose minor unit is not 1/100 of the
// major unit. BTC and SAT amounts are both counted in millisatoshi, the
// unit of Lightning: 1 BTC = 10^11 msat, 1 sat = 10^3 msat.
var exponents = map[string]int{
	// ISO 4217 currencies without a minor unit.
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	// ISO 4217 currencies with 1/1000.
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// Bitcoin, counted in millisatoshi.
	"BTC": 11, "SAT": 3, "MSAT": 0,
}

// Exponent returns the number of decimal places between currency's major
// unit and the minor unit amounts are counted in: 0 for JPY, 3 for KWD,
// 11 for BTC (msat), 3 for SAT (msat), 2 for every other currency (USD,
// EUR, GBP …).
func Exponent(currency string) int {
	if e, ok := exponents[currency]; ok {
		return e
	}
	return 2
}

// trimmed says which currencies FormatAmount prints without trailing
// fractional zeros (there are too many of them to be useful).
func trimmed(currency string) bool { return currency == "BTC" || currency == "SAT" }

// ParseAmount parses a non-negative decimal amount of currency ("2.50",
// "3", "0.00012") into minor units (250, 300, 12000000 msat). It rejects
// signs, exponents, separators, more decimals than the currency has, and
// values that overflow int64.
func ParseAmount(s, currency string) (int64, error) {
	if err := checkCurrency(currency); err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	exp := Exponent(currency)
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("amount %q: want digits with an optional decimal point, like 2.50", s)
	}
	if len(frac) > exp {
		return 0, fmt.Errorf("amount %q: %s has %d decimals, not %d", s, currency, exp, len(frac))
	}
	frac += strings.Repeat("0", exp-len(frac))
	n := strings.TrimLeft(whole+frac, "0")
	if n == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q %s: too large", s, currency)
	}
	return v, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatAmount formats minor units of currency as a decimal: 250 USD is
// "2.50", 5 JPY is "5". BTC and SAT drop trailing fractional zeros
// (250000 msat is "0.0000025" BTC or "250" SAT). Negative amounts get a
// leading '-'.
func FormatAmount(v int64, currency string) string {
	exp := Exponent(currency)
	sign := ""
	u := uint64(v)
	if v < 0 {
		sign, u = "-", uint64(-(v+1))+1 // no overflow at MinInt64
	}
	s := strconv.FormatUint(u, 10)
	if exp == 0 {
		return sign + s
	}
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	whole, frac := s[:len(s)-exp], s[len(s)-exp:]
	if trimmed(currency) {
		frac = strings.TrimRight(frac, "0")
		if frac == "" {
			return sign + whole
		}
	}
	return sign + whole + "." + frac
}

// ParseDeadline parses a deadline given as an RFC 3339 time
// ("2026-12-31T23:59:59Z") or as a Go duration from now ("90s", "72h").
// The result is in UTC, truncated to whole seconds (the manifest's
// resolution), and must be after now.
func ParseDeadline(s string, now time.Time) (time.Time, error) {
	var t time.Time
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("deadline %q: duration must be positive", s)
		}
		t = now.Add(d)
	} else if t, err = time.Parse(time.RFC3339, s); err != nil {
		return time.Time{}, fmt.Errorf("deadline %q: want an RFC 3339 time or a duration like 72h", s)
	}
	t = t.Truncate(time.Second).UTC()
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("deadline %q: %s is not in the future", s, t.Format(time.RFC3339))
	}
	if t.Unix() > maxUnix {
		return time.Time{}, fmt.Errorf("deadline %q: after year 9999", s)
	}
	return t, nil
}
