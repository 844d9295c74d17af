package peerlimit

import "time"

// The node's limits on what peers push, each with its reason. A message
// over a rate is answered "busy" (market, sync) or ignored without blame
// (gossip: pubsub.ValidationIgnore, since an honest relay forwards what
// others published and must not lose score for it); only false messages
// are rejected. docs/THREATS.md adds them up.

// Catalog gossip (package catalog), per peer that hands us the message:
// on the topic that is the relay, not the author.
var (
	// CatalogManifests: campaigns are published a few a day by a person;
	// 2 a second with a burst of 64 lets a relay pass on a busy hour at
	// once and bounds a flooder to 2 signature checks a second per
	// connection. What is refused comes back by sync, into the budget.
	CatalogManifests = Rate{PerSecond: 2, Burst: 64}
	// CatalogStates: a creator signs a state after every sale, so a busy
	// campaign makes hundreds a second; only the newest matters, so the
	// surplus is dropped and the next sync brings the newest.
	CatalogStates = Rate{PerSecond: 20, Burst: 200}
	// CatalogProofs: each proof may cost a verification of up to 30 s
	// that fetches commitments; real proofs are rare.
	CatalogProofs = Rate{PerSecond: 0.1, Burst: 4}
	// CatalogSyncs: serving a sync writes the whole catalog (up to its
	// budget, a few MiB). Honest peers pull on connecting, on joining the
	// topic and every 10 s from 3 random peers.
	CatalogSyncs = Rate{PerSecond: 0.2, Burst: 4}
	// CatalogPushes: a push stream carries up to 16 records of what a
	// peer just published or a proof it relays.
	CatalogPushes = Rate{PerSecond: 1, Burst: 16}
)

// The catalog's budget for campaigns of creators the node does not follow
// (not its own, never bought from, not opened by the user): what gossip
// from strangers may make it keep, in memory and on disk.
const (
	// UnfollowedCampaigns bounds how many such campaigns are kept: a
	// screenful of pages of discovery, far more than a person browses.
	UnfollowedCampaigns = 512
	// UnfollowedBytes bounds their manifests and states together: 512
	// manifests of 16 KiB on average. A manifest is at most 64 KiB.
	UnfollowedBytes = 8 << 20
	// UnfollowedPerCreator: one creator may not fill the budget; keys are
	// free, so this only forces a flooder to sign with many.
	UnfollowedPerCreator = 4
	// UnfollowedPerSource: the campaigns one peer brought (by gossip,
	// push or sync) may fill at most a quarter of the budget, so that a
	// flood through one connection leaves room for what others bring.
	UnfollowedPerSource = UnfollowedCampaigns / 4
	// StoredProofs bounds the proofs of misbehaviour kept (each up to
	// 2 MiB, so at most 64 MiB), and UnknownCreatorProofs those among
	// them against creators of whom the node holds no campaign.
	StoredProofs         = 32
	UnknownCreatorProofs = 4
)

// Tracking of shards campaigns (package node).
const (
	// TrackWorkers bounds the goroutines fetching commitments and joining
	// pool topics, whatever the number of campaigns.
	TrackWorkers = 4
	// TrackAttempts bounds the fetches of one campaign's commitments;
	// each waits twice as long as the last, from TrackBackoff up to
	// TrackMaxBackoff. The next state record of the campaign starts again.
	TrackAttempts   = 6
	TrackBackoff    = 2 * time.Second
	TrackMaxBackoff = 2 * time.Minute
	// MaxUnfollowedShares is the largest N whose commitments (32·N bytes,
	// and 64·N more for Check's index) a node fetches for a campaign it
	// does not follow: 3.2 MB of commitments. Campaigns it follows may
	// have up to campaign.MaxShares (10,000,000: 320 MB).
	MaxUnfollowedShares = 100_000
)

// Market (package market, the creator's server), per buyer peer.
var (
	// MarketQuotes: a quote costs an invoice on the rail, a signature and
	// a ledger row; a person buys a few times a minute, a program retrying
	// a sold-out campaign a few times a second.
	MarketQuotes = Rate{PerSecond: 5, Burst: 20}
)

const (
	// ReserveTTL is how long an unpaid offer of shares holds them: the
	// invoice expires with it, so a payment never arrives for freed
	// shares. Buyers' nodes pay at once; two minutes cover a slow route.
	ReserveTTL = 2 * time.Minute
	// OpenOffersPerBuyer bounds one buyer peer's unpaid offers in one
	// campaign, and ReservedPerBuyer the shares they hold.
	OpenOffersPerBuyer = 8
	ReservedPerBuyer   = 1000
	// PruneExpiredAfter is how long the row of an offer that expired
	// unpaid is kept: a buyer whose payment came too late has that long
	// to ask for its refund voucher (a voucher handed out keeps the row
	// for ever).
	PruneExpiredAfter = 24 * time.Hour
)

// UnfollowedPools bounds the share pools the node follows for shards
// campaigns it does not follow itself: each costs a gossipsub topic and
// its goroutines. Pools of followed campaigns are not counted.
const UnfollowedPools = 64

// Custody (package custody, a custodian's server), per creator peer.
var (
	// CustodyDeals: a deal costs a signature check, a decryption, a
	// verification of O(T) points, an fsync and a signature, and leaves a
	// file of up to CustodyDealBytes on disk. A creator deals once per
	// campaign, and retries a failed publish a few times; 10 a minute
	// with a burst of 10 bounds a flooder to 10 files a minute per peer.
	CustodyDeals = Rate{PerSecond: 10.0 / 60, Burst: 10}
)

// CustodyDealBytes bounds a deal frame: the largest deal (255
// custodians, threshold 255, a 128-byte campaign identity) is about
// 17 KiB; anything larger is refused unread.
const CustodyDealBytes = 32 << 10

// CustodyRecordsPerCreator bounds the deals a custodian keeps from one
// creator key until their deadlines pass: a creator publishes a few
// campaigns a month; keys are free, so this only makes a flooder sign
// with many, each paying CustodyDeals' rate.
const CustodyRecordsPerCreator = 256

// CustodyStreamTimeout bounds one dealing stream on the custodian's side:
// a deal is two small round trips and a few milliseconds of work, so a
// stream still open after this is a peer holding it open.
const CustodyStreamTimeout = 30 * time.Second

// Block transfer between shardcast peers (package xfer, protocol
// /shardcast/blocks/1.1.0), per peer that asks us for blocks.
const (
	// XferWantsInFlight bounds the wants a peer may have unanswered on
	// one stream. A want costs its CID (≤ 128 bytes) while queued, so 128
	// cost a peer's stream 16 KiB; 128 blocks of 1 MiB keep 128 MiB in
	// flight, enough to fill a link of 1 GB/s with 100 ms of round trip.
	// A peer that sends more is cut off: the limit is part of the protocol.
	XferWantsInFlight = 128
	// XferStreamsPerPeer bounds the pipelined streams one peer may hold
	// open at once. Our own client opens one per peer; a few more allow
	// another implementation to separate, say, playback from prefetch.
	// Each stream holds at most xfer's load-ahead of blocks (a few MiB)
	// besides its wants.
	XferStreamsPerPeer = 4
	// XferIdle is how long a peer may leave a stream silent, with no want
	// and no cancel, before the server closes it: each open stream costs
	// two goroutines and buffers.
	XferIdle = 2 * time.Minute
)
