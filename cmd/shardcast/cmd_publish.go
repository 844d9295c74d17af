package main

import (
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/progress"
	"github.com/shardcast/shardcast/money"
)

type publishOptions struct {
	model, price, currency, goal, deadline, rail, title, description, mediaType, suggested, early string
	shortfall                                                                                     string
	shards                                                                                        int
	asJSON, allOrNothing                                                                          bool
}

func newPublishCmd(e *env) *cobra.Command {
	var o publishOptions
	cmd := &cobra.Command{
		Use:   "publish FILE --model open|pay|shards",
		Short: "Publish a work as a campaign; prints the campaign ID",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.rail == "lightning" && !cmd.Flags().Changed("currency") {
				o.currency = "BTC" // Lightning moves bitcoin
			}
			q, err := o.query(args[0])
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", args[0], pathErr(err))
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", args[0], pathErr(err))
			}
			if st.IsDir() {
				return fmt.Errorf("%s is a directory; publish takes a file", args[0])
			}
			c, err := e.client()
			if err != nil {
				return err
			}
			bar := progress.New(stderrFile(e), "publish", st.Size(), !o.asJSON)
			resp, err := c.do(cmd.Context(), "POST", "/api/v1/publish?"+q.Encode(), bar.Reader(f), st.Size())
			bar.Done()
			if err != nil {
				return fmt.Errorf("publishing %s: %w", args[0], err)
			}
			defer resp.Body.Close()
			var info httpapi.CampaignInfo
			if err := decodeJSON(resp.Body, &info); err != nil {
				return err
			}
			if o.asJSON {
				return e.printJSON(info)
			}
			fmt.Fprintf(e.stderr, "published %q (%s) as campaign\n", info.Title, info.Model)
			fmt.Fprintln(e.stdout, info.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.model, "model", "", "open, pay or shards (required)")
	f.StringVar(&o.price, "price", "", "price, e.g. 2.50 (pay, shards: per share)")
	f.StringVar(&o.currency, "currency", "USD", "currency of the amounts")
	f.IntVar(&o.shards, "shards", 0, "number of shares (shards)")
	f.StringVar(&o.goal, "goal", "", "goal amount (shards: sets the share count; open: donation goal)")
	f.StringVar(&o.deadline, "deadline", "", "RFC 3339 time or a duration from now, e.g. 72h")
	f.StringVar(&o.rail, "rail", "test", "payment rail: test or lightning")
	f.StringVar(&o.title, "title", "", "title (default: the file name)")
	f.StringVar(&o.description, "description", "", "description")
	f.StringVar(&o.mediaType, "media-type", "", "media type (default: from the file name)")
	f.StringVar(&o.suggested, "suggested", "", "suggested donations, comma-separated (open)")
	f.StringVar(&o.early, "early", "", "early-bird tier N:PRICE, the first N shares at PRICE (shards)")
	f.BoolVar(&o.allOrNothing, "all-or-nothing", false, "shards on Lightning: every sale is a pledge, settled only if all shares are pledged by the deadline")
	f.StringVar(&o.shortfall, "shortfall", "", "shards: at a deadline short of the goal, release the work free (release, the default) or keep it locked (locked)")
	f.BoolVar(&o.asJSON, "json", false, "print the campaign as JSON (and no progress)")
	return cmd
}

// query checks the terms and turns them into the API's parameters, amounts
// in minor units.
func (o *publishOptions) query(file string) (url.Values, error) {
	q := url.Values{}
	switch campaign.Model(o.model) {
	case campaign.ModelOpen, campaign.ModelPay, campaign.ModelShards:
	case "":
		return nil, usageError{fmt.Errorf("--model is required: open, pay or shards")}
	default:
		return nil, usageError{fmt.Errorf("--model %q: want open, pay or shards", o.model)}
	}
	q.Set("model", o.model)
	cur := strings.ToUpper(o.currency)
	q.Set("currency", cur)
	amount := func(flag, v string) error {
		if v == "" {
			return nil
		}
		n, err := money.Parse(v, cur)
		if err != nil {
			return usageError{fmt.Errorf("--%s: %w", flag, err)}
		}
		q.Set(flag, strconv.FormatInt(n, 10))
		return nil
	}
	if err := amount("price", o.price); err != nil {
		return nil, err
	}
	if err := amount("goal", o.goal); err != nil {
		return nil, err
	}
	if o.suggested != "" {
		var parts []string
		for _, s := range strings.Split(o.suggested, ",") {
			n, err := money.Parse(strings.TrimSpace(s), cur)
			if err != nil {
				return nil, usageError{fmt.Errorf("--suggested: %w", err)}
			}
			parts = append(parts, strconv.FormatInt(n, 10))
		}
		q.Set("suggested", strings.Join(parts, ","))
	}
	if o.early != "" {
		n, p, ok := strings.Cut(o.early, ":")
		count, err := strconv.Atoi(n)
		if !ok || err != nil || count <= 0 {
			return nil, usageError{fmt.Errorf("--early %q: want N:PRICE, e.g. 100:1.50", o.early)}
		}
		price, err := money.Parse(p, cur)
		if err != nil {
			return nil, usageError{fmt.Errorf("--early: %w", err)}
		}
		q.Set("early_count", strconv.Itoa(count))
		q.Set("early_price", strconv.FormatInt(price, 10))
	}
	if o.shards != 0 {
		q.Set("shards", strconv.Itoa(o.shards))
	}
	if o.deadline != "" {
		t, err := campaign.ParseDeadline(o.deadline, time.Now())
		if err != nil {
			return nil, usageError{fmt.Errorf("--deadline: %w", err)}
		}
		q.Set("deadline", t.UTC().Format(time.RFC3339))
	}
	switch o.rail {
	case "test", "lightning":
	default:
		return nil, usageError{fmt.Errorf("--rail %q: want test or lightning", o.rail)}
	}
	q.Set("rails", o.rail)
	if o.allOrNothing {
		if campaign.Model(o.model) != campaign.ModelShards || o.rail != "lightning" {
			return nil, usageError{fmt.Errorf("--all-or-nothing takes pledges for --model shards on --rail lightning")}
		}
		q.Set("all_or_nothing", "true")
	}
	switch campaign.Shortfall(o.shortfall) {
	case "":
	case campaign.ShortfallRelease, campaign.ShortfallLocked:
		if campaign.Model(o.model) != campaign.ModelShards {
			return nil, usageError{fmt.Errorf("--shortfall is for --model shards")}
		}
		q.Set("shortfall", o.shortfall)
	default:
		return nil, usageError{fmt.Errorf("--shortfall %q: want release or locked", o.shortfall)}
	}
	title := o.title
	if title == "" {
		title = filepath.Base(file)
	}
	q.Set("title", title)
	if o.description != "" {
		q.Set("description", o.description)
	}
	mt := o.mediaType
	if mt == "" {
		mt = mediaType(file)
	}
	q.Set("media_type", mt)
	return q, nil
}

// mediaType guesses a file's media type from its name.
func mediaType(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".webm":
		return "video/webm"
	case ".mp4", ".m4v":
		return "video/mp4"
	case ".mkv":
		return "video/x-matroska"
	case ".mp3":
		return "audio/mpeg"
	case ".ogg", ".opus":
		return "audio/ogg"
	case ".flac":
		return "audio/flac"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
