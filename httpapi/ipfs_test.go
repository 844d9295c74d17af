package httpapi

import (
	"testing"
)

func TestSingleRange(t *testing.T) {
	const size = 1000
	for _, tt := range []struct {
		h          string
		start, end int64
		ok         bool
	}{
		{"bytes=0-99", 0, 100, true},
		{"bytes=500-", 500, 1000, true},
		{"bytes=-100", 900, 1000, true},
		{"bytes=-5000", 0, 1000, true},
		{"bytes=990-5000", 990, 1000, true},
		{"bytes=0-1,5-6", 0, 0, false},
		{"bytes=1000-", 0, 0, false},
		{"bytes=5-1", 0, 0, false},
		{"items=0-1", 0, 0, false},
		{"", 0, 0, false},
		{"bytes=x-y", 0, 0, false},
	} {
		s, e, ok := singleRange(tt.h, size)
		if ok != tt.ok || (ok && (s != tt.start || e != tt.end)) {
			t.Errorf("singleRange(%q) = %d, %d, %v; want %d, %d, %v", tt.h, s, e, ok, tt.start, tt.end, tt.ok)
		}
	}
}
