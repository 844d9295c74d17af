package pool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/shares"
)

func TestAdd(t *testing.T) {
	f := newFixture(t, 20, 1)
	p := openPool(t, t.TempDir())
	if _, err := p.Add(f.id, f.shares[:1]); !errors.Is(err, ErrNotTracked) {
		t.Fatalf("Add before Track: got %v, want ErrNotTracked", err)
	}
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	s := f.shares
	tests := []struct {
		name  string
		batch []shares.Share
		added int
		bad   bool
		known int
	}{
		{"valid", s[0:5], 5, false, 5},
		{"again", s[0:5], 0, false, 5},
		{"overlapping", s[3:8], 3, false, 8},
		{"duplicates in the batch", []shares.Share{s[8], s[8], s[9]}, 2, false, 10},
		{"one bogus among valid", append(slices.Clone(s[10:14]), f.bogus(s[14:15])...), 0, true, 10},
		{"bogus at a known index", f.bogus(s[0:1]), 0, true, 10},
		{"two values at one index", []shares.Share{s[15], f.bogus(s[15:16])[0]}, 0, true, 10},
		{"index out of range", []shares.Share{{Index: 20, Value: s[0].Value}}, 0, true, 10},
		{"empty", nil, 0, false, 10},
	}
	for _, tt := range tests {
		added, err := p.Add(f.id, tt.batch)
		if added != tt.added || errors.Is(err, shares.ErrBadShare) != tt.bad || (err != nil) != tt.bad {
			t.Errorf("%s: got %d, %v; want %d, bad %v", tt.name, added, err, tt.added, tt.bad)
		}
		if got := p.Known(f.id); got != tt.known {
			t.Errorf("%s: Known got %d, want %d", tt.name, got, tt.known)
		}
	}
	for i, sh := range s {
		if got, want := p.Have(f.id, sh.Index), i < 10; got != want {
			t.Errorf("Have(%d): got %v, want %v", i, got, want)
		}
	}
	if got, want := p.Shares(f.id), s[:10]; !slices.Equal(got, want) {
		t.Errorf("Shares: got %v, want %v", got, want)
	}
	if p.Complete(f.id) {
		t.Error("Complete with 10 of 20 shares")
	}
	if _, err := p.Secret(f.id); !errors.Is(err, ErrIncomplete) {
		t.Errorf("Secret with 10 of 20: got %v, want ErrIncomplete", err)
	}
	// Invalid shares never reach the disk.
	data, err := os.ReadFile(p.path(f.id, sharesSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := data, appendRecords(nil, s[:10]); !bytes.Equal(got, want) {
		t.Errorf("shares file: got %d bytes, want the %d bytes of the 10 valid shares", len(got), len(want))
	}
}

// decodeStored decodes the records of a shares file in file order.
func decodeStored(t testing.TB, data []byte) []shares.Share {
	t.Helper()
	var out []shares.Share
	for off := 0; off+shares.ShareSize <= len(data); off += shares.ShareSize {
		var s shares.Share
		if err := s.UnmarshalBinary(data[off : off+shares.ShareSize]); err != nil {
			t.Fatalf("record at %d: %v", off, err)
		}
		out = append(out, s)
	}
	return out
}

func TestTrackChecks(t *testing.T) {
	f, g := newFixture(t, 4, 1), newFixture(t, 4, 2)
	p := openPool(t, t.TempDir())
	tests := []struct {
		name string
		err  error
	}{
		{"other commitments", p.Track(f.id, f.m, g.open(t))},
		{"other campaign ID", p.Track(g.id, f.m, f.open(t))},
		{"no commitments", p.Track(f.id, f.m, nil)},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("Track with %s: got nil error", tt.name)
		}
	}
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatalf("second Track: %v", err)
	}
}

func TestReopen(t *testing.T) {
	f := newFixture(t, 30, 3)
	dir := t.TempDir()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	for lo := 0; lo < 12; lo += 4 {
		if _, err := p.Add(f.id, f.shares[lo:lo+4]); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()

	// A crash in the middle of an append leaves a torn record.
	path := filepath.Join(dir, f.id.String()+sharesSuffix)
	rec := appendRecords(nil, f.shares[12:13])
	appendFile(t, path, rec[:17])

	p = openPool(t, dir)
	if got := p.Known(f.id); got != 0 {
		t.Errorf("Known before Track: got %d, want 0 (stored shares count once verified)", got)
	}
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Shares(f.id), f.shares[:12]; !slices.Equal(got, want) {
		t.Fatalf("after reopen: got %v, want %v", got, want)
	}
	// The torn tail is gone, so new records stay aligned.
	if _, err := p.Add(f.id, f.shares[12:20]); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 20*shares.ShareSize {
		t.Fatalf("shares file: %v, %v; want %d bytes", fi.Size(), err, 20*shares.ShareSize)
	}
	p.Close()
	p = openPool(t, dir)
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if got := p.Known(f.id); got != 20 {
		t.Fatalf("after second reopen: Known got %d, want 20", got)
	}
}

func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

// A crash on a file system that extends a file before writing its data
// can leave whole records of zeros; Track verifies stored shares and
// drops them.
func TestReopenDropsBadRecords(t *testing.T) {
	f := newFixture(t, 10, 4)
	dir := t.TempDir()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(f.id, f.shares[:5]); err != nil {
		t.Fatal(err)
	}
	p.Close()
	path := filepath.Join(dir, f.id.String()+sharesSuffix)
	bad := append(make([]byte, shares.ShareSize), appendRecords(nil, f.shares[2:3])...) // zeros, a duplicate
	bad = append(bad, appendRecords(nil, f.bogus(f.shares[7:8]))...)
	bad = append(bad, 0xff, 0xff, 0xff, 0xff) // not even a share: index ≥ MaxShares
	bad = append(bad, make([]byte, shares.ScalarSize)...)
	appendFile(t, path, bad)

	p = openPool(t, dir)
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Shares(f.id), f.shares[:5]; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decodeStored(t, data), f.shares[:5]; !slices.Equal(got, want) {
		t.Fatalf("rewritten file: got %v, want %v", got, want)
	}
	if _, err := p.Add(f.id, f.shares[7:8]); err != nil {
		t.Fatalf("adding the true share 7: %v", err)
	}
}

func TestComplete(t *testing.T) {
	f := newFixture(t, 16, 5)
	dir := t.TempDir()
	p, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var fired []cid.Cid
	var idents []string
	p.OnUnlock(func(id cid.Cid, identity *age.X25519Identity) {
		fired = append(fired, id)
		idents = append(idents, identity.String())
	})
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(f.id, f.shares[:15]); err != nil {
		t.Fatal(err)
	}
	if id, ok := p.Unlocked(f.id); ok || id != nil || len(fired) != 0 {
		t.Fatalf("unlocked with 15 of 16 shares: %v %v, fired %v", id, ok, fired)
	}
	if _, err := p.Add(f.id, f.shares[15:]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(f.id, f.shares); err != nil {
		t.Fatal(err)
	}
	if !p.Complete(f.id) {
		t.Fatal("not complete with all shares")
	}
	secret, err := p.Secret(f.id)
	if err != nil || secret != f.secret {
		t.Fatalf("Secret: got %x, %v; want %x", secret, err, f.secret)
	}
	identity, ok := p.Unlocked(f.id)
	if !ok || identity.String() != f.identity(t) {
		t.Fatalf("Unlocked: got %v, %v; want the identity of the secret", identity, ok)
	}
	if len(fired) != 1 || fired[0] != f.id || idents[0] != f.identity(t) {
		t.Fatalf("OnUnlock fired for %v, want once for %s", fired, f.id)
	}
	p.Close()

	// Reopened, the campaign is unlocked before anyone calls Track, and a
	// callback registered then fires once.
	p = openPool(t, dir)
	if got, ok := p.Unlocked(f.id); !ok || got.String() != f.identity(t) {
		t.Fatalf("after reopen: Unlocked %v, %v", got, ok)
	}
	fired = nil
	p.OnUnlock(func(id cid.Cid, _ *age.X25519Identity) { fired = append(fired, id) })
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(f.id, f.shares[3:9]); err != nil {
		t.Fatal(err)
	}
	if len(fired) != 1 || fired[0] != f.id {
		t.Fatalf("after reopen OnUnlock fired for %v, want once for %s", fired, f.id)
	}
	if secret, err := p.Secret(f.id); err != nil || secret != f.secret || p.Known(f.id) != 16 {
		t.Fatalf("after reopen: Secret %x, %v, Known %d", secret, err, p.Known(f.id))
	}
}

func TestSnapshot(t *testing.T) {
	f := newFixture(t, 50, 6)
	p := openPool(t, t.TempDir())
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	var picked []shares.Share
	for i := 49; i >= 0; i -= 3 {
		picked = append(picked, f.shares[i])
	}
	if _, err := p.Add(f.id, picked); err != nil {
		t.Fatal(err)
	}
	data, c, err := p.Snapshot(f.id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c, rawCID(data); got != want {
		t.Errorf("snapshot CID: got %s, want %s", got, want)
	}
	if got := p.snapshotID(f.id); got != c {
		t.Errorf("snapshotID: got %s, want %s", got, c)
	}
	id, list, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if id != f.id || !slices.Equal(list, p.Shares(f.id)) || len(list) != len(picked) {
		t.Fatalf("decoded snapshot: %s with %d shares, want %s with %d", id, len(list), f.id, len(picked))
	}
	if want := 4 + 1 + len(f.id.Bytes()) + 4 + len(picked)*shares.ShareSize; len(data) != want {
		t.Errorf("snapshot: got %d bytes, want %d", len(data), want)
	}
	q := openPool(t, t.TempDir())
	if err := q.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if added, err := q.Add(f.id, list); err != nil || added != len(picked) {
		t.Fatalf("adding the snapshot elsewhere: %d, %v", added, err)
	}
	if _, c2, _ := q.Snapshot(f.id); c2 != c {
		t.Errorf("same shares, different snapshot CIDs %s and %s", c2, c)
	}
}

// TestForget deletes a campaign's shares from memory and disk; tracked
// again, it starts empty.
func TestForget(t *testing.T) {
	f := newFixture(t, 30, 3)
	dir := t.TempDir()
	p := openPool(t, dir)
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(f.id, f.shares[:4]); err != nil {
		t.Fatal(err)
	}
	if err := p.Forget(f.id); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Add(f.id, f.shares[4:5]); err == nil {
		t.Error("Add after Forget: got nil error, want a refusal")
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("files left after Forget: %v, %v", ents, err)
	}
	if err := p.Track(f.id, f.m, f.open(t)); err != nil {
		t.Fatal(err)
	}
	if got := p.Known(f.id); got != 0 {
		t.Errorf("Known after Forget and Track: got %d, want 0", got)
	}
}
