package market

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/shardcast/shardcast/internal/peerlimit"
)

// BenchmarkSales runs b.N complete sales (quote, offer, payment on the
// test rail, claim, durable ledger commit, delivery, verification and the
// buyer's own records) through one creator, from 1,000 concurrent buyer
// goroutines spread over 4 buyer hosts on loopback, each host with its
// own rail and ledger; creator and buyers share the machine's cores. It
// reports sales/s and the p50 and p99 latency of one sale.
//
// "max": every buyer buys again as soon as its sale completes, which
// measures the most sales/s (its latency is just 1,000 / throughput).
// "500/s": the buyers together start 500 sales a second at even
// intervals (an open loop; a sale's latency counts from its scheduled
// start, so a creator that falls behind is charged for it). Target 6 of docs/BENCHMARKS.md
// asks for ≥ 500 sales/s with p99 < 250 ms:
//
//	go test ./market -run '^$' -bench Sales -benchtime 5000x
func BenchmarkSales(b *testing.B) {
	for _, model := range []string{"pay", "shards"} {
		b.Run(model+"/max", func(b *testing.B) { benchSales(b, model, 0) })
		b.Run(model+"/500per-s", func(b *testing.B) { benchSales(b, model, 500) })
		b.Run(model+"/250per-s", func(b *testing.B) { benchSales(b, model, 250) })
	}
}

// benchSales runs b.N sales from 1,000 goroutines, as fast as they go
// (rate 0) or started at rate sales a second.
func benchSales(b *testing.B, model string, rate float64) {
	const concurrency = 1000
	const hosts = 4
	// Every goroutine the creator starts (host, server, rail, ledger)
	// carries the label side=creator, the buyers' side=buyer, so that a
	// CPU profile splits the work: -tagfocus side=creator.
	var c *creator
	pprof.Do(context.Background(), pprof.Labels("side", "creator"), func(context.Context) {
		// 250 concurrent buyers per host: the per-buyer bounds are lifted.
		c = newCreator(b, max(b.N, 4), &ServerOptions{MaxOpenOffers: -1, MaxReservedShares: -1,
			QuoteRate: peerlimit.Rate{PerSecond: -1}}, nil)
	})
	id := c.pay
	if model == "shards" {
		id = c.shards
	}
	order := c.order(id, 1)
	// Time the creator's handling of each request, from the stream's
	// arrival to the answer's last byte.
	var smu sync.Mutex
	served := make([]time.Duration, 0, 2*b.N)
	c.h.SetStreamHandler(ProtocolID, func(st network.Stream) {
		t0 := time.Now()
		c.srv.handle(st)
		d := time.Since(t0)
		smu.Lock()
		served = append(served, d)
		smu.Unlock()
	})
	buyers := make([]*buyer, hosts)
	ctx := pprof.WithLabels(context.Background(), pprof.Labels("side", "buyer"))
	pprof.SetGoroutineLabels(ctx)
	defer pprof.SetGoroutineLabels(context.Background())
	for i := range buyers {
		buyers[i] = newBuyer(b, fmt.Sprint("buyer", i), c, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range concurrency {
		client := buyers[g%hosts].client
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if rate > 0 {
					t0 = start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					time.Sleep(time.Until(t0))
				}
				if _, err := client.Buy(ctx, order); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sales/s")
	b.ReportMetric(float64(lat[b.N/2])/1e6, "p50-ms")
	b.ReportMetric(float64(lat[(b.N*99)/100])/1e6, "p99-ms")
	slices.Sort(served)
	b.ReportMetric(float64(served[(len(served)*99)/100])/1e6, "creator-p99-ms")
	b.ReportMetric(0, "ns/op")
	if got := stats(b, c.ledger, id).Sales; got != b.N {
		b.Errorf("ledger holds %d sales, want %d", got, b.N)
	}
}
