package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrCurrency says that a currency code is malformed.
var ErrCurrency = errors.New("wrong or malformed currency")

// Lengths of a currency code, in ASCII capital letters.
const (
	MinCurrency = 3
	MaxCurrency = 8
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

// Bitcoin reports whether currency counts bitcoin (BTC, SAT or MSAT, all
// in millisatoshi).
func Bitcoin(currency string) bool {
	switch currency {
	case "BTC", "SAT", "MSAT":
		return true
	}
	return false
}

// trimmed says which currencies Format prints without trailing
// fractional zeros (there are too many of them to be useful).
func trimmed(currency string) bool { return currency == "BTC" || currency == "SAT" }

// CheckCurrency accepts MinCurrency to MaxCurrency ASCII capital letters;
// its error wraps ErrCurrency.
func CheckCurrency(c string) error {
	if len(c) < MinCurrency || len(c) > MaxCurrency {
		return fmt.Errorf("currency %q: want %d to %d letters A-Z: %w", c, MinCurrency, MaxCurrency, ErrCurrency)
	}
	for i := 0; i < len(c); i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return fmt.Errorf("currency %q: want %d to %d letters A-Z: %w", c, MinCurrency, MaxCurrency, ErrCurrency)
		}
	}
	return nil
}

// Parse parses a non-negative decimal amount of currency ("2.50", "3",
// "0.00012") into minor units (250, 300, 12000000 msat). It rejects signs,
// exponents, spaces, separators, more decimals than the currency has,
// values that overflow int64, and a malformed currency (ErrCurrency).
func Parse(s, currency string) (int64, error) {
	if err := CheckCurrency(currency); err != nil {
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

// Format formats minor units of currency as a decimal: 250 USD is "2.50",
// 5 JPY is "5". BTC and SAT drop trailing fractional zeros (250000 msat
// is "0.0000025" BTC or "250" SAT). Negative amounts get a leading '-'.
func Format(v int64, currency string) string {
	exp := Exponent(currency)
	sign := ""
	u := uint64(v)
	if v < 0 {
		sign, u = "-", -u // two's complement: right for math.MinInt64 too
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
