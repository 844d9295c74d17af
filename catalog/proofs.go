package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/internal/atomicfile"
	"github.com/shardcast/shardcast/internal/peerlimit"
)

// A ProofVerifier checks a proof of misbehaviour, an opaque byte string to
// the catalog. It returns the creator the proof accuses, the campaign it is
// about and why, in one line, or an error if raw proves nothing. An error
// wrapping context.Canceled or context.DeadlineExceeded means it could not
// tell (the commitments it needs could not be fetched in time, say): the
// proof is then dropped without blame and may be offered again.
//
// ctx carries a deadline (30 s). The verifier is called from several
// goroutines at once.
type ProofVerifier func(ctx context.Context, raw []byte) (creator peer.ID, campaign cid.Cid, reason string, err error)

// MaxProofSize is the size of the largest proof the catalog accepts: a proof
// carries a manifest (at most 64 KiB) and a signed offer (at most 1 MiB).
const MaxProofSize = 2 << 20

const (
	// verifyTimeout bounds one call of the verifier, which may fetch the
	// campaign's commitments from the network.
	verifyTimeout = 30 * time.Second
	// maxVerifying bounds the verifier calls under way; the topic's
	// validator drops (without blame) a proof that finds them all busy.
	maxVerifying = 4
	// maxRemembered is how many verdicts on proofs that were not stored
	// (refused ones, and valid ones against a creator already accused)
	// are remembered, for rememberFor, so that the same bytes are not
	// verified again and again. A verdict is forgotten in the end: a
	// refusal may come of a verifier that could not fetch what it needed.
	maxRemembered = 1024
	rememberFor   = 10 * time.Minute
	// maxReason bounds the reason kept with a proof, in bytes.
	maxReason = 1 << 10
	// proofsDir is the catalog's subdirectory of proofs.
	proofsDir = "proofs"
	// maxProofs and maxStrangerProofs bound the proofs stored (see
	// roomForProof): at most 64 MiB. A valid proof beyond them is
	// neither stored nor relayed.
	maxProofs         = peerlimit.StoredProofs
	maxStrangerProofs = peerlimit.UnknownCreatorProofs
)

var (
	errNoVerifier = errors.New("catalog: no proof verifier")
	errBusy       = errors.New("catalog: too many proofs being verified")
)

// proof is one accepted proof of misbehaviour.
type proof struct {
	hash     [sha256.Size]byte // of raw
	creator  peer.ID
	campaign cid.Cid
	reason   string
	raw      []byte
}

// flight is a verification under way; others asking about the same bytes
// wait for it.
type flight struct {
	done chan struct{}
	err  error // set before done is closed
}

// proofSet is the catalog's state of proofs, under Catalog.mu.
type proofSet struct {
	byHash  map[[sha256.Size]byte]*proof // stored: one per creator
	bans    map[peer.ID]*proof
	flights map[[sha256.Size]byte]*flight
	seen    map[[sha256.Size]byte]verdict // on proofs not stored
	ring    [][sha256.Size]byte           // seen's keys, oldest at next
	next    int
	notify  []func(creator peer.ID, campaign cid.Cid, reason string)
}

// verdict is the outcome of verifying a proof that was not stored: why it
// was refused, or nil if it was valid but accused a creator already
// accused.
type verdict struct {
	err error
	at  time.Time
}

func newProofSet() proofSet {
	return proofSet{
		byHash:  map[[sha256.Size]byte]*proof{},
		bans:    map[peer.ID]*proof{},
		flights: map[[sha256.Size]byte]*flight{},
		seen:    map[[sha256.Size]byte]verdict{},
	}
}

// remember records a verdict on a proof that is not stored, forgetting the
// oldest beyond maxRemembered.
func (s *proofSet) remember(h [sha256.Size]byte, err error, now time.Time) {
	if _, ok := s.seen[h]; ok {
		s.seen[h] = verdict{err, now}
		return
	}
	if len(s.ring) < maxRemembered {
		s.ring = append(s.ring, h)
	} else {
		delete(s.seen, s.ring[s.next])
		s.ring[s.next] = h
		s.next = (s.next + 1) % maxRemembered
	}
	s.seen[h] = verdict{err, now}
}

// recall returns the verdict on h, if one is remembered and recent.
func (s *proofSet) recall(h [sha256.Size]byte, now time.Time) (verdict, bool) {
	v, ok := s.seen[h]
	if !ok || now.Sub(v.at) >= rememberFor {
		return verdict{}, false
	}
	return v, true
}

// undecided reports whether err says that a proof could not be checked, not
// that it is false.
func undecided(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, errBusy) || errors.Is(err, errNoVerifier)
}

// OnProof registers f to be called (outside the catalog's lock) for every
// creator a newly accepted proof accuses.
func (c *Catalog) OnProof(f func(creator peer.ID, campaign cid.Cid, reason string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.proofs.notify = append(c.proofs.notify, f)
}

// Banned reports why a proof accuses creator, if one does.
func (c *Catalog) Banned(creator peer.ID) (reason string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.proofs.bans[creator]
	if !ok {
		return "", false
	}
	return p.reason, true
}

// Proofs returns the proofs the catalog holds, one per accused creator, in
// the order of their SHA-256. The slices must not be modified.
func (c *Catalog) Proofs() [][]byte {
	c.mu.Lock()
	list := make([]*proof, 0, len(c.proofs.byHash))
	for _, p := range c.proofs.byHash {
		list = append(list, p)
	}
	c.mu.Unlock()
	slices.SortFunc(list, func(a, b *proof) int { return bytes.Compare(a.hash[:], b.hash[:]) })
	out := make([][]byte, len(list))
	for i, p := range list {
		out[i] = p.raw
	}
	return out
}

// AddProof verifies a proof of misbehaviour and, if it accuses a creator
// no stored proof accuses yet, stores it durably and rejects the creator
// from then on. It reports whether it stored the proof; a valid proof
// against a creator already accused is not stored, and is no error. It is
// idempotent: callers that offer the same bytes at the same time share one
// call of the verifier, and a stored proof is not verified again. The
// catalog keeps its own copy of raw.
func (c *Catalog) AddProof(ctx context.Context, raw []byte) (added bool, err error) {
	return c.addProof(ctx, raw, true)
}

// knowsProof reports whether raw needs no verification: it is stored, or
// was judged lately.
func (c *Catalog) knowsProof(raw []byte) bool {
	h := sha256.Sum256(raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, stored := c.proofs.byHash[h]
	_, seen := c.proofs.recall(h, c.now())
	return stored || seen
}

// addProof is AddProof; unless wait, it fails with errBusy rather than
// wait for a free verifier.
func (c *Catalog) addProof(ctx context.Context, raw []byte, wait bool) (bool, error) {
	if len(raw) == 0 || len(raw) > MaxProofSize {
		return false, fmt.Errorf("catalog: proof of %d bytes, want 1 to %d", len(raw), MaxProofSize)
	}
	h := sha256.Sum256(raw)
	c.mu.Lock()
	if _, ok := c.proofs.byHash[h]; ok {
		c.mu.Unlock()
		return false, nil
	}
	if v, ok := c.proofs.recall(h, c.now()); ok {
		c.mu.Unlock()
		return false, v.err
	}
	if f, ok := c.proofs.flights[h]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return false, f.err
		case <-ctx.Done():
			return false, fmt.Errorf("catalog: waiting for proof %x: %w", h[:8], ctx.Err())
		}
	}
	if c.verify == nil {
		c.mu.Unlock()
		return false, errNoVerifier
	}
	f := &flight{done: make(chan struct{})}
	c.proofs.flights[h] = f
	c.mu.Unlock()

	added, err := c.verifyProof(ctx, h, raw, wait)
	c.mu.Lock()
	delete(c.proofs.flights, h)
	c.mu.Unlock()
	f.err = err
	close(f.done)
	return added, err
}

// verifyProof runs the verifier on raw, whose SHA-256 is h, and stores it.
func (c *Catalog) verifyProof(ctx context.Context, h [sha256.Size]byte, raw []byte, wait bool) (bool, error) {
	if wait {
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return false, fmt.Errorf("catalog: waiting to verify proof %x: %w", h[:8], ctx.Err())
		}
	} else {
		select {
		case c.sem <- struct{}{}:
		default:
			return false, errBusy
		}
	}
	vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	creator, campaign, reason, err := c.verify(vctx, raw)
	cancel()
	<-c.sem
	if err != nil {
		err = fmt.Errorf("catalog: proof %x: %w", h[:8], err)
		if !undecided(err) {
			c.mu.Lock()
			c.proofs.remember(h, err, c.now())
			c.mu.Unlock()
		}
		return false, err
	}
	if creator.Validate() != nil || !campaign.Defined() {
		return false, fmt.Errorf("catalog: the verifier accepted proof %x but named no creator or campaign", h[:8])
	}
	p := &proof{hash: h, creator: creator, campaign: campaign, reason: cleanReason(reason), raw: bytes.Clone(raw)}

	redundant := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.proofs.bans[creator]; ok || !c.roomForProof(creator) {
			c.proofs.remember(h, nil, c.now())
			return true
		}
		return false
	}
	if redundant() {
		return false, nil
	}
	dir := filepath.Join(c.dir, proofsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("catalog: creating %s: %w", dir, err)
	}
	path := filepath.Join(dir, hex.EncodeToString(h[:]))
	if err := atomicfile.WriteFile(path, p.file(), 0o600); err != nil {
		return false, fmt.Errorf("catalog: storing proof against %s: %w", creator, err)
	}
	c.mu.Lock()
	if _, ok := c.proofs.bans[creator]; ok || !c.roomForProof(creator) {
		// Another proof against the same creator won the race, or
		// others took the room.
		c.proofs.remember(h, nil, c.now())
		c.mu.Unlock()
		os.Remove(path)
		return false, nil
	}
	c.proofs.byHash[h] = p
	c.proofs.bans[creator] = p
	notify := slices.Clone(c.proofs.notify)
	c.mu.Unlock()
	for _, f := range notify {
		f(p.creator, p.campaign, p.reason)
	}
	return true, nil
}

// roomForProof reports whether a new proof against creator may be stored:
// at most maxProofs in all, and at most maxStrangerProofs against
// creators of whom the catalog holds no campaign (identities are free,
// and such proofs protect nobody here). The caller holds c.mu.
func (c *Catalog) roomForProof(creator peer.ID) bool {
	if len(c.proofs.byHash) >= maxProofs {
		return false
	}
	if c.knowsCreator(creator) {
		return true
	}
	strangers := 0
	for _, p := range c.proofs.byHash {
		if !c.knowsCreator(p.creator) {
			strangers++
		}
	}
	return strangers < maxStrangerProofs
}

// cleanReason makes the verifier's reason one line of valid UTF-8, at most
// maxReason bytes and never empty (an empty Entry.Rejected means "fine").
func cleanReason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	for len(s) > maxReason {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	if s == "" {
		s = "a proof of misbehaviour accuses the creator"
	}
	return s
}

// loadProofs reads the proofs stored in the catalog's directory, trusting
// them: only verified proofs are written, and each file is checked against
// its name. Files that do not decode are skipped; of several proofs
// against one creator the first by name is kept.
func (c *Catalog) loadProofs() error {
	dir := filepath.Join(c.dir, proofsDir)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading proofs %s: %w", dir, err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || len(e.Name()) != 2*sha256.Size {
			continue
		}
		if info, err := e.Info(); err != nil || info.Size() > int64(maxProofFile) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("reading proofs: %w", err)
		}
		p, err := decodeProofFile(b)
		if err != nil || hex.EncodeToString(p.hash[:]) != e.Name() {
			continue
		}
		if _, ok := c.proofs.bans[p.creator]; ok {
			continue
		}
		c.proofs.byHash[p.hash] = p
		c.proofs.bans[p.creator] = p
	}
	return nil
}

// proofFile is the layout of a stored proof: the magic "SCPF" and version
// 0x01; the accused creator's peer ID, the campaign's CID and the reason
// (UTF-8), each as a uvarint length and the bytes; then the proof itself,
// to the end of the file. The file is named by the proof's SHA-256 in hex.
const proofFile = "SCPF\x01"

// maxIDBytes bounds the peer ID and CID of a stored proof.
const maxIDBytes = 256

const maxProofFile = len(proofFile) + 3*binary.MaxVarintLen64 + 2*maxIDBytes + maxReason + MaxProofSize

// file encodes p as proofFile says.
func (p *proof) file() []byte {
	b := []byte(proofFile)
	for _, f := range [][]byte{[]byte(p.creator), p.campaign.Bytes(), []byte(p.reason)} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return append(b, p.raw...)
}

// decodeProofFile parses a stored proof; the encoding is canonical, so
// p.file() returns b again.
func decodeProofFile(b []byte) (*proof, error) {
	rest, ok := bytes.CutPrefix(b, []byte(proofFile))
	if !ok {
		return nil, errors.New("stored proof: bad header")
	}
	var fields [3][]byte
	for i, max := range [3]int{maxIDBytes, maxIDBytes, maxReason} {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(max) || n > uint64(len(rest)-k) {
			return nil, fmt.Errorf("stored proof: bad length of field %d", i)
		}
		fields[i], rest = rest[k:k+int(n)], rest[k+int(n):]
	}
	creator, err := peer.IDFromBytes(fields[0])
	if err != nil {
		return nil, fmt.Errorf("stored proof: creator: %w", err)
	}
	campaign, err := cid.Cast(fields[1])
	if err != nil {
		return nil, fmt.Errorf("stored proof: campaign: %w", err)
	}
	reason := string(fields[2])
	if reason == "" || cleanReason(reason) != reason {
		return nil, errors.New("stored proof: bad reason")
	}
	if len(rest) == 0 || len(rest) > MaxProofSize {
		return nil, fmt.Errorf("stored proof: proof of %d bytes", len(rest))
	}
	p := &proof{hash: sha256.Sum256(rest), creator: creator, campaign: campaign, reason: reason, raw: rest}
	if !bytes.Equal(p.file(), b) {
		return nil, errors.New("stored proof: not in canonical form")
	}
	return p, nil
}
