package node

import (
	"context"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/keystore"
	"github.com/shardcast/shardcast/seal"
)

// Repo directories of the paid models.
const (
	catalogDir = "campaigns"
	// poolDir holds the share pool (see package pool).
	poolDir = "pool"
)

// nodeIdentityPurpose derives the node's long-term age identity, to which
// creators wrap the keys this node buys, from its libp2p key.
const nodeIdentityPurpose = "shardcast node identity v1"

// ErrLocked is returned when this node cannot decrypt a campaign's content.
var ErrLocked = errors.New("campaign is locked")

// AgeIdentity returns the node's own age identity, derived from its peer key.
func (n *Node) AgeIdentity() (*age.X25519Identity, error) {
	raw, err := n.repo.Key.Raw()
	if err != nil {
		return nil, fmt.Errorf("reading peer key: %w", err)
	}
	return seal.DeriveIdentity(raw, nodeIdentityPurpose)
}

// ContentKey returns the age identity that decrypts content c, if this node
// holds it (an error wrapping ErrLocked if not).
func (n *Node) ContentKey(c cid.Cid) (*age.X25519Identity, error) {
	id, err := n.keys.ContentKey(c)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, fmt.Errorf("%w: no key for %s", ErrLocked, c)
	}
	return id, err
}

// SaveContentKey stores the identity that decrypts content c.
func (n *Node) SaveContentKey(c cid.Cid, id *age.X25519Identity) error {
	return n.keys.SaveContentKey(c, id)
}

// Catalog returns the campaigns this node knows.
func (n *Node) Catalog() *catalog.Catalog { return n.catalog }

// OpenCampaign returns a campaign's plaintext for reading with random
// access: the content itself for open campaigns, the decrypted age file for
// the others when this node holds the key (ErrLocked otherwise). ctx bounds
// every fetch.
func (n *Node) OpenCampaign(ctx context.Context, id cid.Cid) (io.ReaderAt, int64, catalog.Entry, error) {
	return n.OpenCampaignAt(ctx, id, -1)
}

// OpenCampaignAt is OpenCampaign for a reader that will start at plaintext
// offset at (-1: unknown): the blocks it needs there are fetched in
// parallel with those that opening the age file needs.
func (n *Node) OpenCampaignAt(ctx context.Context, id cid.Cid, at int64) (io.ReaderAt, int64, catalog.Entry, error) {
	e, err := n.catalog.Get(id)
	if err != nil {
		return nil, 0, e, err
	}
	n.catalog.Follow(e.Manifest.Creator) // the user opened it
	var key *age.X25519Identity
	if e.Manifest.Model != campaign.ModelOpen {
		if key, err = n.ContentKey(e.Manifest.Content); err != nil {
			return nil, 0, e, err
		}
	}
	f, err := n.Open(ctx, e.Manifest.Content)
	if err != nil {
		return nil, 0, e, err
	}
	if key == nil {
		return f, f.Size(), e, nil
	}
	// The header, and the final age chunk (up to 64 KiB and its tag),
	// which may straddle two blocks: opening the file reads both.
	offs := []int64{0, max(0, f.Size()-(64<<10+16)), f.Size() - 1}
	if at >= 0 {
		offs = append(offs, seal.EncryptedSize(seal.X25519HeaderSize, at))
	}
	f.Prefetch(ctx, offs...)
	ra, size, err := seal.OpenReaderAt(f.SeqReaderAt(ctx), f.Size(), key)
	if err != nil {
		return nil, 0, e, fmt.Errorf("opening the ciphertext of %s: %w", id, err)
	}
	return ra, size, e, nil
}
