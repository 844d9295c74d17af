package market

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/shares"
)

// lockCampaign is a campaign of model shards with its shares, from which
// tests build locked offers and proofs.
type lockCampaign struct {
	key    crypto.PrivKey
	m      *campaign.Manifest
	raw    []byte // the encoded manifest
	id     cid.Cid
	shares []shares.Share
	comm   *shares.Commitments
}

// newLockCampaign returns a campaign of n shares by the test creator; seed
// picks its shares.
func newLockCampaign(t testing.TB, n int, seed byte) *lockCampaign {
	t.Helper()
	_, sh, comm, err := shares.Split(rand.NewChaCha8([32]byte{0x10, seed}), n)
	if err != nil {
		t.Fatal(err)
	}
	c := &lockCampaign{key: testKey(t, "creator"), shares: sh, comm: comm}
	c.m, c.id = testManifest(t, c.key, campaign.ModelShards, comm)
	if c.raw, _, err = campaign.Encode(c.m); err != nil {
		t.Fatal(err)
	}
	return c
}

// testLockKey returns a fixed key k: SHA-256 of "shardcast market test
// lock " followed by name.
func testLockKey(name string) []byte {
	h := sha256.Sum256([]byte("shardcast market test lock " + name))
	return h[:]
}

// plain returns the encodings of the shares at indices, as a creator
// seals them.
func (c *lockCampaign) plain(t testing.TB, indices []uint32) []byte {
	t.Helper()
	var b []byte
	for _, i := range indices {
		var err error
		if b, err = c.shares[i].AppendBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

var lockIndices = []uint32{1, 2, 4}

// offer returns an offer of the shares at lockIndices locked under k,
// whose sealed plaintext is plain, signed by key.
func (c *lockCampaign) offer(t testing.TB, id byte, k, plain []byte, key crypto.PrivKey) *Offer {
	t.Helper()
	price, err := c.m.PriceOfShares(lockIndices)
	if err != nil {
		t.Fatal(err)
	}
	o := &Offer{ID: OfferID{0x10, id}, Campaign: c.id, Kind: KindBuy, Buyer: testPeer(t),
		Recipient: testIdentity(t, "buyer").Recipient().String(), Indices: lockIndices,
		Price: pay.Amount{Minor: price, Currency: "USD"}, Rail: "lightning", Request: "lnbcrt1test", Expires: testTime,
		Lock: sha256Of(k)}
	if o.Sealed, err = sealShares(k, o.ID, plain); err != nil {
		t.Fatal(err)
	}
	if err := o.sign(key); err != nil {
		t.Fatal(err)
	}
	return o
}

// goodOffer returns an honest locked offer and its key.
func (c *lockCampaign) goodOffer(t testing.TB) (*Offer, []byte) {
	k := testLockKey("good")
	return c.offer(t, 1, k, c.plain(t, lockIndices), c.key), k
}

// badOffer returns a locked offer whose second share's value is altered,
// and its key.
func (c *lockCampaign) badOffer(t testing.TB) (*Offer, []byte) {
	k := testLockKey("bad")
	plain := c.plain(t, lockIndices)
	plain[shares.ShareSize+4] ^= 1 // the low byte of the value: still a canonical scalar
	return c.offer(t, 2, k, plain, c.key), k
}

func TestSealOpen(t *testing.T) {
	k, id := testLockKey("seal"), OfferID{1}
	plain := []byte("the shares of offer 1")
	sealed, err := sealShares(k, id, plain)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(sealed), len(plain)+sealOverhead; got != want {
		t.Errorf("sealed length: got %d, want %d", got, want)
	}
	if got, err := openSealed(k, id, sealed); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("open: got %q, %v, want %q", got, err, plain)
	}
	flipped := bytes.Clone(sealed)
	flipped[3] ^= 1
	tests := []struct {
		name   string
		k      []byte
		id     OfferID
		sealed []byte
	}{
		{"wrong key", testLockKey("other"), id, sealed},
		{"wrong offer ID", k, OfferID{2}, sealed},
		{"altered", k, id, flipped},
		{"truncated", k, id, sealed[:len(sealed)-1]},
		{"short key", k[:31], id, sealed},
		{"empty", k, id, nil},
	}
	for _, tt := range tests {
		if got, err := openSealed(tt.k, tt.id, tt.sealed); err == nil {
			t.Errorf("%s: got %q, want an error", tt.name, got)
		}
	}
}

func TestLockedOfferRoundTrip(t *testing.T) {
	c := newLockCampaign(t, 6, 1)
	o, k := c.goodOffer(t)
	body := o.Marshal()
	if body[0] != typeLockedOffer {
		t.Fatalf("type byte: got %d, want %d", body[0], typeLockedOffer)
	}
	got, err := DecodeOffer(body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Lock, o.Lock) || !bytes.Equal(got.Sealed, o.Sealed) || !bytes.Equal(got.Marshal(), body) {
		t.Errorf("decoded %+v, want %+v", got, o)
	}
	if err := got.Verify(c.m); err != nil {
		t.Fatal(err)
	}
	sh, err := openLocked(got, k, c.comm)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sh {
		if s != c.shares[lockIndices[i]] {
			t.Errorf("share %d: got %v, want %v", i, s, c.shares[lockIndices[i]])
		}
	}
	m, err := decodeAny(body)
	if err != nil || !bytes.Equal(m.encode(), body) {
		t.Errorf("decodeAny: got %v, %v", m, err)
	}

	// The signature covers every byte, the lock and the sealed shares
	// included: any change fails to decode or to verify.
	for i := range body {
		b := bytes.Clone(body)
		b[i] ^= 0x04
		if d, err := DecodeOffer(b); err == nil && d.Verify(c.m) == nil {
			t.Errorf("byte %d flipped: the offer still verifies", i)
		}
	}
	for i := range o.Lock {
		d := *o
		d.Lock = bytes.Clone(o.Lock)
		d.Lock[i] ^= 1
		if err := d.Verify(c.m); !errors.Is(err, ErrBadOffer) {
			t.Errorf("lock byte %d flipped: got %v, want ErrBadOffer", i, err)
		}
	}
	for i := range o.Sealed {
		d := *o
		d.Sealed = bytes.Clone(o.Sealed)
		d.Sealed[i] ^= 1
		if err := d.Verify(c.m); !errors.Is(err, ErrBadOffer) {
			t.Errorf("sealed byte %d flipped: got %v, want ErrBadOffer", i, err)
		}
	}
	// Without its lock, the same signature does not make an unlocked offer.
	d := *o
	d.Lock, d.Sealed = nil, nil
	if err := d.Verify(c.m); !errors.Is(err, ErrBadOffer) {
		t.Errorf("lock removed: got %v, want ErrBadOffer", err)
	}
}

func TestDecodeLockedOfferRejects(t *testing.T) {
	c := newLockCampaign(t, 6, 1)
	good, _ := c.goodOffer(t)
	unlocked := testMessages(t)[2].(offerMsg).Offer.Marshal()
	with := func(f func(o *Offer)) []byte {
		o := *good
		f(&o)
		return o.Marshal()
	}
	maxSealed := MaxSharesPerOffer*shares.ShareSize + sealOverhead
	tests := []struct {
		name string
		body []byte
	}{
		{"locked donation", with(func(o *Offer) { o.Kind, o.Indices, o.Recipient = KindDonate, nil, "" })},
		{"locked donation with a recipient", with(func(o *Offer) { o.Kind, o.Indices = KindDonate, nil })},
		{"locked offer without indices", with(func(o *Offer) { o.Indices = nil })},
		{"sealed empty", with(func(o *Offer) { o.Sealed = []byte{} })},
		{"sealed too short", with(func(o *Offer) { o.Sealed = make([]byte, sealOverhead) })},
		{"sealed too long", with(func(o *Offer) { o.Sealed = make([]byte, maxSealed+1) })},
		{"truncated in the lock", good.Marshal()[:len(good.Marshal())-len(good.Sealed)-sigSize-3]},
		{"truncated signature", good.Marshal()[:len(good.Marshal())-1]},
		{"trailing byte", append(good.Marshal(), 0)},
		{"unlocked offer typed locked", append([]byte{typeLockedOffer}, unlocked[1:]...)},
		{"locked offer typed unlocked", append([]byte{typeOffer}, good.Marshal()[1:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if o, err := DecodeOffer(tt.body); !errors.Is(err, errWire) {
				t.Errorf("got %+v, %v, want an error wrapping errWire", o, err)
			}
		})
	}
	for _, n := range []int{sealOverhead + 1, maxSealed} {
		if _, err := DecodeOffer(with(func(o *Offer) { o.Sealed = make([]byte, n) })); err != nil {
			t.Errorf("sealed of %d bytes: got %v, want it accepted", n, err)
		}
	}
}

func TestPledged(t *testing.T) {
	c := newLockCampaign(t, 6, 1)
	p := &pledged{ID: OfferID{7, 7}, Until: testTime}
	if err := p.sign(c.key); err != nil {
		t.Fatal(err)
	}
	body := p.encode()
	got, err := decodePledged(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != p.ID || !got.Until.Equal(p.Until) || !bytes.Equal(got.encode(), body) {
		t.Errorf("got %+v, want %+v", got, p)
	}
	if err := got.verify(c.m); err != nil {
		t.Error(err)
	}
	if m, err := decodeAny(body); err != nil || !bytes.Equal(m.encode(), body) {
		t.Errorf("decodeAny: got %v, %v", m, err)
	}
	other, _ := testManifest(t, testKey(t, "other"), campaign.ModelShards, c.comm)
	if err := got.verify(other); !errors.Is(err, ErrBadOffer) {
		t.Errorf("verified against another creator: got %v, want ErrBadOffer", err)
	}
	later := *got
	later.Until = later.Until.Add(1)
	if err := later.verify(c.m); !errors.Is(err, ErrBadOffer) {
		t.Errorf("until changed: got %v, want ErrBadOffer", err)
	}
	// A signature over the same bytes in the offers' context is no pledge.
	ctx := *got
	if ctx.Sig, err = sign(c.key, offerContext, got.unsigned()); err != nil {
		t.Fatal(err)
	}
	if err := ctx.verify(c.m); !errors.Is(err, ErrBadOffer) {
		t.Errorf("signed as an offer: got %v, want ErrBadOffer", err)
	}

	// Type, ID (16 bytes), then Until as a uvarint of 9 bytes.
	untilAt := 1 + len(p.ID)
	tests := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"type of an offer", append([]byte{typeOffer}, body[1:]...)},
		{"truncated", body[:len(body)-1]},
		{"trailing byte", append(bytes.Clone(body), 0)},
		{"until zero", append(append(bytes.Clone(body[:untilAt]), 0), body[untilAt+9:]...)},
		{"until not minimal", append(append(bytes.Clone(body[:untilAt]), 0x81, 0x00), body[untilAt+9:]...)},
		{"no signature", body[:untilAt+9]},
	}
	for _, tt := range tests {
		if got, err := decodePledged(tt.body); !errors.Is(err, errWire) {
			t.Errorf("%s: got %+v, %v, want an error wrapping errWire", tt.name, got, err)
		}
	}
}

func TestProof(t *testing.T) {
	c := newLockCampaign(t, 6, 1)
	good, goodKey := c.goodOffer(t)
	bad, badKey := c.badOffer(t)
	plain := c.plain(t, lockIndices)
	swapped := append(append(bytes.Clone(plain[shares.ShareSize:2*shares.ShareSize]), plain[:shares.ShareSize]...), plain[2*shares.ShareSize:]...)
	garbage := bytes.Repeat([]byte{0xa5}, len(good.Sealed))
	sealedGarbage := func() *Offer {
		o := *good
		o.ID, o.Sealed = OfferID{0x10, 3}, garbage
		if err := o.sign(c.key); err != nil {
			t.Fatal(err)
		}
		return &o
	}()
	unlocked := func() *Offer {
		o := *bad
		o.Lock, o.Sealed = nil, nil
		if err := o.sign(c.key); err != nil {
			t.Fatal(err)
		}
		return &o
	}()
	tampered := *good
	tampered.Sealed = bad.Sealed
	other := newLockCampaign(t, 6, 2)
	payM, payID := testManifest(t, c.key, campaign.ModelPay, nil)
	payRaw, _, err := campaign.Encode(payM)
	if err != nil {
		t.Fatal(err)
	}
	forPay := *bad
	forPay.Campaign = payID
	if err := forPay.sign(c.key); err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(c.raw)
	corrupt[len(corrupt)/2] ^= 1
	_, _, fewer, err := shares.Split(rand.NewChaCha8([32]byte{3}), 5)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		proof   *Proof
		comm    *shares.Commitments
		checkOK bool   // Check accepts it
		reason  string // in Verify's reason; "" if it is no proof
	}{
		{"good shares", &Proof{c.raw, good, goodKey}, c.comm, true, ""},
		{"share value altered", &Proof{c.raw, bad, badKey}, c.comm, true, "share 2 does not match its commitment"},
		{"shares out of order", &Proof{c.raw, c.offer(t, 4, goodKey, swapped, c.key), goodKey}, c.comm, true, "delivered in place of"},
		{"a share short", &Proof{c.raw, c.offer(t, 5, goodKey, plain[:2*shares.ShareSize], c.key), goodKey}, c.comm, true, "bytes of shares"},
		{"a share too many", &Proof{c.raw, c.offer(t, 6, goodKey, append(bytes.Clone(plain), plain[:shares.ShareSize]...), c.key), goodKey}, c.comm, true, "bytes of shares"},
		{"sealed garbage", &Proof{c.raw, sealedGarbage, goodKey}, c.comm, true, "do not open"},
		{"key not matching the lock", &Proof{c.raw, bad, goodKey}, c.comm, false, ""},
		{"short key", &Proof{c.raw, bad, badKey[:31]}, c.comm, false, ""},
		{"signed by another key", &Proof{c.raw, c.offer(t, 7, badKey, c.plain(t, []uint32{0, 0, 0}), testKey(t, "mallory")), badKey}, c.comm, false, ""},
		{"sealed changed after signing", &Proof{c.raw, &tampered, goodKey}, c.comm, false, ""},
		{"manifest of another campaign", &Proof{other.raw, bad, badKey}, other.comm, false, ""},
		{"offer not locked", &Proof{c.raw, unlocked, badKey}, c.comm, false, ""},
		{"campaign of model pay", &Proof{payRaw, &forPay, badKey}, c.comm, false, ""},
		{"corrupt manifest", &Proof{corrupt, bad, badKey}, c.comm, false, ""},
		{"no manifest", &Proof{nil, bad, badKey}, c.comm, false, ""},
		{"no commitments", &Proof{c.raw, bad, badKey}, nil, true, ""},
		{"commitments of another size", &Proof{c.raw, bad, badKey}, fewer, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(p *Proof) {
				t.Helper()
				m, err := p.Check()
				if got := err == nil; got != tt.checkOK {
					t.Errorf("Check: got %v, want ok %v", err, tt.checkOK)
				}
				if err != nil && !errors.Is(err, ErrNotProof) {
					t.Errorf("Check: got %v, want an error wrapping ErrNotProof", err)
				}
				creator, cerr := p.Creator()
				if (cerr == nil) != tt.checkOK || (cerr == nil && (creator != c.m.Creator || m.Creator != creator)) {
					t.Errorf("Creator: got %v, %v, want %v (ok %v)", creator, cerr, c.m.Creator, tt.checkOK)
				}
				reason, err := p.Verify(tt.comm)
				switch {
				case tt.reason == "" && (reason != "" || !errors.Is(err, ErrNotProof)):
					t.Errorf("Verify: got %q, %v, want an error wrapping ErrNotProof", reason, err)
				case tt.reason != "" && (err != nil || !strings.Contains(reason, tt.reason) ||
					!strings.Contains(reason, p.Offer.ID.String()) || !strings.Contains(reason, c.id.String())):
					t.Errorf("Verify: got %q, %v, want a reason naming the offer, the campaign and %q", reason, err, tt.reason)
				}
				if !p.Campaign().Equals(p.Offer.Campaign) {
					t.Errorf("Campaign: got %v, want %v", p.Campaign(), p.Offer.Campaign)
				}
			}
			check(tt.proof)
			b := tt.proof.Marshal()
			d, err := DecodeProof(b)
			switch {
			case err != nil && len(tt.proof.Manifest) > 0 && len(tt.proof.Key) == keySize:
				t.Fatalf("DecodeProof: %v", err)
			case err != nil:
				if !errors.Is(err, ErrNotProof) {
					t.Errorf("DecodeProof: got %v, want an error wrapping ErrNotProof", err)
				}
				return
			}
			if again := d.Marshal(); !bytes.Equal(again, b) {
				t.Errorf("re-encodes differently:\ngot  %x\nwant %x", again, b)
			}
			check(d)
		})
	}
}

func TestDecodeProofRejects(t *testing.T) {
	c := newLockCampaign(t, 6, 1)
	bad, k := c.badOffer(t)
	b := (&Proof{c.raw, bad, k}).Marshal()
	if _, err := DecodeProof(b); err != nil {
		t.Fatal(err)
	}
	withOffer := func(ob []byte) []byte {
		e := &encoder{b: []byte(proofMagic)}
		e.bytes(c.raw)
		e.bytes(ob)
		e.raw(k)
		return e.b
	}
	long := &encoder{b: []byte(proofMagic)}
	long.bytes(make([]byte, campaign.MaxManifestSize+1))
	long.bytes(bad.Marshal())
	long.raw(k)
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"magic alone", []byte(proofMagic)},
		{"wrong magic", append([]byte("SCMQ"), b[4:]...)},
		{"wrong version", append([]byte("SCMP\x02"), b[len(proofMagic):]...)},
		{"truncated key", b[:len(b)-1]},
		{"trailing byte", append(bytes.Clone(b), 0)},
		{"empty manifest", append([]byte(proofMagic), 0)},
		{"manifest too long", long.b},
		{"empty offer", withOffer(nil)},
		{"offer with a trailing byte", withOffer(append(bad.Marshal(), 0))},
		{"offer of another message", withOffer((&redeliver{ID: bad.ID}).encode())},
	}
	for _, tt := range tests {
		if p, err := DecodeProof(tt.b); !errors.Is(err, ErrNotProof) {
			t.Errorf("%s: got %+v, %v, want an error wrapping ErrNotProof", tt.name, p, err)
		}
	}
}

// FuzzDecodeProof checks that DecodeProof accepts exactly one encoding of
// each proof, and that checking what it accepts never panics. Run it with
// -fuzzminimizetime=200x: its inputs are 2 KB and this test binary's
// coverage map is large (SQLite, libp2p), so minimizing each new input
// for the default 60 s stalls fuzzing.
func FuzzDecodeProof(f *testing.F) {
	c := newLockCampaign(f, 6, 1)
	good, goodKey := c.goodOffer(f)
	bad, badKey := c.badOffer(f)
	f.Add((&Proof{c.raw, good, goodKey}).Marshal())
	f.Add((&Proof{c.raw, bad, badKey}).Marshal())
	f.Add((&Proof{c.raw, bad, goodKey}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeProof(b)
		if err != nil {
			if !errors.Is(err, ErrNotProof) {
				t.Fatalf("error %v does not wrap ErrNotProof", err)
			}
			return
		}
		if again := p.Marshal(); !bytes.Equal(again, b) {
			t.Fatalf("accepted %x, re-encodes as %x", b, again)
		}
		reason, err := p.Verify(c.comm)
		if (reason == "") == (err == nil) || err != nil && !errors.Is(err, ErrNotProof) {
			t.Fatalf("Verify: got %q, %v", reason, err)
		}
	})
}

func FuzzDecodePledged(f *testing.F) {
	p := &pledged{ID: OfferID{7, 7}, Until: testTime}
	if err := p.sign(testKey(f, "creator")); err != nil {
		f.Fatal(err)
	}
	f.Add(p.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (interface{ encode() []byte }, error) { return decodePledged(b) })
	})
}
