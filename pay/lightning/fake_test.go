package lightning

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeNet imitates two LND nodes joined by one channel, answering the
// REST calls the rail makes with the shapes LND uses (64-bit integers as
// strings, bytes as base64, streams as {"result": …} lines, errors as
// {"code", "message"}). Time is the test's clock.
type fakeNet struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	now      func() time.Time
	nodes    []*fakeNode
	invoices map[[32]byte]*fakeInvoice
	requests map[string][32]byte
	payments map[[32]byte]*lndPayment
	seq      int
}

type fakeNode struct {
	key     string
	balance int64 // msat
	// lag imitates a commitment update under way: the reported balance
	// is off by lagMsat while pending lists HTLCs still on the channel.
	lagMsat int64
	pending []any
	srv     *httptest.Server
	cert    string // PEM file
}

type fakeInvoice struct {
	lndInvoice
	payee *fakeNode
	cltv  int64s // the cltv_expiry the payee asked for, 0 if none
}

func newFakeNet(t *testing.T, now func() time.Time, balances ...int64) *fakeNet {
	n := &fakeNet{changed: make(chan struct{}), now: now, invoices: make(map[[32]byte]*fakeInvoice),
		requests: make(map[string][32]byte), payments: make(map[[32]byte]*lndPayment)}
	for i, b := range balances {
		nd := &fakeNode{key: fmt.Sprintf("02%064x", i+1), balance: b}
		nd.srv = httptest.NewTLSServer(n.handler(nd))
		t.Cleanup(nd.srv.Close)
		nd.cert = filepath.Join(t.TempDir(), "tls.cert")
		p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: nd.srv.Certificate().Raw})
		if err := os.WriteFile(nd.cert, p, 0o600); err != nil {
			t.Fatal(err)
		}
		n.nodes = append(n.nodes, nd)
	}
	return n
}

// rail returns a rail talking to node i.
func (n *fakeNet) rail(t *testing.T, i int) *Rail {
	t.Helper()
	mac := filepath.Join(t.TempDir(), "admin.macaroon")
	if err := os.WriteFile(mac, []byte("fake macaroon"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{RESTAddr: n.nodes[i].srv.Listener.Addr().String(), TLSCertPath: n.nodes[i].cert,
		MacaroonPath: mac, Now: n.now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// change wakes the streams; n.mu is held.
func (n *fakeNet) change() {
	close(n.changed)
	n.changed = make(chan struct{})
}

func lndErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(lndError{Code: code, Message: msg})
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// follow streams what next returns whenever the network changes, until
// done says so or the client goes away. next runs with n.mu held.
func (n *fakeNet) follow(w http.ResponseWriter, r *http.Request, next func() (v any, done bool)) {
	w.Header().Set("Content-Type", "application/json")
	var last []byte
	for {
		n.mu.Lock()
		v, done := next()
		ch := n.changed
		n.mu.Unlock()
		b, _ := json.Marshal(map[string]any{"result": v})
		if !bytes.Equal(b, last) {
			w.Write(append(b, '\n'))
			w.(http.Flusher).Flush()
			last = b
		}
		if done {
			return
		}
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		}
	}
}

func (n *fakeNet) handler(nd *fakeNode) http.Handler {
	mux := http.NewServeMux()
	decode := func(r *http.Request, v any) bool { return json.NewDecoder(r.Body).Decode(v) == nil }
	mux.HandleFunc("GET /v1/getinfo", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]any{"identity_pubkey": nd.key, "synced_to_chain": true})
	})
	mux.HandleFunc("GET /v1/balance/channels", func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		defer n.mu.Unlock()
		b := nd.balance + nd.lagMsat
		answer(w, map[string]any{"local_balance": map[string]int64s{"sat": int64s(b / 1000), "msat": int64s(b)}})
	})
	mux.HandleFunc("GET /v1/channels", func(w http.ResponseWriter, r *http.Request) {
		// The imitation moves balances atomically: no HTLC is pending
		// unless a test says so.
		n.mu.Lock()
		defer n.mu.Unlock()
		answer(w, map[string]any{"channels": []any{map[string]any{"chan_id": "1", "pending_htlcs": append([]any{}, nd.pending...)}}})
	})
	add := func(w http.ResponseWriter, hash [32]byte, preimage []byte, cltv int64s, in struct {
		ValueMsat int64s `json:"value_msat"`
		Memo      string `json:"memo"`
		Expiry    int64s `json:"expiry"`
	}) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if _, ok := n.invoices[hash]; ok {
			lndErr(w, 500, 2, "invoice with payment hash already exists")
			return
		}
		n.seq++
		req := fmt.Sprintf("lnbcrtfake%d1%x", n.seq, hash)
		n.invoices[hash] = &fakeInvoice{payee: nd, cltv: cltv, lndInvoice: lndInvoice{Memo: in.Memo, RPreimage: preimage, RHash: hash[:],
			ValueMsat: in.ValueMsat, CreationDate: int64s(n.now().Unix()), PaymentRequest: req, Expiry: in.Expiry, State: "OPEN"}}
		n.requests[req] = hash
		answer(w, map[string]any{"r_hash": hash[:], "payment_request": req, "add_index": int64s(n.seq)})
	}
	mux.HandleFunc("POST /v1/invoices", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ValueMsat int64s `json:"value_msat"`
			Memo      string `json:"memo"`
			Expiry    int64s `json:"expiry"`
		}
		if !decode(r, &in) {
			lndErr(w, 400, 3, "bad body")
			return
		}
		pre := make([]byte, 32)
		n.mu.Lock()
		n.seq++
		copy(pre, fmt.Sprintf("preimage %d", n.seq))
		n.mu.Unlock()
		add(w, sha256.Sum256(pre), pre, 0, in)
	})
	mux.HandleFunc("POST /v2/invoices/hodl", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Hash       []byte `json:"hash"`
			ValueMsat  int64s `json:"value_msat"`
			Memo       string `json:"memo"`
			Expiry     int64s `json:"expiry"`
			CLTVExpiry int64s `json:"cltv_expiry"`
		}
		if !decode(r, &in) || len(in.Hash) != 32 {
			lndErr(w, 400, 3, "bad body")
			return
		}
		if in.CLTVExpiry != 0 && (in.CLTVExpiry < 18 || in.CLTVExpiry > 65535) {
			lndErr(w, 500, 2, fmt.Sprintf("CLTV delta of %d is out of range", in.CLTVExpiry))
			return
		}
		add(w, [32]byte(in.Hash), nil, in.CLTVExpiry, struct {
			ValueMsat int64s `json:"value_msat"`
			Memo      string `json:"memo"`
			Expiry    int64s `json:"expiry"`
		}{in.ValueMsat, in.Memo, in.Expiry})
	})
	mux.HandleFunc("GET /v1/payreq/{req}", func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		defer n.mu.Unlock()
		h, ok := n.requests[r.PathValue("req")]
		if !ok {
			lndErr(w, 500, 2, "checksum failed")
			return
		}
		inv := n.invoices[h]
		cltv := inv.cltv
		if cltv == 0 {
			cltv = 80 // LND's default
		}
		answer(w, lndPayReq{Destination: inv.payee.key, PaymentHash: hex.EncodeToString(h[:]), NumMsat: inv.ValueMsat,
			Timestamp: inv.CreationDate, Expiry: inv.Expiry, Description: inv.Memo, CLTVExpiry: cltv})
	})
	mux.HandleFunc("GET /v1/invoice/{hash}", func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		defer n.mu.Unlock()
		h, err := hex.DecodeString(r.PathValue("hash"))
		inv, ok := n.invoices[[32]byte(append(h, make([]byte, 32)...))]
		if err != nil || len(h) != 32 || !ok || inv.payee != nd {
			lndErr(w, 404, 5, "unable to locate invoice")
			return
		}
		answer(w, inv.lndInvoice)
	})
	mux.HandleFunc("GET /v2/invoices/subscribe/{hash}", func(w http.ResponseWriter, r *http.Request) {
		h, err := base64.URLEncoding.DecodeString(r.PathValue("hash"))
		if err != nil || len(h) != 32 {
			lndErr(w, 400, 3, "bad hash")
			return
		}
		n.follow(w, r, func() (any, bool) {
			inv, ok := n.invoices[[32]byte(h)]
			if !ok {
				return nil, true
			}
			return inv.lndInvoice, inv.State == "SETTLED" || inv.State == "CANCELED"
		})
	})
	mux.HandleFunc("POST /v2/invoices/settle", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Preimage []byte `json:"preimage"`
		}
		decode(r, &in)
		n.mu.Lock()
		defer n.mu.Unlock()
		inv, ok := n.invoices[sha256.Sum256(in.Preimage)]
		switch {
		case !ok || inv.payee != nd:
			lndErr(w, 404, 5, "unable to locate invoice")
		case inv.State != "ACCEPTED":
			lndErr(w, 500, 2, "invoice still open")
		default:
			inv.State, inv.RPreimage = "SETTLED", in.Preimage
			nd.balance += int64(inv.ValueMsat)
			p := n.payments[[32]byte(inv.RHash)]
			p.Status, p.PaymentPreimage = "SUCCEEDED", hex.EncodeToString(in.Preimage)
			n.change()
			answer(w, map[string]any{})
		}
	})
	mux.HandleFunc("POST /v2/invoices/cancel", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			PaymentHash []byte `json:"payment_hash"`
		}
		decode(r, &in)
		n.mu.Lock()
		defer n.mu.Unlock()
		inv, ok := n.invoices[[32]byte(append(in.PaymentHash, make([]byte, 32)...))]
		switch {
		case !ok || inv.payee != nd:
			lndErr(w, 404, 5, "unable to locate invoice")
		case inv.State == "SETTLED":
			lndErr(w, 500, 2, "invoice already settled")
		default:
			if p := n.payments[[32]byte(inv.RHash)]; inv.State == "ACCEPTED" && p != nil {
				p.Status, p.FailureReason = "FAILED", "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS"
				for _, o := range n.nodes {
					if o != nd && o.key != "" {
						o.balance += int64(inv.ValueMsat) // one channel: the other node paid
					}
				}
			}
			inv.State = "CANCELED"
			n.change()
			answer(w, map[string]any{})
		}
	})
	mux.HandleFunc("POST /v2/router/send", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			PaymentRequest string `json:"payment_request"`
		}
		decode(r, &in)
		n.mu.Lock()
		h, ok := n.requests[in.PaymentRequest]
		if !ok {
			n.mu.Unlock()
			lndErr(w, 500, 2, "checksum failed")
			return
		}
		inv, p := n.invoices[h], n.payments[h]
		switch {
		case p != nil && p.Status == "SUCCEEDED":
			n.mu.Unlock()
			lndErr(w, 500, 2, "invoice is already paid")
			return
		case p != nil && p.Status == "IN_FLIGHT":
			n.mu.Unlock()
			lndErr(w, 500, 2, "payment is in transition")
			return
		}
		p = &lndPayment{PaymentHash: hex.EncodeToString(h[:]), ValueMsat: inv.ValueMsat, Status: "FAILED",
			PaymentPreimage: "0000000000000000000000000000000000000000000000000000000000000000"}
		n.payments[h] = p
		switch {
		case inv.State != "OPEN" || !n.now().Before(time.Unix(int64(inv.CreationDate+inv.Expiry), 0)):
			p.FailureReason = "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS"
		case nd.balance < int64(inv.ValueMsat):
			p.FailureReason = "FAILURE_REASON_INSUFFICIENT_BALANCE"
		case inv.RPreimage == nil:
			nd.balance -= int64(inv.ValueMsat)
			inv.State, inv.AmtPaidMsat, p.Status = "ACCEPTED", inv.ValueMsat, "IN_FLIGHT"
		default:
			nd.balance -= int64(inv.ValueMsat)
			inv.payee.balance += int64(inv.ValueMsat)
			inv.State, inv.AmtPaidMsat = "SETTLED", inv.ValueMsat
			p.Status, p.PaymentPreimage = "SUCCEEDED", hex.EncodeToString(inv.RPreimage)
		}
		n.change()
		n.mu.Unlock()
		n.follow(w, r, func() (any, bool) { return *p, final(p.Status) })
	})
	mux.HandleFunc("GET /v2/router/track/{hash}", func(w http.ResponseWriter, r *http.Request) {
		h, err := base64.URLEncoding.DecodeString(r.PathValue("hash"))
		n.mu.Lock()
		p, ok := n.payments[[32]byte(append(h, make([]byte, 32)...))]
		n.mu.Unlock()
		if err != nil || len(h) != 32 || !ok {
			lndErr(w, 404, 5, "payment isn't initiated")
			return
		}
		n.follow(w, r, func() (any, bool) { return *p, final(p.Status) })
	})
	return mux
}
