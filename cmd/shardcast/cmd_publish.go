package main

import (
	"errors"
	"fmt"
	"mime"
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
			if !cmd.Flags().Changed("currency") {
				o.currency = "" // the campaign's default: USD, BTC on Lightning
			}
			terms, err := o.terms(args[0], time.Now())
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
			resp, err := c.do(cmd.Context(), "POST", "/api/v1/publish?"+httpapi.PublishQuery(terms).Encode(), bar.Reader(f), st.Size())
			bar.Done()
			if err != nil {
				var te *campaign.TermError
				if errors.As(err, &te) {
					err = flagError(te) // the daemon names the field; the user typed a flag
				}
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

// terms parses the flags into the campaign's terms, amounts in minor
// units. Flags that do not parse, and choices that do not go together
// (campaign.Terms.CheckChoices), are usage errors; the daemon checks the
// rest (campaign.Terms.Check).
func (o *publishOptions) terms(file string, now time.Time) (campaign.Terms, error) {
	t := campaign.Terms{
		Model: campaign.Model(o.model), Title: o.title, Description: o.description, MediaType: o.mediaType,
		Currency: strings.ToUpper(o.currency), Rails: []string{o.rail},
		Shards: o.shards, AllOrNothing: o.allOrNothing, Shortfall: campaign.Shortfall(o.shortfall),
	}
	if t.Title == "" {
		t.Title = filepath.Base(file)
	}
	if t.MediaType == "" {
		t.MediaType = mediaType(file)
	}
	d := t.Defaults()
	t.Currency = d.Currency // the amounts are in it
	var te *campaign.TermError
	if err := d.CheckChoices(); errors.As(err, &te) {
		return t, usageError{flagError(te)}
	}
	amount := func(flag, v string) (int64, error) {
		if v == "" {
			return 0, nil
		}
		n, err := money.Parse(v, t.Currency)
		if err != nil {
			return 0, usageError{fmt.Errorf("--%s: %w", flag, err)}
		}
		return n, nil
	}
	var err error
	if t.Price, err = amount("price", o.price); err != nil {
		return t, err
	}
	if t.Goal, err = amount("goal", o.goal); err != nil {
		return t, err
	}
	if o.suggested != "" {
		for _, s := range strings.Split(o.suggested, ",") {
			n, err := amount("suggested", strings.TrimSpace(s))
			if err != nil {
				return t, err
			}
			t.Suggested = append(t.Suggested, n)
		}
	}
	if o.early != "" {
		n, p, ok := strings.Cut(o.early, ":")
		count, err := strconv.Atoi(n)
		if !ok || err != nil || count <= 0 {
			return t, usageError{fmt.Errorf("--early %q: want N:PRICE, e.g. 100:1.50", o.early)}
		}
		price, err := amount("early", p)
		if err != nil {
			return t, err
		}
		t.Schedule = []campaign.Tier{{Count: count, Price: price}}
	}
	if o.deadline != "" {
		if t.Deadline, err = campaign.ParseDeadline(o.deadline, now); err != nil {
			return t, usageError{fmt.Errorf("--deadline: %w", err)}
		}
	}
	return t, nil
}

// termFlags maps the fields of a campaign's terms to the flags that set
// them.
var termFlags = map[string]string{
	"model": "--model", "title": "--title", "description": "--description", "media_type": "--media-type",
	"currency": "--currency", "price": "--price", "schedule": "--early", "shards": "--shards",
	"goal": "--goal", "suggested": "--suggested", "deadline": "--deadline", "rails": "--rail",
	"all_or_nothing": "--all-or-nothing", "shortfall": "--shortfall",
}

// flagError says what is wrong with the terms in terms of the flag that
// set the field.
func flagError(te *campaign.TermError) error {
	name := te.Field
	if f, ok := termFlags[name]; ok {
		name = f
	}
	if te.Value != "" {
		name += " " + strconv.Quote(te.Value)
	}
	return fmt.Errorf("%s: %s", name, te.Reason)
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
