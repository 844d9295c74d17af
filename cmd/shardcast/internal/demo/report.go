package demo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/money"
)

// Report is what a demo did and what it verified.
type Report struct {
	Dir     string     // the nodes' repos (removed at the end when Run made it)
	Nodes   []NodeInfo // in start order, the creator first
	Open    Result
	Pay     Result
	Shards  Result
	Elapsed time.Duration // from the start to the last check
}

// NodeInfo names one node of the demo network.
type NodeInfo struct {
	Name string
	Peer string // libp2p peer ID
	URL  string // its API and web UI: http://127.0.0.1:PORT/
	// Gateway serves its /ipfs/ and /watch/, on an origin of its own.
	Gateway string
}

// Result is one campaign's outcome as the creator's ledger records it and
// as the demo checked it.
type Result struct {
	Model    campaign.Model
	Campaign cid.Cid
	Watch    string // the creator's player, on its gateway: http://127.0.0.1:PORT/watch/ID
	Currency string

	Sales     int   // settled purchases
	Sold      int   // accesses (pay) or shares (shards) sold
	Raised    int64 // minor units paid for purchases
	Donations int   // settled donations
	Donated   int64 // minor units donated

	Readers []string // nodes that read the content byte for byte
	Locked  []string // nodes checked unable to read it
	Checks  []Check
}

// Check is one verified claim; Err is nil when it holds.
type Check struct {
	What string
	Err  error
}

// Err joins the failed checks of every campaign, nil when all hold.
func (r *Report) Err() error {
	var errs []error
	for _, res := range []*Result{&r.Open, &r.Pay, &r.Shards} {
		for _, c := range res.Checks {
			if c.Err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", res.Model, c.What, c.Err))
			}
		}
	}
	return errors.Join(errs...)
}

// Summary is a few lines for people: per model, what the ledger shows and
// how many checks held. Campaigns never published are left out.
func (r *Report) Summary() string {
	var b strings.Builder
	for _, res := range []*Result{&r.Open, &r.Pay, &r.Shards} {
		if !res.Campaign.Defined() {
			continue
		}
		ok := 0
		for _, c := range res.Checks {
			if c.Err == nil {
				ok++
			}
		}
		fmt.Fprintf(&b, "%-6s %s  ", res.Model, res.Campaign)
		if res.Model == campaign.ModelOpen {
			fmt.Fprintf(&b, "%d donations, %s", res.Donations, money.Format(res.Donated, res.Currency))
		} else {
			fmt.Fprintf(&b, "%d sales, %d sold, %s", res.Sales, res.Sold, money.Format(res.Raised, res.Currency))
		}
		fmt.Fprintf(&b, " %s (TEST MONEY); readers %s; checks %d/%d passed\n", res.Currency, strings.Join(res.Readers, ","), ok, len(res.Checks))
	}
	return b.String()
}

// check records a claim on res.
func (res *Result) check(what string, err error) {
	res.Checks = append(res.Checks, Check{What: what, Err: err})
}
