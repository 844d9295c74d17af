// Package progress draws a one-line progress bar (bytes, rate, ETA) on a
// terminal, and nothing at all anywhere else, so output piped to a file or
// another program stays clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar is a progress bar. A nil *Bar is valid and draws nothing.
type Bar struct {
	w     io.Writer
	label string
	total int64 // -1 when unknown

	mu    sync.Mutex
	n     int64
	start time.Time
	last  time.Time
}

// New returns a bar drawing on f when f is a terminal and enabled is true,
// and nil otherwise.
func New(f *os.File, label string, total int64, enabled bool) *Bar {
	if !enabled || f == nil || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	now := time.Now()
	return &Bar{w: f, label: label, total: total, start: now}
}

// Add records n more bytes done.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n += int64(n)
	if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond {
		b.last = now
		b.draw(now)
	}
}

// Done draws the final state and ends the line.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(time.Now())
	fmt.Fprintln(b.w)
}

func (b *Bar) draw(now time.Time) {
	secs := now.Sub(b.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(b.n) / secs
	}
	var line string
	if b.total > 0 {
		frac := min(1, float64(b.n)/float64(b.total))
		const width = 24
		full := int(frac * width)
		eta := "--"
		if rate > 0 && b.n < b.total {
			eta = time.Duration(float64(b.total-b.n) / rate * float64(time.Second)).Round(time.Second).String()
		} else if b.n >= b.total {
			eta = "0s"
		}
		line = fmt.Sprintf("%s [%s%s] %5.1f%% %s / %s  %s/s  ETA %s", b.label,
			strings.Repeat("=", full), strings.Repeat(" ", width-full), frac*100,
			Bytes(b.n), Bytes(b.total), Bytes(int64(rate)), eta)
	} else {
		line = fmt.Sprintf("%s %s  %s/s", b.label, Bytes(b.n), Bytes(int64(rate)))
	}
	fmt.Fprintf(b.w, "\r\x1b[K%s", line)
}

// Reader counts what passes through r on b.
func (b *Bar) Reader(r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &reader{r: r, b: b}
}

// Writer counts what passes through w on b.
func (b *Bar) Writer(w io.Writer) io.Writer {
	if b == nil {
		return w
	}
	return &writer{w: w, b: b}
}

type reader struct {
	r io.Reader
	b *Bar
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.b.Add(n)
	return n, err
}

type writer struct {
	w io.Writer
	b *Bar
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.b.Add(n)
	return n, err
}

// Bytes formats a byte count for humans (binary units).
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
