package market

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"filippo.io/age"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/internal/peerlimit"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/shares"
)

// Source gives a Server the creator's own campaigns and their secrets.
// Its methods must be safe for concurrent use.
type Source interface {
	// Campaign returns the decoded manifest of one of the creator's
	// campaigns, or an error if the creator sells no such campaign.
	Campaign(id cid.Cid) (*campaign.Manifest, error)
	// ContentIdentity returns the content identity of a campaign of
	// model pay.
	ContentIdentity(id cid.Cid) (*age.X25519Identity, error)
	// Share returns the share at index of a campaign of model shards.
	Share(id cid.Cid, index uint32) (shares.Share, error)
}

// ServerOptions configure a Server. The zero value is ready to use.
type ServerOptions struct {
	// OfferTTL is how long an offer that reserves no shares (access to a
	// pay campaign, a donation), and its invoice, can be paid. 0 means
	// DefaultOfferTTL.
	OfferTTL time.Duration
	// ReserveTTL is how long an offer of shares, and its invoice, can be
	// paid: its shares stay reserved that long and no longer. 0 means
	// the shorter of OfferTTL and peerlimit.ReserveTTL (2 minutes).
	ReserveTTL time.Duration
	// MaxOpenOffers bounds the unpaid offers one buyer peer may hold in
	// one campaign, and MaxReservedShares the shares they hold; a quote
	// beyond either is refused with CodeBusy. 0 means
	// peerlimit.OpenOffersPerBuyer (8) and peerlimit.ReservedPerBuyer
	// (1,000); a negative value means no bound.
	MaxOpenOffers     int
	MaxReservedShares int
	// QuoteRate bounds the quotes of one buyer peer; more are refused
	// with CodeBusy. The zero Rate means peerlimit.MarketQuotes (5 a
	// second, bursts of 20); a negative PerSecond means no bound.
	QuoteRate peerlimit.Rate
	// PruneAfter is how long after it expired an unpaid offer's ledger
	// row is deleted by the sweep. 0 means peerlimit.PruneExpiredAfter
	// (24 hours); a negative value keeps them for ever.
	PruneAfter time.Duration
	// MaxRequests bounds the requests served at once; more are refused
	// with CodeBusy. 0 means 4,096.
	MaxRequests int
	// RequestTimeout bounds one request, from reading it to answering.
	// 0 means one minute.
	RequestTimeout time.Duration
	// SweepInterval is how often expired offers are swept. 0 means
	// OfferTTL/4, at most 30 seconds.
	SweepInterval time.Duration
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
	// Logger receives errors the peer is not told about; nil discards.
	Logger *slog.Logger
	// Events, if set, hears of each sale or donation made durable
	// (Committed) and each pledge recorded or ended (Pledged).
	Events Events
}

// DefaultOfferTTL is how long an offer can be paid unless ServerOptions
// say otherwise: enough for a person to confirm a payment.
const DefaultOfferTTL = 10 * time.Minute

// maxRequestFrame bounds requests: a quote or a payment with its proof.
const maxRequestFrame = 16 << 10

func (o *ServerOptions) applyDefaults() {
	if o.OfferTTL <= 0 {
		o.OfferTTL = DefaultOfferTTL
	}
	if o.MaxRequests <= 0 {
		// Far above the 1,000 concurrent buyers of docs/BENCHMARKS.md; each
		// request holds a goroutine and a few KiB.
		o.MaxRequests = 4096
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = time.Minute
	}
	if o.ReserveTTL <= 0 {
		o.ReserveTTL = min(o.OfferTTL, peerlimit.ReserveTTL)
	}
	if o.MaxOpenOffers == 0 {
		o.MaxOpenOffers = peerlimit.OpenOffersPerBuyer
	}
	if o.MaxReservedShares == 0 {
		o.MaxReservedShares = peerlimit.ReservedPerBuyer
	}
	if o.QuoteRate == (peerlimit.Rate{}) {
		o.QuoteRate = peerlimit.MarketQuotes
	}
	if o.PruneAfter == 0 {
		o.PruneAfter = peerlimit.PruneExpiredAfter
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = min(o.ReserveTTL/4, 30*time.Second)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Events == nil {
		o.Events = NoEvents{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server sells a creator's campaigns over ProtocolID. See the package
// documentation for the protocol and what it promises.
type Server struct {
	h      host.Host
	key    crypto.PrivKey
	self   peer.ID // the creator, as manifests name it
	ledger *Ledger
	rails  map[string]pay.Rail
	src    Source
	opts   ServerOptions
	log    *slog.Logger
	hooks  testHooks // failure injection: empty but in test builds

	sem    chan struct{}
	locks  offerLocks
	quotes *peerlimit.Limiter // nil: no bound

	booksMu sync.Mutex
	books   map[cid.Cid]*shareBook

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
}

// NewServer starts selling the campaigns of src on h: it registers the
// stream handler for ProtocolID and sweeps expired offers in the
// background until Close. key is the creator's Ed25519 key, the one its
// manifests name; it signs offers and receipts. Each rail is used for
// the campaigns that list its name.
func NewServer(h host.Host, key crypto.PrivKey, ledger *Ledger, rails []pay.Rail, src Source, opts *ServerOptions) (*Server, error) {
	if h == nil || key == nil || ledger == nil || src == nil {
		return nil, fmt.Errorf("market: new server: missing host, key, ledger or source")
	}
	self, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("market: new server: creator key: %w", err)
	}
	if key.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("market: new server: creator key is %v, want Ed25519", key.Type())
	}
	s := &Server{h: h, key: key, self: self, ledger: ledger, rails: make(map[string]pay.Rail), src: src,
		books: make(map[cid.Cid]*shareBook)}
	for _, r := range rails {
		if _, dup := s.rails[r.Name()]; dup {
			return nil, fmt.Errorf("market: new server: two rails named %q", r.Name())
		}
		s.rails[r.Name()] = r
	}
	if opts != nil {
		s.opts = *opts
	}
	s.opts.applyDefaults()
	s.log = s.opts.Logger
	s.hooks = buildTestHooks()
	s.sem = make(chan struct{}, s.opts.MaxRequests)
	if s.opts.QuoteRate.PerSecond >= 0 {
		s.quotes = peerlimit.New(s.opts.QuoteRate, peerlimit.WithClock(s.opts.Now))
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.sweepLoop()
	s.wg.Add(1)
	go s.outcomeLoop()
	h.SetStreamHandler(ProtocolID, s.handle)
	return s, nil
}

// Close stops serving and waits for the requests under way. It does not
// close the host, the ledger or the rails.
func (s *Server) Close() error {
	s.h.RemoveStreamHandler(ProtocolID)
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

func (s *Server) handle(st network.Stream) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		st.Reset()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	st.SetDeadline(time.Now().Add(s.opts.RequestTimeout))
	var resp []byte
	select {
	case s.sem <- struct{}{}:
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.RequestTimeout)
		resp = s.serve(ctx, st)
		cancel()
		<-s.sem
	default:
		resp = s.refusal(&refusal{code: CodeBusy, msg: "too many requests; retry later"})
	}
	if _, err := st.Write(appendFrame(make([]byte, 0, len(resp)+4), resp)); err != nil {
		st.Reset()
		return
	}
	st.Close()
}

// serve reads one request and returns the body of the answer.
func (s *Server) serve(ctx context.Context, st network.Stream) []byte {
	remote := st.Conn().RemotePeer()
	body, err := readFrame(st, maxRequestFrame)
	var msg any
	if err == nil {
		msg, err = decodeMessage(body)
	}
	if err != nil {
		return s.refusal(refuse(CodeBadRequest, "%v", err))
	}
	var resp []byte
	switch m := msg.(type) {
	case *quote:
		var o *Offer
		if !s.quotes.Allow(remote) {
			err = refuse(CodeBusy, "too many quotes from %s; retry later", remote)
		} else if o, err = s.quote(ctx, remote, m); err == nil {
			resp = o.Marshal()
		}
	case *payment:
		var a answer
		if a, err = s.pay(ctx, remote, m.ID, m.Proof); err == nil {
			resp = a.encode()
		}
	case *redeliver:
		var a answer
		if a, err = s.pay(ctx, remote, m.ID, nil); err == nil {
			resp = a.encode()
		}
	case *withdraw:
		var a answer
		if a, err = s.withdraw(ctx, remote, m.ID); err == nil {
			resp = a.encode()
		}
	default:
		err = refuse(CodeBadRequest, "a creator answers quotes, payments, redeliveries and withdrawals")
	}
	if err != nil {
		var r *refusal
		if !errors.As(err, &r) {
			s.log.Error("market request failed", "peer", remote, "err", err)
			r = refuse(CodeInternal, "internal error; retry later")
		}
		return s.refusal(r)
	}
	return resp
}

func (s *Server) refusal(r *refusal) []byte {
	msg := r.msg
	for len(msg) > maxMessage { // cut at a rune boundary
		msg = msg[:len(msg)-1]
		for len(msg) > 0 && msg[len(msg)-1]&0xc0 == 0x80 {
			msg = msg[:len(msg)-1]
		}
	}
	return (&errorMsg{Code: r.code, Message: msg, Voucher: r.voucher}).encode()
}

// quote answers a quote with a signed offer, after reserving its shares,
// issuing the invoice and recording the offer.
func (s *Server) quote(ctx context.Context, remote peer.ID, q *quote) (_ *Offer, err error) {
	m, err := s.src.Campaign(q.Campaign)
	if err != nil || m == nil || m.Creator != s.self {
		return nil, refuse(CodeNotFound, "campaign %v is not for sale here", q.Campaign)
	}
	rail := s.rails[q.Rail]
	if rail == nil || !slices.Contains(m.Rails, q.Rail) {
		return nil, refuse(CodeUnsupported, "campaign %v is not sold on rail %q here", q.Campaign, q.Rail)
	}
	if m.AllOrNothing && q.Kind == KindBuy && !reveals(rail) {
		return nil, refuse(CodeUnsupported, "campaign %v takes pledges only on a rail that holds them (lightning)", q.Campaign)
	}
	if q.Kind == KindBuy || q.Recipient != "" {
		if r, err := age.ParseX25519Recipient(q.Recipient); err != nil || r.String() != q.Recipient {
			return nil, refuse(CodeBadRequest, "recipient %q is not an age X25519 recipient", q.Recipient)
		}
	}
	now := s.opts.Now()
	var price int64
	var indices []uint32
	switch {
	case q.Kind == KindDonate:
		price = q.Amount
	case m.Model == campaign.ModelPay:
		if q.Shares > 1 {
			return nil, refuse(CodeBadRequest, "campaign %v sells access, not %d shares", q.Campaign, q.Shares)
		}
		price = m.Price
	case m.Model == campaign.ModelShards:
		if q.Shares < 1 {
			return nil, refuse(CodeBadRequest, "ask for at least one share")
		}
		if !now.Before(m.Deadline) {
			return nil, refuse(CodeClosed, "campaign %v closed at %s", q.Campaign, m.Deadline.UTC().Format(time.RFC3339))
		}
		if err := s.checkCaps(ctx, remote, q.Campaign, q.Shares); err != nil {
			return nil, err
		}
		if m.AllOrNothing {
			if oc, err := s.ledger.outcomeOf(q.Campaign); err != nil || oc != outcomeNone {
				return nil, errors.Join(err, refuse(CodeClosed, "campaign %v has ended its pledges", q.Campaign))
			}
		}
		var book *shareBook
		if book, err = s.book(ctx, q.Campaign, m); err != nil {
			return nil, err
		}
		book.mu.Lock()
		taken, ok := book.take(q.Shares)
		left := book.free
		book.mu.Unlock()
		if !ok {
			return nil, refuse(CodeSoldOut, "%d shares asked for, %d of %d left unsold and unreserved", q.Shares, left, m.Shards)
		}
		indices = taken
		defer func() {
			if err != nil {
				s.release(q.Campaign, taken)
			}
		}()
		if price, err = m.PriceOfShares(indices); err != nil {
			return nil, refuse(CodeBadRequest, "%v", err)
		}
	default:
		return nil, refuse(CodeUnsupported, "campaign %v is free to watch: donate instead", q.Campaign)
	}
	if indices == nil {
		if err := s.checkCaps(ctx, remote, q.Campaign, 0); err != nil {
			return nil, err
		}
	}
	return s.offer(ctx, remote, q, m, rail, indices, price, now)
}

func (s *Server) offer(ctx context.Context, remote peer.ID, q *quote, m *campaign.Manifest, rail pay.Rail,
	indices []uint32, price int64, now time.Time) (*Offer, error) {
	o := &Offer{Campaign: q.Campaign, Kind: q.Kind, Buyer: remote, Recipient: q.Recipient, Indices: indices, Rail: rail.Name()}
	if _, err := rand.Read(o.ID[:]); err != nil {
		return nil, err
	}
	req := pay.InvoiceRequest{
		Amount: pay.Amount{Minor: price, Currency: m.Currency},
		Memo:   fmt.Sprintf("shardcast %v: %s", q.Kind, q.Campaign),
		Expiry: s.opts.OfferTTL,
	}
	if len(indices) > 0 {
		req.Expiry = s.opts.ReserveTTL
	}
	var key []byte
	if q.Kind == KindBuy && m.Model == campaign.ModelShards && reveals(rail) {
		var err error
		if key, err = s.lock(o, &req, m); err != nil {
			return nil, err
		}
	}
	inv, err := rail.CreateInvoice(ctx, req)
	if err != nil {
		if errors.Is(err, pay.ErrHoldTooLong) {
			return nil, refuse(CodeUnsupported, "%v", err)
		}
		return nil, fmt.Errorf("invoicing %v of %v: %w", q.Kind, q.Campaign, err)
	}
	o.Price, o.Request, o.Expires = inv.Amount, inv.Request, inv.Expires
	if err := o.sign(s.key); err != nil {
		return nil, fmt.Errorf("signing offer: %w", err)
	}
	if err := s.ledger.putOfferCapped(ctx, o, inv.ID, key, now, s.caps()); err != nil {
		rail.Cancel(context.WithoutCancel(ctx), inv.ID)
		if errors.Is(err, errBuyerLimit) {
			return nil, s.capRefusal(q.Campaign)
		}
		return nil, err
	}
	return o, nil
}

// reveals says whether a rail reveals preimages to payers.
func reveals(r pay.Rail) bool {
	rv, ok := r.(pay.Revealer)
	return ok && rv.RevealsPreimage()
}

// lock makes o a locked offer: a random key k seals its shares, and the
// invoice becomes a hold invoice on SHA-256(k), held until the deadline
// in an all-or-nothing campaign. It returns k.
func (s *Server) lock(o *Offer, req *pay.InvoiceRequest, m *campaign.Manifest) ([]byte, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	h := sha256.Sum256(key)
	req.Hold, req.PaymentHash = true, &h
	if m.AllOrNothing {
		req.HoldUntil = m.Deadline.Add(PledgeGrace)
	}
	plain, err := s.sharesPlain(o)
	if err != nil {
		return nil, fmt.Errorf("sealing offer %v: %w", o.ID, err)
	}
	defer clear(plain)
	if s.hooks.seal != nil {
		s.hooks.seal(o, plain)
	}
	o.Lock = h[:]
	if o.Sealed, err = sealShares(key, o.ID, plain); err != nil {
		return nil, fmt.Errorf("sealing offer %v: %w", o.ID, err)
	}
	return key, nil
}

// PledgeGrace is how long after a campaign's deadline its pledges must
// still be held: time for the creator's node to settle or cancel them.
const PledgeGrace = 6 * time.Hour

// book returns the loaded share book of a shards campaign.
func (s *Server) book(ctx context.Context, id cid.Cid, m *campaign.Manifest) (*shareBook, error) {
	s.booksMu.Lock()
	b := s.books[id]
	if b == nil {
		b = &shareBook{}
		s.books[id] = b
	}
	s.booksMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.loaded {
		taken, err := s.ledger.taken(ctx, id)
		if err != nil {
			return nil, err
		}
		b.load(m.Shards, taken)
	}
	return b, nil
}

// release frees indices in the campaign's book, after the ledger freed
// them (or never recorded them).
func (s *Server) release(id cid.Cid, indices []uint32) {
	if len(indices) == 0 {
		return
	}
	s.booksMu.Lock()
	b := s.books[id]
	s.booksMu.Unlock()
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.loaded { // a book loaded later reads the ledger
		b.release(indices)
	}
	b.mu.Unlock()
}
