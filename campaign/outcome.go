package campaign

import (
	"fmt"
	"time"
)

// Outcome is where an all-or-nothing campaign stands once its deadline has
// passed, as its figures show it. Every node can tell it from the creator's
// signed state: after the deadline no pledge is taken, a met goal turns
// every pledge into a sale, and a shortfall returns every pledge.
type Outcome string

// Outcomes.
const (
	// OutcomeNone: not all or nothing, or the deadline has not passed.
	OutcomeNone Outcome = ""
	// OutcomeDeciding: the deadline passed and pledges are still held;
	// the creator's node settles or returns them (LND returns them at
	// their expiry if it never does).
	OutcomeDeciding Outcome = "deciding"
	// OutcomeMet: every share was pledged in time and the pledges were
	// settled: the work unlocks for everyone.
	OutcomeMet Outcome = "met"
	// OutcomeShort: the deadline passed short of the goal and the pledges
	// were returned; Shortfall says whether the work stays locked.
	OutcomeShort Outcome = "short"
)

// OutcomeAt returns the outcome of the campaign at now, from its shares
// sold (settled pledges) and pledged (held).
func (m *Manifest) OutcomeAt(sold, pledged int64, now time.Time) Outcome {
	if !m.AllOrNothing || m.Deadline.IsZero() || now.Before(m.Deadline) {
		return OutcomeNone
	}
	switch {
	case sold >= int64(m.Shards):
		return OutcomeMet
	case pledged > 0:
		return OutcomeDeciding
	}
	return OutcomeShort
}

// Describe says in a sentence what an outcome means for the campaign's
// pledges and its work, "" for OutcomeNone.
func (m *Manifest) Describe(o Outcome, pledged int64) string {
	switch o {
	case OutcomeDeciding:
		return fmt.Sprintf("the deadline passed with %d of %d shares pledged: the creator's node is settling or returning the pledges", pledged, m.Shards)
	case OutcomeMet:
		return "every share was pledged by the deadline: the pledges were settled and the work unlocks for everyone"
	case OutcomeShort:
		if m.Shortfall == ShortfallLocked {
			return "the deadline passed short of the goal: the pledges were returned and the work stays locked"
		}
		return "the deadline passed short of the goal: the pledges were returned and the unsold shares released, so the work unlocks for everyone"
	}
	return ""
}
