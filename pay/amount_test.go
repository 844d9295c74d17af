package pay_test

import (
	"encoding/json"
	"testing"

	"github.com/shardcast/shardcast/pay"
)

func TestAmountString(t *testing.T) {
	tests := []struct {
		a    pay.Amount
		want string
	}{
		{pay.Amount{250, "USD"}, "2.50 USD"},
		{pay.Amount{500, "JPY"}, "500 JPY"},
		{pay.Amount{1_000_000, "BTC"}, "0.00001 BTC"},
		{pay.Amount{pay.DefaultTestBalance, "USD"}, "1000000.00 USD"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%#v.String(): got %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestStatusText(t *testing.T) {
	for s := pay.Open; s <= pay.Expired; s++ {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var got pay.Status
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("JSON round trip of %v: got %v, %v (%s)", s, got, err, b)
		}
	}
	if _, err := json.Marshal(pay.Status(0)); err == nil {
		t.Errorf("marshaling status 0: got nil error")
	}
	var s pay.Status
	if err := s.UnmarshalText([]byte("paid")); err == nil {
		t.Errorf(`UnmarshalText("paid"): got nil error`)
	}
}
