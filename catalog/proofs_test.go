package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
)

// The fake verifier accepts proofs of the form fakeProof makes, answers
// "undecided" with a context error, and refuses everything else.
const (
	fakeProofPrefix = "test-proof\n"
	undecidedProof  = "undecided"
)

func fakeProof(creator peer.ID, id cid.Cid, reason string) []byte {
	return []byte(fakeProofPrefix + creator.String() + "\n" + id.String() + "\n" + reason)
}

func fakeVerify(_ context.Context, raw []byte) (peer.ID, cid.Cid, string, error) {
	if string(raw) == undecidedProof {
		return "", cid.Undef, "", fmt.Errorf("fetching commitments: %w", context.DeadlineExceeded)
	}
	rest, ok := strings.CutPrefix(string(raw), fakeProofPrefix)
	parts := strings.SplitN(rest, "\n", 3)
	if !ok || len(parts) != 3 {
		return "", cid.Undef, "", errors.New("not a proof")
	}
	p, err := peer.Decode(parts[0])
	if err != nil {
		return "", cid.Undef, "", err
	}
	id, err := cid.Decode(parts[1])
	if err != nil {
		return "", cid.Undef, "", err
	}
	return p, id, parts[2], nil
}

// countingVerifier is fakeVerify that counts its calls.
func countingVerifier(n *atomic.Int64) ProofVerifier {
	return func(ctx context.Context, raw []byte) (peer.ID, cid.Cid, string, error) {
		n.Add(1)
		return fakeVerify(ctx, raw)
	}
}

func creatorOf(t testing.TB, k crypto.PrivKey) peer.ID {
	t.Helper()
	p, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func signedState(t testing.TB, k crypto.PrivKey, id cid.Cid, seq uint64) []byte {
	t.Helper()
	s := &campaign.State{Campaign: id, Seq: seq, Sold: 1, Raised: 250, Time: time.Unix(1700000100, 0)}
	if err := s.Sign(k); err != nil {
		t.Fatal(err)
	}
	raw, err := campaign.EncodeState(s)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signWith signs a fresh manifest titled title with k.
func signWith(t testing.TB, k crypto.PrivKey, title string) []byte {
	t.Helper()
	_, raw := testManifest(t, title)
	m, err := campaign.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sign(k); err != nil {
		t.Fatal(err)
	}
	raw, _, err = campaign.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestProofs(t *testing.T) {
	dir := t.TempDir()
	var calls atomic.Int64
	c, err := Open(dir, WithProofVerifier(countingVerifier(&calls)))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(1700000000, 0)
	c.now = func() time.Time { return clock }
	type accused struct {
		creator peer.ID
		id      cid.Cid
		reason  string
	}
	var heard []accused
	c.OnProof(func(creator peer.ID, id cid.Cid, reason string) { heard = append(heard, accused{creator, id, reason}) })

	k1, old := testManifest(t, "accused")
	k2, fine := testManifest(t, "fine")
	c1, c2 := creatorOf(t, k1), creatorOf(t, k2)
	oldEntry, _, err := c.Add(old)
	if err != nil {
		t.Fatal(err)
	}
	fineEntry, _, err := c.Add(fine)
	if err != nil {
		t.Fatal(err)
	}
	const reason = "offer 7 sold shares [3] of the campaign that fail"
	accusation := fakeProof(c1, oldEntry.ID, reason)
	second := fakeProof(c1, oldEntry.ID, "another bad offer")

	for _, tt := range []struct {
		name      string
		raw       []byte
		wantAdded bool
		wantErr   bool
		wantCalls int64 // verifier calls this step makes
	}{
		{"empty", nil, false, true, 0},
		{"too large", make([]byte, MaxProofSize+1), false, true, 0},
		{"garbage", []byte("junk"), false, true, 1},
		{"garbage again is remembered", []byte("junk"), false, true, 0},
		{"undecided", []byte(undecidedProof), false, true, 1},
		{"undecided again is asked again", []byte(undecidedProof), false, true, 1},
		{"valid", accusation, true, false, 1},
		{"valid again", accusation, false, false, 0},
		{"another proof against the same creator", second, false, false, 1},
		{"that one again", second, false, false, 0},
		{"garbage, once its verdict is forgotten", []byte("junk"), false, true, 1},
	} {
		if strings.HasSuffix(tt.name, "forgotten") {
			clock = clock.Add(rememberFor)
		}
		before := calls.Load()
		added, err := c.AddProof(context.Background(), tt.raw)
		if added != tt.wantAdded || (err != nil) != tt.wantErr {
			t.Errorf("%s: AddProof = %v, %v; want added %v, error %v", tt.name, added, err, tt.wantAdded, tt.wantErr)
		}
		if got := calls.Load() - before; got != tt.wantCalls {
			t.Errorf("%s: got %d verifier calls, want %d", tt.name, got, tt.wantCalls)
		}
	}
	if want := []accused{{c1, oldEntry.ID, reason}}; !slices.Equal(heard, want) {
		t.Errorf("OnProof heard %v, want %v", heard, want)
	}

	newer := signWith(t, k1, "accused, again")
	check := func(name string, c *Catalog) {
		t.Helper()
		for _, tt := range []struct {
			creator    peer.ID
			wantReason string
			wantOK     bool
		}{{c1, reason, true}, {c2, "", false}} {
			if got, ok := c.Banned(tt.creator); got != tt.wantReason || ok != tt.wantOK {
				t.Errorf("%s: Banned(%s) = %q, %v; want %q, %v", name, tt.creator, got, ok, tt.wantReason, tt.wantOK)
			}
		}
		if got := c.Proofs(); len(got) != 1 || !bytes.Equal(got[0], accusation) {
			t.Errorf("%s: Proofs() = %q, want [%q]", name, got, accusation)
		}
		for _, raw := range [][]byte{old, newer} {
			if _, _, err := c.Add(raw); !errors.Is(err, ErrRejected) {
				t.Errorf("%s: Add of the accused creator's manifest: got %v, want %v", name, err, ErrRejected)
			}
		}
		if _, err := c.AddState(oldEntry.ID, signedState(t, k1, oldEntry.ID, 5)); !errors.Is(err, ErrRejected) {
			t.Errorf("%s: AddState of the accused creator: got %v, want %v", name, err, ErrRejected)
		}
		if _, err := c.AddState(fineEntry.ID, signedState(t, k2, fineEntry.ID, 1)); err != nil {
			t.Errorf("%s: AddState of another creator: %v", name, err)
		}
		want := map[cid.Cid]string{oldEntry.ID: reason, fineEntry.ID: ""}
		for id, r := range want {
			if e, err := c.Get(id); err != nil || e.Rejected != r {
				t.Errorf("%s: Get(%s).Rejected = %q, %v; want %q", name, id, e.Rejected, err, r)
			}
		}
		for _, e := range c.List() {
			if r, ok := want[e.ID]; ok && e.Rejected != r {
				t.Errorf("%s: List: %s Rejected %q, want %q", name, e.ID, e.Rejected, r)
			}
		}
	}
	check("open", c)
	if _, _, err := c.Add(signWith(t, k2, "fine, again")); err != nil {
		t.Errorf("Add of another creator's manifest: %v", err)
	}

	// Junk in the proofs directory is skipped; a valid file under a
	// name that is not its hash too.
	pdir := filepath.Join(dir, proofsDir)
	os.WriteFile(filepath.Join(pdir, strings.Repeat("ab", 32)), []byte("junk"), 0o600)
	misnamed := (&proof{creator: c2, campaign: fineEntry.ID, reason: "misnamed", raw: []byte("x")}).file()
	os.WriteFile(filepath.Join(pdir, strings.Repeat("cd", 32)), misnamed, 0o600)
	os.WriteFile(filepath.Join(pdir, "notes.txt"), []byte("hello"), 0o600)

	// The proofs on disk are trusted on reopen, without a verifier.
	c2nd, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	check("reopened", c2nd)
	if _, err := c2nd.AddProof(context.Background(), fakeProof(c2, fineEntry.ID, "x")); !errors.Is(err, errNoVerifier) {
		t.Errorf("AddProof without a verifier: got %v, want %v", err, errNoVerifier)
	}
}

// However many callers offer the same proof at once, the verifier sees it
// once and one caller stores it.
func TestAddProofOnce(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	verify := func(ctx context.Context, raw []byte) (peer.ID, cid.Cid, string, error) {
		calls.Add(1)
		<-release
		return fakeVerify(ctx, raw)
	}
	c, err := Open(t.TempDir(), WithProofVerifier(verify))
	if err != nil {
		t.Fatal(err)
	}
	k, raw := testManifest(t, "once")
	bad := fakeProof(creatorOf(t, k), campaign.ID(raw), "bad shares")
	const n = 8
	var wg sync.WaitGroup
	var added atomic.Int64
	for range n {
		wg.Go(func() {
			ok, err := c.AddProof(context.Background(), bad)
			if err != nil {
				t.Errorf("AddProof: %v", err)
			}
			if ok {
				added.Add(1)
			}
		})
	}
	close(release)
	wg.Wait()
	if calls.Load() != 1 || added.Load() != 1 {
		t.Fatalf("got %d verifier calls and %d stores, want 1 and 1", calls.Load(), added.Load())
	}
}

func TestCleanReason(t *testing.T) {
	long := strings.Repeat("é", maxReason)
	for _, tt := range []struct{ in, want string }{
		{"share 3 fails", "share 3 fails"},
		{"  two\nlines\t", "two lines"},
		{"", "a proof of misbehaviour accuses the creator"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{long, long[:maxReason]},
	} {
		if got := cleanReason(tt.in); got != tt.want {
			t.Errorf("cleanReason(%.20q) = %.20q (%d bytes), want %.20q (%d bytes)", tt.in, got, len(got), tt.want, len(tt.want))
		}
	}
}

// The topic's validator rejects what is false and ignores what is only
// unwelcome or undecided.
func TestValidate(t *testing.T) {
	c, err := Open(t.TempDir(), WithProofVerifier(fakeVerify))
	if err != nil {
		t.Fatal(err)
	}
	g := &Gossip{c: c, log: slog.New(slog.DiscardHandler)}
	k, raw := testManifest(t, "validate")
	tampered := bytes.Clone(raw)
	tampered[len(tampered)/2] ^= 1
	proof := fakeProof(creatorOf(t, k), campaign.ID(raw), "bad shares")
	busy := fakeProof(creatorOf(t, k), campaign.ID(raw), "found busy")

	noVerifier, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		g    *Gossip
		data []byte
		want pubsub.ValidationResult
	}{
		{"manifest", g, manifestMsg(raw), pubsub.ValidationAccept},
		{"tampered manifest", g, manifestMsg(tampered), pubsub.ValidationReject},
		{"empty", g, nil, pubsub.ValidationReject},
		{"unknown kind", g, []byte("Xhello"), pubsub.ValidationReject},
		{"state of an unknown campaign", g, stateMsg(campaign.ID(tampered), []byte{0xa0}), pubsub.ValidationReject},
		{"false proof", g, proofMsg([]byte("junk")), pubsub.ValidationReject},
		{"empty proof", g, []byte{kindProof}, pubsub.ValidationReject},
		{"oversized proof", g, proofMsg(make([]byte, MaxProofSize+1)), pubsub.ValidationReject},
		{"undecided proof", g, proofMsg([]byte(undecidedProof)), pubsub.ValidationIgnore},
		{"no verifier", &Gossip{c: noVerifier, log: g.log}, proofMsg(proof), pubsub.ValidationIgnore},
		{"proof", g, proofMsg(proof), pubsub.ValidationAccept},
		{"proof again", g, proofMsg(proof), pubsub.ValidationAccept},
		{"manifest of the accused creator", g, manifestMsg(raw), pubsub.ValidationIgnore},
		{"state of the accused creator", g, stateMsg(campaign.ID(raw), signedState(t, k, campaign.ID(raw), 1)), pubsub.ValidationIgnore},
		{"proof when every verifier is busy", g, proofMsg(busy), pubsub.ValidationIgnore},
	} {
		if tt.name == "proof when every verifier is busy" {
			for range maxVerifying {
				c.sem <- struct{}{}
			}
		}
		m := &pubsub.Message{Message: &pb.Message{Data: tt.data}}
		if got := tt.g.validate(context.Background(), "", m); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzProofFile: whatever decodes encodes back to the same bytes, and is
// named by its proof's hash.
func FuzzProofFile(f *testing.F) {
	k, raw := testManifest(f, "fuzz proof")
	p := &proof{creator: creatorOf(f, k), campaign: campaign.ID(raw), reason: "bad shares", raw: []byte("proof bytes")}
	good := p.file()
	if _, err := decodeProofFile(good); err != nil {
		f.Fatalf("decoding a stored proof: %v", err)
	}
	f.Add(good)
	f.Add(good[:len(good)-len(p.raw)])
	f.Add([]byte(proofFile))
	f.Add([]byte(proofFile + "\x80\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodeProofFile(b)
		if err != nil {
			return
		}
		if got := p.file(); !bytes.Equal(got, b) {
			t.Fatalf("file() = %x, want %x", got, b)
		}
		if h := sha256.Sum256(p.raw); h != p.hash {
			t.Fatalf("hash %s, want %s", hex.EncodeToString(p.hash[:]), hex.EncodeToString(h[:]))
		}
		if p.reason == "" || p.creator.Validate() != nil || !p.campaign.Defined() {
			t.Fatalf("decoded an incomplete proof: %+v", p)
		}
	})
}
