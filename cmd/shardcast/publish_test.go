package main

import (
	"strings"
	"testing"

	"github.com/shardcast/shardcast/campaign"
)

// Every field of the terms that a flag sets is named by a flag of publish.
func TestFlagError(t *testing.T) {
	cmd := newPublishCmd(&env{})
	fields := []string{"model", "title", "description", "media_type", "currency", "price", "schedule",
		"shards", "goal", "suggested", "deadline", "rails", "all_or_nothing", "shortfall"}
	for _, field := range fields {
		msg := flagError(&campaign.TermError{Field: field, Reason: "broken"}).Error()
		flag, ok := strings.CutSuffix(msg, ": broken")
		if !ok || !strings.HasPrefix(flag, "--") || cmd.Flags().Lookup(flag[2:]) == nil {
			t.Errorf("field %s: %q names no flag of publish", field, msg)
		}
	}
	got := flagError(&campaign.TermError{Field: "rails", Value: "pay pal", Reason: "want test or lightning"}).Error()
	if want := `--rail "pay pal": want test or lightning`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got = flagError(&campaign.TermError{Field: "price and goal", Reason: "negative"}).Error()
	if want := "price and goal: negative"; got != want {
		t.Errorf("a field no flag sets: got %q, want %q", got, want)
	}
}
