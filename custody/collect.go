package custody

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shardcast/shardcast/shares"
)

// MaxClockSkew is how far after a node's own clock a release may be dated
// and still count. A later date is ignored, not proven: the node cannot
// show anyone else what its clock said.
const MaxClockSkew = 5 * time.Minute

// ErrIgnored is wrapped by the error of a release that Collector.Add
// neither keeps nor holds against its custodian: for other terms, not by
// a custodian, a repeat, or dated in the future.
var ErrIgnored = errors.New("release ignored")

// A Collector gathers the releases of one campaign's custody, as any node
// sees them on the campaign's topic, and rebuilds the secret once T valid
// parts are in. It is not safe for concurrent use.
type Collector struct {
	terms  *Terms
	hash   Hash
	parts  map[uint8]shares.Part // valid parts, by index
	proven map[uint8]bool        // custodians with a proof against them
}

// NewCollector returns a Collector for terms t.
func NewCollector(t *Terms) (*Collector, error) {
	h, err := t.Hash()
	if err != nil {
		return nil, err
	}
	return &Collector{terms: t, hash: h, parts: map[uint8]shares.Part{}, proven: map[uint8]bool{}}, nil
}

// Add checks release r at time now (the node's clock). It returns nil if
// it kept the part; a Proof and an error wrapping ErrMisbehaviour if the
// release is early (dated before the deadline) or false (not the
// custodian's own index, or failing VerifyPart), one proof per
// custodian; otherwise an error wrapping ErrIgnored. r's signature was
// checked when it was made or decoded.
func (c *Collector) Add(r *Release, now time.Time) (*Proof, error) {
	if r.TermsHash != c.hash {
		return nil, fmt.Errorf("%w: for other terms", ErrIgnored)
	}
	idx := c.terms.Index(r.Custodian)
	if idx == 0 {
		return nil, fmt.Errorf("%w: %w", ErrIgnored, errNotCustodian)
	}
	j := uint8(idx)
	if why := misbehaviour(c.terms, r); why != nil {
		if c.proven[j] {
			return nil, fmt.Errorf("%w: custodian %d is already proven to misbehave", ErrIgnored, j)
		}
		c.proven[j] = true
		delete(c.parts, j)
		return &Proof{Terms: c.terms, Release: r}, why
	}
	if r.At.After(now.Add(MaxClockSkew)) {
		return nil, fmt.Errorf("%w: part %d dated %v, in the future", ErrIgnored, j, r.At.UTC())
	}
	if c.proven[j] {
		return nil, fmt.Errorf("%w: custodian %d is proven to misbehave", ErrIgnored, j)
	}
	if _, ok := c.parts[j]; ok {
		return nil, fmt.Errorf("%w: part %d again", ErrIgnored, j)
	}
	c.parts[j] = r.Part
	return nil, nil
}

// Valid returns how many valid parts the collector holds.
func (c *Collector) Valid() int { return len(c.parts) }

// Ready reports whether the collector holds T valid parts.
func (c *Collector) Ready() bool { return len(c.parts) >= c.terms.T() }

// Unlock combines T valid parts into the secret, which it returns only
// when it checks against X; with fewer than T parts it returns an error
// wrapping shares.ErrTooFewParts.
func (c *Collector) Unlock() ([shares.ScalarSize]byte, error) {
	idx := make([]uint8, 0, len(c.parts))
	for j := range c.parts {
		idx = append(idx, j)
	}
	slices.Sort(idx)
	if len(idx) < c.terms.T() {
		return [shares.ScalarSize]byte{}, fmt.Errorf("custody: %d of %d parts released: %w", len(idx), c.terms.T(), shares.ErrTooFewParts)
	}
	parts := make([]shares.Part, 0, c.terms.T())
	for _, j := range idx[:c.terms.T()] {
		parts = append(parts, c.parts[j])
	}
	x, err := shares.CombineParts(c.terms.Custody, c.terms.X, parts)
	if err != nil {
		return x, fmt.Errorf("custody: combining %d parts: %w", len(parts), err)
	}
	return x, nil
}

// Unlock checks every release at time now and combines T valid ones. It
// returns the secret (when it could), the proofs against the custodians
// that misbehaved, and an error when there is no secret.
func Unlock(t *Terms, releases []*Release, now time.Time) ([shares.ScalarSize]byte, []*Proof, error) {
	c, err := NewCollector(t)
	if err != nil {
		return [shares.ScalarSize]byte{}, nil, err
	}
	var proofs []*Proof
	for _, r := range releases {
		if p, _ := c.Add(r, now); p != nil {
			proofs = append(proofs, p)
		}
	}
	x, err := c.Unlock()
	return x, proofs, err
}
