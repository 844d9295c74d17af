package pay_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/shardcast/shardcast/money"
	"github.com/shardcast/shardcast/pay"
)

// A sale between two nodes' test rails: the creator invoices, the buyer
// checks the request and pays, the creator claims the proof.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pay-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	open := func(name string) *pay.TestRail {
		_, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			log.Fatal(err)
		}
		r, err := pay.OpenTestRail(filepath.Join(dir, name), key, nil)
		if err != nil {
			log.Fatal(err)
		}
		return r
	}
	creator, buyer := open("creator.db"), open("buyer.db")
	defer creator.Close()
	defer buyer.Close()

	minor, err := money.Parse("2.50", "USD")
	if err != nil {
		log.Fatal(err)
	}
	price := pay.Amount{Minor: minor, Currency: "USD"}
	inv, err := creator.CreateInvoice(ctx, pay.InvoiceRequest{Amount: price, Memo: "one film"})
	if err != nil {
		log.Fatal(err)
	}
	// inv.Request travels to the buyer.
	seen, err := buyer.Decode(ctx, inv.Request)
	if err != nil || seen.Amount != price {
		log.Fatalf("not the agreed price: %v, %v", seen.Amount, err)
	}
	p, err := buyer.Pay(ctx, inv.Request)
	if err != nil {
		log.Fatal(err)
	}
	// p.Proof travels back to the creator.
	st, err := creator.Claim(ctx, inv.ID, p.Proof)
	if err != nil {
		log.Fatal(err)
	}
	c, _ := creator.Balance(ctx, "USD")
	b, _ := buyer.Balance(ctx, "USD")
	fmt.Println(seen.Memo)
	fmt.Println(st)
	fmt.Println(pay.Amount{Minor: c, Currency: "USD"}, pay.Amount{Minor: b, Currency: "USD"})
	// Output:
	// TEST MONEY: one film
	// settled
	// 1000002.50 USD 999997.50 USD
}
