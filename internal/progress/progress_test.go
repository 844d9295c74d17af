package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {64 << 20, "64.0 MiB"}, {3 << 30, "3.0 GiB"}} {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestNilBarIsSilent(t *testing.T) {
	var b *Bar // what New returns when stderr is not a terminal
	b.Add(10)
	b.Done()
	var buf bytes.Buffer
	if w := b.Writer(&buf); w != &buf {
		t.Fatal("nil bar wrapped the writer")
	}
}

func TestDraw(t *testing.T) {
	var buf bytes.Buffer
	b := &Bar{w: &buf, label: "get", total: 4 << 20, start: time.Now().Add(-time.Second)}
	b.Add(2 << 20)
	b.Done()
	out := buf.String()
	for _, want := range []string{"get", "50.0%", "2.0 MiB / 4.0 MiB", "ETA"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output %q lacks %q", out, want)
		}
	}
}

func TestWaiting(t *testing.T) {
	var nilWait *Waiting // what Wait returns when stderr is not a terminal
	nilWait.Stop()

	var buf lockedBuffer
	wt := startWaiting(&buf, "finding providers of bafy", time.Hour)
	wt.Stop()
	wt.Stop()
	out := buf.String()
	if !strings.HasPrefix(out, "\r\x1b[Kfinding providers of bafy (0s)") || !strings.HasSuffix(out, "\r\x1b[K") {
		t.Errorf("waiting note %q: want the note, then erased", out)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
