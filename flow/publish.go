package flow

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// Publish checks the terms once (campaign.Terms.Check, against what this
// node's rails can do), then imports content under the terms' model — as
// plaintext for open, as an age file for a fresh content identity for pay
// and shards — signs the manifest and announces it. The content key (and a
// shards campaign's shares) is stored before the manifest exists, so a
// crash never leaves a campaign whose key is lost; a publish that fails
// announces nothing, and terms that fail their check import nothing.
//
// Publish fills in the content, the creator and the signature.
func (f *Flow) Publish(ctx context.Context, terms campaign.Terms, r io.Reader) (catalog.Entry, error) {
	m, err := f.prepareTerms(terms)
	if err != nil {
		return catalog.Entry{}, err
	}
	switch m.Model {
	case campaign.ModelOpen:
		c, size, err := f.p.Blocks.Import(ctx, r)
		if err != nil {
			return catalog.Entry{}, fmt.Errorf("importing content: %w", err)
		}
		m.Content, m.ContentSize = c, size
	case campaign.ModelPay:
		id, err := seal.NewIdentity()
		if err != nil {
			return catalog.Entry{}, err
		}
		if m.Content, m.ContentSize, err = f.importSealed(ctx, r, id); err != nil {
			return catalog.Entry{}, err
		}
	case campaign.ModelShards:
		if err := f.publishShards(ctx, m, r); err != nil {
			return catalog.Entry{}, err
		}
	default:
		return catalog.Entry{}, fmt.Errorf("%w: unknown model %q", campaign.ErrBadManifest, m.Model)
	}
	if err := m.Sign(f.p.Key); err != nil {
		return catalog.Entry{}, err
	}
	raw, _, err := campaign.Encode(m)
	if err != nil {
		return catalog.Entry{}, err
	}
	f.p.Blocks.Provide(m.Content)
	return f.p.Announcer.PublishManifest(ctx, raw)
}

// prepareTerms is the one place where publishing checks terms: the
// defaults, the choices, the rails' requirements and the model's rules
// all live in campaign.Terms.Check, given what this node's rails can do.
func (f *Flow) prepareTerms(terms campaign.Terms) (*campaign.Manifest, error) {
	m, err := terms.Check(f.p.Rails.caps(), f.p.Now())
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// importSealed encrypts r to id as an age file, imports the ciphertext and
// stores id as the key of the content: every model that encrypts goes
// through here. It returns the content CID and the plaintext's size.
func (f *Flow) importSealed(ctx context.Context, r io.Reader, id *age.X25519Identity) (cid.Cid, int64, error) {
	cr := &content.CountingReader{R: r}
	enc, err := seal.EncryptReader(cr, id.Recipient())
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("encrypting content: %w", err)
	}
	c, _, err := f.p.Blocks.Import(ctx, enc)
	enc.Close()
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("importing encrypted content: %w", err)
	}
	if err := f.p.Keys.SaveContentKey(c, id); err != nil {
		return cid.Undef, 0, fmt.Errorf("storing the key of %s: %w", c, err)
	}
	return c, cr.N, nil
}

// publishShards splits a fresh secret into the terms' number of shares,
// encrypts the content to the identity derived from it, stores the shares
// and commitments, and fills in the manifest's shards fields. Everything
// secret is on disk before the manifest exists.
func (f *Flow) publishShards(ctx context.Context, m *campaign.Manifest, r io.Reader) error {
	secret, list, c, err := shares.Split(rand.Reader, m.Shards)
	if err != nil {
		return fmt.Errorf("splitting the key into %d shares: %w", m.Shards, err)
	}
	id, err := seal.IdentityFromSeed(shares.ContentSeed(secret))
	if err != nil {
		return err
	}
	contentCID, size, err := f.importSealed(ctx, r, id)
	if err != nil {
		return err
	}
	if err := f.p.Keys.SaveShares(contentCID, list); err != nil {
		return err
	}
	cbytes, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	ccid, _, err := f.p.Blocks.Import(ctx, bytes.NewReader(cbytes))
	if err != nil {
		return fmt.Errorf("storing commitments: %w", err)
	}
	x := c.X()
	m.Content, m.ContentSize = contentCID, size
	m.Commitments, m.SecretCommitment = ccid, x[:]
	f.p.Blocks.Provide(ccid)
	return nil
}
