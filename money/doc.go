// Package money holds what shardcast knows about currencies: how many
// decimals each has between its major unit and the minor unit that
// amounts are counted in, and how a decimal amount a person types ("2.50")
// becomes minor units (250) and back.
//
// Amounts are int64 counts of a currency's minor unit, never floats.
// Exponent gives the decimals: 2 for most currencies (USD, EUR, GBP and
// any code not listed), 0 for JPY, KRW, ISK, CLP, VND and the other ISO
// 4217 currencies without a minor unit, 3 for BHD, IQD, JOD, KWD, LYD, OMR
// and TND, 11 for BTC and 3 for SAT (both counted in millisatoshi, the
// unit of Lightning), 0 for MSAT.
//
// # What is promised
//
//   - Parse accepts only ASCII digits with at most one decimal point that
//     has digits on both sides, at most Exponent(currency) decimals, and a
//     value that fits in int64. It rejects signs, exponents, spaces,
//     separators, non-ASCII digits and malformed currencies (ErrCurrency).
//     Amounts reach it from users and from peers; it never panics.
//   - Format(v, c) parses back to v with Parse for every v ≥ 0 and every
//     well-formed currency c. It prints every decimal of the currency
//     ("2.50", "0.00"), except for BTC and SAT, whose many trailing zeros
//     it drops ("0.0000025", "21").
//   - CheckCurrency accepts 3 to 8 ASCII capital letters. Formats with a
//     narrower rule (a campaign manifest allows 3 to 5) check it themselves.
//
// What it does not do: convert between currencies, round, or know which
// currencies a payment rail moves. It imports nothing of shardcast.
package money
