package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/seal"
	"github.com/shardcast/shardcast/shares"
)

// The directories of the repo this package owns.
const (
	// KeysDir holds one age identity per encrypted content CID this node
	// can decrypt: its own works, and those it bought or saw unlocked.
	KeysDir = "keys"
	// SharesDir holds, on the creator's node, every share of each of its
	// shards campaigns (shares.ShareSize bytes each, by index), named by
	// content CID.
	SharesDir = "shares"
	// ProofsDir holds the proofs this node made as a buyer, one file per
	// offer, ready for `shardcast verify-proof`.
	ProofsDir = "proofs"
)

// ErrNotFound is what every *NotFoundError is.
var ErrNotFound = errors.New("not in the keystore")

// NotFoundError says which secret file is missing.
type NotFoundError struct {
	Kind string // "key", "shares" or "proof"
	Name string // the content CID or offer ID it is named by
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no %s for %s in the keystore", e.Kind, e.Name)
}

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Store is the keystore of one repo directory. It is safe for concurrent
// use: each write replaces a whole file at once.
type Store struct{ dir string }

// New returns the keystore of the repo in dir. It creates nothing until
// the first write.
func New(dir string) *Store { return &Store{dir: dir} }

func (s *Store) path(sub, name, ext string) string { return filepath.Join(s.dir, sub, name+ext) }

func (s *Store) write(sub, name, ext string, data []byte) error {
	d := filepath.Join(s.dir, sub)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", d, err)
	}
	p := s.path(sub, name, ext)
	if err := atomicfile.WriteFile(p, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// SaveContentKey stores the identity that decrypts content c, replacing
// any stored before.
func (s *Store) SaveContentKey(c cid.Cid, id *age.X25519Identity) error {
	return s.write(KeysDir, c.String(), ".key", []byte(id.String()+"\n"))
}

// ContentKey returns the identity that decrypts content c, or a
// *NotFoundError if none is stored.
func (s *Store) ContentKey(c cid.Cid) (*age.X25519Identity, error) {
	p := s.path(KeysDir, c.String(), ".key")
	raw, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Kind: "key", Name: c.String()}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the key of %s: %w", c, err)
	}
	id, err := seal.ParseIdentity(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("reading the key of %s: %w", c, err)
	}
	return id, nil
}

// HasContentKey reports whether a key for content c is stored, without
// reading it.
func (s *Store) HasContentKey(c cid.Cid) bool {
	_, err := os.Stat(s.path(KeysDir, c.String(), ".key"))
	return err == nil
}

// SaveShares stores every share of the shards campaign whose content is
// c. list[i] must hold index i.
func (s *Store) SaveShares(c cid.Cid, list []shares.Share) error {
	raw := make([]byte, 0, len(list)*shares.ShareSize)
	for i, sh := range list {
		if sh.Index != uint32(i) {
			return fmt.Errorf("saving the shares of %s: share %d holds index %d", c, i, sh.Index)
		}
		raw, _ = sh.AppendBinary(raw)
	}
	return s.write(SharesDir, c.String(), ".shares", raw)
}

// Share reads share index of the shards campaign whose content is c, or
// returns a *NotFoundError if this node holds none of its shares.
func (s *Store) Share(c cid.Cid, index uint32) (shares.Share, error) {
	f, err := os.Open(s.path(SharesDir, c.String(), ".shares"))
	if errors.Is(err, fs.ErrNotExist) {
		return shares.Share{}, &NotFoundError{Kind: "shares", Name: c.String()}
	}
	if err != nil {
		return shares.Share{}, fmt.Errorf("reading the shares of %s: %w", c, err)
	}
	defer f.Close()
	buf := make([]byte, shares.ShareSize)
	if _, err := f.ReadAt(buf, int64(index)*shares.ShareSize); err != nil {
		return shares.Share{}, fmt.Errorf("reading share %d of %s: %w", index, c, err)
	}
	var sh shares.Share
	if err := sh.UnmarshalBinary(buf); err != nil {
		return shares.Share{}, fmt.Errorf("reading share %d of %s: %w", index, c, err)
	}
	if sh.Index != index {
		return shares.Share{}, fmt.Errorf("the shares file of %s holds index %d at %d", c, sh.Index, index)
	}
	return sh, nil
}

// ProofPath is where the proof against offer (its ID as text) is kept.
func (s *Store) ProofPath(offer string) string { return s.path(ProofsDir, offer, ".proof") }

// SaveProof keeps the encoded proof against offer and returns its path.
func (s *Store) SaveProof(offer string, raw []byte) (string, error) {
	return s.ProofPath(offer), s.write(ProofsDir, offer, ".proof", raw)
}

// Proof reads the proof against offer, or returns a *NotFoundError.
func (s *Store) Proof(offer string) ([]byte, error) {
	raw, err := os.ReadFile(s.ProofPath(offer))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Kind: "proof", Name: offer}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the proof against %s: %w", offer, err)
	}
	return raw, nil
}
