package catalog

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/peerlimit"
)

// TestValidateRates: the topic's validator ignores (without blame) what a
// peer relays beyond its rate and what the budget has no room for, and
// rejects only false messages.
func TestValidateRates(t *testing.T) {
	c, err := Open(t.TempDir(), WithBudget(Budget{Campaigns: 100, PerCreator: 1}))
	if err != nil {
		t.Fatal(err)
	}
	g := &Gossip{c: c, log: slog.New(slog.DiscardHandler),
		lim: limiters{manifests: peerlimit.New(peerlimit.Rate{Burst: 3})}}
	msg := func(data []byte) *pubsub.Message { return &pubsub.Message{Message: &pb.Message{Data: data}} }
	ctx := context.Background()
	flooder, other := peer.ID("flooder"), peer.ID("other")
	k, first := testManifest(t, "first")
	forged := bytes.Clone(first)
	forged[len(forged)/2] ^= 1
	for i, tt := range []struct {
		from peer.ID
		data []byte
		want pubsub.ValidationResult
	}{
		{flooder, manifestMsg(first), pubsub.ValidationAccept},
		{flooder, manifestMsg(signWith(t, k, "same creator")), pubsub.ValidationIgnore}, // PerCreator
		{flooder, manifestMsg(forged), pubsub.ValidationReject},
		{flooder, manifestMsg(fresh(t, 0)), pubsub.ValidationIgnore}, // over its 3
		{other, manifestMsg(fresh(t, 1)), pubsub.ValidationAccept},
	} {
		if got := g.validate(ctx, tt.from, msg(tt.data)); got != tt.want {
			t.Errorf("message %d from %s: got %v, want %v", i, tt.from, got, tt.want)
		}
	}
}

func fresh(t *testing.T, i int) []byte {
	t.Helper()
	_, raw := testManifest(t, fmt.Sprint("fresh ", i))
	return raw
}
