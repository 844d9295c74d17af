package campaign

import "time"

// Sales are a campaign's sales as its creator's own ledger counts them:
// the figures on the creator's node, fresher than its signed State.
type Sales struct {
	Sold, Raised, Donated, Pledged int64
}

// Seen is what a node knows of a campaign beyond its manifest.
type Seen struct {
	State    *State // the creator's latest signed state; nil if none came
	Ledger   *Sales // the creator's ledger: set only on the creator's node
	Pooled   int    // shards: the shares this node holds
	Unlocked bool   // this node can read the work
	// Mine says the campaign is this node's own; Bought counts the shares
	// (shards) or accesses (pay) this node bought or pledged for, from its
	// own receipts.
	Mine   bool
	Bought int64
}

// MaxQuoted bounds the quote in Figures.Totals: the most shares one
// page offers to buy at once.
const MaxQuoted = 20

// Figures are what is shown of a campaign at one moment. Amounts are in
// minor units of the manifest's currency.
type Figures struct {
	// PriceNow is what the next share or access costs: the price the
	// creator's quote charges, after the shares sold and pledged; 0 in
	// model open. SoldOut says no share is left.
	PriceNow int64
	SoldOut  bool
	// Sold counts shares (shards) or accesses (pay); Raised is what they
	// brought; Donated is what donations brought; Pledged counts the
	// shares of an all-or-nothing campaign pledged and held.
	Sold, Raised, Donated, Pledged int64
	// Pooled counts the shares this node holds of Needed (N, shards).
	Pooled, Needed int64
	Goal           int64
	Deadline       time.Time // zero if none
	Unlocked       bool
	// Outcome is how an all-or-nothing campaign ended, OutcomeNote says
	// it in a sentence.
	Outcome     Outcome
	OutcomeNote string
	// Steps is a shards campaign's price schedule, run by run; Left
	// counts the shares still unsold and unpledged in each run.
	Steps []PriceStep
	Left  []int64
	// Totals is the quote of a shards campaign on sale: Totals[k-1] is
	// what k more shares cost now (PriceFor after those sold and
	// pledged), for k up to MaxQuoted and the shares left.
	Totals []int64
	// Shows says which figures apply to the campaign's model.
	Shows Shown
	// Stands says where the campaign stands for this node: its stage,
	// whether this node owns it and whether a buy can succeed.
	Stands Standing
}

// Stage is where a campaign stands, as a fan's page shows it.
type Stage string

// Stages.
const (
	// StageOpen: on sale (pay, shards) or taking donations (open).
	StageOpen Stage = "open"
	// StageSoldOut: every share is sold or pledged; the work is not
	// unlocked yet (pledges wait for the deadline, or the last shares
	// are on their way).
	StageSoldOut Stage = "sold_out"
	// StageFunded: every share was sold: the work is unlocked for
	// everyone.
	StageFunded Stage = "funded"
	// StageReleased: the creator's node published the unsold shares: the
	// work is free for everyone.
	StageReleased Stage = "released"
	// StageDeciding: the deadline passed and the creator's node has yet
	// to settle or return the pledges, or to release the unsold shares.
	StageDeciding Stage = "deciding"
	// StageLocked: the deadline passed short of the goal and the work
	// stays locked.
	StageLocked Stage = "locked"
)

// Standing is where a campaign stands for one node.
type Standing struct {
	Stage Stage
	// Released says the creator's node published the unsold shares.
	Released bool
	// Bought counts the shares or accesses this node bought (Seen.Bought);
	// Owned says this node bought into the campaign: access to a pay
	// campaign (or the work unlocked on it), or shares of a shards one.
	Bought int64
	Owned  bool
	// CanBuy says a buy from this node can succeed: a pay or shards
	// campaign, not this node's own nor owned, on sale and not sold out.
	CanBuy bool
}

// Shown says which figures a campaign's model gives meaning to; donations,
// the price, and the goal and deadline when set, apply to every model.
type Shown struct {
	Sold    bool // pay, shards
	Pledged bool // all-or-nothing shards
	Pooled  bool // shards
	Needed  bool // shards
	Raised  bool // pay, shards: open campaigns raise donations only
}

// Shows returns the figures that a campaign of model m shows.
func Shows(m Model, allOrNothing bool) Shown {
	switch m {
	case ModelShards:
		return Shown{Sold: true, Pledged: allOrNothing, Pooled: true, Needed: true, Raised: true}
	case ModelPay:
		return Shown{Sold: true, Raised: true}
	}
	return Shown{}
}

// FiguresOf computes the figures shown of campaign m at now. The
// creator's ledger, when seen, counts over its signed state; in model open
// the state's sold and raised count donations. The price is taken once
// the figures are in: the next share is the one after those sold and
// pledged.
func FiguresOf(m *Manifest, seen Seen, now time.Time) Figures {
	f := Figures{
		Goal: m.Goal, Deadline: m.Deadline, Unlocked: seen.Unlocked,
		Shows: Shows(m.Model, m.AllOrNothing),
	}
	if m.Model == ModelShards {
		f.Pooled, f.Needed = int64(seen.Pooled), int64(m.Shards)
		f.Steps = m.PriceSteps()
	}
	if st := seen.State; st != nil {
		if m.Model == ModelOpen {
			f.Donated = st.Raised
		} else {
			f.Sold, f.Raised, f.Pledged = st.Sold, st.Raised, st.Pledged
		}
	}
	if l := seen.Ledger; l != nil {
		f.Sold, f.Raised, f.Donated, f.Pledged = l.Sold, l.Raised, l.Donated, l.Pledged
	}
	if m.Model != ModelOpen {
		var left bool
		f.PriceNow, left = m.NextPrice(f.Sold + f.Pledged)
		f.SoldOut = !left
	}
	if m.Model == ModelShards {
		taken := f.Sold + f.Pledged
		for _, st := range f.Steps {
			f.Left = append(f.Left, max(0, min(int64(st.Count), int64(st.First+st.Count)-taken)))
		}
	}
	if o := m.OutcomeAt(f.Sold, f.Pledged, now); o != OutcomeNone {
		f.Outcome, f.OutcomeNote = o, m.Describe(o, f.Pledged)
	}
	f.Stands = standing(m, f, seen, now)
	if m.Model == ModelShards && f.Stands.Stage == StageOpen {
		taken := int(f.Sold + f.Pledged)
		for k := 1; k <= MaxQuoted && taken+k <= m.Shards; k++ {
			t, err := m.PriceFor(taken, k)
			if err != nil {
				break
			}
			f.Totals = append(f.Totals, t)
		}
	}
	return f
}

// standing says where campaign m with figures f stands for the node that
// saw seen, at now. Only shards campaigns close: the creator's node sells
// no share after the deadline; pay and open campaigns keep selling access
// and taking donations.
func standing(m *Manifest, f Figures, seen Seen, now time.Time) Standing {
	s := Standing{Stage: StageOpen, Bought: seen.Bought}
	s.Released = seen.State != nil && seen.State.Released
	switch m.Model {
	case ModelPay:
		s.Owned = !seen.Mine && (seen.Bought > 0 || seen.Unlocked)
	case ModelShards:
		s.Owned = !seen.Mine && seen.Bought > 0
		ended := !m.Deadline.IsZero() && !now.Before(m.Deadline)
		switch {
		case f.Sold >= int64(m.Shards) || f.Outcome == OutcomeMet:
			s.Stage = StageFunded
		case s.Released, !seen.Mine && seen.Unlocked && !f.SoldOut:
			// A node other than the creator's reads the work only once
			// every share is public: short of a sell-out, the creator's
			// node released them, even before its signed state says so.
			s.Stage = StageReleased
		case seen.State != nil && seen.State.Unlocked:
			s.Stage = StageFunded
		case ended && m.Shortfall == ShortfallLocked && f.Outcome != OutcomeDeciding:
			s.Stage = StageLocked
		case ended:
			s.Stage = StageDeciding
		case f.SoldOut:
			s.Stage = StageSoldOut
		}
	}
	s.CanBuy = m.Model != ModelOpen && !seen.Mine && !s.Owned && s.Stage == StageOpen && !f.SoldOut
	return s
}
