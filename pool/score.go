package pool

import (
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peer scoring. A share is valid or not for every node alike, so a peer
// that sends one invalid message either forged it or forwarded it without
// validating: both are punished hard. Only the pool topics carry score
// parameters (Gossip sets them when it joins a topic); other topics of the
// same PubSub score zero, so their peers are judged by the pool topics
// alone and a peer graylisted there is ignored everywhere.
const (
	// invalidWeight makes k invalid messages cost 100·k² points: 2 stop
	// gossip to the peer, 3 stop publishing to it, 4 graylist it.
	invalidWeight     = -100
	gossipThreshold   = -400
	publishThreshold  = -800
	graylistThreshold = -1600
	// Good behaviour earns at most topicScoreCap points, a fifth of what
	// one invalid message costs.
	topicScoreCap = 20
)

// PubSubOptions returns the options a node passes to pubsub.NewGossipSub
// so that pool topics score their peers. Without them the pool works the
// same, and invalid messages are still dropped, but their senders keep
// their standing.
//
// The IP colocation penalty is off: peers of a demo or test share
// 127.0.0.1 and peers behind one NAT share an address, and a bogus share
// costs its sender the same whatever its address. Behaviour penalties
// (P7) and mesh delivery rates (P3) are off too: pool topics are quiet
// most of the time and bursty at sales and deadlines.
func PubSubOptions() []pubsub.Option {
	params := &pubsub.PeerScoreParams{
		// Filled in per topic by Gossip; SetScoreParams needs the map.
		Topics:            map[string]*pubsub.TopicScoreParams{},
		TopicScoreCap:     topicScoreCap,
		AppSpecificScore:  func(peer.ID) float64 { return 0 },
		AppSpecificWeight: 0,
		DecayInterval:     pubsub.DefaultDecayInterval,
		DecayToZero:       pubsub.DefaultDecayToZero,
		// A peer that reconnects keeps its bad score for a while.
		RetainScore: 30 * time.Minute,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:   gossipThreshold,
		PublishThreshold:  publishThreshold,
		GraylistThreshold: graylistThreshold,
		// Peer exchange is accepted from no ordinary peer: the most a
		// peer earns is topicScoreCap.
		AcceptPXThreshold:           10 * topicScoreCap,
		OpportunisticGraftThreshold: 1,
	}
	return []pubsub.Option{pubsub.WithPeerScore(params, thresholds)}
}

// TopicScoreParams returns the score parameters Gossip sets on each pool
// topic: a little credit for time in the mesh and first deliveries of
// valid shares, a heavy, slowly forgotten penalty for invalid ones.
func TopicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight: 1,

		TimeInMeshWeight:  0.01, // up to 3 points after five minutes
		TimeInMeshQuantum: time.Second,
		TimeInMeshCap:     300,

		FirstMessageDeliveriesWeight: 1,
		FirstMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(10 * time.Minute),
		FirstMessageDeliveriesCap:    10,

		InvalidMessageDeliveriesWeight: invalidWeight,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}
