package main

import (
	"testing"

	"github.com/shardcast/shardcast/campaign"
)

// Every field of the terms that a flag sets is named by that flag.
func TestFlagError(t *testing.T) {
	tests := []struct {
		err  campaign.TermError
		want string
	}{
		{campaign.TermError{Field: "model", Reason: "missing: want open, pay or shards"}, "--model: missing: want open, pay or shards"},
		{campaign.TermError{Field: "title", Reason: "empty"}, "--title: empty"},
		{campaign.TermError{Field: "description", Reason: "too long"}, "--description: too long"},
		{campaign.TermError{Field: "media_type", Value: "video/", Reason: "no subtype"}, `--media-type "video/": no subtype`},
		{campaign.TermError{Field: "currency", Value: "USD", Reason: "the lightning rail moves BTC only"}, `--currency "USD": the lightning rail moves BTC only`},
		{campaign.TermError{Field: "price", Reason: "must be positive in model pay"}, "--price: must be positive in model pay"},
		{campaign.TermError{Field: "schedule", Reason: "tiers cover 4+ shares"}, "--early: tiers cover 4+ shares"},
		{campaign.TermError{Field: "shards", Reason: "0 not in [1, 10000000]"}, "--shards: 0 not in [1, 10000000]"},
		{campaign.TermError{Field: "goal", Reason: "not allowed in model pay"}, "--goal: not allowed in model pay"},
		{campaign.TermError{Field: "suggested", Reason: "amount 0 is not positive"}, "--suggested: amount 0 is not positive"},
		{campaign.TermError{Field: "deadline", Reason: "too far"}, "--deadline: too far"},
		{campaign.TermError{Field: "rails", Value: "paypal", Reason: "want test or lightning"}, `--rail "paypal": want test or lightning`},
		{campaign.TermError{Field: "all_or_nothing", Reason: "shards on lightning"}, "--all-or-nothing: shards on lightning"},
		{campaign.TermError{Field: "shortfall", Value: "maybe", Reason: "want release or locked"}, `--shortfall "maybe": want release or locked`},
		{campaign.TermError{Field: "price and goal", Reason: "negative"}, "price and goal: negative"},
	}
	for _, tt := range tests {
		if got := flagError(&tt.err).Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
