package flow

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/lightning"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// Publish imports content under the terms' model — as plaintext for open,
// as an age file for a fresh content identity for pay and shards — signs
// the manifest and announces it. The content key (and a shards campaign's
// shares) is stored before the manifest exists, so a crash never leaves a
// campaign whose key is lost; a publish that fails announces nothing.
//
// terms carries the campaign's terms (model, title, description, media
// type, currency, price, goal, suggested amounts, deadline, rails);
// Publish fills in the content, the creator and the signature.
func (f *Flow) Publish(ctx context.Context, terms campaign.Manifest, r io.Reader) (catalog.Entry, error) {
	m := &terms
	if err := f.prepareTerms(m); err != nil {
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

// prepareTerms fills in the defaults of a campaign's terms and checks
// them against what this node's rails can do. It is the one place where
// publishing checks terms.
func (f *Flow) prepareTerms(m *campaign.Manifest) error {
	m.Created = f.p.Now()
	if m.MediaType == "" {
		m.MediaType = "application/octet-stream"
	}
	if len(m.Rails) == 0 {
		m.Rails = []string{pay.TestRailName}
	}
	if m.Currency == "" {
		m.Currency = "USD"
	}
	if err := f.checkRails(m); err != nil {
		return err
	}
	if m.Model != campaign.ModelShards {
		return nil
	}
	if m.Shards <= 0 && m.Price > 0 && m.Goal > 0 {
		k, err := campaign.SharesForGoal(m.Goal, m.Price)
		if err != nil {
			return err
		}
		m.Shards = k
	}
	if m.Shards <= 0 {
		return fmt.Errorf("%w: a shards campaign needs --shards N or --goal", campaign.ErrBadManifest)
	}
	if m.Deadline.IsZero() {
		return fmt.Errorf("%w: a shards campaign needs a --deadline", campaign.ErrBadManifest)
	}
	if m.Shortfall == "" {
		m.Shortfall = campaign.ShortfallRelease
	}
	return nil
}

// checkRails checks that this node can take payments on every rail the
// terms name, and what the lightning rail and pledges ask of the terms.
func (f *Flow) checkRails(m *campaign.Manifest) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", campaign.ErrBadManifest, fmt.Sprintf(format, args...))
	}
	for _, r := range m.Rails {
		switch r {
		case pay.TestRailName:
		case lightning.Name:
			if !f.p.Rails.Lightning {
				return fmt.Errorf("the lightning rail needs an LND node: set \"lightning\" in the repo's config.json or start the daemon with --lnd-rest, --lnd-cert and --lnd-macaroon")
			}
			if m.Currency != lightning.Currency {
				return bad("the lightning rail moves %s (amounts in msat): use --currency %s, not %s", lightning.Currency, lightning.Currency, m.Currency)
			}
		default:
			return bad("unknown rail %q: want test or lightning", r)
		}
	}
	if !m.AllOrNothing {
		return nil
	}
	if m.Model != campaign.ModelShards {
		return bad("--all-or-nothing takes pledges for shards campaigns only")
	}
	if len(m.Rails) != 1 || m.Rails[0] != lightning.Name {
		return bad("all-or-nothing pledges are Lightning hold invoices: use --rail lightning")
	}
	longest := f.p.Rails.LightningMaxHold - market.PledgeGrace
	if limit := f.p.Now().Add(longest); m.Deadline.After(limit) {
		return bad("pledges are held by Lightning hold invoices, which expire by block height: the deadline %s is too far, the latest possible is %s (%s from now)",
			m.Deadline.UTC().Format(time.RFC3339), limit.UTC().Format(time.RFC3339), hoursMinutes(longest))
	}
	return nil
}

// hoursMinutes writes d rounded down to the minute as "240h50m", a
// --deadline that is accepted (rounding up would suggest one that is not).
func hoursMinutes(d time.Duration) string {
	d = d.Truncate(time.Minute)
	return fmt.Sprintf("%dh%02dm", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
}

// importSealed encrypts r to id as an age file, imports the ciphertext and
// stores id as the key of the content: every model that encrypts goes
// through here. It returns the content CID and the plaintext's size.
func (f *Flow) importSealed(ctx context.Context, r io.Reader, id *age.X25519Identity) (cid.Cid, int64, error) {
	cr := &countReader{r: r}
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
	return c, cr.n, nil
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

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
