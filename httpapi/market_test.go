package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	tests := []struct {
		header, body string
		want         string
		ok           bool
	}{
		{"", "", "", true},
		{"key-1", "", "key-1", true},
		{"", "body-1", "body-1", true},
		{"same", "same", "same", true},
		{"one", "other", "", false},
		{"", strings.Repeat("x", 129), "", false},
		{"with space", "", "", false},
		{"", "tab\there", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/api/v1/campaigns/x/buy", nil)
		if tt.header != "" {
			r.Header.Set("Idempotency-Key", tt.header)
		}
		got, err := requestID(r, tt.body)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("requestID(header %q, body %q) = %q, %v; want %q (ok %v)", tt.header, tt.body, got, err, tt.want, tt.ok)
		}
	}
}
