package campaign

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/multiformats/go-multihash"
)

// testKey returns a fixed Ed25519 key: the seed is SHA-256 of
// "shardcast campaign test key " followed by name.
func testKey(t testing.TB, name string) crypto.PrivKey {
	t.Helper()
	seed := sha256.Sum256([]byte("shardcast campaign test key " + name))
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rawCID returns the CIDv1 (raw, sha2-256) of s.
func rawCID(s string) cid.Cid {
	mh, _ := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, mh)
}

var testCreated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testManifest returns a valid, unsigned manifest of the model; the test
// vectors are these manifests signed with testKey("creator").
func testManifest(model Model) *Manifest {
	m := &Manifest{
		Model:       model,
		Title:       "A Film",
		Description: "Ninety minutes of test pattern.\nWith sound.",
		Content:     rawCID("shardcast test content " + string(model)),
		ContentSize: 1_234_567,
		MediaType:   "video/webm",
		Created:     testCreated,
		Currency:    "USD",
		Rails:       []string{"test"},
	}
	switch model {
	case ModelOpen:
		m.Goal = 100_000
		m.Suggested = []int64{500, 1000, 2500}
	case ModelPay:
		m.Currency = "EUR"
		m.Price = 250
		m.Rails = []string{"test", "lightning"}
	case ModelShards:
		x := sha256.Sum256([]byte("shardcast test secret commitment"))
		m.Price = 250
		m.Schedule = []Tier{{Count: 100, Price: 150}}
		m.Goal = 100_000
		m.Shards = 440 // 100·150 + 340·250 = 100,000
		m.Commitments = rawCID("shardcast test commitments")
		m.SecretCommitment = x[:]
		m.Deadline = testCreated.Add(30 * 24 * time.Hour)
		m.Rails = []string{"test", "lightning"}
		m.AllOrNothing = true
		m.Shortfall = ShortfallRelease
	}
	return m
}

var testModels = []Model{ModelOpen, ModelPay, ModelShards}

// signed returns the encoding and ID of testManifest(model) signed with
// testKey("creator").
func signed(t testing.TB, model Model) (*Manifest, []byte, cid.Cid) {
	t.Helper()
	m := testManifest(model)
	if err := m.Sign(testKey(t, "creator")); err != nil {
		t.Fatal(err)
	}
	data, id, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, data, id
}

// testState returns a valid, unsigned state record of campaign id.
func testState(id cid.Cid) *State {
	return &State{
		Campaign: id,
		Seq:      7,
		Sold:     120,
		Raised:   20_000,
		Time:     testCreated.Add(time.Hour),
	}
}
