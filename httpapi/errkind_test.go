package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/libp2p/go-libp2p/p2p/net/swarm"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/catalog"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
)

// Each error a page must put in its own words has a kind, however deep
// in the chain its cause is; the rest fall back on their status.
func TestErrorKind(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("buying bafy: paying offer 12: %w", err) }
	for _, tt := range []struct {
		status int
		err    error
		want   string
	}{
		{http.StatusPaymentRequired, wrap(pay.ErrInsufficientFunds), KindInsufficientFunds},
		{http.StatusConflict, wrap(market.ErrSoldOut), KindSoldOut},
		{http.StatusConflict, wrap(&market.RemoteError{Code: market.CodeSoldOut, Message: "2 left"}), KindSoldOut},
		{http.StatusConflict, wrap(&market.RemoteError{Code: market.CodeClosed, Message: "closed at noon"}), KindEnded},
		{http.StatusConflict, wrap(catalog.ErrRejected), KindRejected},
		{http.StatusBadGateway, wrap(pay.ErrNoRoute), KindPaymentFailed},
		{http.StatusBadGateway, wrap(market.ErrFailed), KindPaymentFailed},
		{http.StatusBadGateway, wrap(swarm.ErrNoAddresses), KindCreatorOffline},
		{http.StatusBadGateway, wrap(&swarm.DialError{}), KindCreatorOffline},
		{http.StatusBadGateway, wrap(&url.Error{Op: "Post", URL: "https://lnd/v1", Err: errors.New("connection refused")}), KindRailUnreachable},
		{http.StatusGatewayTimeout, wrap(context.DeadlineExceeded), KindTimeout},
		{http.StatusBadRequest, fmt.Errorf("publishing: %w", &campaign.TermError{Field: "price", Reason: "must be positive"}), KindBadTerm},
		{http.StatusConflict, &ownError{"bafy"}, KindOwn},
		{http.StatusBadRequest, errors.New("bad campaign ID"), KindBadRequest},
		{http.StatusNotFound, errors.New("unknown campaign"), KindNotFound},
		{http.StatusInternalServerError, errors.New("disk full"), KindInternal},
	} {
		if got := errorKind(tt.status, tt.err); got != tt.want {
			t.Errorf("%d %v: kind %q, want %q", tt.status, tt.err, got, tt.want)
		}
	}
	// The kind travels next to the message.
	w := httptest.NewRecorder()
	writeError(w, http.StatusPaymentRequired, wrap(pay.ErrInsufficientFunds))
	var got ErrorResponse
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Kind != KindInsufficientFunds || got.Error == "" {
		t.Errorf("answer %s: %+v %v", w.Body, got, err)
	}
}
