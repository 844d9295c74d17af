package pay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/shardcast/shardcast/pay"
)

func TestDefinitive(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("pay: paying 5.00 USD from 1.00 USD: %w", pay.ErrInsufficientFunds), true},
		{fmt.Errorf("lightning: paying: %w", pay.ErrDenied), true},
		{fmt.Errorf("decoding: %w", pay.ErrBadRequest), true},
		{fmt.Errorf("paying: %w", pay.ErrExpired), true},
		{fmt.Errorf("paying: %w", pay.ErrCanceled), true},
		{fmt.Errorf("paying: %w", pay.ErrNoRoute), true},
		{fmt.Errorf("paying: %w", pay.ErrCurrency), true},
		{context.Canceled, false},
		{fmt.Errorf("paying: %w", context.DeadlineExceeded), false},
		// An ended context wins: the call may have paid before it ended.
		{fmt.Errorf("%w (%w)", context.Canceled, pay.ErrInsufficientFunds), false},
		{io.ErrUnexpectedEOF, false},
		{errors.New("lightning: paying: dial tcp: connection refused"), false},
		{fmt.Errorf("pay: %w", pay.ErrState), false},
	}
	for _, tt := range tests {
		if got := pay.Definitive(tt.err); got != tt.want {
			t.Errorf("Definitive(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
