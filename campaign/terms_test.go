package campaign

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var termsNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// The node's rails, as Check sees them.
var (
	capsTest = RailCaps{
		Available: []string{RailTest},
		Missing:   map[string]string{RailLightning: "the lightning rail needs an LND node"},
	}
	capsBoth = RailCaps{Available: []string{RailTest, RailLightning}, LongestPledge: 240 * time.Hour}
)

// testTerms returns valid terms of the model on the test rail.
func testTerms(model Model) Terms {
	t := Terms{Model: model, Title: "A Film", MediaType: "video/webm"}
	switch model {
	case ModelOpen:
		t.Goal, t.Suggested = 10_000, []int64{100, 500}
	case ModelPay:
		t.Price = 250
	case ModelShards:
		t.Price, t.Shards, t.Deadline = 100, 10, termsNow.Add(24*time.Hour)
	}
	return t
}

// pledges returns valid all-or-nothing terms, on Lightning alone.
func pledges() Terms {
	t := testTerms(ModelShards)
	t.Rails, t.AllOrNothing = []string{RailLightning}, true
	return t
}

func TestTermsCheck(t *testing.T) {
	with := func(t Terms, f func(*Terms)) Terms { f(&t); return t }
	open, pay, shards := testTerms(ModelOpen), testTerms(ModelPay), testTerms(ModelShards)
	tests := []struct {
		name  string
		terms Terms
		caps  RailCaps
		field string // "" for terms that pass
		value string
		in    string // in the reason
	}{
		{name: "open", terms: open, caps: capsTest},
		{name: "pay", terms: pay, caps: capsTest},
		{name: "shards", terms: shards, caps: capsTest},
		{name: "open, nothing but a title", terms: Terms{Model: ModelOpen, Title: "x"}, caps: capsTest},

		// Models.
		{name: "no model", terms: with(open, func(t *Terms) { t.Model = "" }), caps: capsTest, field: "model", in: "missing"},
		{name: "unknown model", terms: with(open, func(t *Terms) { t.Model = "rent" }), caps: capsTest, field: "model", value: "rent"},

		// Rails.
		{name: "unknown rail", terms: with(pay, func(t *Terms) { t.Rails = []string{"paypal"} }), caps: capsTest, field: "rails", value: "paypal", in: "want test or lightning"},
		{name: "rail twice", terms: with(pay, func(t *Terms) { t.Rails = []string{"test", "test"} }), caps: capsTest, field: "rails", value: "test", in: "twice"},
		{name: "lightning without LND", terms: with(pay, func(t *Terms) { t.Rails = []string{RailLightning} }), caps: capsTest, field: "rails", value: "lightning", in: "needs an LND node"},
		{name: "a rail the node does not say why it lacks", terms: with(pay, func(t *Terms) { t.Rails = []string{RailLightning} }), caps: RailCaps{Available: []string{RailTest}}, field: "rails", value: "lightning", in: "no payments"},
		{name: "test rail missing", terms: pay, caps: RailCaps{Available: []string{RailLightning}}, field: "rails", value: "test"},
		{name: "lightning in BTC by default", terms: with(pay, func(t *Terms) { t.Rails = []string{RailLightning} }), caps: capsBoth},
		{name: "lightning in USD", terms: with(pay, func(t *Terms) { t.Rails, t.Currency = []string{RailLightning}, "USD" }), caps: capsBoth, field: "currency", value: "USD", in: "moves BTC only"},
		{name: "lightning beside test, in USD by default", terms: with(pay, func(t *Terms) { t.Rails = []string{RailTest, RailLightning} }), caps: capsBoth, field: "currency", value: "USD"},
		{name: "lightning beside test in BTC", terms: with(pay, func(t *Terms) { t.Rails, t.Currency = []string{RailTest, RailLightning}, "BTC" }), caps: capsBoth},

		// All or nothing.
		{name: "pledges", terms: pledges(), caps: capsBoth},
		{name: "pledges in model pay", terms: with(pay, func(t *Terms) { t.Rails, t.AllOrNothing = []string{RailLightning}, true }), caps: capsBoth, field: "all_or_nothing"},
		{name: "pledges in model open", terms: with(open, func(t *Terms) { t.AllOrNothing = true }), caps: capsBoth, field: "all_or_nothing"},
		{name: "pledges on the test rail", terms: with(shards, func(t *Terms) { t.AllOrNothing = true }), caps: capsBoth, field: "all_or_nothing", in: "Lightning hold invoices"},
		{name: "pledges on two rails", terms: with(pledges(), func(t *Terms) { t.Rails = []string{RailLightning, RailTest} }), caps: capsBoth, field: "all_or_nothing"},
		{name: "pledges without LND", terms: pledges(), caps: capsTest, field: "rails", value: "lightning"},
		{name: "pledges to a deadline too far", terms: with(pledges(), func(t *Terms) { t.Deadline = termsNow.Add(241 * time.Hour) }), caps: capsBoth, field: "deadline", in: "too far, the latest possible is 2026-12-12T12:00:00Z (240h00m from now)"},
		{name: "pledges to the latest deadline", terms: with(pledges(), func(t *Terms) { t.Deadline = termsNow.Add(240 * time.Hour) }), caps: capsBoth},
		{name: "pledges, locked at a shortfall", terms: with(pledges(), func(t *Terms) { t.Shortfall = ShortfallLocked }), caps: capsBoth},

		// Shortfall.
		{name: "unknown shortfall", terms: with(shards, func(t *Terms) { t.Shortfall = "maybe" }), caps: capsTest, field: "shortfall", value: "maybe", in: "want release or locked"},
		{name: "shortfall in model pay", terms: with(pay, func(t *Terms) { t.Shortfall = ShortfallLocked }), caps: capsTest, field: "shortfall", in: "only shards"},
		{name: "shortfall locked", terms: with(shards, func(t *Terms) { t.Shortfall = ShortfallLocked }), caps: capsTest},

		// Deadlines.
		{name: "shards without a deadline", terms: with(shards, func(t *Terms) { t.Deadline = time.Time{} }), caps: capsTest, field: "deadline", in: "missing"},
		{name: "shards, deadline now", terms: with(shards, func(t *Terms) { t.Deadline = termsNow }), caps: capsTest, field: "deadline", in: "not after created"},
		{name: "shards, deadline passed", terms: with(shards, func(t *Terms) { t.Deadline = termsNow.Add(-time.Hour) }), caps: capsTest, field: "deadline"},
		{name: "shards, deadline after 9999", terms: with(shards, func(t *Terms) { t.Deadline = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), caps: capsTest, field: "deadline", in: "outside 1970–9999"},
		{name: "deadline in model open", terms: with(open, func(t *Terms) { t.Deadline = termsNow.Add(time.Hour) }), caps: capsTest, field: "deadline", in: "not allowed in model open"},
		{name: "deadline in model pay", terms: with(pay, func(t *Terms) { t.Deadline = termsNow.Add(time.Hour) }), caps: capsTest, field: "deadline", in: "not allowed in model pay"},

		// Shares and amounts.
		{name: "shards without N or goal", terms: with(shards, func(t *Terms) { t.Shards = 0 }), caps: capsTest, field: "shards", in: "needs a number of shares"},
		{name: "shards from the goal", terms: with(shards, func(t *Terms) { t.Shards, t.Goal = 0, 1000 }), caps: capsTest},
		{name: "shards from a goal with a schedule", terms: with(shards, func(t *Terms) { t.Shards, t.Goal, t.Schedule = 0, 1000, []Tier{{Count: 2, Price: 50}} }), caps: capsTest, field: "shards"},
		{name: "too many shards", terms: with(shards, func(t *Terms) { t.Shards = MaxShares + 1 }), caps: capsTest, field: "shards"},
		{name: "shards without a price", terms: with(shards, func(t *Terms) { t.Price = 0 }), caps: capsTest, field: "price", in: "must be positive in model shards"},
		{name: "goal N does not fit", terms: with(shards, func(t *Terms) { t.Goal = 500 }), caps: capsTest, field: "goal", in: "fewest"},
		{name: "goal N fits", terms: with(shards, func(t *Terms) { t.Goal = 1000 }), caps: capsTest},
		{name: "early tier", terms: with(shards, func(t *Terms) { t.Schedule = []Tier{{Count: 4, Price: 50}} }), caps: capsTest},
		{name: "early tier beyond N", terms: with(shards, func(t *Terms) { t.Schedule = []Tier{{Count: 11, Price: 50}} }), caps: capsTest, field: "schedule", in: "more than the 10"},
		{name: "early tier free", terms: with(shards, func(t *Terms) { t.Schedule = []Tier{{Count: 2, Price: 0}} }), caps: capsTest, field: "schedule"},
		{name: "early tier in model pay", terms: with(pay, func(t *Terms) { t.Schedule = []Tier{{Count: 2, Price: 50}} }), caps: capsTest, field: "schedule"},
		{name: "pay without a price", terms: with(pay, func(t *Terms) { t.Price = 0 }), caps: capsTest, field: "price", in: "must be positive in model pay"},
		{name: "pay with a goal", terms: with(pay, func(t *Terms) { t.Goal = 100 }), caps: capsTest, field: "goal", in: "not allowed"},
		{name: "pay with suggested amounts", terms: with(pay, func(t *Terms) { t.Suggested = []int64{100} }), caps: capsTest, field: "suggested"},
		{name: "pay with shards", terms: with(pay, func(t *Terms) { t.Shards = 3 }), caps: capsTest, field: "shards"},
		{name: "open with a price", terms: with(open, func(t *Terms) { t.Price = 100 }), caps: capsTest, field: "price", in: "not allowed in model open"},
		{name: "open with shards", terms: with(open, func(t *Terms) { t.Shards = 3 }), caps: capsTest, field: "shards"},
		{name: "shards with suggested amounts", terms: with(shards, func(t *Terms) { t.Suggested = []int64{100} }), caps: capsTest, field: "suggested"},
		{name: "suggested zero", terms: with(open, func(t *Terms) { t.Suggested = []int64{0} }), caps: capsTest, field: "suggested", in: "not positive"},
		{name: "too many suggested", terms: with(open, func(t *Terms) { t.Suggested = make([]int64, MaxSuggested+1) }), caps: capsTest, field: "suggested"},
		{name: "negative goal", terms: with(open, func(t *Terms) { t.Goal = -1 }), caps: capsTest, field: "price and goal"},

		// Text.
		{name: "no title", terms: with(open, func(t *Terms) { t.Title = " " }), caps: capsTest, field: "title", in: "empty"},
		{name: "title with a newline", terms: with(open, func(t *Terms) { t.Title = "a\nb" }), caps: capsTest, field: "title", in: "control character"},
		{name: "title too long", terms: with(open, func(t *Terms) { t.Title = strings.Repeat("é", MaxTitle+1) }), caps: capsTest, field: "title"},
		{name: "description with newlines", terms: with(open, func(t *Terms) { t.Description = "a\n\tb" }), caps: capsTest},
		{name: "description too long", terms: with(open, func(t *Terms) { t.Description = strings.Repeat("x", MaxDescription+1) }), caps: capsTest, field: "description"},
		{name: "bad media type", terms: with(open, func(t *Terms) { t.MediaType = "video/" }), caps: capsTest, field: "media_type", value: "video/"},
		{name: "lower-case currency", terms: with(open, func(t *Terms) { t.Currency = "usd" }), caps: capsTest, field: "currency", value: "usd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.terms.Check(tt.caps, termsNow)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var te *TermError
			if !errors.As(err, &te) || !errors.Is(err, ErrBadManifest) {
				t.Fatalf("got %v (%T), want a *TermError wrapping ErrBadManifest", err, err)
			}
			if te.Field != tt.field || te.Value != tt.value || !strings.Contains(te.Reason, tt.in) {
				t.Errorf("got field %q value %q reason %q, want field %q value %q and a reason with %q", te.Field, te.Value, te.Reason, tt.field, tt.value, tt.in)
			}
			if m.Model != "" {
				t.Errorf("got a manifest of model %q with the error", m.Model)
			}
		})
	}
}

func TestTermsCheckManifest(t *testing.T) {
	terms := Terms{Model: ModelShards, Title: "A Film", Price: 300, Goal: 1000, Deadline: termsNow.Add(time.Hour)}
	m, err := terms.Check(capsTest, termsNow)
	if err != nil {
		t.Fatal(err)
	}
	if m.Shards != 4 || m.Shortfall != ShortfallRelease || m.Currency != "USD" || m.MediaType != "application/octet-stream" ||
		!slices.Equal(m.Rails, []string{RailTest}) || !m.Created.Equal(termsNow) {
		t.Errorf("got shards %d shortfall %q currency %q media type %q rails %v created %v, want 4, release, USD, application/octet-stream, [test], %v",
			m.Shards, m.Shortfall, m.Currency, m.MediaType, m.Rails, m.Created, termsNow)
	}
	if m.Content.Defined() || m.Commitments.Defined() || m.SecretCommitment != nil || m.Creator != "" {
		t.Error("the checked terms carry content, commitments or a creator: publishing fills those in")
	}
	// Filled in, the manifest signs.
	m.Content, m.Commitments = rawCID("content"), rawCID("commitments")
	m.SecretCommitment = make([]byte, secretCommitSize)
	if err := m.Sign(testKey(t, "creator")); err != nil {
		t.Fatalf("signing the checked terms: %v", err)
	}
}

func TestTermsDefaults(t *testing.T) {
	tests := []struct {
		name     string
		terms    Terms
		currency string
		rails    []string
		shards   int
		short    Shortfall
	}{
		{"nothing set", Terms{Model: ModelPay}, "USD", []string{"test"}, 0, ""},
		{"lightning alone", Terms{Model: ModelPay, Rails: []string{"lightning"}}, "BTC", []string{"lightning"}, 0, ""},
		{"lightning and test", Terms{Model: ModelPay, Rails: []string{"test", "lightning"}}, "USD", []string{"test", "lightning"}, 0, ""},
		{"currency kept", Terms{Model: ModelPay, Currency: "EUR", Rails: []string{"lightning"}}, "EUR", []string{"lightning"}, 0, ""},
		{"shards from goal", Terms{Model: ModelShards, Price: 300, Goal: 1000}, "USD", []string{"test"}, 4, ShortfallRelease},
		{"shards kept", Terms{Model: ModelShards, Price: 300, Goal: 1000, Shards: 9}, "USD", []string{"test"}, 9, ShortfallRelease},
		{"shortfall kept", Terms{Model: ModelShards, Shortfall: ShortfallLocked}, "USD", []string{"test"}, 0, ShortfallLocked},
		{"no shortfall for pay", Terms{Model: ModelPay, Price: 300, Goal: 1000}, "USD", []string{"test"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.terms.Defaults()
			if d.Currency != tt.currency || !slices.Equal(d.Rails, tt.rails) || d.Shards != tt.shards || d.Shortfall != tt.short || d.MediaType != "application/octet-stream" {
				t.Errorf("got currency %q rails %v shards %d shortfall %q media type %q, want %q %v %d %q application/octet-stream",
					d.Currency, d.Rails, d.Shards, d.Shortfall, d.MediaType, tt.currency, tt.rails, tt.shards, tt.short)
			}
		})
	}
}

func TestTermErrorText(t *testing.T) {
	tests := []struct {
		err  *TermError
		want string
	}{
		{&TermError{Field: "price", Reason: "must be positive in model pay"}, "price: must be positive in model pay"},
		{&TermError{Field: "rails", Value: "pay pal", Reason: "want test or lightning"}, `rails "pay pal": want test or lightning`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
