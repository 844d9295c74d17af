package campaign

import (
	"testing"
	"time"
)

func TestParseDeadline(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 500_000_000, time.UTC)
	tests := []struct {
		s    string
		want time.Time
		ok   bool
	}{
		{"90s", time.Date(2026, 5, 1, 12, 1, 30, 0, time.UTC), true},
		{"72h", time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC), true},
		{"1h30m", time.Date(2026, 5, 1, 13, 30, 0, 0, time.UTC), true},
		{"2026-12-31T23:59:59Z", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{"2026-06-01T02:00:00+02:00", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"2026-06-01T00:00:00.75Z", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"0s", time.Time{}, false},
		{"-5m", time.Time{}, false},
		{"300ms", time.Time{}, false}, // rounds down to now
		{"2020-01-01T00:00:00Z", time.Time{}, false},
		{"2026-05-01T12:00:00Z", time.Time{}, false},
		{"2026-06-01", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
		{"", time.Time{}, false},
		{"9999-12-31T23:59:59Z", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), true},
	}
	for _, tt := range tests {
		got, err := ParseDeadline(tt.s, now)
		if !got.Equal(tt.want) || (err == nil) != tt.ok {
			t.Errorf("ParseDeadline(%q): got %v, %v; want %v, ok %v", tt.s, got, err, tt.want, tt.ok)
		}
		if err == nil && (got.Location() != time.UTC || got.Nanosecond() != 0) {
			t.Errorf("ParseDeadline(%q): got %v, want whole seconds in UTC", tt.s, got)
		}
	}
}
