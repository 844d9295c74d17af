package campaign

import (
	"bytes"

	"github.com/shardcast/shardcast/shares"
)

// OpenCommitments decodes the commitments file of a shards campaign (the
// block or file m.Commitments links to, already fetched and checked
// against that CID by the caller) and checks it against the manifest: N
// equals Shards, X equals SecretCommitment, and shares.Commitments.Check
// passes (every point canonical, Σ C_i = X). Shares accepted by Verify on
// the result always combine into the campaign secret. It costs about 6 µs
// per share; errors wrap ErrBadManifest, since a manifest that links to
// wrong commitments is itself bad.
func (m *Manifest) OpenCommitments(data []byte) (*shares.Commitments, error) {
	if m.Model != ModelShards {
		return nil, badManifest("model %s has no commitments", m.Model)
	}
	c := new(shares.Commitments)
	if err := c.UnmarshalBinary(data); err != nil {
		return nil, badManifest("commitments: %v", err)
	}
	if c.N() != m.Shards {
		return nil, badManifest("commitments for %d shares, manifest says %d", c.N(), m.Shards)
	}
	if x := c.X(); !bytes.Equal(x[:], m.SecretCommitment) {
		return nil, badManifest("commitments: X differs from the manifest's secret_commitment")
	}
	if err := c.Check(); err != nil {
		return nil, badManifest("commitments: %v", err)
	}
	return c, nil
}
