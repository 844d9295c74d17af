package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/campaign"
)

func TestPublishQueryRoundTrip(t *testing.T) {
	deadline := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, terms := range []campaign.Terms{
		{},
		{Model: campaign.ModelOpen, Title: "A film", Description: "two\nlines", MediaType: "video/webm", Currency: "EUR",
			Goal: 5000, Suggested: []int64{100, 250}, Rails: []string{"test"}},
		{Model: campaign.ModelPay, Title: "Pay & see", Price: 250, Rails: []string{"test", "lightning"}},
		{Model: campaign.ModelShards, Title: "Shards", Price: 100, Shards: 12, Goal: 1000, Schedule: []campaign.Tier{{Count: 4, Price: 50}},
			Deadline: deadline, Rails: []string{"lightning"}, Currency: "BTC", AllOrNothing: true, Shortfall: campaign.ShortfallLocked},
	} {
		q := PublishQuery(terms)
		got, err := PublishTerms(q)
		if err != nil {
			t.Fatalf("PublishTerms(%s): %v", q.Encode(), err)
		}
		if !reflect.DeepEqual(got, terms) {
			t.Errorf("got  %+v\nwant %+v\n(query %s)", got, terms, q.Encode())
		}
	}
}

func TestPublishTermsBadParameters(t *testing.T) {
	// query → what the error is about
	bad := map[string]string{
		"price=x":                      "parameter price",
		"shards=1.5":                   "parameter shards",
		"goal=99999999999999999999":    "parameter goal",
		"early_count=2&early_price=x":  "parameter early_price",
		"suggested=100,x":              "parameter suggested",
		"deadline=tomorrow":            "parameter deadline",
		"price=x&deadline=tomorrow":    "parameter price",
		"suggested=x&deadline=2030-01": "parameter suggested",
	}
	for query, want := range bad {
		q, _ := url.ParseQuery(query)
		if _, err := PublishTerms(q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("PublishTerms(%s): got %v, want an error about %q", query, err, want)
		}
	}
}

// A term that breaks a rule is answered 400 with its field, for the
// client to point at its own input.
func TestPublishTermError(t *testing.T) {
	f := newFixture(t, apiAddr, gwAddr)
	f.node.caps = &campaign.RailCaps{Available: []string{campaign.RailTest}, Missing: map[string]string{campaign.RailLightning: "no LND"}}
	up := with(bearer, "Content-Type", mediaUpload)
	for _, tt := range []struct {
		query        string
		field, value string
		reason       string
	}{
		{"model=pay&title=A", "price", "", "must be positive in model pay"},
		{"model=rent&title=A", "model", "rent", "want open, pay or shards"},
		{"model=pay&title=A&price=5&rails=lightning", "rails", "lightning", "no LND"},
		{"model=shards&title=A&price=5&shards=2&deadline=2030-01-01T00:00:00Z&all_or_nothing=true", "all_or_nothing", "", "Lightning hold invoices"},
		{"model=open&title=A&shortfall=locked", "shortfall", "", "only shards"},
	} {
		w := f.do(req{method: "POST", path: "/api/v1/publish?" + tt.query, body: "film", header: up})
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.query, w.Code)
			continue
		}
		var got TermErrorResponse
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Term == nil {
			t.Errorf("%s: %s is no term error (%v)", tt.query, w.Body, err)
			continue
		}
		if got.Kind != KindBadTerm {
			t.Errorf("%s: kind %q, want %q", tt.query, got.Kind, KindBadTerm)
		}
		if got.Term.Field != tt.field || got.Term.Value != tt.value || !strings.Contains(got.Term.Reason, tt.reason) ||
			!strings.HasPrefix(got.Error, "publishing: "+tt.field) {
			t.Errorf("%s: got %+v (%q), want field %q value %q reason with %q", tt.query, *got.Term, got.Error, tt.field, tt.value, tt.reason)
		}
	}
	// Other errors carry no term.
	w := f.do(req{method: "POST", path: "/api/v1/publish?model=open&title=A", body: "film", header: up})
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), `"term"`) {
		t.Errorf("a node failure: status %d %s, want 500 without a term", w.Code, w.Body)
	}
}
