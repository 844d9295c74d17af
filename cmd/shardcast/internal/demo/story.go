package demo

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/shardcast/shardcast/campaign"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/money"
)

// The campaigns' terms, in minor units of USD.
const (
	currency     = "USD"
	payPrice     = 250 // 2.50
	shardCount   = 12
	shardPrice   = 100 // 1.00
	earlyCount   = 4
	earlyPrice   = 50 // 0.50
	shardsWindow = 10 * time.Minute
)

// suggested are the open film's suggested donations: 1.00, 3.00, 5.00.
var suggested = []int64{100, 300, 500}

// play publishes the three campaigns, runs the buyers' story and checks
// the outcomes into the report. It returns an error only when the story
// cannot go on (ctx ended, a campaign did not spread); failed checks are
// in the report.
func (d *demo) play(ctx context.Context) error {
	open, pay, shards := &d.rep.Open, &d.rep.Pay, &d.rep.Shards
	terms := []struct {
		res *Result
		m   campaign.Terms
	}{
		{open, campaign.Terms{Model: campaign.ModelOpen, Title: "Sample (open)", Suggested: suggested, Goal: 2000,
			Description: "Free to watch; donations welcome."}},
		{pay, campaign.Terms{Model: campaign.ModelPay, Title: "Sample (pay)", Price: payPrice,
			Description: "Each viewer buys the key."}},
		{shards, campaign.Terms{Model: campaign.ModelShards, Title: "Sample (shards)", Shards: shardCount, Price: shardPrice,
			Schedule: []campaign.Tier{{Count: earlyCount, Price: earlyPrice}}, Deadline: time.Now().Add(shardsWindow),
			Shortfall:   campaign.ShortfallRelease,
			Description: "Once every share is sold, everyone can watch."}},
	}
	for _, t := range terms {
		t.m.MediaType, t.m.Currency = "video/webm", currency
		e, err := d.creator.n.Publish(ctx, t.m, bytes.NewReader(d.film))
		if err != nil {
			return fmt.Errorf("publishing the %s film: %w", t.m.Model, err)
		}
		t.res.Model, t.res.Campaign, t.res.Currency = t.m.Model, e.ID, currency
		t.res.Watch = d.creator.gw + "watch/" + e.ID.String()
		d.say("creator", "published %q (%s, %s): watch at %s", t.m.Title, t.m.Model, d.termsOf(t.m), t.res.Watch)
	}
	for _, m := range d.all[1:] {
		for _, t := range terms {
			id := t.res.Campaign
			err := waitFor(ctx, gossipTimeout, m.name+" learns of "+id.String(), func() error {
				_, err := m.n.Catalog().Get(id)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	d.say("demo", "every node knows the three campaigns")

	// Open: two donations; the bystander watches for free.
	for _, step := range []struct {
		who    *member
		amount int64
	}{{d.alice, suggested[1]}, {d.bob, suggested[2]}} {
		if err := d.beat(ctx); err != nil {
			return err
		}
		p, err := step.who.n.Donate(ctx, open.Campaign, step.amount, "")
		open.check(step.who.name+" donates "+d.money(step.amount), err)
		if err == nil {
			d.say(step.who.name, "donated %s to %q", d.paid(p, step.amount), "Sample (open)")
		}
	}
	d.readsFilm(ctx, open, d.bystander)
	d.say("bystander", "watches %q for free", "Sample (open)")

	// Pay: carol and dave buy; alice, bob and the bystander stay locked out.
	for _, b := range []*member{d.carol, d.dave} {
		if err := d.beat(ctx); err != nil {
			return err
		}
		p, err := b.n.Buy(ctx, pay.Campaign, 1, "")
		pay.check(b.name+" buys access", err)
		if err != nil {
			continue
		}
		d.say(b.name, "bought %q for %s", "Sample (pay)", d.paid(p, payPrice))
		d.readsFilm(ctx, pay, b)
	}
	if err := d.beat(ctx); err != nil {
		return err
	}
	for _, m := range []*member{d.bystander, d.alice, d.bob} {
		d.cannotRead(ctx, pay, m)
	}
	d.say("bystander", "cannot watch %q: locked, as it should be (so are alice and bob)", "Sample (pay)")

	// Shards: 4 early-bird shares, then 3, 3 and the last 2 unlock it.
	for _, step := range []struct {
		who *member
		k   int
	}{{d.alice, 4}, {d.bob, 3}, {d.dave, 3}, {d.carol, 2}} {
		if err := d.beat(ctx); err != nil {
			return err
		}
		if step.who == d.carol {
			// Before the last shares: the bystander must still be locked out.
			if e, err := d.bystander.n.Catalog().Get(shards.Campaign); err == nil && d.bystander.n.CanRead(e) {
				shards.check("the bystander is locked out before the last share", fmt.Errorf("it can read with %d of %d shares sold", shardCount-step.k, shardCount))
			} else {
				shards.check("the bystander is locked out before the last share", err)
				d.say("bystander", "cannot watch %q yet: %d of %d shares in its pool", "Sample (shards)", d.bystander.n.Pooled(shards.Campaign), shardCount)
			}
		}
		p, err := step.who.n.Buy(ctx, shards.Campaign, step.k, "")
		shards.check(fmt.Sprintf("%s buys %d shares", step.who.name, step.k), err)
		if err == nil {
			d.say(step.who.name, "bought %d shares of %q for %s", step.k, "Sample (shards)", d.paid(p, 0))
		}
	}
	d.waitUnlocked(ctx, shards)
	for _, m := range d.all {
		d.readsFilm(ctx, shards, m)
	}
	d.say("demo", "%d of %d nodes read %q byte for byte", len(shards.Readers), len(d.all), "Sample (shards)")

	d.ledger(ctx, open, 2, 0, suggested[1]+suggested[2])
	d.ledger(ctx, pay, 2, 2, 2*payPrice)
	d.ledger(ctx, shards, 4, shardCount, earlyCount*earlyPrice+(shardCount-earlyCount)*shardPrice)
	for _, m := range d.all[1:] {
		if bal, err := m.n.Balance(ctx, currency); err == nil {
			d.say(m.name, "test wallet holds %s", d.money(bal))
		}
	}
	return nil
}

// waitUnlocked waits until every node can decrypt a shards campaign,
// printing each as it does.
func (d *demo) waitUnlocked(ctx context.Context, res *Result) {
	seen := map[string]bool{}
	err := waitFor(ctx, unlockTimeout, "every node unlocks the shards film", func() error {
		left := 0
		for _, m := range d.all {
			if seen[m.name] {
				continue
			}
			e, err := m.n.Catalog().Get(res.Campaign)
			if err == nil && m.n.CanRead(e) {
				seen[m.name] = true
				d.say(m.name, "unlocked %q (%d of %d shares public)", "Sample (shards)", m.n.Pooled(res.Campaign), shardCount)
				continue
			}
			left++
		}
		if left > 0 {
			return fmt.Errorf("%d nodes still locked", left)
		}
		return nil
	})
	res.check("every node unlocks the film", err)
}

// ledger checks the creator's ledger for a campaign: wantN purchases or
// donations, wantSold accesses or shares, wantAmount raised or donated.
func (d *demo) ledger(ctx context.Context, res *Result, wantN, wantSold int, wantAmount int64) {
	what := fmt.Sprintf("the creator's ledger shows %d %s of %s", wantN, map[bool]string{true: "donations", false: "sales"}[res.Model == campaign.ModelOpen], d.money(wantAmount))
	err := waitFor(ctx, gossipTimeout, what, func() error {
		st, err := d.creator.n.Stats(ctx, res.Campaign)
		if err != nil {
			return err
		}
		res.Sales, res.Sold, res.Raised, res.Donations, res.Donated = st.Sales, st.Sold, st.Raised, st.Donations, st.Donated
		if res.Model == campaign.ModelOpen {
			if st.Donations != wantN || st.Donated != wantAmount {
				return fmt.Errorf("got %d donations of %s, want %d of %s", st.Donations, d.money(st.Donated), wantN, d.money(wantAmount))
			}
			return nil
		}
		if st.Sales != wantN || st.Sold != wantSold || st.Raised != wantAmount {
			return fmt.Errorf("got %d sales, %d sold, %s raised; want %d, %d, %s", st.Sales, st.Sold, d.money(st.Raised), wantN, wantSold, d.money(wantAmount))
		}
		return nil
	})
	res.check(what, err)
	if err == nil {
		d.say("creator", "ledger for %s: %s", res.Model, what[len("the creator's ledger shows "):])
	}
}

// money formats minor units of the demo's currency.
func (d *demo) money(v int64) string {
	return money.Format(v, currency) + " " + currency + " (TEST MONEY)"
}

// paid formats what a purchase cost, from its offer when it has one.
func (d *demo) paid(p *market.Purchase, fallback int64) string {
	if p != nil && p.Offer != nil {
		return money.Format(p.Offer.Price.Minor, p.Offer.Price.Currency) + " " + p.Offer.Price.Currency + " (TEST MONEY)"
	}
	return d.money(fallback)
}

// termsOf describes a campaign's price for the "published" line.
func (d *demo) termsOf(m campaign.Terms) string {
	switch m.Model {
	case campaign.ModelOpen:
		return "free, suggested donations " + money.Format(m.Suggested[0], currency) + "–" + money.Format(m.Suggested[len(m.Suggested)-1], currency) + " " + currency
	case campaign.ModelPay:
		return d.money(m.Price) + " each"
	default:
		return fmt.Sprintf("%d shares at %s, the first %d at %s", m.Shards, d.money(m.Price), earlyCount, money.Format(earlyPrice, currency))
	}
}
