package custody

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/shardcast/shardcast/shares"
)

// DealOptions are the terms of a dealing besides its custodians, secret
// and threshold.
type DealOptions struct {
	Campaign []byte    // the campaign's identity (its binary CID)
	Deadline time.Time // when the custodians release; cut to whole seconds
	// Need is how many custodians must accept for the dealing to
	// succeed: 0 means all of them. It is at least the threshold.
	Need int
}

// Dealt is a dealing's result: the terms and, in index order, each
// custodian's acceptance (nil for one that did not accept).
type Dealt struct {
	Terms       *Terms
	Acceptances []*Acceptance
}

// Accepted returns the acceptances that were given.
func (d *Dealt) Accepted() []*Acceptance {
	var out []*Acceptance
	for _, a := range d.Acceptances {
		if a != nil {
			out = append(out, a)
		}
	}
	return out
}

// DealTo deals secret, with threshold t, to custodians (custodian j
// holds part j, in the order given), in parallel, as the host's key. It
// returns when every custodian answered or ctx ended. If fewer than
// opts.Need accepted, it returns the Dealt so far and a one-line error
// naming each custodian that did not accept and why.
func DealTo(ctx context.Context, h host.Host, custodians []peer.ID, secret [shares.ScalarSize]byte, t int, opts DealOptions) (*Dealt, error) {
	key := h.Peerstore().PrivKey(h.ID())
	if key == nil {
		return nil, fmt.Errorf("custody: host has no private key")
	}
	creator, err := rawKey(key.GetPublic())
	if err != nil {
		return nil, err
	}
	m := len(custodians)
	need := opts.Need
	if need == 0 {
		need = m
	}
	if need < t || need > m {
		return nil, fmt.Errorf("custody: %d acceptances needed of %d custodians with threshold %d", need, m, t)
	}
	keys := make([]ed25519.PublicKey, m)
	for i, p := range custodians {
		if p == h.ID() {
			return nil, fmt.Errorf("custody: the creator cannot be its own custodian")
		}
		if keys[i], err = PeerKey(p); err != nil {
			return nil, err
		}
	}
	x, err := shares.SecretCommitment(secret)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	parts, c, err := shares.Deal(rand.Reader, secret, t, m)
	if err != nil {
		return nil, fmt.Errorf("custody: %w", err)
	}
	terms := &Terms{Campaign: opts.Campaign, Creator: creator, X: x, Deadline: time.Unix(opts.Deadline.Unix(), 0), Custodians: keys, Custody: c}
	if _, err := terms.MarshalBinary(); err != nil {
		return nil, err
	}
	out := &Dealt{Terms: terms, Acceptances: make([]*Acceptance, m)}
	errs := make([]error, m)
	var wg sync.WaitGroup
	for i, p := range custodians {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.Acceptances[i], errs[i] = dealOne(ctx, h, key, terms, parts[i], p)
		}()
	}
	wg.Wait()
	var failed []string
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %s", custodians[i], oneLine(err)))
		}
	}
	if got := len(out.Accepted()); got < need {
		return out, fmt.Errorf("custody: %d of %d custodians accepted, %d needed: %s", got, m, need, strings.Join(failed, "; "))
	}
	return out, nil
}

// ErrRefused is wrapped by the error of a custodian that refused a deal.
var ErrRefused = errors.New("refused")

// dealOne deals one part to custodian p and checks its acceptance.
func dealOne(ctx context.Context, h host.Host, key crypto.PrivKey, t *Terms, part shares.Part, p peer.ID) (*Acceptance, error) {
	st, err := h.NewStream(ctx, p, ProtocolID)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		st.SetDeadline(dl)
	}
	fail := func(err error) (*Acceptance, error) {
		st.Reset()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	br := bufio.NewReader(st)
	if err := writeFrame(st, msgHello, nil); err != nil {
		return fail(err)
	}
	typ, body, err := readFrame(br, 1+maxReason)
	if err != nil {
		return fail(err)
	}
	if typ == msgRefused {
		return fail(fmt.Errorf("%w: %s", ErrRefused, body))
	}
	if typ != msgRecipient {
		return fail(fmt.Errorf("custodian answered message %d, want its recipient", typ))
	}
	rcpt, err := ageRecipient(string(body))
	if err != nil {
		return fail(fmt.Errorf("custodian's recipient: %w", err))
	}
	d, err := NewDeal(key, t, part, rcpt)
	if err != nil {
		return fail(err)
	}
	db, _ := d.MarshalBinary()
	if err := writeFrame(st, msgDeal, db); err != nil {
		return fail(err)
	}
	typ, body, err = readFrame(br, 1+max(AcceptanceSize, maxReason))
	if err != nil {
		return fail(err)
	}
	st.Close()
	switch typ {
	case msgRefused:
		return nil, fmt.Errorf("%w: %s", ErrRefused, body)
	case msgAccepted:
	default:
		return nil, fmt.Errorf("custodian answered message %d, want an acceptance", typ)
	}
	a := new(Acceptance)
	if err := a.UnmarshalBinary(body); err != nil {
		return nil, err
	}
	if err := a.Check(t); err != nil {
		return nil, err
	}
	if a.Index != part.Index || a.DealHash != d.Hash() {
		return nil, fmt.Errorf("custodian accepted another deal")
	}
	return a, nil
}

// oneLine keeps an error's text on one line.
func oneLine(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// ageRecipient parses a custodian's recipient.
func ageRecipient(s string) (*age.X25519Recipient, error) { return age.ParseX25519Recipient(s) }
