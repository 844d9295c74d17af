package market

import (
	"context"

	cid "github.com/ipfs/go-cid"
)

// Events receives what a Server and a Client report: the one way the
// market tells the layer above what happened. A Server calls Committed
// and Pledged, a Client Delivered, Caught and Completed. Every method but
// Completed must return at once (hand long work to a goroutine); all must
// be safe for concurrent use.
//
// Embed NoEvents to implement only some of them.
type Events interface {
	// Committed: a sale or donation of campaign is durable in the
	// ledger, and its delivery not yet sent. The creator's node
	// announces new figures from here.
	Committed(campaign cid.Cid, id OfferID)
	// Pledged: a pledge of campaign is recorded, or its pledges ended.
	Pledged(campaign cid.Cid)
	// Delivered: a locked purchase's shares are unsealed and verified,
	// as soon as the payment revealed their key: a pledge settled long
	// after Buy returned, or a sale whose creator vanished before its
	// receipt.
	Delivered(p *Purchase)
	// Caught: a creator sealed bad shares for this node; the proof is
	// already in the ledger.
	Caught(p *Proof)
	// Completed: a purchase (not a pledge) is delivered and verified,
	// whoever waits for it or none. The buyer's node keeps what it bought
	// here; it runs before any waiter learns the outcome, and its error
	// becomes the waiter's.
	Completed(ctx context.Context, p *Purchase) error
}

// NoEvents is an Events that ignores everything; embed it to implement a
// part of Events.
type NoEvents struct{}

func (NoEvents) Committed(cid.Cid, OfferID)                 {}
func (NoEvents) Pledged(cid.Cid)                            {}
func (NoEvents) Delivered(*Purchase)                        {}
func (NoEvents) Caught(*Proof)                              {}
func (NoEvents) Completed(context.Context, *Purchase) error { return nil }
