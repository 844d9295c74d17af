package lightning

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shardcast/shardcast/pay"
)

// The shapes of LND's REST answers that the rail reads. LND's REST
// gateway writes 64-bit integers as JSON strings and bytes as standard
// base64; int64s accepts numbers too.

// int64s is an int64 that LND writes as a string ("250") or a number.
type int64s int64

func (n *int64s) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("lightning: integer %.40q: %w", b, err)
	}
	*n = int64s(v)
	return nil
}

func (n int64s) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(strconv.FormatInt(int64(n), 10))), nil
}

// lndInvoice is lnrpc.Invoice, as GET /v1/invoice/{hash} and the invoice
// subscription return it.
type lndInvoice struct {
	Memo           string `json:"memo"`
	RPreimage      []byte `json:"r_preimage"`
	RHash          []byte `json:"r_hash"`
	ValueMsat      int64s `json:"value_msat"`
	CreationDate   int64s `json:"creation_date"`
	PaymentRequest string `json:"payment_request"`
	Expiry         int64s `json:"expiry"`
	State          string `json:"state"` // OPEN, ACCEPTED, SETTLED, CANCELED
	AmtPaidMsat    int64s `json:"amt_paid_msat"`
}

// lndPayReq is lnrpc.PayReq, the answer of GET /v1/payreq/{request}.
type lndPayReq struct {
	Destination string `json:"destination"`  // hex node key
	PaymentHash string `json:"payment_hash"` // hex
	NumMsat     int64s `json:"num_msat"`
	Timestamp   int64s `json:"timestamp"`
	Expiry      int64s `json:"expiry"`
	Description string `json:"description"`
	CLTVExpiry  int64s `json:"cltv_expiry"` // the final CLTV delta, in blocks
}

// lndPayment is lnrpc.Payment, as the router's send and track streams
// return it.
type lndPayment struct {
	PaymentHash     string `json:"payment_hash"` // hex
	ValueMsat       int64s `json:"value_msat"`
	PaymentPreimage string `json:"payment_preimage"` // hex
	Status          string `json:"status"`           // INITIATED, IN_FLIGHT, SUCCEEDED, FAILED
	FailureReason   string `json:"failure_reason"`
}

// lndError is the REST gateway's error body, also carried by streams.
type lndError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// apiError is an error LND answered, with the HTTP status and gRPC code.
type apiError struct {
	op     string
	status int
	lndError
}

func (e *apiError) Error() string {
	if denied(e.status, e.Code, e.Message) {
		return fmt.Sprintf("lightning: %s: this node's LND refused its macaroon (%s): it must allow paying (offchain:write)", e.op, e.Message)
	}
	return fmt.Sprintf("lightning: %s: LND answered %d (code %d): %s", e.op, e.status, e.Code, e.Message)
}

// Unwrap makes a refusal of the macaroon match pay.ErrDenied.
func (e *apiError) Unwrap() error {
	if denied(e.status, e.Code, e.Message) {
		return pay.ErrDenied
	}
	return nil
}

// denied says whether LND refused the caller: HTTP 401 or 403, gRPC
// PermissionDenied (7) or Unauthenticated (16), or a macaroon refused.
func denied(status, code int, msg string) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden || code == 7 || code == 16 ||
		strings.Contains(msg, "permission denied") || strings.Contains(msg, "macaroon")
}

// notFound says whether err is LND's "no such thing" (gRPC NotFound).
func notFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && (ae.status == http.StatusNotFound || ae.Code == 5 ||
		strings.Contains(ae.Message, "unable to locate invoice") || strings.Contains(ae.Message, "not found"))
}

// message returns LND's message if err is an apiError, else "".
func message(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return ""
}

// maxBody bounds what the rail reads of one answer or one stream line.
const maxBody = 1 << 20

// call sends one REST request with the macaroon and decodes the JSON
// answer into out (if not nil).
func (r *Rail) call(ctx context.Context, op, method, path string, in, out any) error {
	resp, err := r.do(ctx, op, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("lightning: %s: reading the answer: %w", op, err))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("lightning: %s: decoding the answer: %w", op, err)
	}
	return nil
}

// do sends a request and returns a 200 response; any other status
// becomes an *apiError.
func (r *Rail) do(ctx context.Context, op, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("lightning: %s: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("lightning: %s: %w", op, err)
	}
	if r.macaroon != "" {
		req.Header.Set("Grpc-Metadata-macaroon", r.macaroon)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		// The URL may hold a whole payment request: name the node, not it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, ctxErr(ctx, fmt.Errorf("lightning: %s: cannot reach this node's LND at %s: %w", op, strings.TrimPrefix(r.base, "https://"), err))
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		ae := &apiError{op: op, status: resp.StatusCode}
		var wrapped struct {
			Error *lndError `json:"error"` // how streaming calls fail
		}
		if json.Unmarshal(b, &wrapped) == nil && wrapped.Error != nil {
			ae.lndError = *wrapped.Error
		}
		if ae.Message == "" && (json.Unmarshal(b, &ae.lndError) != nil || ae.Message == "") {
			ae.Message = strings.TrimSpace(string(b))
			if len(ae.Message) > 200 {
				ae.Message = ae.Message[:200]
			}
		}
		return nil, ae
	}
	return resp, nil
}

// ctxErr prefers the context's own error, so that callers can tell a
// canceled call with errors.Is.
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil {
		return fmt.Errorf("%w (%v)", ce, err)
	}
	return err
}

// stream reads a streaming answer: one JSON object per line, each
// {"result": …} or {"error": {…}}. fn gets each result and returns true
// to stop.
func (r *Rail) stream(ctx context.Context, op, method, path string, in any, fn func(json.RawMessage) (bool, error)) error {
	resp, err := r.do(ctx, op, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxBody)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		res, err := parseStreamLine(line)
		if err != nil {
			var le *lndError
			if errors.As(err, &le) {
				return &apiError{op: op, status: http.StatusOK, lndError: *le}
			}
			return fmt.Errorf("lightning: %s: %w", op, err)
		}
		stop, err := fn(res)
		if err != nil || stop {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return ctxErr(ctx, fmt.Errorf("lightning: %s: reading the stream: %w", op, err))
	}
	return ctxErr(ctx, fmt.Errorf("lightning: %s: the stream ended early", op))
}

func (e *lndError) Error() string { return fmt.Sprintf("code %d: %s", e.Code, e.Message) }

// parseStreamLine decodes one line of a stream: its result, or its error
// as an *lndError.
func parseStreamLine(line []byte) (json.RawMessage, error) {
	var m struct {
		Result json.RawMessage `json:"result"`
		Error  *lndError       `json:"error"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("decoding a stream line: %w", err)
	}
	if m.Error != nil {
		return nil, m.Error
	}
	if len(m.Result) == 0 || string(m.Result) == "null" {
		return nil, errors.New("a stream line without result or error")
	}
	return m.Result, nil
}
