package xfer

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/ipfs/boxo/exchange/offline"
	blocks "github.com/ipfs/go-block-format"

	"github.com/shardcast/shardcast/internal/p2ptest"
)

// BenchmarkFetch moves 64 blocks of 1 MiB from one peer to another on
// loopback (stores in memory, 32 fetches in flight as a reader's window
// keeps them), over 1.1.0's pipelined stream and over 1.0.0's stream per
// block, alternated in one run:
//
//	go test ./xfer -run '^$' -bench Fetch -benchtime 5x -count 3
func BenchmarkFetch(b *testing.B) {
	for _, proto := range []string{"1.1.0", "1.0.0"} {
		b.Run(proto, func(b *testing.B) {
			server, client := p2ptest.Host(b), p2ptest.Host(b)
			sbs := newStore()
			Serve(server, sbs, slog.New(slog.DiscardHandler))
			held := make([]blocks.Block, 64)
			for i := range held {
				data := make([]byte, 1<<20)
				for j := range data {
					data[j] = byte(i*7 + j)
				}
				held[i] = blocks.NewBlock(data)
				sbs.Put(context.Background(), held[i])
			}
			connect(b, client, server)
			ex := NewExchange(client, offlineSession{offline.Exchange(newStore())})
			fetch := ex.fetchFrom
			if proto == "1.0.0" {
				fetch = ex.fetchFrom10
			}
			ctx := context.Background()
			b.SetBytes(int64(len(held)) << 20)
			b.ResetTimer()
			for range b.N {
				sem := make(chan struct{}, 32)
				var wg sync.WaitGroup
				for _, want := range held {
					sem <- struct{}{}
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						if _, err := fetch(ctx, server.ID(), want.Cid()); err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
			}
		})
	}
}
