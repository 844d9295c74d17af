package shares_test

import (
	"fmt"
	"log"

	"github.com/shardcast/shardcast/shares"
)

func Example() {
	// The creator splits a fresh secret and publishes the commitments.
	secret, ss, c, err := shares.Split(nil, 5)
	if err != nil {
		log.Fatal(err)
	}
	published, err := c.MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}

	// A node loads and checks the commitments once, verifies each share it
	// hears of, and combines when it has all of them.
	var node shares.Commitments
	if err := node.UnmarshalBinary(published); err != nil {
		log.Fatal(err)
	}
	if err := node.Check(); err != nil {
		log.Fatal(err)
	}
	for _, s := range ss {
		if err := node.Verify(s); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := shares.Combine(&node, ss[:4]); err != nil {
		fmt.Println(err)
	}
	x, err := shares.Combine(&node, ss)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(x == secret, shares.ContentSeed(x) == shares.ContentSeed(secret))
	// Output:
	// shares: 1 of 5 shares missing, the first is 4
	// true true
}

func ExampleSum() {
	_, ss, c, err := shares.Split(nil, 10)
	if err != nil {
		log.Fatal(err)
	}
	// A buyer of shares 2..5 and 8 publishes one aggregate instead of five shares.
	a, err := shares.Sum([]shares.Share{ss[8], ss[2], ss[3], ss[4], ss[5]})
	if err != nil {
		log.Fatal(err)
	}
	b, err := a.MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Ranges, len(b), c.VerifyAggregate(a))
	// Output:
	// [{2 6} {8 9}] 52 <nil>
}
