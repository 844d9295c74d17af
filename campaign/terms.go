package campaign

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// The payment rails a campaign may name, and what their terms must say.
const (
	RailTest      = "test"      // test money: a ledger without value
	RailLightning = "lightning" // bitcoin over Lightning, through the creator's LND node
	// LightningCurrency is the one currency the lightning rail moves
	// (amounts in millisatoshi).
	LightningCurrency = "BTC"
)

// Terms are what a creator asks for when publishing a work: everything in
// a manifest but what publishing fills in (the content, the commitments,
// the creator, the time and the signature). Amounts are in minor units of
// Currency. A zero field takes its default (Defaults).
type Terms struct {
	Model       Model
	Title       string
	Description string
	MediaType   string
	Currency    string
	// Price is per access (pay) or per share (shards); Schedule prices
	// the first shares of a shards campaign.
	Price    int64
	Schedule []Tier
	// Shards is N; 0 with a Goal and a Price takes the fewest shares
	// whose prices reach the goal.
	Shards int
	// Goal is the donation goal (open) or what all N shares raise
	// (shards).
	Goal      int64
	Suggested []int64
	Deadline  time.Time
	Rails     []string
	// AllOrNothing takes pledges (Lightning hold invoices) settled only if
	// every share is pledged by the deadline.
	AllOrNothing bool
	Shortfall    Shortfall
}

// RailCaps is what the publishing node's payment rails can do, as plain
// data: Check holds the terms to it.
type RailCaps struct {
	// Available names the rails the node takes payments on now.
	Available []string
	// Missing says, for a known rail the node lacks, what it would need;
	// the publisher is told.
	Missing map[string]string
	// LongestPledge is how far after now an all-or-nothing deadline may
	// be: the longest a Lightning hold invoice can be held, less the time
	// the node keeps after the deadline to settle or return pledges.
	LongestPledge time.Duration
}

// TermError says which field of a campaign's terms breaks a rule, and why.
// It wraps ErrBadManifest. Field is the manifest's wire name ("currency",
// "rails", "all_or_nothing", ...); Value, when set, is the value refused.
type TermError struct {
	Field  string `json:"field"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

func (e *TermError) Error() string {
	if e.Value != "" {
		return e.Field + " " + strconv.Quote(e.Value) + ": " + e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Unwrap returns ErrBadManifest: terms that break a rule would make a bad
// manifest.
func (e *TermError) Unwrap() error { return ErrBadManifest }

func termErr(field, format string, args ...any) *TermError {
	return &TermError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func valueErr(field, value, format string, args ...any) *TermError {
	return &TermError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// Defaults returns the terms with their defaults filled in: the media type
// application/octet-stream (the bytes say nothing more); the test rail
// (no money moves until the creator names a real one); the currency BTC
// when the only rail is lightning (it moves nothing else), USD otherwise;
// for shards, the release shortfall (a work is not locked forever unless
// the creator says so) and N from the goal when only the goal is given.
func (t Terms) Defaults() Terms {
	if t.MediaType == "" {
		t.MediaType = "application/octet-stream"
	}
	if len(t.Rails) == 0 {
		t.Rails = []string{RailTest}
	}
	if t.Currency == "" {
		t.Currency = "USD"
		if len(t.Rails) == 1 && t.Rails[0] == RailLightning {
			t.Currency = LightningCurrency
		}
	}
	if t.Model == ModelShards {
		if t.Shortfall == "" {
			t.Shortfall = ShortfallRelease
		}
		if t.Shards == 0 && t.Goal > 0 && t.Price > 0 && len(t.Schedule) == 0 {
			if n, err := SharesForGoal(t.Goal, t.Price); err == nil {
				t.Shards = n
			}
		}
	}
	return t
}

// CheckChoices checks the choices made from fixed lists, and how they go
// together: the model, the rails, all or nothing and the shortfall rule.
// They need no node to check, so a client can check them before it sends
// the content; Check checks them first. Rails must be set (Defaults).
func (t Terms) CheckChoices() error {
	switch t.Model {
	case ModelOpen, ModelPay, ModelShards:
	case "":
		return termErr(kModel, "missing: want open, pay or shards")
	default:
		return valueErr(kModel, string(t.Model), "want open, pay or shards")
	}
	for i, r := range t.Rails {
		if r != RailTest && r != RailLightning {
			return valueErr(kRails, r, "want %s or %s", RailTest, RailLightning)
		}
		if slices.Contains(t.Rails[:i], r) {
			return valueErr(kRails, r, "named twice")
		}
	}
	if t.AllOrNothing && (t.Model != ModelShards || len(t.Rails) != 1 || t.Rails[0] != RailLightning) {
		return termErr(kAllOrNothing, "pledges are Lightning hold invoices, taken for model shards on rail lightning alone")
	}
	switch t.Shortfall {
	case "":
	case ShortfallRelease, ShortfallLocked:
		if t.Model != ModelShards {
			return termErr(kShortfall, "only shards campaigns have unsold shares, not model %s", t.Model)
		}
	default:
		return valueErr(kShortfall, string(t.Shortfall), "want %s or %s", ShortfallRelease, ShortfallLocked)
	}
	return nil
}

// Check applies the defaults, checks every rule of the terms (the
// choices, what the node's rails can do, the rules of the model that
// Manifest.Validate holds) and returns the manifest to complete and sign:
// created at now, without content, commitments or creator. Errors are
// *TermError.
func (t Terms) Check(caps RailCaps, now time.Time) (Manifest, error) {
	t = t.Defaults()
	if err := t.CheckChoices(); err != nil {
		return Manifest{}, err
	}
	for _, r := range t.Rails {
		if slices.Contains(caps.Available, r) {
			continue
		}
		if why := caps.Missing[r]; why != "" {
			return Manifest{}, valueErr(kRails, r, "%s", why)
		}
		return Manifest{}, valueErr(kRails, r, "this node takes no payments on it")
	}
	if slices.Contains(t.Rails, RailLightning) && t.Currency != LightningCurrency {
		return Manifest{}, valueErr(kCurrency, t.Currency, "the lightning rail moves %s only (amounts in msat)", LightningCurrency)
	}
	if t.Model == ModelShards {
		if t.Shards <= 0 {
			return Manifest{}, termErr(kShards, "a shards campaign needs a number of shares, or a goal and a price")
		}
		if t.Deadline.IsZero() {
			return Manifest{}, termErr(kDeadline, "missing: a shards campaign ends at a deadline")
		}
	}
	if t.AllOrNothing {
		if limit := now.Add(caps.LongestPledge); t.Deadline.After(limit) {
			return Manifest{}, termErr(kDeadline, "pledges are held by Lightning hold invoices, which expire by block height: the deadline %s is too far, the latest possible is %s (%s from now)",
				t.Deadline.UTC().Format(time.RFC3339), limit.UTC().Format(time.RFC3339), hoursMinutes(caps.LongestPledge))
		}
	}
	m := Manifest{
		Model: t.Model, Title: t.Title, Description: t.Description, MediaType: t.MediaType,
		Created: now, Currency: t.Currency, Price: t.Price, Schedule: t.Schedule, Goal: t.Goal,
		Suggested: t.Suggested, Shards: t.Shards, Deadline: t.Deadline, Rails: t.Rails,
		AllOrNothing: t.AllOrNothing, Shortfall: t.Shortfall,
	}
	// The rules of the model, on the manifest as it will be signed: what
	// publishing fills in stands in as placeholders.
	v := m
	v.Content = placeholder
	if m.Model == ModelShards {
		v.Commitments, v.SecretCommitment = placeholder, make([]byte, secretCommitSize)
	}
	if err := v.validate(); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// placeholder stands in for the links publishing fills in.
var placeholder = func() cid.Cid {
	h, _ := multihash.Sum(nil, multihash.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, h)
}()

// hoursMinutes writes d rounded down to the minute as "240h50m", a
// deadline that is accepted (rounding up would suggest one that is not).
func hoursMinutes(d time.Duration) string {
	d = d.Truncate(time.Minute)
	return fmt.Sprintf("%dh%02dm", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
}
