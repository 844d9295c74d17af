package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/money"
)

func newBuyCmd(e *env) *cobra.Command {
	var k int
	var asJSON bool
	cmd := e.campaignCmd("buy CAMPAIGN", "Buy access (pay) or shares (shards); returns once the delivery is verified, or the pledge is held (all or nothing)", exactArgs(1),
		func(cmd *cobra.Command, a campaignAPI, _ []string) error {
			var ri httpapi.ReceiptInfo
			req := httpapi.BuyRequest{Shares: k, RequestID: newRequestID()}
			if err := a.call(cmd.Context(), "POST", "/buy", req, &ri); err != nil {
				return err
			}
			return e.printReceipt(ri, asJSON)
		})
	cmd.Long = `Buy access (pay) or shares (shards); returns once the delivery is verified, or the pledge is held (all or nothing).

The purchase belongs to the daemon: if this command is interrupted, or the
creator does not answer in time, the daemon goes on until the purchase is
delivered or refunded, across restarts. Such a purchase is reported as
pending (exit 1); "shardcast receipts" shows how it ends. A purchase
reported as failed moved no money and never will.`
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if k < 1 {
			return usageError{fmt.Errorf("--shards %d: must be at least 1", k)}
		}
		return nil
	}
	cmd.Flags().IntVar(&k, "shards", 1, "shares to buy (model shards)")
	return withJSON(cmd, &asJSON, "print the receipt as JSON")
}

func newDonateCmd(e *env) *cobra.Command {
	var asJSON bool
	return withJSON(e.campaignCmd("donate CAMPAIGN AMOUNT", "Donate to a campaign's creator, e.g. donate ID 5.00", exactArgs(2),
		func(cmd *cobra.Command, a campaignAPI, args []string) error {
			ci, err := a.info(cmd.Context())
			if err != nil {
				return err
			}
			amount, err := money.Parse(args[1], ci.Currency)
			if err != nil {
				return usageError{fmt.Errorf("amount %q: %w", args[1], err)}
			}
			if amount <= 0 {
				return usageError{fmt.Errorf("amount %q: must be positive", args[1])}
			}
			var ri httpapi.ReceiptInfo
			req := httpapi.DonateRequest{Amount: amount, RequestID: newRequestID()}
			if err := a.call(cmd.Context(), "POST", "/donate", req, &ri); err != nil {
				return err
			}
			return e.printReceipt(ri, asJSON)
		}), &asJSON, "print the receipt as JSON")
}

// newRequestID returns a fresh request ID: the daemon buys once per ID.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return "cli-" + hex.EncodeToString(b[:])
}

// printReceipt prints a receipt: the offer ID alone on stdout, the rest on
// stderr, or JSON. A purchase still pending is an error naming it.
func (e *env) printReceipt(ri httpapi.ReceiptInfo, asJSON bool) error {
	if ri.Status == "pending" {
		if ri.Offer == "" {
			return fmt.Errorf("purchase (request %s) is pending: %s; see shardcast receipts", ri.RequestID, ri.Note)
		}
		return fmt.Errorf("purchase %s is pending: %s; see shardcast receipts", ri.Offer, ri.Note)
	}
	if asJSON {
		return e.printJSON(ri)
	}
	label := ""
	if ri.Rail == "test" {
		label = " (TEST MONEY)"
	}
	if ri.Pledged {
		fmt.Fprintf(e.stderr, "pledged %d share(s) for %s %s on %s: the funds are held until %s, taken if the goal is met, returned if not\n",
			len(ri.Indices), money.Format(ri.Amount, ri.Currency), ri.Currency, ri.Rail, ri.Until)
		fmt.Fprintln(e.stdout, ri.Offer)
		return nil
	}
	if ri.Receipt == "" {
		fmt.Fprintf(e.stderr, "%s %s %s on %s: the payment unsealed the shares; the creator's receipt has not come yet\n",
			ri.Kind, money.Format(ri.Amount, ri.Currency), ri.Currency, ri.Rail)
		fmt.Fprintln(e.stdout, ri.Offer)
		return nil
	}
	fmt.Fprintf(e.stderr, "%s %s %s%s, receipt signed by the creator\n", ri.Kind, money.Format(ri.Amount, ri.Currency), ri.Currency, label)
	fmt.Fprintln(e.stdout, ri.Offer)
	return nil
}

func newReceiptsCmd(e *env) *cobra.Command {
	var asJSON bool
	return withJSON(&cobra.Command{
		Use:   "receipts [CAMPAIGN]",
		Short: "List this node's purchases and donations",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if len(args) == 1 {
				id, err := campaignArg(args[0])
				if err != nil {
					return err
				}
				q.Set("campaign", id.String())
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			var list []httpapi.ReceiptInfo
			if err := c.call(cmd.Context(), "GET", "/api/v1/receipts?"+q.Encode(), nil, &list); err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(list)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tKIND\tAMOUNT\tSTATUS\tCAMPAIGN")
			for _, r := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Time, r.Kind, receiptAmount(r), r.Status, r.Campaign)
			}
			return tw.Flush()
		},
	}, &asJSON, "print JSON")
}

func newWalletCmd(e *env) *cobra.Command {
	var currency string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "wallet",
		Short: "Show this node's balance: test money, or with --currency BTC its LND node's channels",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			cur := strings.ToUpper(currency)
			var out struct {
				Rail     string `json:"rail"`
				Currency string `json:"currency"`
				Balance  int64  `json:"balance"`
			}
			if err := c.call(cmd.Context(), "GET", "/api/v1/wallet?currency="+url.QueryEscape(cur), nil, &out); err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(map[string]any{"rail": out.Rail, "test_money": out.Rail == "test", "currency": out.Currency, "balance": out.Balance})
			}
			// Test money in a bitcoin unit would read as bitcoin: only
			// --json, which labels it, shows it.
			if out.Rail == "test" && money.Bitcoin(out.Currency) {
				return fmt.Errorf("no rail holds real %s on this node: it has no LND node (start the daemon with --lnd-rest, --lnd-cert and --lnd-macaroon); `wallet --json --currency %s` shows its test money in %s, which is not bitcoin", out.Currency, out.Currency, out.Currency)
			}
			fmt.Fprintf(e.stdout, "%s %s\n", money.Format(out.Balance, out.Currency), out.Currency)
			if out.Rail == "lightning" {
				fmt.Fprintln(e.stderr, "in your LND node's channels (the lightning rail)")
			} else {
				fmt.Fprintln(e.stderr, "test money (the test rail)")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&currency, "currency", "USD", "currency")
	return withJSON(cmd, &asJSON, "print JSON")
}

// receiptAmount writes a receipt's amount with its currency, or "-" when
// the daemon gave none (rather than a 0.00 that was never paid).
func receiptAmount(r httpapi.ReceiptInfo) string {
	if r.Currency == "" {
		return "-"
	}
	return money.Format(r.Amount, r.Currency) + " " + r.Currency
}
