package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/keystore"
	"github.com/shardcast/shardcast/seal"
)

// Repo directories of the paid models.
const (
	catalogDir = "campaigns"
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

// Publish imports content under the request's model — as plaintext for
// open, as an age file for a fresh content identity for pay — signs the
// manifest and announces it. The content key is stored before the manifest
// exists, so a crash never leaves a campaign whose key is lost.
//
// terms carries the campaign's terms (model, title, description, media type,
// currency, price, goal, suggested amounts, deadline, rails); Publish fills
// in the content, the creator and the signature.
func (n *Node) Publish(ctx context.Context, terms campaign.Manifest, r io.Reader) (catalog.Entry, error) {
	m := &terms
	m.Created = time.Now()
	if m.MediaType == "" {
		m.MediaType = "application/octet-stream"
	}
	if len(m.Rails) == 0 {
		m.Rails = []string{"test"}
	}
	if m.Currency == "" {
		m.Currency = "USD"
	}
	if err := n.checkRails(m); err != nil {
		return catalog.Entry{}, err
	}
	switch m.Model {
	case campaign.ModelOpen:
		c, size, err := content.Import(ctx, n.store.Blocks, r)
		if err != nil {
			return catalog.Entry{}, fmt.Errorf("importing content: %w", err)
		}
		m.Content, m.ContentSize = c, size
	case campaign.ModelPay:
		id, err := seal.NewIdentity()
		if err != nil {
			return catalog.Entry{}, err
		}
		cr := &countReader{r: r}
		enc, err := seal.EncryptReader(cr, id.Recipient())
		if err != nil {
			return catalog.Entry{}, fmt.Errorf("encrypting content: %w", err)
		}
		c, _, err := content.Import(ctx, n.store.Blocks, enc)
		enc.Close()
		if err != nil {
			return catalog.Entry{}, fmt.Errorf("importing encrypted content: %w", err)
		}
		if err := n.SaveContentKey(c, id); err != nil {
			return catalog.Entry{}, err
		}
		m.Content, m.ContentSize = c, cr.n
	case campaign.ModelShards:
		if err := n.publishShards(ctx, m, r); err != nil {
			return catalog.Entry{}, err
		}
	default:
		return catalog.Entry{}, fmt.Errorf("%w: unknown model %q", campaign.ErrBadManifest, m.Model)
	}
	if err := m.Sign(n.repo.Key); err != nil {
		return catalog.Entry{}, err
	}
	raw, _, err := campaign.Encode(m)
	if err != nil {
		return catalog.Entry{}, err
	}
	if err := n.prov.add(m.Content); err != nil {
		n.log.Warn("recording root to announce", "cid", m.Content, "err", err)
	}
	if n.gossip == nil {
		e, _, err := n.catalog.Add(raw)
		return e, err
	}
	return n.gossip.PublishManifest(ctx, raw)
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

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

// CanRead reports whether this node can decrypt a campaign's content.
func (n *Node) CanRead(e catalog.Entry) bool {
	if e.Manifest.Model == campaign.ModelOpen {
		return true
	}
	_, err := n.ContentKey(e.Manifest.Content)
	return err == nil
}

// follows says whether the node follows a campaign, keeping it outside
// the catalog's budget of campaigns from strangers: its own, and those it
// can decrypt (bought, or unlocked). Creators bought from are followed
// at start (followPurchases) and when the user buys or opens a work.
func (n *Node) follows(e catalog.Entry) bool {
	if e.Manifest.Creator == n.ID() {
		return true
	}
	if e.Manifest.Model == campaign.ModelOpen {
		return false
	}
	return n.keys.HasContentKey(e.Manifest.Content)
}

// followPurchases follows the creators this node bought from or donated
// to.
func (n *Node) followPurchases(ctx context.Context) {
	if n.ledger == nil {
		return
	}
	list, err := n.ledger.Purchases(ctx, cid.Undef)
	if err != nil {
		n.log.Warn("reading purchases to follow their creators", "err", err)
		return
	}
	seen := map[peer.ID]bool{}
	for _, p := range list {
		if !seen[p.Creator] {
			seen[p.Creator] = true
			n.catalog.Follow(p.Creator)
		}
	}
}
