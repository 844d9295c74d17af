package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/seal"
)

// Campaigns is what the campaign endpoints need of a node.
type Campaigns interface {
	Catalog() *catalog.Catalog
	// Publish checks the terms (campaign.Terms.Check) before it reads r;
	// a broken rule is a *campaign.TermError.
	Publish(ctx context.Context, terms campaign.Terms, r io.Reader) (catalog.Entry, error)
	// OpenCampaign returns the plaintext of a campaign this node can read.
	OpenCampaign(ctx context.Context, id cid.Cid) (io.ReaderAt, int64, catalog.Entry, error)
	// OpenCampaignAt is OpenCampaign for a reader that starts at plaintext
	// offset at (-1 if unknown).
	OpenCampaignAt(ctx context.Context, id cid.Cid, at int64) (io.ReaderAt, int64, catalog.Entry, error)
	// CanRead reports whether this node can decrypt the campaign.
	CanRead(e catalog.Entry) bool
	// ContentKey returns the age identity that decrypts content c, when
	// this node holds it.
	ContentKey(c cid.Cid) (*age.X25519Identity, error)
	// Pooled returns how many of a shards campaign's shares this node holds.
	Pooled(id cid.Cid) int
	// Release publishes the unsold shares of one of this node's shards
	// campaigns.
	Release(ctx context.Context, id cid.Cid) (int, error)
}

// CampaignInfo is a campaign as the API and `status --json` show it.
// Amounts are integers in minor units of Currency.
type CampaignInfo struct {
	ID          string   `json:"id"`
	Model       string   `json:"model"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	MediaType   string   `json:"media_type"`
	Creator     string   `json:"creator"`
	Content     string   `json:"content"`
	ContentSize int64    `json:"content_size"`
	Currency    string   `json:"currency"`
	Price       int64    `json:"price"`
	PriceNow    int64    `json:"price_now"`
	Goal        int64    `json:"goal"`
	Suggested   []int64  `json:"suggested,omitempty"`
	Sold        int64    `json:"sold"`
	Pooled      int64    `json:"pooled"`
	Needed      int64    `json:"needed"`
	Raised      int64    `json:"raised"`
	Donated     int64    `json:"donated"`
	Deadline    string   `json:"deadline"`
	Created     string   `json:"created"`
	Unlocked    bool     `json:"unlocked"`
	Mine        bool     `json:"mine"`
	Rails       []string `json:"rails"`
	// AllOrNothing campaigns take pledges (Lightning hold invoices);
	// Pledged counts the shares pledged and held: from the creator's
	// ledger on its node, from its signed state elsewhere.
	AllOrNothing bool   `json:"all_or_nothing,omitempty"`
	Shortfall    string `json:"shortfall,omitempty"`
	Pledged      int64  `json:"pledged"`
	// Outcome is how an all-or-nothing campaign ended ("deciding", "met"
	// or "short"; campaign.Outcome), and OutcomeNote says it in words.
	Outcome     string `json:"outcome,omitempty"`
	OutcomeNote string `json:"outcome_note,omitempty"`
	// PriceNow (above) is what the next share or access costs: the price
	// the creator's quote charges, from campaign.NextPrice over the shares
	// sold and pledged. SoldOut says no share is left; Tiers is the price
	// schedule of a shards campaign, run by run.
	SoldOut bool       `json:"sold_out,omitempty"`
	Tiers   []TierInfo `json:"tiers,omitempty"`
	// Rejected says why this node refuses the campaign: its creator is
	// proven to have sold bad shares.
	Rejected string `json:"rejected,omitempty"`
	// Stage is where the campaign stands (campaign.Stage: "open",
	// "sold_out", "funded", "released", "deciding", "locked"); Released
	// says the creator's node published the unsold shares. Bought counts
	// the shares or accesses this node bought or pledged for, Owned says
	// it bought into the campaign, and CanBuy says a buy from this node
	// can succeed (campaign.Standing).
	Stage    string `json:"stage"`
	Released bool   `json:"released"`
	Bought   int64  `json:"bought"`
	Owned    bool   `json:"owned"`
	CanBuy   bool   `json:"can_buy"`
	// Quote is what more shares of a shards campaign on sale cost now:
	// Quote[k-1] for k shares (campaign.Figures.Totals), up to
	// campaign.MaxQuoted.
	Quote []int64 `json:"quote,omitempty"`
}

// TierInfo is one run of shares at one price: shares First to
// First+Count-1, counted from 0 in the order they are sold.
type TierInfo struct {
	First int   `json:"first"`
	Count int   `json:"count"`
	Price int64 `json:"price"`
	// Left counts the run's shares still unsold and unpledged.
	Left int64 `json:"left"`
}

// bought counts the shares (shards) or accesses (pay) this node bought or
// pledged for, per campaign, from its receipts; nil if they cannot be
// read. The receipts are the node's secret: a caller without a credential
// (the catalog is open on loopback) or from another site is told nothing.
func (s *Server) bought(r *http.Request) map[cid.Cid]int64 {
	if s.m == nil || crossSite(r) != "" || !s.keys.authorized(r) {
		return nil
	}
	recs, err := s.m.Receipts(r.Context(), cid.Undef)
	if err != nil {
		s.log.Warn("reading receipts for the campaigns' figures", "err", err)
		return nil
	}
	out := map[cid.Cid]int64{}
	for _, r := range recs {
		if r.Offer == nil || r.Offer.Kind != market.KindBuy || (r.Status != "complete" && r.Status != "pledged") {
			continue
		}
		n := int64(len(r.Offer.Indices))
		if n == 0 {
			n = 1 // access to a pay campaign
		}
		out[r.Offer.Campaign] += n
	}
	return out
}

// info renders a campaign's figures, computed by campaign.FiguresOf;
// bought is this node's purchases (Server.bought).
func (s *Server) info(e catalog.Entry, bought map[cid.Cid]int64) CampaignInfo {
	m := e.Manifest
	mine := m.Creator == s.b.ID()
	seen := campaign.Seen{State: e.State, Unlocked: s.c.CanRead(e), Mine: mine, Bought: bought[e.ID]}
	if mine && s.Stats != nil {
		if st, err := s.Stats(e.ID); err == nil {
			seen.Ledger = &st
		}
	}
	if m.Model == campaign.ModelShards {
		seen.Pooled = s.c.Pooled(e.ID)
	}
	f := campaign.FiguresOf(m, seen, time.Now())
	ci := CampaignInfo{
		ID: e.ID.String(), Model: string(m.Model), Title: m.Title, Description: m.Description,
		MediaType: m.MediaType, Creator: m.Creator.String(), Content: m.Content.String(),
		ContentSize: m.ContentSize, Currency: m.Currency, Price: m.Price, PriceNow: f.PriceNow,
		Goal: f.Goal, Suggested: m.Suggested, Needed: f.Needed, Pooled: f.Pooled,
		Sold: f.Sold, Raised: f.Raised, Donated: f.Donated, Pledged: f.Pledged,
		Created:  m.Created.UTC().Format(time.RFC3339),
		Unlocked: f.Unlocked, Mine: mine, SoldOut: f.SoldOut,
		Rails: m.Rails, AllOrNothing: m.AllOrNothing, Shortfall: string(m.Shortfall), Rejected: e.Rejected,
		Outcome: string(f.Outcome), OutcomeNote: f.OutcomeNote,
		Stage: string(f.Stands.Stage), Released: f.Stands.Released, Bought: f.Stands.Bought,
		Owned: f.Stands.Owned, CanBuy: f.Stands.CanBuy,
	}
	for i, st := range f.Steps {
		ti := TierInfo{First: st.First, Count: st.Count, Price: st.Price}
		if i < len(f.Left) {
			ti.Left = f.Left[i]
		}
		ci.Tiers = append(ci.Tiers, ti)
	}
	ci.Quote = f.Totals
	if !f.Deadline.IsZero() {
		ci.Deadline = f.Deadline.UTC().Format(time.RFC3339)
	}
	return ci
}

// TermErrorResponse is the error of a publish whose terms break a rule:
// Term names the field, so a client can point at its own input.
type TermErrorResponse struct {
	ErrorResponse
	Term *campaign.TermError `json:"term"`
}

// Stats are a campaign's sales as this node's ledger knows them.
type Stats = campaign.Sales

func (s *Server) handleCampaigns(w http.ResponseWriter, r *http.Request) {
	out := []CampaignInfo{}
	bought := s.bought(r)
	for _, e := range s.c.Catalog().List() {
		out = append(out, s.info(e, bought))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) campaign(w http.ResponseWriter, r *http.Request) (catalog.Entry, bool) {
	id, err := cid.Decode(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad campaign ID %q: %w", r.PathValue("id"), err))
		return catalog.Entry{}, false
	}
	e, err := s.c.Catalog().Get(id)
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return catalog.Entry{}, false
	}
	return e, true
}

func (s *Server) handleCampaign(w http.ResponseWriter, r *http.Request) {
	if e, ok := s.campaign(w, r); ok {
		writeJSON(w, http.StatusOK, s.info(e, s.bought(r)))
	}
}

// handlePublish takes the content as the request body and the terms as
// query parameters, amounts already in minor units, and passes them to
// the node, which checks them. A term that breaks a rule is answered 400
// with the field ("term": campaign.TermError).
func (s *Server) handlePublish(w http.ResponseWriter, r *http.Request) {
	terms, err := PublishTerms(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	e, err := s.c.Publish(r.Context(), terms, r.Body)
	if err != nil {
		status := http.StatusInternalServerError
		if st := bodyStatus(err); st != http.StatusBadRequest {
			status = st // the upload failed
		} else if errors.Is(err, campaign.ErrBadManifest) {
			status = http.StatusBadRequest
		}
		err = fmt.Errorf("publishing: %w", err)
		var te *campaign.TermError
		if errors.As(err, &te) && status == http.StatusBadRequest {
			writeJSON(w, status, TermErrorResponse{ErrorResponse{Error: err.Error(), Kind: KindBadTerm}, te})
			return
		}
		writeError(w, status, err)
		return
	}
	s.log.Info("published", "campaign", e.ID, "model", e.Manifest.Model, "content", e.Manifest.Content)
	writeJSON(w, http.StatusOK, s.info(e, nil))
}

// PublishQuery writes terms as the query parameters of POST
// /api/v1/publish, amounts in minor units; zero fields are left out. The
// API takes one early tier: the first of Schedule.
func PublishQuery(t campaign.Terms) url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	num := func(k string, n int64) {
		if n != 0 {
			q.Set(k, strconv.FormatInt(n, 10))
		}
	}
	set("model", string(t.Model))
	set("title", t.Title)
	set("description", t.Description)
	set("media_type", t.MediaType)
	set("currency", t.Currency)
	num("price", t.Price)
	num("shards", int64(t.Shards))
	num("goal", t.Goal)
	if len(t.Schedule) > 0 {
		num("early_count", int64(t.Schedule[0].Count))
		num("early_price", t.Schedule[0].Price)
	}
	if len(t.Suggested) > 0 {
		parts := make([]string, len(t.Suggested))
		for i, n := range t.Suggested {
			parts[i] = strconv.FormatInt(n, 10)
		}
		q.Set("suggested", strings.Join(parts, ","))
	}
	if !t.Deadline.IsZero() {
		q.Set("deadline", t.Deadline.UTC().Format(time.RFC3339))
	}
	set("rails", strings.Join(t.Rails, ","))
	if t.AllOrNothing {
		q.Set("all_or_nothing", "true")
	}
	set("shortfall", string(t.Shortfall))
	return q
}

// PublishTerms reads the terms of POST /api/v1/publish from its query
// parameters (PublishQuery). It checks only that numbers and times parse:
// the rules are campaign.Terms.Check's.
func PublishTerms(q url.Values) (campaign.Terms, error) {
	t := campaign.Terms{
		Model:        campaign.Model(q.Get("model")),
		Title:        q.Get("title"),
		Description:  q.Get("description"),
		MediaType:    q.Get("media_type"),
		Currency:     q.Get("currency"),
		AllOrNothing: q.Get("all_or_nothing") == "true",
		Shortfall:    campaign.Shortfall(q.Get("shortfall")),
	}
	var err error
	intParam := func(name string) int64 {
		v := q.Get(name)
		if v == "" || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			err = fmt.Errorf("parameter %s: %w", name, perr)
		}
		return n
	}
	t.Price = intParam("price")
	t.Shards = int(intParam("shards"))
	if n := intParam("early_count"); n > 0 {
		t.Schedule = []campaign.Tier{{Count: int(n), Price: intParam("early_price")}}
	}
	t.Goal = intParam("goal")
	if v := q.Get("suggested"); v != "" {
		for _, f := range strings.Split(v, ",") {
			n, perr := strconv.ParseInt(f, 10, 64)
			if perr != nil && err == nil {
				err = fmt.Errorf("parameter suggested: %w", perr)
			}
			t.Suggested = append(t.Suggested, n)
		}
	}
	if v := q.Get("deadline"); v != "" && err == nil {
		if t.Deadline, err = time.Parse(time.RFC3339, v); err != nil {
			err = fmt.Errorf("parameter deadline: %w", err)
		}
	}
	if v := q.Get("rails"); v != "" {
		t.Rails = strings.Split(v, ",")
	}
	return t, err
}

// handleWatch streams a campaign's plaintext with Range, or answers 403
// while this node cannot decrypt it. Plaintext is only ever produced from
// chunks that authenticated: a damaged chunk ends the response early.
// It runs on the gateway: off loopback it needs the token or a capability
// from GET /api/v1/campaigns/ID/watch (?cap=...), since a <video> element
// sends no header.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request) {
	id, err := cid.Decode(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad campaign ID %q: %w", r.PathValue("id"), err))
		return
	}
	if !s.gwHosts.loopback && !s.keys.bearer(r) {
		if err := s.keys.checkWatchCapability(id.String(), r.URL.Query().Get("cap"), s.now()); err != nil {
			writeError(w, http.StatusUnauthorized, err)
			return
		}
	}
	e, err := s.c.Catalog().Get(id)
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	if !s.c.CanRead(e) {
		writeError(w, http.StatusForbidden, fmt.Errorf("campaign %s is locked: this node holds no key for it", id))
		return
	}
	at := int64(-1)
	if start, _, ok := singleRange(r.Header.Get("Range"), e.Manifest.ContentSize); ok {
		at = start
	}
	ra, size, _, err := s.c.OpenCampaignAt(r.Context(), id, at)
	if err != nil {
		if r.Context().Err() == nil {
			writeError(w, statusOf(err), err)
		}
		return
	}
	h := w.Header()
	h.Set("Content-Type", mediaOnly(e.Manifest.MediaType))
	h.Set("Etag", `"`+id.String()+`"`)
	h.Set("Cache-Control", "private, no-store")
	s.serveContent(w, r, seal.NewReadSeeker(ra, size))
}

// mediaOnly returns a campaign's media type when it names audio, video or
// a raster image, and application/octet-stream for anything else: the
// creator picks the type, and a type a browser would run (HTML, SVG,
// script) must never be served.
func mediaOnly(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil {
		return mediaUpload
	}
	major, _, _ := strings.Cut(mt, "/")
	switch {
	case mt == "image/svg+xml" || strings.Contains(mt, "xml") || strings.Contains(mt, "html"):
		return mediaUpload
	case major == "audio" || major == "video" || major == "image":
		return t
	}
	return mediaUpload
}

// WatchResponse answers GET /api/v1/campaigns/ID/watch.
type WatchResponse struct {
	// URL is the campaign's player stream on the gateway, as the caller
	// reaches it; off loopback it carries a capability valid until
	// Expires.
	URL     string `json:"url"`
	Expires string `json:"expires,omitempty"`
}

// handleWatchURL tells an authenticated caller where the campaign's
// stream is.
func (s *Server) handleWatchURL(w http.ResponseWriter, r *http.Request) {
	e, ok := s.campaign(w, r)
	if !ok {
		return
	}
	gw := s.gatewayOrigin(r)
	if gw == "" {
		writeError(w, http.StatusNotFound, errors.New("this daemon serves no gateway"))
		return
	}
	out := WatchResponse{URL: gw + "/watch/" + e.ID.String()}
	if !s.gwHosts.loopback {
		exp := s.now().Add(WatchCapabilityTTL)
		out.URL += "?cap=" + s.keys.watchCapability(e.ID.String(), exp)
		out.Expires = exp.UTC().Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) handleRelease(w http.ResponseWriter, r *http.Request) {
	e, ok := s.campaign(w, r)
	if !ok {
		return
	}
	if !decodeJSON(w, r, &struct{}{}) {
		return
	}
	switch {
	case e.Manifest.Model != campaign.ModelShards:
		writeError(w, http.StatusBadRequest, fmt.Errorf("campaign %s is a %s campaign: only shards campaigns have shares to release", e.ID, e.Manifest.Model))
		return
	case e.Manifest.Creator != s.b.ID():
		writeError(w, http.StatusForbidden, fmt.Errorf("campaign %s is not this node's: only its creator can release it", e.ID))
		return
	}
	k, err := s.c.Release(r.Context(), e.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaign": e.ID.String(), "released": k})
}

// handleKey returns the age identity of a campaign this node can decrypt:
// after a shards campaign unlocks it is public, and the stock age CLI
// decrypts the ciphertext with it.
func (s *Server) handleKey(w http.ResponseWriter, r *http.Request) {
	e, ok := s.campaign(w, r)
	if !ok {
		return
	}
	if e.Manifest.Model == campaign.ModelOpen {
		writeError(w, http.StatusBadRequest, fmt.Errorf("campaign %s is open: its content is not encrypted", e.ID))
		return
	}
	id, err := s.c.ContentKey(e.Manifest.Content)
	if err != nil {
		writeError(w, http.StatusForbidden, fmt.Errorf("campaign %s is locked: this node holds no key for it", e.ID))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"campaign": e.ID.String(), "content": e.Manifest.Content.String(), "identity": id.String()})
}
