package lightning

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pay/paytest"
)

// TestPayerErrors: a macaroon LND refuses is pay.ErrDenied, a definitive
// failure that blames this node's LND, not the creator's invoice; an LND
// that cannot be reached is an ambiguous failure, and neither error
// repeats the payment request.
func TestPayerErrors(t *testing.T) {
	ctx := context.Background()
	clock := paytest.NewClock(time.Unix(1_700_000_000, 0))
	n := newFakeNet(t, clock.Now, 0, 100_000_000)
	payee := n.rail(t, 0)
	inv, err := payee.CreateInvoice(ctx, pay.InvoiceRequest{Amount: pay.Amount{Minor: 250_000, Currency: Currency}, Memo: "x"})
	if err != nil {
		t.Fatal(err)
	}

	refusing := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lndErr(w, http.StatusInternalServerError, 2, "verification failed: permission denied")
	}))
	defer refusing.Close()
	readOnly, err := New(Options{RESTAddr: refusing.Listener.Addr().String(), HTTPClient: refusing.Client(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Decode": func() error { _, err := readOnly.Decode(ctx, inv.Request); return err },
		"Pay":    func() error { _, err := readOnly.Pay(ctx, inv.Request); return err },
	} {
		err := call()
		if !errors.Is(err, pay.ErrDenied) || errors.Is(err, pay.ErrBadRequest) || !pay.Definitive(err) {
			t.Errorf("%s with a refused macaroon: got %v, want ErrDenied, not ErrBadRequest", name, err)
		}
		if strings.Contains(err.Error(), inv.Request) {
			t.Errorf("%s: the error repeats the payment request: %v", name, err)
		}
	}

	down, err := New(Options{RESTAddr: "127.0.0.1:1", HTTPClient: &http.Client{}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = down.Pay(ctx, inv.Request)
	if err == nil || pay.Definitive(err) || strings.Contains(err.Error(), inv.Request) || !strings.Contains(err.Error(), "cannot reach this node's LND") {
		t.Errorf("Pay with LND down: got %v, want an ambiguous error naming this node's LND, without the request", err)
	}
	if len(err.Error()) > 200 {
		t.Errorf("Pay with LND down: %d characters of error, want one short line", len(err.Error()))
	}
}

// TestStreamError: a streaming call's refusal, {"error": {…}} with a
// non-200 status, is read as LND's error, not kept as raw JSON.
func TestStreamError(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":{"code":2,"message":"permission denied","details":[]}}`))
	}))
	defer srv.Close()
	r, err := New(Options{RESTAddr: srv.Listener.Addr().String(), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.track(context.Background(), [32]byte{1})
	var ae *apiError
	if !errors.As(err, &ae) || ae.Code != 2 || ae.Message != "permission denied" || !errors.Is(err, pay.ErrDenied) || strings.Contains(err.Error(), "{") {
		t.Fatalf("a streaming call refused: got %v, want LND's code 2 and message, as ErrDenied", err)
	}
}
