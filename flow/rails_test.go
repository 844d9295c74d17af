package flow

import (
	"testing"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
)

// campaign names the rails and Lightning's currency in the terms it
// checks; the rails must answer to the same names.
func TestRailNamesAgree(t *testing.T) {
	for _, p := range [][2]string{
		{campaign.RailTest, pay.TestRailName},
		{campaign.RailLightning, lightning.Name},
		{campaign.LightningCurrency, lightning.Currency},
	} {
		if p[0] != p[1] {
			t.Errorf("campaign says %q, the rail %q", p[0], p[1])
		}
	}
}
