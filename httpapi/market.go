package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ipfs/go-cid"

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
	SalesOverTime(ctx context.Context, id cid.Cid, bucket time.Duration) ([]market.Point, error)
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

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, fmt.Errorf("decoding request: %w", err))
		return false
	}
	return true
}

func marketStatus(err error) int {
	switch {
	case errors.Is(err, catalog.ErrUnknown):
		return http.StatusNotFound
	case errors.Is(err, market.ErrSoldOut):
		return http.StatusConflict
	case errors.Is(err, pay.ErrInsufficientFunds):
		return http.StatusPaymentRequired
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

func (s *Server) handleBuy(w http.ResponseWriter, r *http.Request) {
	e, ok := s.campaign(w, r)
	if !ok {
		return
	}
	var req BuyRequest
	if !decodeBody(w, r, &req) {
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
	s.log.Info(done, "campaign", id, "offer", p.Offer.ID, "amount", p.Receipt.Amount)
	ri := receiptInfo(p.Receipt)
	ri.Rail = p.Payment.Rail
	writeJSON(w, http.StatusOK, ri)
}

func (s *Server) handleDonate(w http.ResponseWriter, r *http.Request) {
	e, ok := s.campaign(w, r)
	if !ok {
		return
	}
	var req DonateRequest
	if !decodeBody(w, r, &req) {
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
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rail": "test", "test_money": true, "currency": cur, "balance": bal})
}
