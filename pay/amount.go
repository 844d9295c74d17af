package pay

import (
	"fmt"

	"github.com/shardcast/shardcast/money"
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
// e.g. "2.50 USD", "500 JPY", "0.00001 BTC" (money.Format).
func (a Amount) String() string {
	return money.Format(a.Minor, a.Currency) + " " + a.Currency
}

// checkCurrency accepts 3 to 8 ASCII capital letters (money.CheckCurrency).
func checkCurrency(c string) error {
	if err := money.CheckCurrency(c); err != nil {
		return fmt.Errorf("pay: %w", err)
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
