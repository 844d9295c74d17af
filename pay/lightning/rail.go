package lightning

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shardcast/shardcast/pay"
)

// Name is the rail's name.
const Name = "lightning"

// Currency is the only currency the rail moves; amounts are in
// millisatoshis, its minor unit.
const Currency = "BTC"

// HoldMarker ends the description of the hold invoices this rail issues,
// which is how Decode tells the payer that an invoice is one. It is
// informational: nothing in BOLT 11 makes a payee honest about it.
const HoldMarker = " [hold]"

// Options configure a Rail.
type Options struct {
	// RESTAddr is LND's REST listener, host:port or an https URL.
	RESTAddr string
	// TLSCertPath is LND's tls.cert, the only certificate the rail trusts
	// unless HTTPClient is set.
	TLSCertPath string
	// MacaroonPath is a macaroon file allowing invoices and payments
	// (admin.macaroon); empty sends none.
	MacaroonPath string
	// HTTPClient, if not nil, is used instead of one built from
	// TLSCertPath. It must have no Timeout: payments and waits stream.
	HTTPClient *http.Client
	// FeeLimitMsat caps the routing fee of each payment; 0 means 1% of
	// the amount plus 1000 msat.
	FeeLimitMsat int64
	// PayTimeout bounds how long LND tries routes for a payment; 0 means
	// a minute.
	PayTimeout time.Duration
	// Now is the rail's clock, for judging expiry; nil means time.Now.
	Now func() time.Time
}

// Rail is a pay.Rail over one LND node's REST API.
type Rail struct {
	base     string
	macaroon string
	hc       *http.Client
	opts     Options
	now      func() time.Time

	mu        sync.Mutex
	pubkey    []byte              // the node's key, once known
	preimages map[[32]byte][]byte // of hold invoices issued without a hash
}

var _ pay.Rail = (*Rail)(nil)

// New returns a rail talking to the LND node opts describe. It reads the
// certificate and macaroon files but does not contact the node.
func New(opts Options) (*Rail, error) {
	base := opts.RESTAddr
	if base == "" {
		return nil, errors.New("lightning: no REST address")
	}
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("lightning: REST address %q: not host:port or a URL", opts.RESTAddr)
	}
	r := &Rail{base: strings.TrimRight(base, "/"), hc: opts.HTTPClient, opts: opts, now: opts.Now,
		preimages: make(map[[32]byte][]byte)}
	if r.now == nil {
		r.now = time.Now
	}
	if opts.MacaroonPath != "" {
		mac, err := os.ReadFile(opts.MacaroonPath)
		if err != nil {
			return nil, fmt.Errorf("lightning: reading the macaroon: %w", err)
		}
		r.macaroon = hex.EncodeToString(mac)
	}
	if r.hc == nil {
		pem, err := os.ReadFile(opts.TLSCertPath)
		if err != nil {
			return nil, fmt.Errorf("lightning: reading LND's TLS certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("lightning: %s holds no PEM certificate", opts.TLSCertPath)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		r.hc = &http.Client{Transport: tr}
	}
	return r, nil
}

// Name returns "lightning".
func (r *Rail) Name() string { return Name }

func checkAmount(a pay.Amount) error {
	if a.Currency != Currency {
		return fmt.Errorf("lightning: amount %v: only %s moves on Lightning: %w", a, Currency, pay.ErrCurrency)
	}
	if a.Minor <= 0 {
		return fmt.Errorf("lightning: amount %v: must be positive", a)
	}
	return nil
}

// CreateInvoice issues a BOLT 11 invoice, or a hold invoice. A hold
// invoice with a HoldUntil asks for a final CLTV delta that keeps the
// payment held until then (see MaxHold), or fails with
// pay.ErrHoldTooLong.
func (r *Rail) CreateInvoice(ctx context.Context, req pay.InvoiceRequest) (pay.Invoice, error) {
	if err := checkAmount(req.Amount); err != nil {
		return pay.Invoice{}, err
	}
	if len(req.Memo) > pay.MaxMemo || !utf8.ValidString(req.Memo) {
		return pay.Invoice{}, fmt.Errorf("lightning: memo: want at most %d bytes of UTF-8: %w", pay.MaxMemo, pay.ErrBadRequest)
	}
	expiry := req.Expiry
	if expiry <= 0 {
		expiry = pay.DefaultExpiry
	}
	secs := int64((expiry + time.Second - 1) / time.Second)
	var payreq string
	if !req.Hold {
		var out struct {
			PaymentRequest string `json:"payment_request"`
		}
		in := map[string]any{"value_msat": int64s(req.Amount.Minor), "memo": req.Memo, "expiry": int64s(secs)}
		if err := r.call(ctx, "adding an invoice", http.MethodPost, "/v1/invoices", in, &out); err != nil {
			return pay.Invoice{}, err
		}
		payreq = out.PaymentRequest
	} else {
		cltv, err := holdCLTVUntil(req.HoldUntil, r.now())
		if err != nil {
			return pay.Invoice{}, err
		}
		var hash [32]byte
		var keep []byte
		if req.PaymentHash != nil {
			hash = *req.PaymentHash
		} else {
			keep = make([]byte, 32)
			if _, err := rand.Read(keep); err != nil {
				return pay.Invoice{}, fmt.Errorf("lightning: making a preimage: %w", err)
			}
			hash = sha256.Sum256(keep)
			r.mu.Lock()
			r.preimages[hash] = keep
			r.mu.Unlock()
		}
		var out struct {
			PaymentRequest string `json:"payment_request"`
		}
		in := map[string]any{"hash": hash[:], "value_msat": int64s(req.Amount.Minor),
			"memo": req.Memo + HoldMarker, "expiry": int64s(secs)}
		if cltv > 0 {
			in["cltv_expiry"] = int64s(cltv)
		}
		if err := r.call(ctx, "adding a hold invoice", http.MethodPost, "/v2/invoices/hodl", in, &out); err != nil {
			return pay.Invoice{}, err
		}
		payreq = out.PaymentRequest
	}
	inv, err := r.Decode(ctx, payreq)
	if err != nil {
		return pay.Invoice{}, fmt.Errorf("lightning: decoding the invoice LND just issued: %w", err)
	}
	return inv, nil
}

// Decode asks LND to parse and check a BOLT 11 request.
func (r *Rail) Decode(ctx context.Context, request string) (pay.Invoice, error) {
	if request == "" || len(request) > 7089 || strings.ContainsAny(request, "/?#% \t\r\n") {
		return pay.Invoice{}, fmt.Errorf("lightning: decoding a request: not BOLT 11: %w", pay.ErrBadRequest)
	}
	var pr lndPayReq
	if err := r.call(ctx, "decoding a request", http.MethodGet, "/v1/payreq/"+url.PathEscape(request), nil, &pr); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && !errors.Is(err, pay.ErrDenied) {
			return pay.Invoice{}, fmt.Errorf("%w: %w", err, pay.ErrBadRequest)
		}
		return pay.Invoice{}, err
	}
	inv, err := payReqInvoice(pr)
	if err != nil {
		return pay.Invoice{}, fmt.Errorf("lightning: decoding a request: %w: %w", err, pay.ErrBadRequest)
	}
	inv.Request = request
	return inv, nil
}

// payReqInvoice turns LND's decoded request into an Invoice.
func payReqInvoice(pr lndPayReq) (pay.Invoice, error) {
	hash, err := hex.DecodeString(pr.PaymentHash)
	if err != nil || len(hash) != 32 {
		return pay.Invoice{}, fmt.Errorf("payment hash %.80q: want 32 bytes of hex", pr.PaymentHash)
	}
	payee, err := hex.DecodeString(pr.Destination)
	if err != nil || len(payee) != 33 {
		return pay.Invoice{}, fmt.Errorf("destination %.80q: want a 33-byte key in hex", pr.Destination)
	}
	if pr.NumMsat <= 0 || pr.Timestamp < 0 || pr.Expiry <= 0 || pr.Timestamp > 1<<40 || pr.Expiry > 1<<40 {
		return pay.Invoice{}, fmt.Errorf("amount %d msat, timestamp %d, expiry %d: want positive", pr.NumMsat, pr.Timestamp, pr.Expiry)
	}
	inv := pay.Invoice{
		ID:      pr.PaymentHash,
		Rail:    Name,
		Amount:  pay.Amount{Minor: int64(pr.NumMsat), Currency: Currency},
		Memo:    pr.Description,
		Created: time.Unix(int64(pr.Timestamp), 0),
		Expires: time.Unix(int64(pr.Timestamp+pr.Expiry), 0),
		Payee:   payee,
	}
	copy(inv.PaymentHash[:], hash)
	inv.Memo, inv.Hold = strings.CutSuffix(inv.Memo, HoldMarker)
	return inv, nil
}

// invoiceHash parses an invoice ID, the payment hash in hex.
func invoiceHash(id string) ([32]byte, error) {
	var h [32]byte
	if len(id) != 64 || strings.ToLower(id) != id {
		return h, fmt.Errorf("lightning: invoice %.80q: %w", id, pay.ErrUnknownInvoice)
	}
	if _, err := hex.Decode(h[:], []byte(id)); err != nil {
		return h, fmt.Errorf("lightning: invoice %.80q: %w", id, pay.ErrUnknownInvoice)
	}
	return h, nil
}

// nodeKey returns the node's public key, asking LND once.
func (r *Rail) nodeKey(ctx context.Context) ([]byte, error) {
	r.mu.Lock()
	k := r.pubkey
	r.mu.Unlock()
	if k != nil {
		return k, nil
	}
	var info struct {
		IdentityPubkey string `json:"identity_pubkey"`
	}
	if err := r.call(ctx, "getting the node's key", http.MethodGet, "/v1/getinfo", nil, &info); err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(info.IdentityPubkey)
	if err != nil || len(k) != 33 {
		return nil, fmt.Errorf("lightning: node key %.80q: want 33 bytes of hex", info.IdentityPubkey)
	}
	r.mu.Lock()
	r.pubkey = k
	r.mu.Unlock()
	return k, nil
}

// status maps LND's invoice state to a pay.Status at time now. LND
// cancels expired invoices itself; one canceled unpaid after its expiry
// is reported Expired.
func status(li lndInvoice, now time.Time) (pay.Status, error) {
	expired := !now.Before(time.Unix(int64(li.CreationDate+li.Expiry), 0))
	switch li.State {
	case "OPEN":
		if expired {
			return pay.Expired, nil
		}
		return pay.Open, nil
	case "ACCEPTED":
		return pay.Accepted, nil
	case "SETTLED":
		return pay.Settled, nil
	case "CANCELED":
		if expired && li.AmtPaidMsat == 0 {
			return pay.Expired, nil
		}
		return pay.Canceled, nil
	}
	return 0, fmt.Errorf("lightning: unknown invoice state %.40q", li.State)
}

// lookup fetches the invoice with this ID from LND.
func (r *Rail) lookup(ctx context.Context, id string) (lndInvoice, [32]byte, error) {
	h, err := invoiceHash(id)
	if err != nil {
		return lndInvoice{}, h, err
	}
	var li lndInvoice
	if err := r.call(ctx, "looking up invoice "+id, http.MethodGet, "/v1/invoice/"+id, nil, &li); err != nil {
		if notFound(err) {
			return li, h, fmt.Errorf("%w: %w", err, pay.ErrUnknownInvoice)
		}
		return li, h, err
	}
	if string(li.RHash) != string(h[:]) {
		return li, h, fmt.Errorf("lightning: LND answered invoice %x for %s", li.RHash, id)
	}
	return li, h, nil
}

// Lookup returns an invoice the node issued and its status.
func (r *Rail) Lookup(ctx context.Context, invoiceID string) (pay.Invoice, pay.Status, error) {
	li, h, err := r.lookup(ctx, invoiceID)
	if err != nil {
		return pay.Invoice{}, 0, err
	}
	st, err := status(li, r.now())
	if err != nil {
		return pay.Invoice{}, 0, err
	}
	key, err := r.nodeKey(ctx)
	if err != nil {
		return pay.Invoice{}, 0, err
	}
	inv := pay.Invoice{
		ID: invoiceID, Rail: Name, Amount: pay.Amount{Minor: int64(li.ValueMsat), Currency: Currency},
		Created: time.Unix(int64(li.CreationDate), 0), Expires: time.Unix(int64(li.CreationDate+li.Expiry), 0),
		PaymentHash: h, Payee: key, Request: li.PaymentRequest,
	}
	inv.Memo, inv.Hold = strings.CutSuffix(li.Memo, HoldMarker)
	return inv, st, nil
}

// Claim ignores proof — the node sees payments itself — and reports the
// invoice's status; an expired invoice is an ErrExpired error.
func (r *Rail) Claim(ctx context.Context, invoiceID string, proof []byte) (pay.Status, error) {
	_, st, err := r.Lookup(ctx, invoiceID)
	if err != nil {
		return 0, err
	}
	if st == pay.Expired {
		return st, fmt.Errorf("lightning: claiming invoice %s: %w", invoiceID, pay.ErrExpired)
	}
	return st, nil
}

// Wait follows the invoice over LND's invoice subscription until
// until(status) holds.
func (r *Rail) Wait(ctx context.Context, invoiceID string, until func(pay.Status) bool) (pay.Status, error) {
	_, st, err := r.Lookup(ctx, invoiceID)
	if err != nil {
		return 0, err
	}
	if until(st) {
		return st, nil
	}
	h, _ := invoiceHash(invoiceID)
	path := "/v2/invoices/subscribe/" + base64.URLEncoding.EncodeToString(h[:])
	err = r.stream(ctx, "waiting on invoice "+invoiceID, http.MethodGet, path, nil, func(res json.RawMessage) (bool, error) {
		var li lndInvoice
		if err := json.Unmarshal(res, &li); err != nil {
			return false, fmt.Errorf("decoding an invoice update: %w", err)
		}
		if st, err = status(li, r.now()); err != nil {
			return false, err
		}
		if !until(st) && st != pay.Open && st != pay.Accepted {
			return false, fmt.Errorf("invoice became %v, which is final: %w", st, pay.ErrState)
		}
		return until(st), nil
	})
	if err != nil {
		return 0, err
	}
	return st, nil
}

// Settle settles an Accepted hold invoice with its preimage; a nil
// preimage means the one the rail made for a hold invoice issued without
// a payment hash.
func (r *Rail) Settle(ctx context.Context, invoiceID string, preimage []byte) error {
	li, h, err := r.lookup(ctx, invoiceID)
	if err != nil {
		return err
	}
	st, err := status(li, r.now())
	if err != nil {
		return err
	}
	switch st {
	case pay.Settled:
		return nil
	case pay.Canceled, pay.Expired:
		return fmt.Errorf("lightning: settling invoice %s: %w", invoiceID, pay.ErrCanceled)
	case pay.Open:
		return fmt.Errorf("lightning: settling invoice %s: it is %v: %w", invoiceID, st, pay.ErrState)
	}
	if preimage == nil {
		r.mu.Lock()
		preimage = r.preimages[h]
		r.mu.Unlock()
	}
	if sha256.Sum256(preimage) != h {
		return fmt.Errorf("lightning: settling invoice %s: %w", invoiceID, pay.ErrPreimage)
	}
	err = r.call(ctx, "settling invoice "+invoiceID, http.MethodPost, "/v2/invoices/settle", map[string]any{"preimage": preimage}, nil)
	if err != nil {
		if _, st, lerr := r.Lookup(ctx, invoiceID); lerr == nil && st == pay.Settled {
			return nil // a concurrent Settle won
		}
		return err
	}
	r.mu.Lock()
	delete(r.preimages, h)
	r.mu.Unlock()
	return nil
}

// Cancel cancels an invoice that is not settled; LND fails the payer's
// held payment, which returns the funds.
func (r *Rail) Cancel(ctx context.Context, invoiceID string) error {
	li, h, err := r.lookup(ctx, invoiceID)
	if err != nil {
		return err
	}
	st, err := status(li, r.now())
	if err != nil {
		return err
	}
	switch st {
	case pay.Settled:
		return fmt.Errorf("lightning: canceling invoice %s: it is settled: %w", invoiceID, pay.ErrState)
	case pay.Canceled:
		return nil
	}
	err = r.call(ctx, "canceling invoice "+invoiceID, http.MethodPost, "/v2/invoices/cancel", map[string]any{"payment_hash": h[:]}, nil)
	if err != nil {
		if li, _, lerr := r.lookup(ctx, invoiceID); lerr == nil && li.State == "CANCELED" {
			return nil
		}
		return err
	}
	return nil
}

// RefundVoucher returns the payment hash of a Canceled or Expired
// invoice: the network already gave the payer its money back, and the
// payer's Refund only reports it.
func (r *Rail) RefundVoucher(ctx context.Context, invoiceID string) ([]byte, error) {
	_, st, err := r.Lookup(ctx, invoiceID)
	if err != nil {
		return nil, err
	}
	if st != pay.Canceled && st != pay.Expired {
		return nil, fmt.Errorf("lightning: refund voucher for invoice %s: it is %v: %w", invoiceID, st, pay.ErrState)
	}
	h, _ := invoiceHash(invoiceID)
	return h[:], nil
}
