package campaign

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/fluent/qp"
	"github.com/libp2p/go-libp2p/core/crypto"
)

// ErrBadState is wrapped by every error that rejects a state record.
var ErrBadState = errors.New("bad campaign state")

// MaxStateSize bounds an encoded state record; a valid one is under 200
// bytes.
const MaxStateSize = 1 << 10

// State is the creator's signed record of how a campaign stands. Records
// of one campaign are ordered by Seq; the creator increments it with every
// record it publishes, and Newer picks the latest.
type State struct {
	Campaign cid.Cid // the campaign ID
	Seq      uint64  // at most math.MaxInt64
	Sold     int64   // shares sold (shards), accesses sold (pay), donations (open)
	Raised   int64   // minor units of the manifest's currency
	Released bool    // shards: unsold shares have been published
	Unlocked bool    // shards: all N shares are public
	// Pledged counts the shares of an all-or-nothing campaign pledged and
	// held, not sold yet. Encoded only when not zero.
	Pledged int64
	Time    time.Time
	Sig     []byte
}

// Wire names of the state fields.
const (
	sCampaign = "campaign"
	sSeq      = "seq"
	sSold     = "sold"
	sRaised   = "raised"
	sReleased = "released"
	sUnlocked = "unlocked"
	sPledged  = "pledged"
	sTime     = "time"
	sSig      = "sig"
)

func badState(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadState, fmt.Sprintf(format, args...))
}

// Sign signs s with the campaign creator's key k.
func (s *State) Sign(k crypto.PrivKey) error {
	if _, _, err := keyIdentity(k); err != nil {
		return badState("signing key: %v", err)
	}
	s.Sig = nil
	if err := s.check(); err != nil {
		return err
	}
	unsigned, err := s.encode(false)
	if err != nil {
		return err
	}
	sig, err := signPayload(k, stateContext, unsigned)
	if err != nil {
		return fmt.Errorf("signing campaign state: %w", err)
	}
	s.Sig = sig
	return nil
}

// EncodeState returns the canonical DAG-CBOR encoding of a signed state
// record. Unlike Encode it cannot check the signature, which needs the
// manifest: DecodeState does.
func EncodeState(s *State) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if len(s.Sig) != ed25519SigSize {
		return nil, badState("not signed")
	}
	return s.encode(true)
}

// DecodeState parses and verifies a state record of the campaign id whose
// manifest is m (as returned by Decode): canonical DAG-CBOR, known fields,
// the campaign ID, counts that fit the model, and the signature of m's
// creator. Any failure wraps ErrBadState.
func DecodeState(data []byte, id cid.Cid, m *Manifest) (*State, error) {
	if len(data) > MaxStateSize {
		return nil, badState("%d bytes, at most %d allowed", len(data), MaxStateSize)
	}
	f, err := decodeMap(data)
	if err != nil {
		return nil, badState("%v", err)
	}
	s := &State{
		Campaign: f.link(sCampaign, true),
		Sold:     f.integer(sSold, true),
		Raised:   f.integer(sRaised, true),
		Released: f.boolean(sReleased, true),
		Unlocked: f.boolean(sUnlocked, true),
		Pledged:  f.integer(sPledged, false),
		Time:     unixTime(f.integer(sTime, true)),
		Sig:      f.bytes(sSig, true),
	}
	seq := f.integer(sSeq, true)
	if err := f.rest(); err != nil {
		return nil, badState("%v", err)
	}
	if seq < 0 {
		return nil, badState("seq %d is negative", seq)
	}
	s.Seq = uint64(seq)
	if err := s.check(); err != nil {
		return nil, err
	}
	again, err := s.encode(true)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, data) {
		return nil, badState("not in canonical form")
	}
	if !s.Campaign.Equals(id) {
		return nil, badState("record of campaign %s, want %s", s.Campaign, id)
	}
	if err := s.fits(m); err != nil {
		return nil, err
	}
	pub, err := creatorKey(m.CreatorKey)
	if err != nil {
		return nil, badState("manifest creator_key: %v", err)
	}
	unsigned, err := s.encode(false)
	if err != nil {
		return nil, err
	}
	if err := verifyPayload(pub, stateContext, unsigned, s.Sig); err != nil {
		return nil, badState("sig: %v", err)
	}
	return s, nil
}

// Newer reports whether a supersedes b: a is a record and b is nil or has
// a lower Seq. Two different records with the same Seq mean the creator
// signed both; neither is newer.
func Newer(a, b *State) bool {
	return a != nil && (b == nil || a.Seq > b.Seq)
}

// check applies the rules that need no manifest.
func (s *State) check() error {
	switch {
	case !s.Campaign.Defined():
		return badState("campaign: missing")
	case s.Seq > math.MaxInt64:
		return badState("seq %d exceeds 2^63-1", s.Seq)
	case s.Sold < 0 || s.Raised < 0 || s.Pledged < 0:
		return badState("sold %d, raised %d and pledged %d must not be negative", s.Sold, s.Raised, s.Pledged)
	}
	if err := checkTime(sTime, s.Time.Unix(), s.Time.IsZero()); err != nil {
		return badState("%v", err)
	}
	return nil
}

// fits checks the record against its campaign's model.
func (s *State) fits(m *Manifest) error {
	if m.Model != ModelShards {
		if s.Released || s.Unlocked || s.Pledged != 0 {
			return badState("released, unlocked and pledged apply only to model shards, not %s", m.Model)
		}
		return nil
	}
	if s.Sold > int64(m.Shards) {
		return badState("sold %d of %d shares", s.Sold, m.Shards)
	}
	if s.Pledged > int64(m.Shards)-s.Sold {
		return badState("sold %d and pledged %d of %d shares", s.Sold, s.Pledged, m.Shards)
	}
	if s.Unlocked && !s.Released && s.Sold != int64(m.Shards) {
		return badState("unlocked with %d of %d shares sold and none released", s.Sold, m.Shards)
	}
	return nil
}

func (s *State) encode(withSig bool) ([]byte, error) {
	e := []entry{
		{sCampaign, linkVal(s.Campaign)},
		{sSeq, qp.Int(int64(s.Seq))},
		{sSold, qp.Int(s.Sold)},
		{sRaised, qp.Int(s.Raised)},
		{sReleased, qp.Bool(s.Released)},
		{sUnlocked, qp.Bool(s.Unlocked)},
		{sTime, qp.Int(s.Time.Unix())},
	}
	if s.Pledged != 0 {
		e = append(e, entry{sPledged, qp.Int(s.Pledged)})
	}
	if withSig {
		e = append(e, entry{sSig, qp.Bytes(s.Sig)})
	}
	data, err := encodeMap(e)
	if err != nil {
		return nil, badState("encoding: %v", err)
	}
	return data, nil
}
