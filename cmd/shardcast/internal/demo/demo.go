package demo

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/node"
)

// sample is the project's own sample video: 15 s, 640x360 VP9/Opus WebM
// with a burnt-in timestamp, made by scripts/make-sample-video.sh.
//
//go:embed sample.webm
var sample []byte

// Options configure Run. The zero value runs in a temporary directory
// until the context is cancelled, printing nothing.
type Options struct {
	// Dir holds one repo per node, in subdirectories named after the nodes,
	// which must not exist yet. Empty means a temporary directory, removed
	// when Run returns.
	Dir string
	// Duration is how long the demo runs: the story is paced to fit in it
	// (never shorter than minStory) and the network stays up until it ends.
	// A story that takes longer on a slow machine runs to its end, and the
	// demo stops right after its checks. Zero means a story of about a
	// minute and a network that stays up until ctx is cancelled.
	Duration time.Duration
	// Out receives one line per event; nil discards them.
	Out io.Writer
	// Logger receives the nodes' own logs; nil discards them.
	Logger *slog.Logger
}

// Pacing of the story: the sum of its pauses.
const (
	fullStory = 60 * time.Second // Duration zero, or long enough
	minStory  = 10 * time.Second // however short Duration is
	beats     = 10               // pauses in the story
)

// Deadlines of the conditions the demo waits on. They are far above what a
// loopback network needs; reaching one is a failure, not a pacing choice.
const (
	connectTimeout = 30 * time.Second
	gossipTimeout  = 30 * time.Second
	unlockTimeout  = 60 * time.Second
	readTimeout    = 60 * time.Second
)

// applyDefaults fills in what the zero Options leave out.
func (o *Options) applyDefaults() {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// story returns the total of the story's pauses for a demo of duration d:
// half of d, so that setup and checks fit in the other half, within
// [minStory, fullStory].
func story(d time.Duration) time.Duration {
	if d == 0 {
		return fullStory
	}
	return min(max(d/2, minStory), fullStory)
}

// member is one node of the demo network.
type member struct {
	name  string
	n     *node.Node
	lock  *repo.Lock
	url   string     // the API and web UI
	gw    string     // the gateway: /ipfs/ and /watch/
	serve chan error // ServeAPI's result
}

// Run starts the demo network, plays the story, checks every outcome and
// keeps the network up until ctx is cancelled or Options.Duration ends. The
// error is non-nil when the network could not start or a check failed; the
// Report then holds what was done and checked so far.
func Run(ctx context.Context, opts Options) (rep Report, err error) {
	opts.applyDefaults()
	start := time.Now()
	// The story and its checks run to the end however long they take (only
	// ctx stops them: a slow machine must not fail the demo); Duration
	// bounds how long the network then stays up.
	stay := ctx
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		stay, cancel = context.WithDeadline(ctx, start.Add(opts.Duration))
		defer cancel()
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "shardcast-demo-"); err != nil {
			return rep, fmt.Errorf("creating the demo directory: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	rep.Dir = dir

	d := &demo{out: opts.Out, start: start, pause: story(opts.Duration) / beats, film: sample, rep: &rep}
	serveCtx, stopServing := context.WithCancel(context.Background())
	defer func() {
		stopServing()
		for _, m := range d.all {
			if m.serve != nil {
				if serr := <-m.serve; serr != nil {
					err = errors.Join(err, fmt.Errorf("%s's API: %w", m.name, serr))
				}
			}
			m.n.Close()
			m.lock.Unlock()
		}
	}()
	if err := d.startNetwork(ctx, serveCtx, dir, opts.Logger); err != nil {
		return rep, err
	}
	if err := d.play(ctx); err != nil {
		return rep, err
	}
	rep.Elapsed = time.Since(start)
	if err := rep.Err(); err != nil {
		d.say("demo", "FAILED: %v", err)
		return rep, err
	}
	d.say("demo", "every check passed in %s", rep.Elapsed.Round(100*time.Millisecond))
	if opts.Duration > 0 {
		d.say("demo", "the network stays up until %s (Ctrl-C to stop)", start.Add(opts.Duration).Format(time.TimeOnly))
	} else {
		d.say("demo", "the network stays up until interrupted (Ctrl-C to stop)")
	}
	<-stay.Done()
	d.say("demo", "stopping")
	return rep, nil
}

// Node names, in start order; buyers are everyone but the first and last.
var names = [...]string{"creator", "alice", "bob", "carol", "dave", "bystander"}

// demo is one run's state.
type demo struct {
	out   io.Writer
	start time.Time
	pause time.Duration
	film  []byte
	rep   *Report

	all       []*member
	creator   *member
	alice     *member
	bob       *member
	carol     *member
	dave      *member
	bystander *member
}

// say prints one event: seconds since the start, who, what.
func (d *demo) say(who, format string, args ...any) {
	fmt.Fprintf(d.out, "%6.1fs  %-9s %s\n", time.Since(d.start).Seconds(), who, fmt.Sprintf(format, args...))
}

// beat is one pause of the story.
func (d *demo) beat(ctx context.Context) error {
	t := time.NewTimer(d.pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("demo interrupted: %w", context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

// startNetwork starts every node with its API, connects each to the
// creator and prints their addresses.
func (d *demo) startNetwork(ctx, serveCtx context.Context, dir string, log *slog.Logger) error {
	for i, name := range names {
		r, err := repo.Init(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		lock, err := r.Lock()
		if err != nil {
			return err
		}
		o := node.Options{Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Logger: log.With("node", name)}
		if i > 0 {
			o.Bootstrap = d.creator.n.Addrs()[:1]
		}
		n, err := node.New(ctx, r, o)
		if err != nil {
			lock.Unlock()
			return fmt.Errorf("starting %s: %w", name, err)
		}
		m := &member{name: name, n: n, lock: lock}
		d.all = append(d.all, m)
		if i == 0 {
			d.creator = m
			if len(n.Addrs()) == 0 {
				return fmt.Errorf("the creator listens on no address")
			}
		}
		ln, err := n.ListenAPI("127.0.0.1:0")
		if err != nil {
			return err
		}
		gln, err := n.ListenGateway("127.0.0.1:0")
		if err != nil {
			ln.Close()
			return err
		}
		m.url = "http://" + ln.Addr().String() + "/"
		m.gw = "http://" + gln.Addr().String() + "/"
		m.serve = make(chan error, 1)
		go func() { m.serve <- n.ServeAPI(serveCtx, ln, gln, node.HTTPOptions{}) }()
		d.rep.Nodes = append(d.rep.Nodes, NodeInfo{Name: name, Peer: n.ID().String(), URL: m.url, Gateway: m.gw})
	}
	d.alice, d.bob, d.carol, d.dave, d.bystander = d.all[1], d.all[2], d.all[3], d.all[4], d.all[5]
	for _, m := range d.all[1:] {
		cctx, cancel := context.WithTimeout(ctx, connectTimeout)
		_, err := m.n.Connect(cctx, d.creator.n.Addrs()[0])
		cancel()
		if err != nil {
			return fmt.Errorf("connecting %s to the creator: %w", m.name, err)
		}
	}
	d.say("demo", "%d nodes on loopback; all money below is TEST MONEY", len(d.all))
	for _, m := range d.all {
		d.say(m.name, "UI and API %s  gateway %s  (peer %s)", m.url, m.gw, m.n.ID())
	}
	return nil
}

// waitFor polls cond until it returns nil, ctx ends or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := 10 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: still failing after %s: %w", what, timeout, err)
		case <-t.C:
		}
		wait = min(wait*2, 250*time.Millisecond)
	}
}

// read returns a campaign's plaintext as m reads it.
func (m *member) read(ctx context.Context, id cid.Cid) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	ra, size, _, err := m.n.OpenCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.NewSectionReader(ra, 0, size))
}

// readsFilm checks that m reads campaign id byte for byte, recording the
// reader on res.
func (d *demo) readsFilm(ctx context.Context, res *Result, m *member) {
	got, err := m.read(ctx, res.Campaign)
	if err == nil && !bytes.Equal(got, d.film) {
		err = fmt.Errorf("read %d bytes that differ from the %d published", len(got), len(d.film))
	}
	res.check(m.name+" reads the film byte for byte", err)
	if err == nil {
		res.Readers = append(res.Readers, m.name)
	}
}

// cannotRead checks that m cannot read campaign id.
func (d *demo) cannotRead(ctx context.Context, res *Result, m *member) {
	e, err := m.n.Catalog().Get(res.Campaign)
	if err == nil && m.n.CanRead(e) {
		err = errors.New("it holds the key")
	}
	if err == nil {
		if _, rerr := m.read(ctx, res.Campaign); !errors.Is(rerr, node.ErrLocked) {
			err = fmt.Errorf("opening it gave %v, want %v", rerr, node.ErrLocked)
		}
	}
	res.check(m.name+" cannot read the film", err)
	if err == nil {
		res.Locked = append(res.Locked, m.name)
	}
}
