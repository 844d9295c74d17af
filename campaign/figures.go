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
}

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
	// Steps is a shards campaign's price schedule, run by run.
	Steps []PriceStep
	// Shows says which figures apply to the campaign's model.
	Shows Shown
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
	if o := m.OutcomeAt(f.Sold, f.Pledged, now); o != OutcomeNone {
		f.Outcome, f.OutcomeNote = o, m.Describe(o, f.Pledged)
	}
	return f
}
