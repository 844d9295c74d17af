package pay

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// An Amount is a sum of money: an integer count of the currency's minor
// unit (cents for USD, millisatoshis for BTC) and the currency's code.
// Amounts are never floats; two amounts are comparable only when their
// currencies are equal.
type Amount struct {
	Minor    int64  // count of minor units
	Currency string // ISO 4217 code, or "BTC"; 3 to 8 letters A–Z
}

// String formats a as a decimal in major units followed by the currency,
// e.g. "2.50 USD", "500 JPY", "0.00001000000 BTC". Exponent gives the
// number of decimals.
func (a Amount) String() string {
	e := Exponent(a.Currency)
	neg := a.Minor < 0
	u := uint64(a.Minor)
	if neg {
		u = -u // two's complement: right for math.MinInt64 too
	}
	digits := strconv.FormatUint(u, 10)
	if e > 0 {
		if len(digits) <= e {
			digits = strings.Repeat("0", e-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-e] + "." + digits[len(digits)-e:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits + " " + a.Currency
}

// Exponent returns the number of decimals between currency's major and
// minor unit: 11 for BTC (amounts are in millisatoshis, as Lightning's
// are), 0 or 3 for the ISO 4217 currencies that have them, 2 otherwise.
func Exponent(currency string) int {
	switch currency {
	case "BTC":
		return 11
	case "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF":
		return 0
	case "BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD":
		return 3
	}
	return 2
}

// ParseAmount parses a non-negative decimal in major units ("2.50", "2.5",
// "2") into an Amount of currency. It accepts at most Exponent(currency)
// decimals and no sign, exponent, spaces or separators.
func ParseAmount(s, currency string) (Amount, error) {
	if err := checkCurrency(currency); err != nil {
		return Amount{}, err
	}
	e := Exponent(currency)
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || len(frac) > e || !allDigits(whole) || !allDigits(frac) {
		return Amount{}, fmt.Errorf("pay: parsing amount %q in %s: want digits with at most %d decimals", s, currency, e)
	}
	frac += strings.Repeat("0", e-len(frac))
	n, err := strconv.ParseUint(whole+frac, 10, 63)
	if err != nil || n > math.MaxInt64 {
		return Amount{}, fmt.Errorf("pay: parsing amount %q in %s: out of range", s, currency)
	}
	return Amount{Minor: int64(n), Currency: currency}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkCurrency accepts 3 to 8 ASCII capital letters.
func checkCurrency(c string) error {
	if len(c) < 3 || len(c) > 8 {
		return fmt.Errorf("pay: currency %q: want 3 to 8 letters A-Z: %w", c, ErrCurrency)
	}
	for i := 0; i < len(c); i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return fmt.Errorf("pay: currency %q: want 3 to 8 letters A-Z: %w", c, ErrCurrency)
		}
	}
	return nil
}

// checkAmount accepts a positive amount in a well-formed currency.
func checkAmount(a Amount) error {
	if err := checkCurrency(a.Currency); err != nil {
		return err
	}
	if a.Minor <= 0 {
		return fmt.Errorf("pay: amount %v: must be positive", a)
	}
	return nil
}
