package campaign

import (
	"fmt"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate checks the rules of the manifest's model (see the package doc).
// It does not check the signature; a manifest that has a Creator or
// CreatorKey must have both. Sign and Encode call it; errors wrap
// ErrBadManifest.
func (m *Manifest) Validate() error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	return nil
}

func (m *Manifest) validate() error {
	if err := m.validateCommon(); err != nil {
		return err
	}
	switch m.Model {
	case ModelOpen:
		return m.validateOpen()
	case ModelPay:
		return m.validatePay()
	case ModelShards:
		return m.validateShards()
	default:
		return fmt.Errorf("model %q, want open, pay or shards", m.Model)
	}
}

func (m *Manifest) validateCommon() error {
	if err := checkText("title", m.Title, MaxTitle, false); err != nil {
		return err
	}
	if strings.TrimSpace(m.Title) == "" {
		return fmt.Errorf("title: empty")
	}
	if err := checkText("description", m.Description, MaxDescription, true); err != nil {
		return err
	}
	if !m.Content.Defined() {
		return fmt.Errorf("content: missing")
	}
	if m.ContentSize < 0 {
		return fmt.Errorf("content_size: %d is negative", m.ContentSize)
	}
	if err := checkMediaType(m.MediaType); err != nil {
		return err
	}
	if (m.Creator == "") != (len(m.CreatorKey) == 0) {
		return fmt.Errorf("creator and creator_key: one without the other")
	}
	if m.Creator != "" {
		if err := m.Creator.Validate(); err != nil {
			return fmt.Errorf("creator: %w", err)
		}
	}
	if err := checkTime("created", m.Created.Unix(), m.Created.IsZero()); err != nil {
		return err
	}
	if err := checkCurrency(m.Currency); err != nil {
		return err
	}
	if m.Price < 0 || m.Goal < 0 {
		return fmt.Errorf("price and goal: negative")
	}
	if len(m.SecretCommitment) > 0 && len(m.SecretCommitment) != secretCommitSize {
		return fmt.Errorf("secret_commitment: %d bytes, want %d", len(m.SecretCommitment), secretCommitSize)
	}
	if !m.Deadline.IsZero() {
		if err := checkTime("deadline", m.Deadline.Unix(), false); err != nil {
			return err
		}
	}
	if len(m.Sig) > 0 && len(m.Sig) != ed25519SigSize {
		return fmt.Errorf("sig: %d bytes, want %d", len(m.Sig), ed25519SigSize)
	}
	return checkRails(m.Rails)
}

// absent reports the first of the named fields that is set.
func (m *Manifest) absent(names ...string) error {
	set := map[string]bool{
		kPrice:            m.Price != 0,
		kSchedule:         len(m.Schedule) > 0,
		kGoal:             m.Goal != 0,
		kSuggested:        len(m.Suggested) > 0,
		kShards:           m.Shards != 0,
		kCommitments:      m.Commitments.Defined(),
		kSecretCommitment: len(m.SecretCommitment) > 0,
		kDeadline:         !m.Deadline.IsZero(),
		kAllOrNothing:     m.AllOrNothing,
		kShortfall:        m.Shortfall != "",
	}
	for _, n := range names {
		if set[n] {
			return fmt.Errorf("%s: not allowed in model %s", n, m.Model)
		}
	}
	return nil
}

func (m *Manifest) validateOpen() error {
	if err := m.absent(kPrice, kSchedule, kShards, kCommitments, kSecretCommitment,
		kDeadline, kAllOrNothing, kShortfall); err != nil {
		return err
	}
	if len(m.Suggested) > MaxSuggested {
		return fmt.Errorf("suggested: %d amounts, at most %d allowed", len(m.Suggested), MaxSuggested)
	}
	for _, a := range m.Suggested {
		if a <= 0 {
			return fmt.Errorf("suggested: amount %d is not positive", a)
		}
	}
	return nil
}

func (m *Manifest) validatePay() error {
	if err := m.absent(kSchedule, kGoal, kSuggested, kShards, kCommitments, kSecretCommitment,
		kDeadline, kAllOrNothing, kShortfall); err != nil {
		return err
	}
	if m.Price <= 0 {
		return fmt.Errorf("price: must be positive in model pay")
	}
	return nil
}

func (m *Manifest) validateShards() error {
	if err := m.absent(kSuggested); err != nil {
		return err
	}
	if m.Price <= 0 {
		return fmt.Errorf("price: must be positive in model shards")
	}
	if m.Shards < 1 || m.Shards > MaxShares {
		return fmt.Errorf("shards: %d not in [1, %d]", m.Shards, MaxShares)
	}
	if !m.Commitments.Defined() {
		return fmt.Errorf("commitments: missing")
	}
	if len(m.SecretCommitment) != secretCommitSize {
		return fmt.Errorf("secret_commitment: missing")
	}
	if m.Deadline.IsZero() {
		return fmt.Errorf("deadline: missing")
	}
	if m.Deadline.Unix() <= m.Created.Unix() {
		return fmt.Errorf("deadline: %s is not after created %s", m.Deadline.UTC().Format(timeFormat), m.Created.UTC().Format(timeFormat))
	}
	if m.Shortfall != ShortfallRelease && m.Shortfall != ShortfallLocked {
		return fmt.Errorf("shortfall: %q, want %q or %q", m.Shortfall, ShortfallRelease, ShortfallLocked)
	}
	if len(m.Schedule) > MaxTiers {
		return fmt.Errorf("schedule: %d tiers, at most %d allowed", len(m.Schedule), MaxTiers)
	}
	tiered := 0
	for i, t := range m.Schedule {
		if t.Count < 1 || t.Price <= 0 {
			return fmt.Errorf("schedule: tier %d has count %d, price %d; both must be positive", i, t.Count, t.Price)
		}
		tiered += t.Count
		if tiered > m.Shards {
			return fmt.Errorf("schedule: tiers cover %d+ shares, more than the %d there are", tiered, m.Shards)
		}
	}
	total, err := m.PriceFor(0, m.Shards)
	if err != nil {
		return fmt.Errorf("price: all shares together: %w", err)
	}
	if m.Goal > 0 {
		// N is the fewest shares that reach the goal: ceil(goal/price)
		// without a schedule.
		below, _ := m.PriceFor(0, m.Shards-1)
		if total < m.Goal || below >= m.Goal {
			return fmt.Errorf("goal: %d shares raise %d and %d raise %d; the goal %d needs N to be the fewest that reach it",
				m.Shards, total, m.Shards-1, below, m.Goal)
		}
	}
	return nil
}

// checkText checks a UTF-8 string of at most max runes without control
// characters (newlines and tabs allowed when multiline).
func checkText(name, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: not valid UTF-8", name)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%s: %d characters, at most %d allowed", name, n, max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return fmt.Errorf("%s: control character %U", name, r)
		}
	}
	return nil
}

func checkMediaType(s string) error {
	if s == "" {
		return fmt.Errorf("media_type: missing")
	}
	if len(s) > MaxMediaType || !utf8.ValidString(s) {
		return fmt.Errorf("media_type: longer than %d bytes or not UTF-8", MaxMediaType)
	}
	if _, _, err := mime.ParseMediaType(s); err != nil {
		return fmt.Errorf("media_type %q: %w", s, err)
	}
	return nil
}

func checkTime(name string, unix int64, missing bool) error {
	if missing {
		return fmt.Errorf("%s: missing", name)
	}
	if unix < 1 || unix > maxUnix {
		return fmt.Errorf("%s: %d seconds is outside 1970–9999", name, unix)
	}
	return nil
}

// checkCurrency accepts 3–5 ASCII capital letters.
func checkCurrency(c string) error {
	if len(c) < 3 || len(c) > 5 {
		return fmt.Errorf("currency %q: want 3 to 5 capital letters", c)
	}
	for i := 0; i < len(c); i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return fmt.Errorf("currency %q: want 3 to 5 capital letters", c)
		}
	}
	return nil
}

// checkRails accepts 1 to MaxRails distinct names of lower-case letters,
// digits and '-', starting with a letter.
func checkRails(rails []string) error {
	if len(rails) == 0 || len(rails) > MaxRails {
		return fmt.Errorf("rails: %d names, want 1 to %d", len(rails), MaxRails)
	}
	seen := make(map[string]bool, len(rails))
	for _, r := range rails {
		if seen[r] {
			return fmt.Errorf("rails: %q twice", r)
		}
		seen[r] = true
		if len(r) == 0 || len(r) > maxRailNameLength || r[0] < 'a' || r[0] > 'z' {
			return fmt.Errorf("rails: bad name %q", r)
		}
		for i := 0; i < len(r); i++ {
			c := r[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("rails: bad name %q", r)
			}
		}
	}
	return nil
}

const timeFormat = "2006-01-02T15:04:05Z07:00"
