package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/money"
)

func newCampaignsCmd(e *env) *cobra.Command {
	var asJSON bool
	return withJSON(&cobra.Command{
		Use:   "campaigns",
		Short: "List the campaigns this node knows",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.client()
			if err != nil {
				return err
			}
			var list []httpapi.CampaignInfo
			if err := c.call(cmd.Context(), "GET", "/api/v1/campaigns", nil, &list); err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(list)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tMODEL\tPRICE\tSTATE\tTITLE")
			for _, ci := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ci.ID, ci.Model, price(ci), lockState(ci), ci.Title)
			}
			return tw.Flush()
		},
	}, &asJSON, "print JSON")
}

// price is the API's price of the next share or access: the one charged.
func price(ci httpapi.CampaignInfo) string {
	if ci.Model == string(campaign.ModelOpen) {
		return "free"
	}
	if ci.SoldOut {
		return "sold out"
	}
	return money.Format(ci.PriceNow, ci.Currency) + " " + ci.Currency
}

// tiers writes a price schedule as "shares 1-2 at 0.50, 3-5 at 1.00 USD",
// numbering shares from 1 in the order they are sold; "" for a single
// price.
func tiers(ci httpapi.CampaignInfo) string {
	if len(ci.Tiers) < 2 {
		return ""
	}
	parts := make([]string, len(ci.Tiers))
	for i, t := range ci.Tiers {
		run := fmt.Sprint(t.First + 1)
		if t.Count > 1 {
			run += fmt.Sprintf("-%d", t.First+t.Count)
		}
		parts[i] = run + " at " + money.Format(t.Price, ci.Currency)
	}
	return "shares " + strings.Join(parts, ", ") + " " + ci.Currency
}

func lockState(ci httpapi.CampaignInfo) string {
	if ci.Unlocked {
		return "unlocked"
	}
	return "locked"
}

// campaignArg parses a campaign ID argument.
func campaignArg(s string) (cid.Cid, error) {
	id, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%q is not a campaign ID: %w", s, err)
	}
	if id.Prefix().Codec != cid.DagCBOR {
		return cid.Undef, fmt.Errorf("%s is a content CID, not a campaign ID", s)
	}
	return id, nil
}

// campaignClient parses a campaign ID argument and finds the daemon.
func (e *env) campaignClient(arg string) (cid.Cid, *client, error) {
	id, err := campaignArg(arg)
	if err != nil {
		return cid.Undef, nil, err
	}
	c, err := e.client()
	return id, c, err
}

// campaignAPI is one campaign's endpoints on the daemon, below
// /api/v1/campaigns/ID.
type campaignAPI struct {
	id cid.Cid
	c  *client
}

// call sends in (nil for none) to the campaign's endpoint path ("" for
// the campaign itself, "/watch", "/buy"...) and decodes the answer into
// out.
func (a campaignAPI) call(ctx context.Context, method, path string, in, out any) error {
	return a.c.call(ctx, method, "/api/v1/campaigns/"+a.id.String()+path, in, out)
}

// info returns the campaign as the daemon shows it.
func (a campaignAPI) info(ctx context.Context) (httpapi.CampaignInfo, error) {
	var ci httpapi.CampaignInfo
	err := a.call(ctx, "GET", "", nil, &ci)
	return ci, err
}

// campaignCmd makes a command whose first argument is a campaign ID
// (args says how many there are): run gets the campaign's endpoints and
// every argument.
func (e *env) campaignCmd(use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, a campaignAPI, args []string) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			id, c, err := e.campaignClient(args[0])
			if err != nil {
				return err
			}
			return run(cmd, campaignAPI{id, c}, args)
		},
	}
}

// withJSON gives cmd the flag --json, which sets *asJSON.
func withJSON(cmd *cobra.Command, asJSON *bool, usage string) *cobra.Command {
	cmd.Flags().BoolVar(asJSON, "json", false, usage)
	return cmd
}

func newStatusCmd(e *env) *cobra.Command {
	var asJSON bool
	return withJSON(e.campaignCmd("status CAMPAIGN", "Show a campaign: model, price, sold, pooled, needed, deadline, unlocked", exactArgs(1),
		func(cmd *cobra.Command, a campaignAPI, _ []string) error {
			ci, err := a.info(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return e.printJSON(ci)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
			row("title", ci.Title)
			row("model", ci.Model)
			row("price now", price(ci))
			if t := tiers(ci); t != "" {
				row("prices", t)
			}
			shows := campaign.Shows(campaign.Model(ci.Model), ci.AllOrNothing)
			if shows.Sold {
				row("sold", fmt.Sprint(ci.Sold))
			}
			if shows.Pledged {
				row("pledged", fmt.Sprintf("%d (all or nothing: settled at the goal, returned at a shortfall)", ci.Pledged))
			}
			if shows.Pooled {
				row("pooled", fmt.Sprint(ci.Pooled))
			}
			if shows.Needed {
				row("needed", fmt.Sprint(ci.Needed))
			}
			if shows.Raised {
				row("raised", money.Format(ci.Raised, ci.Currency)+" "+ci.Currency)
			}
			row("donated", money.Format(ci.Donated, ci.Currency)+" "+ci.Currency)
			if ci.Goal > 0 {
				row("goal", money.Format(ci.Goal, ci.Currency)+" "+ci.Currency)
			}
			if ci.Deadline != "" {
				row("deadline", ci.Deadline)
			}
			row("rails", strings.Join(ci.Rails, ", "))
			row("unlocked", fmt.Sprint(ci.Unlocked))
			if ci.OutcomeNote != "" {
				row("outcome", ci.OutcomeNote)
			}
			if ci.Rejected != "" {
				row("REJECTED", ci.Rejected)
			}
			return tw.Flush()
		}), &asJSON, "print JSON")
}

func newWatchCmd(e *env) *cobra.Command {
	return e.campaignCmd("watch CAMPAIGN", "Print the URL of the campaign's stream on the local daemon's gateway", exactArgs(1),
		func(cmd *cobra.Command, a campaignAPI, _ []string) error {
			ci, err := a.info(cmd.Context())
			if err != nil {
				return err
			}
			if !ci.Unlocked {
				fmt.Fprintf(e.stderr, "campaign %s is locked on this node: buy it first\n", a.id)
			}
			var w httpapi.WatchResponse
			if err := a.call(cmd.Context(), "GET", "/watch", nil, &w); err != nil {
				return err
			}
			if w.Expires != "" {
				fmt.Fprintf(e.stderr, "the URL works until %s\n", w.Expires)
			}
			fmt.Fprintln(e.stdout, w.URL)
			return nil
		})
}

func newReleaseCmd(e *env) *cobra.Command {
	return e.campaignCmd("release CAMPAIGN", "Creator: publish every unsold share now; the work unlocks for everyone", exactArgs(1),
		func(cmd *cobra.Command, a campaignAPI, _ []string) error {
			var out struct {
				Released int `json:"released"`
			}
			if err := a.call(cmd.Context(), "POST", "/release", nil, &out); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "released %d shares of %s\n", out.Released, a.id)
			fmt.Fprintln(e.stdout, out.Released)
			return nil
		})
}

func newKeyCmd(e *env) *cobra.Command {
	cmd := e.campaignCmd("key CAMPAIGN", "Print the age identity that decrypts a campaign's ciphertext, when this node holds it", exactArgs(1),
		func(cmd *cobra.Command, a campaignAPI, _ []string) error {
			var out struct {
				Identity string `json:"identity"`
			}
			if err := a.call(cmd.Context(), "GET", "/key", nil, &out); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, out.Identity)
			return nil
		})
	cmd.Long = "Print the age identity (AGE-SECRET-KEY-1...) that decrypts a campaign's ciphertext.\n" +
		"After a shards campaign unlocks, the stock age CLI decrypts with it:\n" +
		"  shardcast key ID > key.txt; shardcast cat CONTENT_CID | age -d -i key.txt > film"
	return cmd
}
