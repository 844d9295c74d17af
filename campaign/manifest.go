package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/fluent/qp"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// ErrBadManifest is wrapped by every error that rejects a manifest: bad
// encoding, a broken rule, a wrong key or signature.
var ErrBadManifest = errors.New("bad manifest")

// Model is a campaign's payment model (see the README).
type Model string

// The three models.
const (
	ModelOpen   Model = "open"   // plaintext, donations
	ModelPay    Model = "pay"    // each buyer pays for the content key
	ModelShards Model = "shards" // N shares; sold or released, they unlock the key for all
)

// Shortfall says what a shards campaign does at its deadline with the
// shares that were not sold.
type Shortfall string

// Shortfall policies.
const (
	ShortfallRelease Shortfall = "release" // publish unsold shares: the work unlocks for free
	ShortfallLocked  Shortfall = "locked"  // keep them: the work stays locked (pledges refunded)
)

// Tier is one step of a price schedule: the next Count shares cost Price
// each.
type Tier struct {
	Count int
	Price int64
}

// Version is the manifest format version this package writes and reads.
const Version = 1

// Limits on a manifest. Each bounds the work an untrusted manifest can
// cause before its signature is checked, and keeps manifests small enough
// to gossip.
const (
	MaxManifestSize   = 64 << 10   // encoded bytes
	MaxTitle          = 200        // runes
	MaxDescription    = 10_000     // runes
	MaxMediaType      = 255        // bytes
	MaxShares         = 10_000_000 // N; commitments are 32·N bytes
	MaxTiers          = 32         // schedule entries
	MaxSuggested      = 16         // suggested donation amounts
	MaxRails          = 8          // rail names
	secretCommitSize  = 32         // a ristretto255 point
	maxUnix           = 253402300799
	maxRailNameLength = 32
)

// Manifest describes a campaign. It is encoded as a DAG-CBOR map, signed by
// its creator, and addressed by the CID of the signed block (the campaign
// ID). The package doc lists each field's wire name and rules.
type Manifest struct {
	Model       Model
	Title       string
	Description string
	Content     cid.Cid // UnixFS file: plaintext (open) or an age file (pay, shards)
	ContentSize int64   // plaintext bytes
	MediaType   string  // e.g. "video/webm"

	Creator    peer.ID // set by Sign
	CreatorKey []byte  // libp2p protobuf public key; set by Sign
	Created    time.Time

	Currency  string  // e.g. "USD", "EUR", "BTC"
	Price     int64   // minor units per share (shards) or per access (pay)
	Schedule  []Tier  // shards: optional tiers before Price applies
	Goal      int64   // minor units; shards: fixes Shards; open: donation goal
	Suggested []int64 // open: suggested donations

	Shards           int     // N
	Commitments      cid.Cid // shares.Commitments binary (a raw block or UnixFS file)
	SecretCommitment []byte  // X = x·G, 32 bytes
	Deadline         time.Time

	Rails        []string // payment rails, e.g. ["test", "lightning"]
	AllOrNothing bool     // shards: pledges settle only if the goal is met
	Shortfall    Shortfall

	Sig []byte // Ed25519 signature; set by Sign
}

func badManifest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadManifest, fmt.Sprintf(format, args...))
}

// Sign validates m, sets Creator and CreatorKey from k (an Ed25519 key)
// and signs the manifest.
func (m *Manifest) Sign(k crypto.PrivKey) error {
	kb, id, err := keyIdentity(k)
	if err != nil {
		return badManifest("signing key: %v", err)
	}
	m.Creator, m.CreatorKey, m.Sig = id, kb, nil
	if err := m.Validate(); err != nil {
		return err
	}
	unsigned, err := m.encode(false)
	if err != nil {
		return err
	}
	sig, err := signPayload(k, manifestContext, unsigned)
	if err != nil {
		return fmt.Errorf("signing manifest: %w", err)
	}
	m.Sig = sig
	return nil
}

// Encode returns the canonical DAG-CBOR encoding of a signed manifest and
// its CID, the campaign ID. It checks everything Decode checks, the
// signature included, so what it returns always decodes back to m.
func Encode(m *Manifest) ([]byte, cid.Cid, error) {
	if err := m.Validate(); err != nil {
		return nil, cid.Undef, err
	}
	if len(m.Sig) == 0 {
		return nil, cid.Undef, badManifest("not signed")
	}
	data, err := m.encode(true)
	if err != nil {
		return nil, cid.Undef, err
	}
	if len(data) > MaxManifestSize {
		return nil, cid.Undef, badManifest("%d bytes encoded, at most %d allowed", len(data), MaxManifestSize)
	}
	if err := m.verify(); err != nil {
		return nil, cid.Undef, err
	}
	return data, ID(data), nil
}

// Decode parses and verifies an encoded manifest: canonical DAG-CBOR (the
// manifest re-encodes to exactly data), known fields of the right types,
// every rule of its model, a creator peer ID that matches the creator key,
// and a valid signature. Any failure wraps ErrBadManifest. The campaign ID
// is ID(data).
func Decode(data []byte) (*Manifest, error) {
	if len(data) > MaxManifestSize {
		return nil, badManifest("%d bytes, at most %d allowed", len(data), MaxManifestSize)
	}
	f, err := decodeMap(data)
	if err != nil {
		return nil, badManifest("%v", err)
	}
	m, err := readManifest(f)
	if err != nil {
		return nil, badManifest("%v", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	again, err := m.encode(true)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, data) {
		return nil, badManifest("not in canonical form")
	}
	if err := m.verify(); err != nil {
		return nil, err
	}
	return m, nil
}

// verify checks the creator's identity and the signature.
func (m *Manifest) verify() error {
	pub, err := creatorKey(m.CreatorKey)
	if err != nil {
		return badManifest("creator_key: %v", err)
	}
	if !m.Creator.MatchesPublicKey(pub) {
		return badManifest("creator %s does not match creator_key", m.Creator)
	}
	unsigned, err := m.encode(false)
	if err != nil {
		return err
	}
	if err := verifyPayload(pub, manifestContext, unsigned, m.Sig); err != nil {
		return badManifest("sig: %v", err)
	}
	return nil
}

// Wire names of the manifest fields.
const (
	kVersion          = "version"
	kModel            = "model"
	kTitle            = "title"
	kDescription      = "description"
	kContent          = "content"
	kContentSize      = "content_size"
	kMediaType        = "media_type"
	kCreator          = "creator"
	kCreatorKey       = "creator_key"
	kCreated          = "created"
	kCurrency         = "currency"
	kPrice            = "price"
	kSchedule         = "schedule"
	kTierCount        = "count"
	kTierPrice        = "price"
	kGoal             = "goal"
	kSuggested        = "suggested"
	kShards           = "shards"
	kCommitments      = "commitments"
	kSecretCommitment = "secret_commitment"
	kDeadline         = "deadline"
	kRails            = "rails"
	kAllOrNothing     = "all_or_nothing"
	kShortfall        = "shortfall"
	kSig              = "sig"
)

// encode writes the manifest; zero-valued optional fields are omitted.
func (m *Manifest) encode(withSig bool) ([]byte, error) {
	e := []entry{
		{kVersion, qp.Int(Version)},
		{kModel, qp.String(string(m.Model))},
		{kTitle, qp.String(m.Title)},
		{kContent, linkVal(m.Content)},
		{kContentSize, qp.Int(m.ContentSize)},
		{kMediaType, qp.String(m.MediaType)},
		{kCreator, qp.String(m.Creator.String())},
		{kCreatorKey, qp.Bytes(m.CreatorKey)},
		{kCreated, qp.Int(m.Created.Unix())},
		{kCurrency, qp.String(m.Currency)},
		{kRails, qp.List(int64(len(m.Rails)), func(la datamodel.ListAssembler) {
			for _, r := range m.Rails {
				qp.ListEntry(la, qp.String(r))
			}
		})},
	}
	opt := func(present bool, k string, v qp.Assemble) {
		if present {
			e = append(e, entry{k, v})
		}
	}
	opt(m.Description != "", kDescription, qp.String(m.Description))
	opt(m.Price != 0, kPrice, qp.Int(m.Price))
	opt(len(m.Schedule) > 0, kSchedule, qp.List(int64(len(m.Schedule)), func(la datamodel.ListAssembler) {
		for _, t := range m.Schedule {
			qp.ListEntry(la, qp.Map(2, func(ma datamodel.MapAssembler) {
				qp.MapEntry(ma, kTierCount, qp.Int(int64(t.Count)))
				qp.MapEntry(ma, kTierPrice, qp.Int(t.Price))
			}))
		}
	}))
	opt(m.Goal != 0, kGoal, qp.Int(m.Goal))
	opt(len(m.Suggested) > 0, kSuggested, qp.List(int64(len(m.Suggested)), func(la datamodel.ListAssembler) {
		for _, a := range m.Suggested {
			qp.ListEntry(la, qp.Int(a))
		}
	}))
	opt(m.Shards != 0, kShards, qp.Int(int64(m.Shards)))
	opt(m.Commitments.Defined(), kCommitments, linkVal(m.Commitments))
	opt(len(m.SecretCommitment) > 0, kSecretCommitment, qp.Bytes(m.SecretCommitment))
	opt(!m.Deadline.IsZero(), kDeadline, qp.Int(m.Deadline.Unix()))
	opt(m.AllOrNothing, kAllOrNothing, qp.Bool(true))
	opt(m.Shortfall != "", kShortfall, qp.String(string(m.Shortfall)))
	opt(withSig, kSig, qp.Bytes(m.Sig))
	data, err := encodeMap(e)
	if err != nil {
		return nil, badManifest("encoding: %v", err)
	}
	return data, nil
}

// readManifest fills a Manifest from a decoded map without judging it
// beyond the types of its fields.
func readManifest(f *fields) (*Manifest, error) {
	if v := f.integer(kVersion, true); f.err == nil && v != Version {
		return nil, fmt.Errorf("version %d, want %d", v, Version)
	}
	m := &Manifest{
		Model:            Model(f.str(kModel, true)),
		Title:            f.str(kTitle, true),
		Description:      f.str(kDescription, false),
		Content:          f.link(kContent, true),
		ContentSize:      f.integer(kContentSize, true),
		MediaType:        f.str(kMediaType, true),
		CreatorKey:       f.bytes(kCreatorKey, true),
		Created:          unixTime(f.integer(kCreated, true)),
		Currency:         f.str(kCurrency, true),
		Price:            f.integer(kPrice, false),
		Goal:             f.integer(kGoal, false),
		Commitments:      f.link(kCommitments, false),
		SecretCommitment: f.bytes(kSecretCommitment, false),
		AllOrNothing:     f.boolean(kAllOrNothing, false),
		Shortfall:        Shortfall(f.str(kShortfall, false)),
		Sig:              f.bytes(kSig, true),
	}
	if creator := f.str(kCreator, true); f.err == nil {
		id, err := peer.Decode(creator)
		if err != nil {
			return nil, fmt.Errorf("creator: %w", err)
		}
		m.Creator = id
	}
	if n := f.integer(kShards, false); n < 0 || n > MaxShares {
		return nil, fmt.Errorf("shards: %d not in [1, %d]", n, MaxShares)
	} else {
		m.Shards = int(n)
	}
	if _, ok := f.m[kDeadline]; ok {
		m.Deadline = unixTime(f.integer(kDeadline, true))
	}
	for _, n := range f.list(kSchedule, MaxTiers) {
		t, err := readTier(n)
		if err != nil {
			return nil, fmt.Errorf("schedule: %w", err)
		}
		m.Schedule = append(m.Schedule, t)
	}
	for _, n := range f.list(kSuggested, MaxSuggested) {
		m.Suggested = append(m.Suggested, asInt(f, kSuggested, n))
	}
	for _, n := range f.list(kRails, MaxRails) {
		s, err := n.AsString()
		if err != nil {
			return nil, fmt.Errorf("rails: %w", err)
		}
		m.Rails = append(m.Rails, s)
	}
	if err := f.rest(); err != nil {
		return nil, err
	}
	return m, nil
}

func readTier(n datamodel.Node) (Tier, error) {
	if n.Kind() != datamodel.Kind_Map || n.Length() != 2 {
		return Tier{}, fmt.Errorf("a tier must be a map of %q and %q", kTierCount, kTierPrice)
	}
	get := func(k string) (int64, error) {
		v, err := n.LookupByString(k)
		if err != nil {
			return 0, err
		}
		return v.AsInt()
	}
	c, err := get(kTierCount)
	if err != nil {
		return Tier{}, err
	}
	p, err := get(kTierPrice)
	if err != nil {
		return Tier{}, err
	}
	if c < 1 || c > MaxShares {
		return Tier{}, fmt.Errorf("tier count %d not in [1, %d]", c, MaxShares)
	}
	return Tier{Count: int(c), Price: p}, nil
}

// unixTime turns wire seconds into a time; out-of-range values become a
// time that Validate rejects.
func unixTime(s int64) time.Time {
	if s < 1 || s > maxUnix {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
