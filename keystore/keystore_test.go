package keystore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

func testCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	h, err := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestContentKeyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := New(dir)
	c := testCID(t, "film")
	if s.HasContentKey(c) {
		t.Fatal("HasContentKey before any save: got true, want false")
	}
	id, err := seal.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveContentKey(c, id); err != nil {
		t.Fatal(err)
	}
	got, err := s.ContentKey(c)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != id.String() {
		t.Errorf("ContentKey: got another identity than the one saved")
	}
	if !s.HasContentKey(c) {
		t.Error("HasContentKey after save: got false, want true")
	}
	if m := mode(t, filepath.Join(dir, KeysDir, c.String()+".key")); m != 0o600 {
		t.Errorf("key file mode: got %v, want 0600", m)
	}
	if m := mode(t, filepath.Join(dir, KeysDir)); m != 0o700 {
		t.Errorf("keys directory mode: got %v, want 0700", m)
	}
}

func TestMissingIsTyped(t *testing.T) {
	s := New(t.TempDir())
	c := testCID(t, "nothing")
	for _, tc := range []struct {
		name string
		kind string
		call func() error
	}{
		{"key", "key", func() error { _, err := s.ContentKey(c); return err }},
		{"share", "shares", func() error { _, err := s.Share(c, 0); return err }},
		{"proof", "proof", func() error { _, err := s.Proof("offer1"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
			var nf *NotFoundError
			if !errors.As(err, &nf) || nf.Kind != tc.kind {
				t.Errorf("got %#v, want a *NotFoundError of kind %q", err, tc.kind)
			}
		})
	}
}

func TestAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	s := New(dir)
	c := testCID(t, "film")
	a, _ := seal.NewIdentity()
	b, _ := seal.NewIdentity()
	if err := s.SaveContentKey(c, a); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveContentKey(c, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.ContentKey(c)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != b.String() {
		t.Error("after a second save: got the first identity, want the second")
	}
	ents, err := os.ReadDir(filepath.Join(dir, KeysDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("keys directory holds %v, want one file and no temporary left behind", names)
	}
}

func TestCorruptKeyIsNotMissing(t *testing.T) {
	dir := t.TempDir()
	s := New(dir)
	c := testCID(t, "film")
	if err := os.MkdirAll(filepath.Join(dir, KeysDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeysDir, c.String()+".key"), []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.ContentKey(c)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("corrupt key: got %v, want an error that is not ErrNotFound", err)
	}
}

func TestSharesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := New(dir)
	c := testCID(t, "shards")
	_, list, _, err := shares.Split(rand.Reader, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveShares(c, list); err != nil {
		t.Fatal(err)
	}
	for i, want := range list {
		got, err := s.Share(c, uint32(i))
		if err != nil {
			t.Fatalf("share %d: %v", i, err)
		}
		if got != want {
			t.Errorf("share %d: got %v, want %v", i, got.Index, want.Index)
		}
	}
	if _, err := s.Share(c, 5); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("share past the end: got %v, want a read error", err)
	}
	if m := mode(t, filepath.Join(dir, SharesDir, c.String()+".shares")); m != 0o600 {
		t.Errorf("shares file mode: got %v, want 0600", m)
	}
}

func TestSaveSharesRefusesOutOfOrder(t *testing.T) {
	s := New(t.TempDir())
	_, list, _, err := shares.Split(rand.Reader, 3)
	if err != nil {
		t.Fatal(err)
	}
	list[0], list[1] = list[1], list[0]
	if err := s.SaveShares(testCID(t, "x"), list); err == nil {
		t.Error("shares out of order: got nil, want an error")
	}
}

func TestProofRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := New(dir)
	raw := []byte("a proof")
	path, err := s.SaveProof("offer1", raw)
	if err != nil {
		t.Fatal(err)
	}
	if path != s.ProofPath("offer1") {
		t.Errorf("SaveProof path: got %s, want %s", path, s.ProofPath("offer1"))
	}
	got, err := s.Proof("offer1")
	if err != nil || !bytes.Equal(got, raw) {
		t.Errorf("Proof: got %q, %v; want %q", got, err, raw)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("proof file mode: got %v, want 0600", m)
	}
}
