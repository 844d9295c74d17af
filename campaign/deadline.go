package campaign

import (
	"fmt"
	"time"
)

// ParseDeadline parses a deadline given as an RFC 3339 time
// ("2026-12-31T23:59:59Z") or as a Go duration from now ("90s", "72h").
// The result is in UTC, truncated to whole seconds (the manifest's
// resolution), and must be after now.
func ParseDeadline(s string, now time.Time) (time.Time, error) {
	var t time.Time
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("deadline %q: duration must be positive", s)
		}
		t = now.Add(d)
	} else if t, err = time.Parse(time.RFC3339, s); err != nil {
		return time.Time{}, fmt.Errorf("deadline %q: want an RFC 3339 time or a duration like 72h", s)
	}
	t = t.Truncate(time.Second).UTC()
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("deadline %q: %s is not in the future", s, t.Format(time.RFC3339))
	}
	if t.Unix() > maxUnix {
		return time.Time{}, fmt.Errorf("deadline %q: after year 9999", s)
	}
	return t, nil
}
