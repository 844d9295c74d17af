package market

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
)

// BenchmarkLedgerSale records one offer and its sale per op, from 256
// concurrent goroutines: the creator ledger's share of a sale, two
// fsync'd commits shared with the other goroutines.
func BenchmarkLedgerSale(b *testing.B) {
	l := openLedger(b, filepath.Join(b.TempDir(), "market.db"))
	key := testKey(b, "creator")
	buyer := newHost(b, nil).ID()
	camp := rawCID("campaign")
	ctx := context.Background()
	payload := make([]byte, 300)
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			o := &Offer{Campaign: camp, Kind: KindBuy, Buyer: buyer, Recipient: "age1x", Price: pay.Amount{Minor: 250, Currency: "USD"},
				Rail: "test", Request: "testmoney:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
				Expires: time.Now().Add(time.Hour), Sig: make([]byte, 64)}
			rand.Read(o.ID[:])
			if err := l.putOffer(ctx, o, o.ID.String(), nil, time.Now()); err != nil {
				b.Error(err)
				return
			}
			r := &Receipt{Offer: o.ID, Campaign: camp, Buyer: buyer, Kind: KindBuy, Amount: o.Price, Time: time.Now()}
			r.sign(key)
			if err := l.settle(ctx, o, &delivery{ID: o.ID, Payload: payload, Receipt: r}); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
}
