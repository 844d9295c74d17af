package custody

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/p2ptest"
	"github.com/shardcast/shardcast/shares"
)

// custodian is a real custodian: a libp2p host on loopback serving the
// custody protocol with a store on disk.
type custodian struct {
	h     host.Host
	key   crypto.PrivKey
	store *Store
	dir   string
}

func startCustodian(t *testing.T, key crypto.PrivKey, dir string) *custodian {
	t.Helper()
	h := p2ptest.Host(t, libp2p.Identity(key))
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{Host: h, Store: s})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	return &custodian{h: h, key: key, store: s, dir: dir}
}

func connect(t *testing.T, a, b host.Host) {
	t.Helper()
	if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

// network starts a creator and m custodians, connected.
func newNetwork(t *testing.T, m int) (host.Host, []*custodian) {
	t.Helper()
	creator := p2ptest.Host(t)
	var cs []*custodian
	for range m {
		c := startCustodian(t, newKey(t), t.TempDir())
		connect(t, creator, c.h)
		cs = append(cs, c)
	}
	return creator, cs
}

func ids(cs []*custodian) []peer.ID {
	var out []peer.ID
	for _, c := range cs {
		out = append(out, c.h.ID())
	}
	return out
}

func newSecret(t *testing.T) [shares.ScalarSize]byte {
	t.Helper()
	s, _, _, err := shares.Split(rand.Reader, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Honest dealing: every custodian accepts, keeps its part, and at the
// deadline any T of their releases unlock.
func TestDealToHonest(t *testing.T) {
	creator, cs := newNetwork(t, 3)
	secret := newSecret(t)
	dl := time.Now().Add(time.Hour).Truncate(time.Second)
	dealt, err := DealTo(ctxFor(t, time.Minute), creator, ids(cs), secret, 2, DealOptions{Campaign: []byte("c1"), Deadline: dl})
	if err != nil {
		t.Fatal(err)
	}
	if len(dealt.Accepted()) != 3 {
		t.Fatalf("%d acceptances, want 3", len(dealt.Accepted()))
	}
	h, _ := dealt.Terms.Hash()
	var releases []*Release
	for j, c := range cs {
		a := dealt.Acceptances[j]
		b, _ := a.MarshalBinary()
		var back Acceptance
		if err := back.UnmarshalBinary(b); err != nil || back.Check(dealt.Terms) != nil || int(back.Index) != j+1 {
			t.Fatalf("acceptance %d does not verify: %v", j+1, err)
		}
		due, err := c.store.Due(dl)
		if err != nil || len(due) != 1 || due[0].TermsHash() != h {
			t.Fatalf("custodian %d: Due = %d records, %v", j+1, len(due), err)
		}
		r, err := NewRelease(c.key, h, dl, due[0].Part)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	x, proofs, err := Unlock(dealt.Terms, releases[1:], dl)
	if err != nil || x != secret || len(proofs) != 0 {
		t.Fatalf("Unlock by custodians 2 and 3: %v, %d proofs, secret ok: %v", err, len(proofs), x == secret)
	}
}

// A creator that deals a part off the polynomial is refused, and the
// custodian keeps nothing.
func TestDealWrongPartRefused(t *testing.T) {
	creator, cs := newNetwork(t, 1)
	f := newFixture(t, 1, 1, time.Now().Add(time.Hour))
	key := creator.Peerstore().PrivKey(creator.ID())
	f.terms.Creator = pubOf(t, key)
	f.terms.Custodians[0] = pubOf(t, cs[0].key)
	wrong := f.parts[0]
	wrong.Value[0] ^= 1
	_, err := dealOne(ctxFor(t, time.Minute), creator, key, f.terms, wrong, cs[0].h.ID())
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "does not match the custody commitments") {
		t.Fatalf("err = %v, want a refusal naming the bad part", err)
	}
	if all, _ := cs[0].store.List(); len(all) != 0 {
		t.Errorf("the custodian stored %d records", len(all))
	}
}

// rawDeal speaks the protocol by hand: hello, then the deal bytes given.
func rawDeal(t *testing.T, from host.Host, to peer.ID, mutate func(d []byte, rcpt string) []byte) (byte, string) {
	t.Helper()
	st, err := from.NewStream(ctxFor(t, time.Minute), to, ProtocolID)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	br := bufio.NewReader(st)
	if err := writeFrame(st, msgHello, nil); err != nil {
		t.Fatal(err)
	}
	typ, rcpt, err := readFrame(br, 1024)
	if err != nil || typ != msgRecipient {
		t.Fatalf("hello answered %d, %v", typ, err)
	}
	if err := writeFrame(st, msgDeal, mutate(nil, string(rcpt))); err != nil {
		t.Fatal(err)
	}
	typ, body, err := readFrame(br, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return typ, string(body)
}

func TestDealRefusals(t *testing.T) {
	creator, cs := newNetwork(t, 1)
	key := creator.Peerstore().PrivKey(creator.ID())
	mk := func(custodian crypto.PrivKey, deadline time.Time) *fixture {
		f := newFixture(t, 1, 1, deadline)
		f.creator = key
		f.terms.Creator = pubOf(t, key)
		f.terms.Custodians[0] = pubOf(t, custodian)
		return f
	}
	sealTo := func(f *fixture, rcpt string) []byte {
		r, err := ageRecipient(rcpt)
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDeal(f.creator, f.terms, f.parts[0], r)
		if err != nil {
			t.Fatal(err)
		}
		return must(d.MarshalBinary())
	}
	future := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name string
		deal func(rcpt string) []byte
		want string
	}{
		{"a forged creator signature", func(rcpt string) []byte {
			b := sealTo(mk(cs[0].key, future), rcpt)
			b[len(b)-3] ^= 1
			return b
		}, "signature"},
		{"a deal for another custodian", func(rcpt string) []byte { return sealTo(mk(newKey(t), future), rcpt) }, "another custodian"},
		{"a deadline in the past", func(rcpt string) []byte { return sealTo(mk(cs[0].key, time.Now().Add(-time.Minute)), rcpt) }, "passed"},
		{"garbage", func(string) []byte { return []byte("SCCL\x01garbage") }, "decoding"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			typ, body := rawDeal(t, creator, cs[0].h.ID(), func(_ []byte, rcpt string) []byte { return tt.deal(rcpt) })
			if typ != msgRefused || !strings.Contains(body, tt.want) {
				t.Fatalf("answer %d %q, want a refusal saying %q", typ, body, tt.want)
			}
		})
	}
	if all, _ := cs[0].store.List(); len(all) != 0 {
		t.Errorf("the custodian stored %d records", len(all))
	}
}

// A custodian that never answers: the dealing fails with one line naming
// it when all must accept, and succeeds without it when fewer suffice.
func TestDealToSilentCustodian(t *testing.T) {
	creator, cs := newNetwork(t, 2)
	silent := p2ptest.Host(t)
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	silent.SetStreamHandler(ProtocolID, func(st network.Stream) {
		<-hold
		st.Reset()
	})
	connect(t, creator, silent)
	peers := append(ids(cs), silent.ID())
	dl := time.Now().Add(time.Hour)

	_, err := DealTo(ctxFor(t, 2*time.Second), creator, peers, newSecret(t), 2, DealOptions{Campaign: []byte("c"), Deadline: dl})
	if err == nil || !strings.Contains(err.Error(), "2 of 3 custodians accepted, 3 needed") || !strings.Contains(err.Error(), silent.ID().String()) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line naming the silent custodian", err)
	}
	dealt, err := DealTo(ctxFor(t, 2*time.Second), creator, peers, newSecret(t), 2, DealOptions{Campaign: []byte("c"), Deadline: dl, Need: 2})
	if err != nil || len(dealt.Accepted()) != 2 || dealt.Acceptances[2] != nil {
		t.Fatalf("with 2 needed: %v", err)
	}
}

// A custodian restarted (same key, same store) keeps its deal, accepts
// the same deal again, and lists it as due after the deadline.
func TestCustodianRestart(t *testing.T) {
	creator := p2ptest.Host(t)
	key := newKey(t)
	dir := filepath.Join(t.TempDir(), "custody")
	c := startCustodian(t, key, dir)
	connect(t, creator, c.h)
	dl := time.Now().Add(time.Hour).Truncate(time.Second)
	secret := newSecret(t)
	dealt, err := DealTo(ctxFor(t, time.Minute), creator, []peer.ID{c.h.ID()}, secret, 1, DealOptions{Campaign: []byte("c"), Deadline: dl})
	if err != nil {
		t.Fatal(err)
	}
	c.h.Close()

	c = startCustodian(t, key, dir)
	connect(t, creator, c.h)
	due, err := c.store.Due(dl.Add(time.Minute))
	if err != nil || len(due) != 1 {
		t.Fatalf("after the restart: Due = %d records, %v", len(due), err)
	}
	h, _ := dealt.Terms.Hash()
	if due[0].TermsHash() != h || due[0].Deal.Hash() != dealt.Acceptances[0].DealHash {
		t.Fatal("the restarted custodian holds another deal")
	}
	r, _ := NewRelease(key, h, dl, due[0].Part)
	if x, _, err := Unlock(dealt.Terms, []*Release{r}, dl); err != nil || x != secret {
		t.Fatalf("the restarted custodian's part does not unlock: %v", err)
	}
}

// A creator may keep only so many unreleased deals with one custodian;
// the same deal again is still answered.
func TestDealsPerCreator(t *testing.T) {
	creator := p2ptest.Host(t)
	h := p2ptest.Host(t)
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{Host: h, Store: s, MaxPerCreator: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	connect(t, creator, h)
	key := creator.Peerstore().PrivKey(creator.ID())
	f := newFixture(t, 1, 1, time.Now().Add(time.Hour))
	f.terms.Creator = pubOf(t, key)
	f.terms.Custodians[0] = pubOf(t, h.Peerstore().PrivKey(h.ID()))
	for i := range 2 {
		if _, err := dealOne(ctxFor(t, time.Minute), creator, key, f.terms, f.parts[0], h.ID()); err != nil {
			t.Fatalf("deal %d of the first campaign: %v", i+1, err)
		}
	}
	_, err = DealTo(ctxFor(t, time.Minute), creator, []peer.ID{h.ID()}, newSecret(t), 1, DealOptions{Campaign: []byte("c2"), Deadline: time.Now().Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "holds 1 deals of this creator") {
		t.Fatalf("a second campaign: %v", err)
	}
}

// A custodian's policy may refuse a deal that is otherwise good; its
// reason reaches the creator.
func TestDealPolicy(t *testing.T) {
	creator := p2ptest.Host(t)
	h := p2ptest.Host(t)
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{Host: h, Store: s, Policy: func(from peer.ID, tm *Terms) error {
		if from == creator.ID() {
			return errors.New("this creator is proven to cheat")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	connect(t, creator, h)
	_, err = DealTo(ctxFor(t, time.Minute), creator, []peer.ID{h.ID()}, newSecret(t), 1, DealOptions{Campaign: []byte("c"), Deadline: time.Now().Add(time.Hour)})
	if err == nil || !strings.Contains(err.Error(), "refused: this creator is proven to cheat") {
		t.Fatalf("err = %v", err)
	}
}
