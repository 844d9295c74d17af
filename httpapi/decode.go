package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
)

// decodeJSON reads a JSON call's body into v, strictly: one JSON object
// whose keys are fields of v, each at most once (ignoring case, as
// encoding/json matches them), and nothing after it. An empty body is an
// empty object. On error it has answered the request: 413 past the size
// limit, 408 on a stalled body, 400 for anything malformed.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, bodyStatus(err), fmt.Errorf("reading the request: %w", err))
		return false
	}
	if err := unmarshalStrict(raw, v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("decoding the request: %w", err))
		return false
	}
	return true
}

// unmarshalStrict is the decoding half of decodeJSON.
func unmarshalStrict(raw []byte, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	if err := checkKeys(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// checkKeys walks a JSON text and fails on a syntax error, a top-level
// value that is not an object, or a key repeated within one object.
func checkKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		keys    map[string]bool // nil for an array
		wantKey bool
	}
	var stack []*frame
	value := func() { // a value ended: an object wants its next key
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			stack[n-1].wantKey = true
		}
	}
	for first := true; ; first = false {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if first && tok != json.Delim('{') {
			return errors.New("want a JSON object")
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			if k, ok := tok.(string); ok {
				k = foldKey(k)
				if stack[n-1].keys[k] {
					return fmt.Errorf("key %q given twice", k)
				}
				stack[n-1].keys[k] = true
				stack[n-1].wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			value()
			if len(stack) == 0 {
				// One object only: Token would accept a second.
				if dec.More() {
					return errors.New("data after the JSON object")
				}
			}
		default:
			value()
		}
	}
}

// foldKey maps a key to one spelling of all those encoding/json takes
// for the same field: each rune to the least of its case-folding orbit,
// so that "ſhares" (U+017F) and "SHARES" both fold as "shares" does.
func foldKey(k string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, k)
}
