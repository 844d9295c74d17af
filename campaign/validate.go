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
		return valueErr(kModel, string(m.Model), "want open, pay or shards")
	}
}

func (m *Manifest) validateCommon() error {
	if err := checkText("title", m.Title, MaxTitle, false); err != nil {
		return err
	}
	if strings.TrimSpace(m.Title) == "" {
		return termErr(kTitle, "empty")
	}
	if err := checkText("description", m.Description, MaxDescription, true); err != nil {
		return err
	}
	if !m.Content.Defined() {
		return termErr(kContent, "missing")
	}
	if m.ContentSize < 0 {
		return termErr(kContentSize, "%d is negative", m.ContentSize)
	}
	if err := checkMediaType(m.MediaType); err != nil {
		return err
	}
	if (m.Creator == "") != (len(m.CreatorKey) == 0) {
		return termErr("creator and creator_key", "one without the other")
	}
	if m.Creator != "" {
		if err := m.Creator.Validate(); err != nil {
			return termErr(kCreator, "%v", err)
		}
	}
	if err := checkTime("created", m.Created.Unix(), m.Created.IsZero()); err != nil {
		return err
	}
	if err := checkCurrency(m.Currency); err != nil {
		return err
	}
	if m.Price < 0 || m.Goal < 0 {
		return termErr("price and goal", "negative")
	}
	if len(m.SecretCommitment) > 0 && len(m.SecretCommitment) != secretCommitSize {
		return termErr(kSecretCommitment, "%d bytes, want %d", len(m.SecretCommitment), secretCommitSize)
	}
	if !m.Deadline.IsZero() {
		if err := checkTime("deadline", m.Deadline.Unix(), false); err != nil {
			return err
		}
	}
	if len(m.Sig) > 0 && len(m.Sig) != ed25519SigSize {
		return termErr(kSig, "%d bytes, want %d", len(m.Sig), ed25519SigSize)
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
			return termErr(n, "not allowed in model %s", m.Model)
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
		return termErr(kSuggested, "%d amounts, at most %d allowed", len(m.Suggested), MaxSuggested)
	}
	for _, a := range m.Suggested {
		if a <= 0 {
			return termErr(kSuggested, "amount %d is not positive", a)
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
		return termErr(kPrice, "must be positive in model pay")
	}
	return nil
}

func (m *Manifest) validateShards() error {
	if err := m.absent(kSuggested); err != nil {
		return err
	}
	if m.Price <= 0 {
		return termErr(kPrice, "must be positive in model shards")
	}
	if m.Shards < 1 || m.Shards > MaxShares {
		return termErr(kShards, "%d not in [1, %d]", m.Shards, MaxShares)
	}
	if !m.Commitments.Defined() {
		return termErr(kCommitments, "missing")
	}
	if len(m.SecretCommitment) != secretCommitSize {
		return termErr(kSecretCommitment, "missing")
	}
	if m.Deadline.IsZero() {
		return termErr(kDeadline, "missing")
	}
	if m.Deadline.Unix() <= m.Created.Unix() {
		return termErr(kDeadline, "%s is not after created %s", m.Deadline.UTC().Format(timeFormat), m.Created.UTC().Format(timeFormat))
	}
	if m.Shortfall != ShortfallRelease && m.Shortfall != ShortfallLocked {
		return valueErr(kShortfall, string(m.Shortfall), "want %q or %q", ShortfallRelease, ShortfallLocked)
	}
	if len(m.Schedule) > MaxTiers {
		return termErr(kSchedule, "%d tiers, at most %d allowed", len(m.Schedule), MaxTiers)
	}
	tiered := 0
	for i, t := range m.Schedule {
		if t.Count < 1 || t.Price <= 0 {
			return termErr(kSchedule, "tier %d has count %d, price %d; both must be positive", i, t.Count, t.Price)
		}
		tiered += t.Count
		if tiered > m.Shards {
			return termErr(kSchedule, "tiers cover %d+ shares, more than the %d there are", tiered, m.Shards)
		}
	}
	total, err := m.PriceFor(0, m.Shards)
	if err != nil {
		return termErr(kPrice, "all shares together: %v", err)
	}
	if m.Goal > 0 {
		// N is the fewest shares that reach the goal: ceil(goal/price)
		// without a schedule.
		below, _ := m.PriceFor(0, m.Shards-1)
		if total < m.Goal || below >= m.Goal {
			return termErr(kGoal, "%d shares raise %d and %d raise %d; the goal %d needs N to be the fewest that reach it",
				m.Shards, total, m.Shards-1, below, m.Goal)
		}
	}
	return nil
}

// checkText checks a UTF-8 string of at most max runes without control
// characters (newlines and tabs allowed when multiline).
func checkText(name, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return termErr(name, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return termErr(name, "%d characters, at most %d allowed", n, max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return termErr(name, "control character %U", r)
		}
	}
	return nil
}

func checkMediaType(s string) error {
	if s == "" {
		return termErr(kMediaType, "missing")
	}
	if len(s) > MaxMediaType || !utf8.ValidString(s) {
		return termErr(kMediaType, "longer than %d bytes or not UTF-8", MaxMediaType)
	}
	if _, _, err := mime.ParseMediaType(s); err != nil {
		return valueErr(kMediaType, s, "%v", err)
	}
	return nil
}

func checkTime(name string, unix int64, missing bool) error {
	if missing {
		return termErr(name, "missing")
	}
	if unix < 1 || unix > maxUnix {
		return termErr(name, "%d seconds is outside 1970–9999", unix)
	}
	return nil
}

// checkCurrency accepts 3–5 ASCII capital letters.
func checkCurrency(c string) error {
	if len(c) < 3 || len(c) > 5 {
		return valueErr(kCurrency, c, "want 3 to 5 capital letters")
	}
	for i := 0; i < len(c); i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return valueErr(kCurrency, c, "want 3 to 5 capital letters")
		}
	}
	return nil
}

// checkRails accepts 1 to MaxRails distinct names of lower-case letters,
// digits and '-', starting with a letter.
func checkRails(rails []string) error {
	if len(rails) == 0 || len(rails) > MaxRails {
		return termErr(kRails, "%d names, want 1 to %d", len(rails), MaxRails)
	}
	seen := make(map[string]bool, len(rails))
	for _, r := range rails {
		if seen[r] {
			return valueErr(kRails, r, "named twice")
		}
		seen[r] = true
		if len(r) == 0 || len(r) > maxRailNameLength || r[0] < 'a' || r[0] > 'z' {
			return valueErr(kRails, r, "bad name")
		}
		for i := 0; i < len(r); i++ {
			c := r[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return valueErr(kRails, r, "bad name")
			}
		}
	}
	return nil
}

const timeFormat = "2006-01-02T15:04:05Z07:00"
