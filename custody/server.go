package custody

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
	"unicode/utf8"

	"filippo.io/age"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/shardcast/shardcast/internal/peerlimit"
)

// ProtocolID is the custody protocol: one deal per stream.
const ProtocolID protocol.ID = "/shardcast/custody/1.0.0"

// Frame types.
const (
	msgHello     = 1 // creator → custodian: empty
	msgRecipient = 2 // custodian → creator: its custody age recipient
	msgDeal      = 3 // creator → custodian: a Deal
	msgAccepted  = 4 // custodian → creator: an Acceptance
	msgRefused   = 5 // custodian → creator: a reason, UTF-8
)

// maxReason bounds a refusal's reason.
const maxReason = 256

// writeFrame writes a uvarint length then typ and body.
func writeFrame(w io.Writer, typ byte, body []byte) error {
	b := make([]byte, 0, len(body)+4)
	b = appendUvarint(b, uint64(len(body)+1))
	b = append(b, typ)
	_, err := w.Write(append(b, body...))
	return err
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// readFrame reads one frame of at most max bytes (type included) and
// returns its type and body. The length must be minimally encoded.
func readFrame(r *bufio.Reader, max int) (byte, []byte, error) {
	var n uint64
	for i := 0; ; i++ {
		c, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		if i == 3 || (i > 0 && c == 0) {
			return 0, nil, fmt.Errorf("custody: bad frame length")
		}
		n |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			break
		}
	}
	if n < 1 || n > uint64(max) {
		return 0, nil, fmt.Errorf("custody: frame of %d bytes, want 1 to %d", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, err
	}
	return b[0], b[1:], nil
}

// A Server is a custodian: it receives deals, checks them, keeps them in
// its Store and signs its acceptance.
type Server struct {
	h          host.Host
	key        crypto.PrivKey
	pub        ed25519.PublicKey
	id         *age.X25519Identity
	store      *Store
	limit      *peerlimit.Limiter
	now        func() time.Time
	log        *slog.Logger
	policy     func(from peer.ID, t *Terms) error
	perCreator int
}

// ServerConfig is what a Server needs. Now, Log and Policy may be nil.
type ServerConfig struct {
	Host  host.Host
	Store *Store
	Now   func() time.Time
	Log   *slog.Logger
	// Policy may refuse a deal whose signature and part are good: a
	// creator the node will not serve, terms it finds unreasonable. Its
	// error is the refusal's reason.
	Policy func(from peer.ID, t *Terms) error
	// MaxPerCreator bounds the unreleased deals kept from one creator
	// key; 0 means peerlimit.CustodyRecordsPerCreator.
	MaxPerCreator int
}

// NewServer makes a custodian of the host's key; Start serves it.
func NewServer(cfg ServerConfig) (*Server, error) {
	key := cfg.Host.Peerstore().PrivKey(cfg.Host.ID())
	if key == nil {
		return nil, fmt.Errorf("custody: host has no private key")
	}
	pub, err := rawKey(key.GetPublic())
	if err != nil {
		return nil, err
	}
	id, err := Identity(key)
	if err != nil {
		return nil, err
	}
	s := &Server{h: cfg.Host, key: key, pub: pub, id: id, store: cfg.Store, now: cfg.Now, log: cfg.Log, policy: cfg.Policy,
		limit: peerlimit.New(peerlimit.CustodyDeals), perCreator: cfg.MaxPerCreator}
	if s.perCreator == 0 {
		s.perCreator = peerlimit.CustodyRecordsPerCreator
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Start serves the custody protocol on the host.
func (s *Server) Start() { s.h.SetStreamHandler(ProtocolID, s.handle) }

// Close stops serving it; streams already open finish.
func (s *Server) Close() { s.h.RemoveStreamHandler(ProtocolID) }

// refusal is an error whose text the creator is told.
type refusal struct{ reason string }

func (r refusal) Error() string { return r.reason }

func refuse(format string, args ...any) error { return refusal{fmt.Sprintf(format, args...)} }

func (s *Server) handle(st network.Stream) {
	defer st.Close()
	st.SetDeadline(time.Now().Add(peerlimit.CustodyStreamTimeout))
	from := st.Conn().RemotePeer()
	a, err := s.serve(st, from)
	var r refusal
	switch {
	case err == nil:
		b, _ := a.MarshalBinary()
		if err := writeFrame(st, msgAccepted, b); err != nil {
			s.log.Debug("custody: answering an accepted deal", "peer", from, "err", err)
		}
	case errors.As(err, &r):
		s.log.Info("custody: refused a deal", "peer", from, "reason", r.reason)
		reason := r.reason
		if len(reason) > maxReason {
			reason = reason[:maxReason]
		}
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
		writeFrame(st, msgRefused, []byte(reason))
	default:
		s.log.Debug("custody: dealing stream", "peer", from, "err", err)
		st.Reset()
	}
}

// serve runs one dealing stream; a refusal is answered, any other error
// ends the stream.
func (s *Server) serve(st network.Stream, from peer.ID) (*Acceptance, error) {
	if !s.limit.Allow(from) {
		return nil, refuse("busy: too many deals from this peer")
	}
	br := bufio.NewReader(st)
	typ, _, err := readFrame(br, 1)
	if err != nil {
		return nil, err
	}
	if typ != msgHello {
		return nil, refuse("expected hello, got message %d", typ)
	}
	if err := writeFrame(st, msgRecipient, []byte(s.id.Recipient().String())); err != nil {
		return nil, err
	}
	typ, body, err := readFrame(br, peerlimit.CustodyDealBytes)
	if err != nil {
		return nil, err
	}
	if typ != msgDeal {
		return nil, refuse("expected a deal, got message %d", typ)
	}
	d := new(Deal)
	if err := d.UnmarshalBinary(body); err != nil {
		return nil, refuse("%v", err)
	}
	return s.accept(from, d)
}

// accept checks d, stores its part and signs the acceptance.
func (s *Server) accept(from peer.ID, d *Deal) (*Acceptance, error) {
	if !bytes.Equal(d.Custodian(), s.pub) {
		return nil, refuse("deal %d is for another custodian", d.Index)
	}
	if !d.Terms.Deadline.After(s.now()) {
		return nil, refuse("deadline %v has passed", d.Terms.Deadline.UTC())
	}
	if s.policy != nil {
		if err := s.policy(from, d.Terms); err != nil {
			return nil, refuse("%v", err)
		}
	}
	if n, err := s.store.Held(d.Terms.Creator); err != nil {
		s.log.Error("custody: counting deals", "err", err)
		return nil, refuse("custodian could not read its store")
	} else if n >= s.perCreator {
		if _, err := s.store.Get(mustHash(d.Terms)); err != nil {
			return nil, refuse("custodian holds %d deals of this creator already", n)
		}
	}
	part, err := d.Open(s.id)
	if err != nil {
		return nil, refuse("%v", err)
	}
	if err := s.store.Put(d, part); err != nil {
		s.log.Error("custody: storing a deal", "err", err)
		return nil, refuse("custodian could not store the deal")
	}
	a, err := Accept(s.key, d)
	if err != nil {
		return nil, refuse("custodian could not sign: %v", err)
	}
	th := a.TermsHash
	s.log.Info("custody: accepted a deal", "peer", from, "terms", th.String(), "index", d.Index, "deadline", d.Terms.Deadline.UTC())
	return a, nil
}

// mustHash returns the hash of decoded terms, which always encode.
func mustHash(t *Terms) Hash {
	h, _ := t.Hash()
	return h
}
