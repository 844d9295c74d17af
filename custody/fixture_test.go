package custody

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/shardcast/shardcast/shares"
)

// fixture is one campaign's custody, dealt for real.
type fixture struct {
	creator    crypto.PrivKey
	custodians []crypto.PrivKey
	secret     [shares.ScalarSize]byte
	parts      []shares.Part
	terms      *Terms
}

func newKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pubOf(t testing.TB, k crypto.PrivKey) ed25519.PublicKey {
	t.Helper()
	p, err := rawKey(k.GetPublic())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newFixture(t testing.TB, threshold, m int, deadline time.Time) *fixture {
	t.Helper()
	f := &fixture{creator: newKey(t)}
	secret, _, _, err := shares.Split(rand.Reader, 1)
	if err != nil {
		t.Fatal(err)
	}
	f.secret = secret
	x, err := shares.SecretCommitment(secret)
	if err != nil {
		t.Fatal(err)
	}
	parts, c, err := shares.Deal(rand.Reader, secret, threshold, m)
	if err != nil {
		t.Fatal(err)
	}
	f.parts = parts
	var keys []ed25519.PublicKey
	for range m {
		k := newKey(t)
		f.custodians = append(f.custodians, k)
		keys = append(keys, pubOf(t, k))
	}
	f.terms = &Terms{Campaign: []byte("campaign-1"), Creator: pubOf(t, f.creator), X: x,
		Deadline: time.Unix(deadline.Unix(), 0), Custodians: keys, Custody: c}
	return f
}

// deal makes custodian j's deal (1-based).
func (f *fixture) deal(t testing.TB, j int) *Deal {
	t.Helper()
	id, err := Identity(f.custodians[j-1])
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDeal(f.creator, f.terms, f.parts[j-1], id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// release makes custodian j's release of part at time at.
func (f *fixture) release(t testing.TB, j int, part shares.Part, at time.Time) *Release {
	t.Helper()
	h, err := f.terms.Hash()
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRelease(f.custodians[j-1], h, at, part)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
