package pool

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/multiformats/go-multihash"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// fixture is a signed shards campaign of n shares with its split.
type fixture struct {
	id          cid.Cid
	m           *campaign.Manifest
	commitments []byte // the commitments file
	secret      [shares.ScalarSize]byte
	shares      []shares.Share
}

// newFixture splits a secret into n shares with randomness seeded by seed
// and signs a shards manifest for it.
func newFixture(t testing.TB, n int, seed uint64) *fixture {
	t.Helper()
	var key [32]byte
	binary.BigEndian.PutUint64(key[:], seed)
	secret, list, c, err := shares.Split(rand.NewChaCha8(key), n)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	x := c.X()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &campaign.Manifest{
		Model:            campaign.ModelShards,
		Title:            "A Film",
		Content:          rawCID([]byte("pool test content")),
		ContentSize:      1000,
		MediaType:        "video/webm",
		Created:          created,
		Currency:         "USD",
		Price:            100,
		Shards:           n,
		Commitments:      rawCID(raw),
		SecretCommitment: x[:],
		Deadline:         created.Add(30 * 24 * time.Hour),
		Rails:            []string{"test"},
		Shortfall:        campaign.ShortfallRelease,
	}
	ks := sha256.Sum256([]byte("pool test creator"))
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(ks[:]))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sign(k); err != nil {
		t.Fatal(err)
	}
	_, id, err := campaign.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{id: id, m: m, commitments: raw, secret: secret, shares: list}
}

// open returns fresh commitments, checked against the manifest, as a node
// loads them.
func (f *fixture) open(t testing.TB) *shares.Commitments {
	t.Helper()
	c, err := f.m.OpenCommitments(f.commitments)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// identity is the content identity the campaign unlocks.
func (f *fixture) identity(t testing.TB) string {
	t.Helper()
	id, err := seal.IdentityFromSeed(shares.ContentSeed(f.secret))
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

// bogus returns shares with the indices of list and wrong values: each
// value is that of the next share in the split.
func (f *fixture) bogus(list []shares.Share) []shares.Share {
	out := make([]shares.Share, len(list))
	for i, s := range list {
		out[i] = shares.Share{Index: s.Index, Value: f.shares[(int(s.Index)+1)%len(f.shares)].Value}
	}
	return out
}

func rawCID(data []byte) cid.Cid {
	h, _ := multihash.Sum(data, multihash.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, h)
}

// openPool opens a pool in dir and closes it when the test ends.
func openPool(t testing.TB, dir string) *Pool {
	t.Helper()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// waitFor waits until cond holds, failing the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for luck
	}
}
