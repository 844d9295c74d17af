package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/shardcast/shardcast/shares"
)

// ErrTooLarge is wrapped by the error of ReadCommitments for a campaign
// of more shares than the caller accepts to load. It says nothing against
// the manifest.
var ErrTooLarge = errors.New("campaign too large to load")

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
	return m.checkCommitments(c)
}

// ReadCommitments is OpenCommitments for a commitments file read from r,
// of size bytes, for a campaign of at most maxShares shares. It never
// reads more than the manifest's N implies: a campaign of more than
// maxShares shares is refused with an error wrapping ErrTooLarge, and a
// file whose size is not 41 + 32·N with one wrapping ErrBadManifest,
// both before anything is read; then the file is read in one stream of
// exactly that size. Memory is 32·N bytes for the points, and 64·N more
// for Check's index.
func (m *Manifest) ReadCommitments(r io.Reader, size int64, maxShares int) (*shares.Commitments, error) {
	if m.Model != ModelShards {
		return nil, badManifest("model %s has no commitments", m.Model)
	}
	if m.Shards > maxShares {
		return nil, fmt.Errorf("commitments of %d shares, more than the %d loaded here: %w", m.Shards, maxShares, ErrTooLarge)
	}
	if want := shares.CommitmentsSize(m.Shards); size != want {
		return nil, badManifest("commitments file of %d bytes, want %d for %d shares", size, want, m.Shards)
	}
	er := &errReader{r: r}
	c, err := shares.ReadCommitments(er, m.Shards)
	if er.err != nil {
		// The source failed (a fetch timed out, say): nothing is known
		// against the manifest.
		return nil, fmt.Errorf("reading commitments: %w", er.err)
	}
	if err != nil {
		return nil, badManifest("commitments: %v", err)
	}
	return m.checkCommitments(c)
}

// errReader remembers the first error of r other than io.EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

func (m *Manifest) checkCommitments(c *shares.Commitments) (*shares.Commitments, error) {
	if x := c.X(); !bytes.Equal(x[:], m.SecretCommitment) {
		return nil, badManifest("commitments: X differs from the manifest's secret_commitment")
	}
	if err := c.Check(); err != nil {
		return nil, badManifest("commitments: %v", err)
	}
	return c, nil
}
