package market

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"filippo.io/age"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// ClientOptions configure a Client. The zero value is ready to use.
type ClientOptions struct {
	// RetryMin and RetryMax bound the pause between attempts to hand a
	// payment to a creator that cannot be reached, or to ask the rail
	// again about a payment whose outcome is unknown; it doubles from one
	// to the other. 0 means 50 ms and 10 s.
	RetryMin, RetryMax time.Duration
	// AttemptTimeout bounds one exchange with the creator. 0 means 30 s.
	AttemptTimeout time.Duration
	// Now is the client's clock; nil means time.Now.
	Now func() time.Time
	// Events, if set, hears of each locked purchase whose shares a
	// payment unsealed (Delivered), each proof that a creator sealed bad
	// shares (Caught) and each purchase completed (Completed).
	Events Events
}

func (o *ClientOptions) applyDefaults() {
	if o.RetryMin <= 0 {
		o.RetryMin = 50 * time.Millisecond
	}
	if o.RetryMax < o.RetryMin {
		// A creator restarting its daemon is back within seconds; one
		// gone for long is asked every few seconds, not in a hot loop.
		o.RetryMax = max(10*time.Second, o.RetryMin)
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Events == nil {
		o.Events = NoEvents{}
	}
}

// Client buys from creators over ProtocolID and records its purchases in
// its ledger. It is safe for concurrent use.
type Client struct {
	h         host.Host
	ledger    *Ledger
	identity  *age.X25519Identity
	recipient string
	rails     map[string]pay.Rail
	opts      ClientOptions

	// Purchases run in the background, for as long as the client: a
	// caller only waits for their outcome. A pledge is held until its
	// campaign's deadline.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	requests map[string]*flight  // purchases under way, by request ID
	driving  map[OfferID]*flight // purchases under way, by offer
}

// NewClient returns a client buying from h with the given rails. identity
// is the buyer's long-term age identity: deliveries are encrypted to its
// recipient.
func NewClient(h host.Host, ledger *Ledger, identity *age.X25519Identity, rails []pay.Rail, opts *ClientOptions) (*Client, error) {
	if h == nil || ledger == nil || identity == nil {
		return nil, fmt.Errorf("market: new client: missing host, ledger or identity")
	}
	c := &Client{h: h, ledger: ledger, identity: identity, recipient: identity.Recipient().String(), rails: make(map[string]pay.Rail),
		requests: make(map[string]*flight), driving: make(map[OfferID]*flight)}
	for _, r := range rails {
		c.rails[r.Name()] = r
	}
	if opts != nil {
		c.opts = *opts
	}
	c.opts.applyDefaults()
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// Close stops the purchases running in the background and waits for
// them. They resume with ResumeAll.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// Order says what to buy.
type Order struct {
	Campaign cid.Cid
	// Manifest is the campaign's manifest, decoded and verified
	// (campaign.Decode): offers, prices and receipts are checked against it.
	Manifest *campaign.Manifest
	// Creator is the peer to buy from; empty means Manifest.Creator.
	Creator peer.ID
	// Shares is K, the number of shares to buy in model shards.
	Shares int
	// Commitments are the campaign's share commitments (model shards,
	// from Manifest.OpenCommitments): every share delivered is verified.
	Commitments *shares.Commitments
	// Rail is the rail to pay with; empty means the first of
	// Manifest.Rails this client has.
	Rail string
	// Request is the caller's request ID (at most MaxRequestID printable
	// ASCII bytes), stored with the purchase: a Buy or Donate again with
	// the same ID returns the first one's outcome instead of buying
	// again. Empty means none.
	Request string
}

// MaxRequestID bounds Order.Request.
const MaxRequestID = 128

// A Purchase is a completed, verified purchase or donation.
type Purchase struct {
	Offer   *Offer
	Receipt *Receipt // signed by the creator
	Payment pay.Payment
	// Identity is the content identity (model pay).
	Identity *age.X25519Identity
	// Shares are the K shares bought, each verified against the
	// commitments, in index order (model shards).
	Shares []shares.Share
	// Pledged says the purchase is a pledge to an all-or-nothing
	// campaign: the funds are held until Until, the campaign's deadline,
	// and the shares arrive (see Events.Delivered) only if the
	// goal is met; otherwise the funds return.
	Pledged bool
	Until   time.Time
}

// Buy buys access (model pay) or o.Shares shares (model shards): it asks
// the creator for an offer, checks its signature and price against the
// manifest, records the purchase, pays it, hands the proof to the
// creator and verifies the delivery and the receipt. The purchase runs
// under the client's own context, not ctx: once recorded it is driven to
// an end (see the package documentation) whether or not anyone waits.
// Buy waits for the outcome until ctx ends; then it returns a
// *PendingError. It never pays twice for one offer.
func (c *Client) Buy(ctx context.Context, o Order) (*Purchase, error) {
	q := &quote{Campaign: o.Campaign, Kind: KindBuy, Recipient: c.recipient}
	if o.Manifest == nil {
		return nil, fmt.Errorf("market: buying %v: no manifest", o.Campaign)
	}
	switch o.Manifest.Model {
	case campaign.ModelPay:
		if o.Shares < 0 || o.Shares > 1 {
			return nil, fmt.Errorf("market: buying %d shares of %v: it sells access, not shares: %w", o.Shares, o.Campaign, ErrBadOrder)
		}
	case campaign.ModelShards:
		if o.Shares < 1 || o.Shares > min(MaxSharesPerOffer, o.Manifest.Shards) {
			return nil, fmt.Errorf("market: buying %d shares of %v: want 1 to %d: %w", o.Shares, o.Campaign,
				min(MaxSharesPerOffer, o.Manifest.Shards), ErrBadOrder)
		}
		if o.Commitments == nil || o.Commitments.N() != o.Manifest.Shards {
			return nil, fmt.Errorf("market: buying shares of %v: missing or wrong commitments", o.Campaign)
		}
		q.Shares = o.Shares
	default:
		return nil, fmt.Errorf("market: buying %v: model %s is free to watch; donate instead", o.Campaign, o.Manifest.Model)
	}
	return c.start(ctx, o, q)
}

// Donate donates amount (minor units of the manifest's currency) to the
// creator of any campaign, and returns once it holds the signed receipt.
func (c *Client) Donate(ctx context.Context, o Order, amount int64) (*Purchase, error) {
	if o.Manifest == nil {
		return nil, fmt.Errorf("market: donating to %v: no manifest", o.Campaign)
	}
	if amount <= 0 {
		return nil, fmt.Errorf("market: donating %d to %v: amount must be positive: %w", amount, o.Campaign, ErrBadOrder)
	}
	return c.start(ctx, o, &quote{Campaign: o.Campaign, Kind: KindDonate, Amount: amount, Recipient: c.recipient})
}

// ask sends req to the creator until handle, given each answer, says it
// is final, pausing between attempts: the stream may break, and the
// creator may be busy, failing or restarting. what says in errors what
// is left undone when ctx ends.
func (c *Client) ask(ctx context.Context, creator peer.ID, offer *Offer, req []byte, what string, handle func(resp any) (final bool, err error)) error {
	pause := c.opts.RetryMin
	for attempt := 0; ; attempt++ {
		resp, err := c.exchange(ctx, creator, req, attempt > 0)
		if err == nil {
			var final bool
			if final, err = handle(resp); final {
				return err
			}
		}
		if errors.Is(err, ErrBadOffer) {
			return fmt.Errorf("market: offer %v: %w", offer.ID, err)
		}
		if pause, err = c.backoff(ctx, pause, err); err != nil {
			return fmt.Errorf("market: offer %v: %s (%w)", offer.ID, what, err)
		}
	}
}

// accept verifies a delivery and records it in the ledger.
func (c *Client) accept(ctx context.Context, o Order, creator peer.ID, offer *Offer, v *delivery) (*Purchase, error) {
	p, err := c.verifyDelivery(o, offer, v)
	if err != nil {
		return nil, fmt.Errorf("market: delivery from %v: %w", creator, err)
	}
	if err := c.ledger.completePurchase(context.WithoutCancel(ctx), v, c.opts.Now()); err != nil {
		return nil, err
	}
	return p, nil
}

// backoff waits about pause before the next attempt, and returns the
// pause after it (doubled, up to RetryMax), or, if ctx ends first, an
// error with the last attempt's.
func (c *Client) backoff(ctx context.Context, pause time.Duration, last error) (time.Duration, error) {
	t := time.NewTimer(pause/2 + rand.N(pause/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return pause, fmt.Errorf("%v: %w", last, ctx.Err())
	case <-t.C:
	}
	return min(2*pause, c.opts.RetryMax), nil
}

// rail picks the rail an order pays with.
func (c *Client) rail(o Order) (pay.Rail, error) {
	for _, name := range o.Manifest.Rails {
		if r := c.rails[name]; r != nil && (o.Rail == "" || o.Rail == name) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("market: campaign %v takes rails %v; this client has none of them (or not %q)", o.Campaign, o.Manifest.Rails, o.Rail)
}

// checkOffer checks an offer against the quote and the manifest.
func (c *Client) checkOffer(o Order, q *quote, offer *Offer) error {
	m := o.Manifest
	if err := offer.Verify(m); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("offer %v: %s: %w", offer.ID, fmt.Sprintf(format, args...), ErrBadOffer)
	}
	switch {
	case !offer.Campaign.Equals(o.Campaign) || offer.Kind != q.Kind || offer.Buyer != c.h.ID() ||
		offer.Recipient != q.Recipient || offer.Rail != q.Rail:
		return bad("does not answer the quote")
	case offer.Price.Currency != m.Currency:
		return bad("price in %s, the campaign's currency is %s", offer.Price.Currency, m.Currency)
	case !offer.Expires.After(c.opts.Now()):
		return bad("already expired at %v", offer.Expires)
	}
	locked := q.Kind == KindBuy && m.Model == campaign.ModelShards && reveals(c.rails[offer.Rail])
	switch {
	case locked != (offer.Lock != nil):
		return bad("sealed %v, want %v: shares bought on rail %s travel sealed", offer.Lock != nil, locked, offer.Rail)
	case locked && len(offer.Sealed) != len(offer.Indices)*shares.ShareSize+sealOverhead:
		return bad("%d bytes of sealed shares for %d shares", len(offer.Sealed), len(offer.Indices))
	case m.AllOrNothing && q.Kind == KindBuy && !locked:
		return bad("an all-or-nothing campaign sells pledges only on a rail that holds them")
	}
	var want int64
	var err error
	switch {
	case q.Kind == KindDonate:
		want = q.Amount
	case m.Model == campaign.ModelPay:
		if len(offer.Indices) != 0 {
			return bad("sells shares of a campaign of model pay")
		}
		want, err = m.PriceFor(0, 1)
	default:
		n, last := len(offer.Indices), int64(-1)
		if n > 0 {
			last = int64(offer.Indices[n-1])
		}
		if n != q.Shares || n == 0 || last >= int64(m.Shards) {
			return bad("%d shares up to index %d, asked for %d of %d", n, last, q.Shares, m.Shards)
		}
		want, err = m.PriceOfShares(offer.Indices)
	}
	if err != nil {
		return bad("pricing: %v", err)
	}
	if offer.Price.Minor != want {
		return bad("price %v, the manifest says %v", offer.Price, pay.Amount{Minor: want, Currency: m.Currency})
	}
	return nil
}

// verifyDelivery checks a delivery against its offer: the receipt's
// signature and terms, and the payload.
func (c *Client) verifyDelivery(o Order, offer *Offer, v *delivery) (*Purchase, error) {
	r := v.Receipt
	if err := r.Verify(o.Manifest); err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("delivery of offer %v: %s: %w", offer.ID, fmt.Sprintf(format, args...), ErrBadOffer)
	}
	if v.ID != offer.ID || r.Offer != offer.ID || !r.Campaign.Equals(offer.Campaign) || r.Buyer != offer.Buyer ||
		r.Kind != offer.Kind || !slices.Equal(r.Indices, offer.Indices) || r.Amount != offer.Price {
		return nil, bad("receipt does not match the offer")
	}
	p := &Purchase{Offer: offer, Receipt: r}
	switch {
	case offer.Kind == KindDonate:
		if len(v.Payload) != 0 {
			return nil, bad("a donation delivers nothing")
		}
	case o.Manifest.Model == campaign.ModelPay:
		id, err := seal.UnwrapIdentity(v.Payload, c.identity)
		if err != nil {
			return nil, bad("%v", err)
		}
		p.Identity = id
	default:
		sh, err := c.openShares(o, offer, v.Payload)
		if err != nil {
			return nil, bad("%v", err)
		}
		p.Shares = sh
	}
	return p, nil
}

// openShares decrypts delivered shares and verifies each against the
// commitments.
func (c *Client) openShares(o Order, offer *Offer, payload []byte) ([]shares.Share, error) {
	r, err := age.Decrypt(bytes.NewReader(payload), c.identity)
	if err != nil {
		return nil, err
	}
	plain, err := io.ReadAll(io.LimitReader(r, int64(len(offer.Indices)*shares.ShareSize)+1))
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	return decodeShares(offer, plain, o.Commitments)
}

// exchange sends one request on a new stream and returns the decoded
// answer. Errors of the network are returned as they are (worth a
// retry); a malformed answer wraps ErrBadOffer. A retry forces a fresh
// dial past libp2p's dial backoff.
func (c *Client) exchange(ctx context.Context, p peer.ID, req []byte, retry bool) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.AttemptTimeout)
	defer cancel()
	if retry {
		ctx = network.WithForceDirectDial(ctx, "market: retrying a paid offer")
	}
	st, err := c.h.NewStream(ctx, p, ProtocolID)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		st.SetDeadline(dl)
	}
	if _, err := st.Write(appendFrame(make([]byte, 0, len(req)+4), req)); err != nil {
		st.Reset()
		return nil, err
	}
	st.CloseWrite()
	body, err := readFrame(st, MaxMessageSize)
	if err != nil {
		st.Reset()
		if errors.Is(err, errWire) {
			return nil, fmt.Errorf("%v: %w", err, ErrBadOffer)
		}
		return nil, err
	}
	st.Close()
	msg, err := decodeMessage(body)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrBadOffer)
	}
	return msg, nil
}

// unexpected turns an answer of the wrong type into an error.
func unexpected(resp any) error {
	if e, ok := resp.(*errorMsg); ok {
		return &RemoteError{Code: e.Code, Message: e.Message}
	}
	return fmt.Errorf("unexpected %T answer: %w", resp, ErrBadOffer)
}
