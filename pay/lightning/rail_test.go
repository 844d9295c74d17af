package lightning

import (
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay/paytest"
)

// TestConformance runs the rail suite against two rails on the imitation
// of LND's REST API.
func TestConformance(t *testing.T) {
	paytest.Run(t, func(t *testing.T) paytest.Pair {
		clock := paytest.NewClock(time.Unix(1_700_000_000, 0))
		n := newFakeNet(t, clock.Now, 0, 100_000_000)
		return paytest.Pair{Payee: n.rail(t, 0), Payer: n.rail(t, 1), Currency: Currency,
			Amount: 250_000, Advance: clock.Advance, Timeout: 20 * time.Second}
	})
}
