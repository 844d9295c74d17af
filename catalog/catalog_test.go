package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"

	"github.com/shardcast/shardcast/campaign"
)

func testManifest(t testing.TB, title string) (crypto.PrivKey, []byte) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := mh.Sum([]byte(title), mh.SHA2_256, -1)
	m := &campaign.Manifest{
		Model: campaign.ModelPay, Title: title, Content: cid.NewCidV1(cid.Raw, h), ContentSize: 10,
		MediaType: "video/webm", Created: time.Unix(1700000000, 0), Currency: "USD", Price: 250, Rails: []string{"test"},
	}
	if err := m.Sign(k); err != nil {
		t.Fatal(err)
	}
	raw, _, err := campaign.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return k, raw
}

func TestAddGetListReopen(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var seen []cid.Cid
	c.OnNew(func(e Entry) { seen = append(seen, e.ID) })
	k, raw := testManifest(t, "one")
	e, isNew, err := c.Add(raw)
	if err != nil || !isNew {
		t.Fatalf("Add: %v, new %v", err, isNew)
	}
	if _, isNew, _ := c.Add(raw); isNew {
		t.Fatal("second Add of the same manifest reported new")
	}
	if len(seen) != 1 || seen[0] != e.ID {
		t.Fatalf("OnNew saw %v, want [%s]", seen, e.ID)
	}
	// A tampered manifest is refused and not stored.
	bad := bytes.Clone(raw)
	bad[len(bad)/2] ^= 1
	if _, _, err := c.Add(bad); err == nil {
		t.Fatal("Add accepted a tampered manifest")
	}
	// State: newer replaces older, older is ignored.
	for _, tt := range []struct {
		seq  uint64
		kept bool
	}{{2, true}, {1, false}, {3, true}, {3, false}} {
		s := &campaign.State{Campaign: e.ID, Seq: tt.seq, Sold: int64(tt.seq), Raised: int64(tt.seq) * 250, Time: time.Unix(1700000100, 0)}
		if err := s.Sign(k); err != nil {
			t.Fatal(err)
		}
		sraw, err := campaign.EncodeState(s)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := c.AddState(e.ID, sraw)
		if err != nil || kept != tt.kept {
			t.Fatalf("AddState seq %d: kept %v, %v; want %v", tt.seq, kept, err, tt.kept)
		}
	}
	// A state signed by someone else is refused.
	other, _ := testManifest(t, "other")
	s := &campaign.State{Campaign: e.ID, Seq: 9, Time: time.Unix(1700000100, 0)}
	s.Sign(other)
	if sraw, err := campaign.EncodeState(s); err == nil {
		if _, err := c.AddState(e.ID, sraw); err == nil {
			t.Fatal("AddState accepted a state signed by another key")
		}
	}
	// Junk in the directory is ignored on reopen.
	os.WriteFile(filepath.Join(dir, "bafyjunk.manifest"), []byte("junk"), 0o600)
	c2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c2.Get(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State == nil || got.State.Seq != 3 {
		t.Fatalf("reopened state %+v, want seq 3", got.State)
	}
	if n := len(c2.List()); n != 1 {
		t.Fatalf("reopened catalog lists %d campaigns, want 1", n)
	}
}

func TestRecordsRoundTrip(t *testing.T) {
	_, raw := testManifest(t, "rt")
	id := campaign.ID(raw)
	gotID, gotRaw, err := splitState(stateMsg(id, raw)[1:])
	if err != nil || gotID != id || !bytes.Equal(gotRaw, raw) {
		t.Fatalf("splitState(stateMsg) = %s, %d bytes, %v", gotID, len(gotRaw), err)
	}
}

// FuzzAccept feeds arbitrary gossip messages to a catalog: nothing panics,
// and whatever is accepted verifies again after a reopen.
func FuzzAccept(f *testing.F) {
	k, raw := testManifest(f, "fuzz")
	creator, err := peer.IDFromPrivateKey(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(manifestMsg(raw))
	f.Add(stateMsg(campaign.ID(raw), []byte{0xa0}))
	f.Add([]byte{kindState, 40})
	f.Add([]byte{})
	f.Add(proofMsg(fakeProof(creator, campaign.ID(raw), "bad shares")))
	f.Add(proofMsg([]byte(fakeProofPrefix + "12D3KooW\nbafy\n")))
	f.Add([]byte{kindProof})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		c, err := Open(dir, WithProofVerifier(fakeVerify))
		if err != nil {
			t.Fatal(err)
		}
		g := &Gossip{c: c}
		if g.accept(context.Background(), "", data, true) != nil {
			return
		}
		c2, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(c2.List()) != len(c.List()) {
			t.Fatalf("accepted %d campaigns, %d survive a reopen", len(c.List()), len(c2.List()))
		}
		if got, want := c2.Proofs(), c.Proofs(); !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("accepted proofs %q, %q survive a reopen", want, got)
		}
	})
}
