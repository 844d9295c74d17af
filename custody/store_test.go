package custody

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/internal/childtest"
)

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "custody")
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	early := newFixture(t, 2, 3, deadline)
	late := newFixture(t, 1, 2, deadline.Add(time.Hour))
	for _, f := range []*fixture{late, early} {
		if err := s.Put(f.deal(t, 1), f.parts[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(early.deal(t, 2), early.parts[0]); err == nil {
		t.Error("a part of another index was stored")
	}
	// A deal of the same terms again (sealed anew) replaces the first.
	if err := s.Put(early.deal(t, 1), early.parts[0]); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(s.path(must32(early.terms.Hash())))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("record file: %v, %v; want mode 0600", info, err)
	}

	// A restart: the store is opened again.
	s, err = OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.List()
	if err != nil || len(all) != 2 || all[0].Deal.Terms.Deadline != deadline {
		t.Fatalf("List = %d records, %v; want 2, the earlier deadline first", len(all), err)
	}
	for _, tt := range []struct {
		now  time.Time
		want int
	}{{deadline.Add(-time.Second), 0}, {deadline, 1}, {deadline.Add(2 * time.Hour), 2}} {
		if due, err := s.Due(tt.now); err != nil || len(due) != tt.want {
			t.Errorf("Due(%v) = %d records, %v; want %d", tt.now, len(due), err, tt.want)
		}
	}
	h := must32(early.terms.Hash())
	r := early.release(t, 1, early.parts[0], deadline)
	if err := s.MarkReleased(h, r); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkReleased(h, early.release(t, 1, early.parts[1], deadline)); err == nil {
		t.Error("a release of another part was recorded")
	}
	if due, _ := s.Due(deadline.Add(2 * time.Hour)); len(due) != 1 || due[0].TermsHash() == h {
		t.Errorf("after the release, Due = %d records", len(due))
	}
	got, err := s.Get(h)
	if err != nil || got.Release == nil || got.Release.At != deadline || got.Part != early.parts[0] {
		t.Fatalf("Get after release = %+v, %v", got, err)
	}
	if _, err := s.Get(Hash{1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of unknown terms: %v", err)
	}
}

// The crash test: a child process rewrites a record in a loop and is
// killed with SIGKILL in the middle; the record is then the old or the
// new one, whole.
const crashEnv = "CUSTODY_CRASH_CHILD"

// TestCrashChild is the child's body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("run by TestStoreCrash")
	}
	fail := func(err error) { fmt.Println("error:", err); os.Exit(1) }
	raw, err := os.ReadFile(filepath.Join(dir, "key"))
	if err != nil {
		fail(err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		fail(err)
	}
	s, err := OpenStore(filepath.Join(dir, "store"))
	if err != nil {
		fail(err)
	}
	recs, err := s.List()
	if err != nil || len(recs) != 1 {
		fail(fmt.Errorf("list: %d, %v", len(recs), err))
	}
	h := recs[0].TermsHash()
	for i := 0; ; i++ {
		r, err := NewRelease(key, h, deadline.Add(time.Duration(i)*time.Second), recs[0].Part)
		if err == nil {
			err = s.MarkReleased(h, r)
		}
		if err != nil {
			fail(err)
		}
		fmt.Println("wrote", i)
	}
}

func TestStoreCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	f := newFixture(t, 2, 3, deadline)
	raw, err := crypto.MarshalPrivateKey(f.custodians[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStore(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(f.deal(t, 1), f.parts[0]); err != nil {
		t.Fatal(err)
	}
	h := must32(f.terms.Hash())
	for round := 0; round < 4; round++ {
		child := childtest.Start(t, "TestCrashChild", crashEnv+"="+dir)
		for n := 0; n < 2+round; n++ {
			if line, ok := child.Line(); !ok || !strings.HasPrefix(line, "wrote") {
				t.Fatalf("child: %q", line)
			}
		}
		child.Kill()
		s, err := OpenStore(filepath.Join(dir, "store"))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := s.Get(h)
		if err != nil {
			t.Fatalf("round %d: after a crash: %v", round, err)
		}
		if rec.Release == nil || rec.Release.Part != f.parts[0] {
			t.Fatalf("round %d: after a crash the record holds no release of its part", round)
		}
		ents, _ := os.ReadDir(filepath.Join(dir, "store"))
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), atomicfile.TempSuffix) {
				t.Errorf("round %d: %s left after reopening", round, e.Name())
			}
		}
	}
}

// A custodian releases once: not before the deadline, never with another
// key, and the same signed release again when asked again.
func TestStoreRelease(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, 2, 3, deadline)
	if err := s.Put(f.deal(t, 2), f.parts[1]); err != nil {
		t.Fatal(err)
	}
	h := must32(f.terms.Hash())
	if _, err := s.Release(f.custodians[1], h, deadline.Add(-time.Second)); err == nil {
		t.Fatal("released before the deadline")
	}
	if _, err := s.Release(f.custodians[0], h, deadline); err == nil {
		t.Fatal("released with another custodian's key")
	}
	r, err := s.Release(f.custodians[1], h, deadline.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Release(f.custodians[1], h, deadline.Add(time.Hour))
	if err != nil || !again.At.Equal(r.At) || !bytes.Equal(again.Sig, r.Sig) {
		t.Fatalf("a second Release made another release (%v)", err)
	}
	c, _ := NewCollector(f.terms)
	if p, err := c.Add(r, deadline.Add(time.Minute)); p != nil || err != nil {
		t.Fatalf("the store's release does not verify: %v", err)
	}
	if due, _ := s.Due(deadline.Add(time.Hour)); len(due) != 0 {
		t.Errorf("Due lists %d records after the release", len(due))
	}
}
