package custody

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/shares"
)

// A Record is what a custodian holds for one campaign's custody: the deal
// it accepted, its part (in clear: the store's files are 0600), and its
// release once it made one.
type Record struct {
	Deal    *Deal
	Part    shares.Part
	Release *Release // nil until released
}

// TermsHash names the record.
func (r *Record) TermsHash() Hash {
	h, _ := r.Deal.Terms.Hash() // decoded terms always encode
	return h
}

// A Store keeps a custodian's records, one file per campaign's terms
// (named by the terms hash), each written atomically and durably
// (internal/atomicfile), 0600, in a directory of its own (0700). It is
// safe for concurrent use within one process.
type Store struct {
	dir string
	mu  sync.Mutex
	// unreleased maps the terms of every record not released yet to its
	// creator's key; nil until first needed.
	unreleased map[Hash]string
}

// ErrNotFound is returned for terms the store holds no record of.
var ErrNotFound = errors.New("custody: no such record")

const (
	recordMagic  = "SCCS"
	recordSuffix = ".custody"
)

// OpenStore opens (creating it if needed) the store in dir and removes
// the temporary files a crash may have left.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("custody: opening store: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("custody: opening store: %w", err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), atomicfile.TempSuffix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("custody: opening store: %w", err)
			}
		}
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(h Hash) string { return filepath.Join(s.dir, h.String()+recordSuffix) }

// Put stores the deal and its part, durably, before it returns. A deal
// for terms already held replaces the one held (the part, fixed by the
// terms and the index, is the same) unless the part was released.
func (s *Store) Put(d *Deal, p shares.Part) error {
	if p.Index != d.Index {
		return fmt.Errorf("custody: storing part %d for deal %d", p.Index, d.Index)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &Record{Deal: d, Part: p}
	old, err := s.get(rec.TermsHash())
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	case old.Part != p:
		return fmt.Errorf("custody: storing deal %s: a record of its terms holds another part", rec.TermsHash())
	case old.Release != nil:
		return nil
	}
	return s.write(rec)
}

// MarkReleased records the release the custodian made for terms h.
func (s *Store) MarkReleased(h Hash, r *Release) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.get(h)
	if err != nil {
		return err
	}
	if r.TermsHash != h || r.Part != rec.Part {
		return fmt.Errorf("custody: recording a release of %s that is not its part", h)
	}
	rec.Release = r
	return s.write(rec)
}

// Get returns the record of terms h, or an error wrapping ErrNotFound.
func (s *Store) Get(h Hash) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(h)
}

// List returns every record, by deadline then terms hash.
func (s *Store) List() ([]*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list()
}

func (s *Store) list() ([]*Record, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("custody: listing store: %w", err)
	}
	var recs []*Record
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), recordSuffix)
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		var h Hash
		if b, err := hex.DecodeString(name); err != nil || len(b) != len(h) {
			continue
		} else {
			copy(h[:], b)
		}
		rec, err := s.get(h)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i].Deal.Terms.Deadline, recs[j].Deal.Terms.Deadline
		if !a.Equal(b) {
			return a.Before(b)
		}
		ha, hb := recs[i].TermsHash(), recs[j].TermsHash()
		return bytes.Compare(ha[:], hb[:]) < 0
	})
	return recs, nil
}

// Held returns how many records of the creator's deals the store keeps
// that are not released yet.
func (s *Store) Held(creator ed25519.PublicKey) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unreleased == nil {
		all, err := s.list()
		if err != nil {
			return 0, err
		}
		s.unreleased = map[Hash]string{}
		for _, r := range all {
			if r.Release == nil {
				s.unreleased[r.TermsHash()] = string(r.Deal.Terms.Creator)
			}
		}
	}
	n := 0
	for _, c := range s.unreleased {
		if c == string(creator) {
			n++
		}
	}
	return n, nil
}

// Due returns the records whose deadline is at or before now and that
// are not released yet: what a custodian must release, including after
// being down across a deadline.
func (s *Store) Due(now time.Time) ([]*Record, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var due []*Record
	for _, r := range all {
		if r.Release == nil && !r.Deal.Terms.Deadline.After(now) {
			due = append(due, r)
		}
	}
	return due, nil
}

func (s *Store) get(h Hash) (*Record, error) {
	b, err := os.ReadFile(s.path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, h)
	}
	if err != nil {
		return nil, fmt.Errorf("custody: reading record: %w", err)
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return nil, fmt.Errorf("custody: record %s: %w", h, err)
	}
	if rec.TermsHash() != h {
		return nil, fmt.Errorf("custody: record %s holds the deal of other terms", h)
	}
	return rec, nil
}

func (s *Store) write(rec *Record) error {
	b, err := rec.MarshalBinary()
	if err != nil {
		return err
	}
	h := rec.TermsHash()
	if err := atomicfile.WriteFile(s.path(h), b, 0o600); err != nil {
		return fmt.Errorf("custody: writing record: %w", err)
	}
	if s.unreleased != nil {
		if rec.Release == nil {
			s.unreleased[h] = string(rec.Deal.Terms.Creator)
		} else {
			delete(s.unreleased, h)
		}
	}
	return nil
}

// MarshalBinary encodes the record: "SCCS" 1 | vec deal | part 33 |
// vec release (empty until released).
func (r *Record) MarshalBinary() ([]byte, error) {
	d, err := r.Deal.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := append([]byte(recordMagic), version)
	b = appendVec(b, d)
	b, _ = r.Part.AppendBinary(b)
	var rel []byte
	if r.Release != nil {
		if rel, err = r.Release.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return appendVec(b, rel), nil
}

func decodeRecord(b []byte) (*Record, error) {
	r := reader{b: b, msg: "custody record"}
	r.header(recordMagic)
	db := r.vec(1, MaxDeal, "deal")
	pb := r.next(shares.PartSize, "part")
	rb := r.vec(0, ReleaseSize, "release")
	if err := r.end(); err != nil {
		return nil, err
	}
	rec := &Record{Deal: new(Deal)}
	if err := rec.Deal.UnmarshalBinary(db); err != nil {
		return nil, err
	}
	if err := rec.Part.UnmarshalBinary(pb); err != nil {
		return nil, err
	}
	if len(rb) > 0 {
		rec.Release = new(Release)
		if err := rec.Release.UnmarshalBinary(rb); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// Release signs the custodian's release of the record of terms h at time
// now, records it durably and returns it. It refuses before the
// deadline, and returns the release already recorded if there is one,
// so a custodian never signs two releases of one part and can publish
// the same one again after a restart.
func (s *Store) Release(key crypto.PrivKey, h Hash, now time.Time) (*Release, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, err := s.get(h)
	if err != nil {
		return nil, err
	}
	if rec.Release != nil {
		return rec.Release, nil
	}
	if now.Before(rec.Deal.Terms.Deadline) {
		return nil, fmt.Errorf("custody: releasing %s at %v, before its deadline %v", h, now.UTC(), rec.Deal.Terms.Deadline.UTC())
	}
	r, err := NewRelease(key, h, now, rec.Part)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(r.Custodian, rec.Deal.Custodian()) {
		return nil, fmt.Errorf("custody: releasing %s with a key that is not its custodian's", h)
	}
	rec.Release = r
	if err := s.write(rec); err != nil {
		return nil, err
	}
	return r, nil
}
