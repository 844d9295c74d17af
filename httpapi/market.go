package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
)

// Market is what the buying endpoints need of a node.
type Market interface {
	// Buy and Donate run a purchase under the caller's request ID ("" for
	// none); one that outlives ctx goes on (a *market.PendingError).
	Buy(ctx context.Context, id cid.Cid, k int, request string) (*market.Purchase, error)
	Donate(ctx context.Context, id cid.Cid, amount int64, request string) (*market.Purchase, error)
	Receipts(ctx context.Context, id cid.Cid) ([]market.PurchaseRecord, error)
	Balance(ctx context.Context, currency string) (int64, error)
	// BalanceRail names the rail whose wallet Balance reads for currency.
	BalanceRail(currency string) string
	SalesOverTime(ctx context.Context, id cid.Cid, bucket time.Duration) ([]market.Point, error)
	// AddProof verifies a proof that a creator sold bad shares, and if it
	// holds, rejects the creator's campaigns and tells the network. It
	// returns what the proof shows.
	AddProof(ctx context.Context, raw []byte) (string, error)
}

// MaxProofSize bounds POST /api/v1/proofs: a proof holds a manifest and
// one offer.
const MaxProofSize = 2 << 20

// ProofResponse answers POST /api/v1/proofs for a valid proof.
type ProofResponse struct {
	Valid    bool   `json:"valid"`
	Campaign string `json:"campaign"`
	Creator  string `json:"creator"`
	Offer    string `json:"offer"`
	Reason   string `json:"reason"`
}

// handleProof checks the proof of misbehaviour in the body; a valid one
// is kept and spread, and the creator's campaigns are rejected.
func (s *Server) handleProof(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxProofSize+1))
	if err != nil {
		writeError(w, bodyStatus(err), fmt.Errorf("reading the proof: %w", err))
		return
	}
	if len(raw) > MaxProofSize {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("proof of more than %d bytes", MaxProofSize))
		return
	}
	p, err := market.DecodeProof(raw)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	reason, err := s.m.AddProof(r.Context(), raw)
	if err != nil {
		status := http.StatusUnprocessableEntity
		if !errors.Is(err, market.ErrNotProof) {
			status = http.StatusBadGateway // the commitments could not be fetched
		}
		writeError(w, status, fmt.Errorf("checking the proof: %w", err))
		return
	}
	creator, _ := p.Creator()
	writeJSON(w, http.StatusOK, ProofResponse{Valid: true, Campaign: p.Campaign().String(), Creator: creator.String(),
		Offer: p.Offer.ID.String(), Reason: reason})
}

// SalesPoint is one bucket of a campaign's sales over time; amounts in
// minor units.
type SalesPoint struct {
	Start     string `json:"start"`
	Sales     int    `json:"sales"`
	Shares    int    `json:"shares"`
	Raised    int64  `json:"raised"`
	Donations int    `json:"donations"`
	Donated   int64  `json:"donated"`
}

// handleSales answers GET /api/v1/campaigns/ID/sales?bucket=SECONDS with the
// creator's ledger in buckets (60 s unless asked).
func (s *Server) handleSales(w http.ResponseWriter, r *http.Request) {
	e, ok := s.campaign(w, r)
	if !ok {
		return
	}
	bucket := time.Minute
	if v := r.URL.Query().Get("bucket"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 86400*366 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("bucket %q: want seconds, 1 to a year", v))
			return
		}
		bucket = time.Duration(n) * time.Second
	}
	pts, err := s.m.SalesOverTime(r.Context(), e.ID, bucket)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := []SalesPoint{}
	for _, p := range pts {
		out = append(out, SalesPoint{Start: p.Start.UTC().Format(time.RFC3339), Sales: p.Sales, Shares: p.Shares,
			Raised: p.Raised, Donations: p.Donations, Donated: p.Donated})
	}
	writeJSON(w, http.StatusOK, out)
}

// ReceiptInfo is a signed receipt as the API shows it. Amount is in minor
// units of Currency.
type ReceiptInfo struct {
	Offer    string   `json:"offer"`
	Campaign string   `json:"campaign"`
	Kind     string   `json:"kind"`
	Creator  string   `json:"creator,omitempty"`
	Status   string   `json:"status,omitempty"`
	Amount   int64    `json:"amount"`
	Currency string   `json:"currency"`
	Rail     string   `json:"rail,omitempty"`
	Indices  []uint32 `json:"indices,omitempty"`
	Time     string   `json:"time"`
	// Receipt is the creator-signed receipt, base64.
	Receipt string `json:"receipt,omitempty"`
	// Pledged marks a pledge to an all-or-nothing campaign, whose funds
	// are held until Until: settled if the goal is met, returned if not.
	Pledged bool   `json:"pledged,omitempty"`
	Until   string `json:"until,omitempty"`
	// Note says why a purchase failed, or what holds up a pending one.
	Note string `json:"note,omitempty"`
	// RequestID is the request ID the purchase was made under, if any.
	RequestID string `json:"request_id,omitempty"`
}

func receiptInfo(r *market.Receipt) ReceiptInfo {
	return ReceiptInfo{
		Offer: r.Offer.String(), Campaign: r.Campaign.String(), Kind: r.Kind.String(),
		Amount: r.Amount.Minor, Currency: r.Amount.Currency, Indices: r.Indices,
		Time: r.Time.UTC().Format(time.RFC3339), Receipt: base64.StdEncoding.EncodeToString(r.Marshal()),
	}
}

// BuyRequest is the body of POST /api/v1/campaigns/ID/buy. Shares is
// the number of shares (model shards; 1 if left out) or 0 or 1 (model
// pay). RequestID, or the Idempotency-Key header, names the request: the
// same ID again returns the first purchase's outcome instead of buying
// again.
type BuyRequest struct {
	Shares    int    `json:"shares"`
	RequestID string `json:"request_id,omitempty"`
}

// DonateRequest is the body of POST /api/v1/campaigns/ID/donate.
type DonateRequest struct {
	Amount    int64  `json:"amount"`
	RequestID string `json:"request_id,omitempty"`
}

// PurchaseWait bounds how long a buy or donate request waits for its
// purchase; one still under way then is answered 202 pending, and the
// node goes on with it.
const PurchaseWait = time.Minute

// buyBody is BuyRequest as decoded: a left-out share count is told from 0.
type buyBody struct {
	Shares    *int   `json:"shares"`
	RequestID string `json:"request_id"`
}

// requestID returns the request's ID: the body's, else the
// Idempotency-Key header's; both given must agree.
func requestID(r *http.Request, inBody string) (string, error) {
	h := r.Header.Get("Idempotency-Key")
	switch {
	case h != "" && inBody != "" && h != inBody:
		return "", fmt.Errorf("request_id %q and Idempotency-Key %q differ", inBody, h)
	case inBody != "":
		h = inBody
	}
	if len(h) > market.MaxRequestID {
		return "", fmt.Errorf("request ID of %d bytes: at most %d", len(h), market.MaxRequestID)
	}
	for i := 0; i < len(h); i++ {
		if h[i] < 0x21 || h[i] > 0x7e {
			return "", fmt.Errorf("request ID %.40q: printable ASCII only", h)
		}
	}
	return h, nil
}

func marketStatus(err error) int {
	var re *market.RemoteError
	switch {
	case errors.Is(err, catalog.ErrUnknown):
		return http.StatusNotFound
	case errors.Is(err, market.ErrBadOrder):
		return http.StatusBadRequest
	case errors.Is(err, market.ErrSoldOut), errors.Is(err, market.ErrHeld), errors.Is(err, catalog.ErrRejected):
		return http.StatusConflict
	case errors.Is(err, pay.ErrInsufficientFunds):
		return http.StatusPaymentRequired
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.As(err, &re):
		switch re.Code {
		case market.CodeNotFound:
			return http.StatusNotFound
		case market.CodeClosed:
			return http.StatusConflict
		case market.CodeUnsupported:
			return http.StatusBadRequest
		}
	}
	return http.StatusBadGateway
}

// checkPurchase answers the caller's mistakes before a purchase reaches
// the market: a node buying its own campaign, or a model that sells
// nothing.
func (s *Server) checkPurchase(w http.ResponseWriter, e catalog.Entry, buying bool, shares int) bool {
	m := e.Manifest
	switch {
	case m.Creator == s.b.ID():
		writeError(w, http.StatusConflict, &ownError{e.ID.String()})
	case e.Rejected != "":
		writeError(w, http.StatusConflict, fmt.Errorf("campaign %s: %w: %s", e.ID, catalog.ErrRejected, e.Rejected))
	case buying && m.Model == campaign.ModelOpen:
		writeError(w, http.StatusBadRequest, fmt.Errorf("campaign %s is open: nothing to buy, donate instead", e.ID))
	case buying && m.Model == campaign.ModelShards && (shares < 1 || shares > market.MaxSharesPerOffer):
		writeError(w, http.StatusBadRequest, fmt.Errorf("buying %d shares: want 1 to %d", shares, market.MaxSharesPerOffer))
	default:
		return true
	}
	return false
}

func (s *Server) handleBuy(w http.ResponseWriter, r *http.Request) {
	e, ok := s.campaign(w, r)
	if !ok {
		return
	}
	var req buyBody
	if !decodeJSON(w, r, &req) {
		return
	}
	rid, err := requestID(r, req.RequestID)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	k := 0
	switch {
	case req.Shares != nil:
		k = *req.Shares
	case e.Manifest.Model == campaign.ModelShards:
		k = 1
	}
	if k < 0 || (k == 0 && e.Manifest.Model == campaign.ModelShards) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("buying %d shares of %s: ask for at least one", k, e.ID))
		return
	}
	if !s.checkPurchase(w, e, true, k) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), PurchaseWait)
	defer cancel()
	p, err := s.m.Buy(ctx, e.ID, k, rid)
	s.answerPurchase(w, "buying", "bought", rid, e.ID, p, err)
}

// answerPurchase writes the receipt of a purchase or donation (200), the
// state of one still under way (202: it may complete; its receipt will
// say), or the error that stopped it.
// doing names the attempt in errors ("buying"), done the success in logs.
func (s *Server) answerPurchase(w http.ResponseWriter, doing, done, rid string, id cid.Cid, p *market.Purchase, err error) {
	var pending *market.PendingError
	if errors.As(err, &pending) {
		ri := ReceiptInfo{Campaign: id.String(), Status: "pending", Time: time.Now().UTC().Format(time.RFC3339), Note: pending.Err.Error(),
			RequestID: rid}
		if o := pending.Offer; o != nil {
			ri.Offer, ri.Kind, ri.Amount, ri.Currency, ri.Rail, ri.Indices = o.ID.String(), o.Kind.String(), o.Price.Minor, o.Price.Currency, o.Rail, o.Indices
		}
		s.log.Info("purchase pending", "campaign", id, "offer", ri.Offer, "why", ri.Note)
		writeJSON(w, http.StatusAccepted, ri)
		return
	}
	if err != nil {
		writeError(w, marketStatus(err), fmt.Errorf("%s %s: %w", doing, id, err))
		return
	}
	var ri ReceiptInfo
	if p.Receipt != nil {
		ri = receiptInfo(p.Receipt)
	} else {
		// A pledge, or shares the payment unsealed before the creator's
		// receipt came.
		o := p.Offer
		ri = ReceiptInfo{Offer: o.ID.String(), Campaign: o.Campaign.String(), Kind: o.Kind.String(), Amount: o.Price.Minor,
			Currency: o.Price.Currency, Indices: o.Indices, Time: time.Now().UTC().Format(time.RFC3339)}
	}
	ri.Rail, ri.Status = p.Offer.Rail, "complete"
	if p.Pledged {
		ri.Pledged, ri.Status, ri.Until = true, "pledged", p.Until.UTC().Format(time.RFC3339)
		done = "pledged"
	}
	s.log.Info(done, "campaign", id, "offer", p.Offer.ID, "amount", ri.Amount, "currency", ri.Currency)
	writeJSON(w, http.StatusOK, ri)
}

func (s *Server) handleDonate(w http.ResponseWriter, r *http.Request) {
	e, ok := s.campaign(w, r)
	if !ok {
		return
	}
	var req DonateRequest
	if !decodeJSON(w, r, &req) || !s.checkPurchase(w, e, false, 0) {
		return
	}
	rid, err := requestID(r, req.RequestID)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if req.Amount <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("donation amount %d: must be positive", req.Amount))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), PurchaseWait)
	defer cancel()
	p, err := s.m.Donate(ctx, e.ID, req.Amount, rid)
	s.answerPurchase(w, "donating to", "donated", rid, e.ID, p, err)
}

func (s *Server) handleReceipts(w http.ResponseWriter, r *http.Request) {
	id := cid.Undef
	if v := r.URL.Query().Get("campaign"); v != "" {
		var err error
		if id, err = cid.Decode(v); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("bad campaign ID %q: %w", v, err))
			return
		}
	}
	recs, err := s.m.Receipts(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	out := []ReceiptInfo{}
	for _, rec := range recs {
		var ri ReceiptInfo
		if rec.Receipt != nil {
			ri = receiptInfo(rec.Receipt)
		} else {
			// Not delivered (yet): what is at stake is the offer's price.
			o := rec.Offer
			ri = ReceiptInfo{Offer: o.ID.String(), Campaign: o.Campaign.String(), Kind: o.Kind.String(),
				Amount: o.Price.Minor, Currency: o.Price.Currency, Indices: o.Indices, Time: rec.Created.UTC().Format(time.RFC3339)}
		}
		ri.Creator, ri.Status, ri.Rail, ri.Note, ri.RequestID = rec.Creator.String(), rec.Status, rec.Offer.Rail, rec.Note, rec.Request
		if rec.Status == "pledged" {
			ri.Pledged = true
		}
		out = append(out, ri)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleWallet(w http.ResponseWriter, r *http.Request) {
	cur := r.URL.Query().Get("currency")
	if cur == "" {
		cur = "USD"
	}
	bal, err := s.m.Balance(r.Context(), cur)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, pay.ErrCurrency) {
			status = http.StatusBadRequest
		}
		writeError(w, status, err)
		return
	}
	rail := s.m.BalanceRail(cur)
	writeJSON(w, http.StatusOK, map[string]any{"rail": rail, "test_money": rail == pay.TestRailName, "currency": cur, "balance": bal})
}
