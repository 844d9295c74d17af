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
	Buy(ctx context.Context, id cid.Cid, k int) (*market.Purchase, error)
	Donate(ctx context.Context, id cid.Cid, amount int64) (*market.Purchase, error)
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
}

func receiptInfo(r *market.Receipt) ReceiptInfo {
	return ReceiptInfo{
		Offer: r.Offer.String(), Campaign: r.Campaign.String(), Kind: r.Kind.String(),
		Amount: r.Amount.Minor, Currency: r.Amount.Currency, Indices: r.Indices,
		Time: r.Time.UTC().Format(time.RFC3339), Receipt: base64.StdEncoding.EncodeToString(r.Marshal()),
	}
}

// BuyRequest is the body of POST /api/v1/campaigns/ID/buy.
type BuyRequest struct {
	Shares int `json:"shares"`
}

// DonateRequest is the body of POST /api/v1/campaigns/ID/donate.
type DonateRequest struct {
	Amount int64 `json:"amount"`
}

func marketStatus(err error) int {
	var re *market.RemoteError
	switch {
	case errors.Is(err, catalog.ErrUnknown):
		return http.StatusNotFound
	case errors.Is(err, market.ErrSoldOut), errors.Is(err, catalog.ErrRejected):
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
		writeError(w, http.StatusConflict, fmt.Errorf("campaign %s is this node's own", e.ID))
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
	var req BuyRequest
	if !decodeJSON(w, r, &req) || !s.checkPurchase(w, e, true, req.Shares) {
		return
	}
	p, err := s.m.Buy(r.Context(), e.ID, req.Shares)
	s.answerPurchase(w, "buying", "bought", e.ID, p, err)
}

// answerPurchase writes the receipt of a purchase or donation, or the
// error that stopped it.
// doing names the attempt in errors ("buying"), done the success in logs.
func (s *Server) answerPurchase(w http.ResponseWriter, doing, done string, id cid.Cid, p *market.Purchase, err error) {
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
	ri.Rail = p.Offer.Rail
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
	if req.Amount <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Errorf("donation amount %d: must be positive", req.Amount))
		return
	}
	p, err := s.m.Donate(r.Context(), e.ID, req.Amount)
	s.answerPurchase(w, "donating to", "donated", e.ID, p, err)
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
			ri = ReceiptInfo{Offer: rec.Offer.ID.String(), Campaign: rec.Offer.Campaign.String(), Kind: rec.Offer.Kind.String(),
				Time: rec.Created.UTC().Format(time.RFC3339)}
		}
		ri.Creator, ri.Status = rec.Creator.String(), rec.Status
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
