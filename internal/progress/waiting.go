package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// Waiting is a one-line note of what a command is waiting for and for how
// long, redrawn every second on a terminal and erased by Stop, so that a
// wait with nothing to count (finding a provider) is never silent. A nil
// *Waiting is valid and draws nothing.
type Waiting struct {
	w     io.Writer
	what  string
	start time.Time
	once  sync.Once
	stop  chan struct{}
	done  chan struct{}
}

// Wait starts a note saying what is awaited on f when f is a terminal and
// enabled is true; it returns nil otherwise.
func Wait(f *os.File, what string, enabled bool) *Waiting {
	if !enabled || f == nil || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return startWaiting(f, what, time.Second)
}

func startWaiting(w io.Writer, what string, every time.Duration) *Waiting {
	wt := &Waiting{w: w, what: what, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	wt.draw(time.Now())
	go func() {
		defer close(wt.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-wt.stop:
				fmt.Fprint(wt.w, "\r\x1b[K")
				return
			case now := <-tick.C:
				wt.draw(now)
			}
		}
	}()
	return wt
}

func (wt *Waiting) draw(now time.Time) {
	fmt.Fprintf(wt.w, "\r\x1b[K%s (%s)", wt.what, now.Sub(wt.start).Round(time.Second))
}

// Stop erases the note and returns once it is gone. It may be called more
// than once.
func (wt *Waiting) Stop() {
	if wt == nil {
		return
	}
	wt.once.Do(func() { close(wt.stop) })
	<-wt.done
}
