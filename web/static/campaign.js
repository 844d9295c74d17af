// shardcast web UI: a campaign's page. It says where the campaign stands
// and what each model means in plain words, offers buying only where a
// buy can succeed, and quotes the price before any money moves: the
// shares left at each price, the total for the number chosen, and a
// confirmation that names the rail. Errors stay inline where the action
// was, in words.
"use strict";

(function () {
  const { el, set, api, money, plain, parseMoney, railName, deadlineEl, dateText, modelName, stateOf, stateBadge,
    lockBadge, progressOf, every, setTitle, showError, showOK, clearBox, requestID, refreshWallet } = window.SC;

  // howItWorks says, for the campaign's model, what a fan pays, gets,
  // when everyone gets it, what happens at the deadline and who makes it
  // happen.
  function howItWorks(c) {
    const dl = c.deadline ? dateText(c.deadline) : "";
    const rows = [];
    if (c.model === "open") {
      rows.push(["You pay", "Nothing. You may donate any amount to the creator."],
        ["You get", "The film, free, now."],
        ["Everyone gets it", "Now: it is free for everyone."]);
    } else if (c.model === "pay") {
      rows.push(["You pay", money(c.price_now, c.currency) + " once, in " + railName(c) + "."],
        ["You get", "The key to the film on your node, to watch as often as you like."],
        ["Everyone gets it", "No: each viewer buys their own access."],
        ["At the deadline", dl ? "Nothing changes: access stays on sale after " + dl + "." : "There is no deadline."],
        ["Who makes it happen", "The creator's node sells access and sends your key when your payment arrives; it must be online."]);
    } else {
      const left = c.shortfall === "locked"
        ? "If shares are still unsold at " + dl + ", the film stays locked; the shares you bought stay yours."
        : "If shares are still unsold at " + dl + ", the creator's node publishes them and the film becomes free for everyone.";
      rows.push(["You pay", "The price of each share you buy" + (c.tiers && c.tiers.length > 1 ? " (it rises after the early shares)" : "") +
          ", in " + railName(c) + "." +
          (c.all_or_nothing ? " All or nothing: your payment is held, not taken, until the deadline." : "")],
        ["You get", "Shares of the film's key. Every share sold brings the unlock closer; the shares are yours."],
        ["Everyone gets it", "When all " + c.needed + " shares are sold: then the film unlocks for everyone, you included."],
        ["At the deadline", c.all_or_nothing
          ? "If every share is pledged by " + dl + ", the pledges are taken and the film unlocks for everyone. Otherwise every pledge is returned" +
            (c.shortfall === "locked" ? " and the film stays locked." : " and the creator's node publishes the shares: the film is free for everyone.")
          : left],
        ["Who makes it happen", "The creator's node: it sells the shares and acts at the deadline, so it must be online then."]);
    }
    return el("dl", { class: "how", id: "how" }, rows.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v))));
  }

  function tierTable(c) {
    if (!c.tiers || !c.tiers.length || c.model !== "shards") return null;
    return el("table", { id: "tiers" },
      el("caption", {}, "Prices"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Shares"), el("th", { scope: "col", class: "num" }, "Price each"),
        el("th", { scope: "col", class: "num" }, "Left"))),
      el("tbody", {}, c.tiers.map((t) => el("tr", { "data-left": t.left },
        el("td", {}, t.count === 1 ? String(t.first + 1) : (t.first + 1) + "–" + (t.first + t.count)),
        el("td", { class: "num" }, money(t.price, c.currency)),
        el("td", { class: "num" }, t.left === 0 ? "none left" : String(t.left))))));
  }

  SC.pages.campaign = function (main, id) {
    const title = el("h1", {}, "…");
    const badges = el("div", { class: "row" });
    const stateLine = el("p", { id: "state", class: "state" });
    const desc = el("p", { class: "desc" });
    const bar = el("progress", { id: "progress", value: 0, max: 1, "data-value": 0, "aria-label": "Progress" });
    const barLabel = el("p", { class: "meta", id: "progress-label" });
    const deadline = el("p", { class: "meta", id: "deadline" });
    const play = el("div", { class: "row", id: "play-row" });
    const figures = el("dl", { class: "figures" });
    const how = el("section", { class: "panel", "aria-labelledby": "how-h" });
    const actions = el("div", { class: "panel", id: "actions" });
    const receipts = el("div", { id: "receipts" });
    set(main, title, badges, stateLine, desc, bar, barLabel, deadline, play, actions, figures, how,
      el("h2", {}, "My receipts"), receipts);
    let built = "";
    let cur = null;

    function figure(label, value) { return el("div", {}, el("dt", {}, label), el("dd", {}, value)); }

    function buyPanel(c) {
      const shards = c.model === "shards";
      const quote = c.quote || [];
      const maxK = shards ? quote.length : 1;
      const shares = shards ? el("input", { id: "shares", type: "number", min: 1, max: maxK, step: 1, value: 1, inputmode: "numeric" }) : null;
      const total = el("p", { id: "quote", class: "quote", "aria-live": "polite" });
      const buy = el("button", { id: "buy", type: "button" });
      const confirmBox = el("div", { id: "confirm", class: "confirm", hidden: true });
      const result = el("div", { id: "buy-result", hidden: true });
      function count() { return shards ? parseInt(shares.value, 10) : 1; }
      function totalOf(k) { return shards ? quote[k - 1] : c.price_now; }
      function requote() {
        const k = count();
        if (!(k >= 1 && k <= maxK)) {
          total.textContent = "Choose 1 to " + maxK + " shares.";
          buy.disabled = true;
          buy.textContent = "Buy";
          return;
        }
        const t = totalOf(k);
        total.textContent = shards
          ? k + (k === 1 ? " share" : " shares") + " cost " + money(t, c.currency) + " now."
          : "Access costs " + money(t, c.currency) + ".";
        total.dataset.amount = String(t);
        buy.disabled = false;
        buy.textContent = (shards ? "Buy " + k + (k === 1 ? " share" : " shares") : "Buy access") + " · " + money(t, c.currency);
      }
      if (shares) shares.addEventListener("input", () => { confirmBox.hidden = true; requote(); });
      buy.addEventListener("click", () => {
        const k = count(), t = totalOf(k);
        clearBox(result);
        const pay = el("button", { id: "confirm-pay", type: "button" }, (c.all_or_nothing ? "Pledge " : "Pay ") + money(t, c.currency));
        const cancel = el("button", { type: "button", class: "secondary" }, "Cancel");
        cancel.addEventListener("click", () => { confirmBox.hidden = true; buy.focus(); });
        pay.addEventListener("click", async () => {
          pay.disabled = true; cancel.disabled = true;
          pay.textContent = "Paying…";
          try {
            const r = await api("POST", "/api/v1/campaigns/" + encodeURIComponent(id) + "/buy", { shares: shards ? k : 1, request_id: requestID() });
            confirmBox.hidden = true;
            if (r && r.status === "pending") {
              showOK(result, "Your payment is under way: " + (r.note || "not finished yet") + ". Your node goes on with it; the receipt below says how it ends.");
            } else if (r.pledged) {
              showOK(result, "Pledged " + money(r.amount, r.currency) + " over Lightning. It is held until " + dateText(r.until) +
                ": taken only if every share is pledged by then, returned otherwise.");
            } else {
              showOK(result, "Paid " + money(r.amount, r.currency) + (r.rail === "test" ? " in TEST MONEY" : " over Lightning") +
                (r.indices && r.indices.length ? " for " + r.indices.length + (r.indices.length === 1 ? " share." : " shares.") : " for access."));
            }
            if (r) result.dataset.amount = String(r.amount);
            refresh(); refreshWallet();
          } catch (e) {
            confirmBox.hidden = true;
            showError(result, c.model === "pay" ? "Buying access" : "Buying shares", e);
            refresh();
          }
          buy.focus();
        });
        set(confirmBox,
          el("p", {}, (c.all_or_nothing ? "Pledge " : "Pay "), el("strong", { id: "confirm-amount" }, money(t, c.currency)),
            " in " + railName(c) + " for " + (shards ? k + (k === 1 ? " share" : " shares") : "access") +
            " of “" + (c.title || "this film") + "”?"),
          el("div", { class: "row" }, pay, cancel));
        confirmBox.hidden = false;
        pay.focus();
      });
      requote();
      return [el("h2", {}, c.model === "pay" ? "Buy access" : "Buy shares"),
        figureNow(c),
        tierTable(c),
        el("div", { class: "inline" }, shares ? el("label", { for: "shares" }, "How many shares", shares) : null, buy),
        total, confirmBox, result];
    }

    function figureNow(c) {
      return el("p", { class: "price-now" }, c.model === "pay" ? "Price: " : "Price per share now: ",
        el("strong", {}, money(c.price_now, c.currency)));
    }

    // closedPanel says why there is nothing to buy.
    function closedPanel(c) {
      let why = "";
      if (c.mine) return el("p", { id: "mine-note" }, "You published this campaign: buyers pay from their own nodes. ",
        el("a", { href: "#/studio" }, "Sales and release are on the Creator page."));
      if (c.rejected) why = "Your node refuses this campaign: " + c.rejected;
      else if (c.owned && c.model === "pay") why = "You own access to this film.";
      else if (c.owned) why = "You hold " + c.bought + (c.bought === 1 ? " share" : " shares") + " of this film.";
      else if (c.stage === "funded" || c.stage === "released") why = "Nothing to buy: it is free for everyone now.";
      else if (c.stage === "locked") why = "Buying has ended: the deadline passed.";
      else if (c.stage === "deciding") why = "Buying has ended: the deadline passed.";
      else if (c.stage === "sold_out" || c.sold_out) why = "Every share is sold or pledged.";
      return el("p", { id: "closed", class: "closed" }, why);
    }

    function donatePanel(c) {
      const amount = el("input", { id: "donate-amount", type: "text", inputmode: "decimal", autocomplete: "off",
        value: c.suggested && c.suggested.length ? plain(c.suggested[0], c.currency) : "", placeholder: "5.00" });
      const donate = el("button", { id: "donate", type: "button", class: c.model === "open" ? "" : "secondary" }, "Donate");
      const result = el("div", { id: "donate-result", hidden: true });
      donate.addEventListener("click", async () => {
        clearBox(result);
        const minor = parseMoney(amount.value, c.currency);
        if (!(minor > 0)) {
          showError(result, "Donating", null);
          set(result, el("p", {}, "Donating: enter an amount such as 5.00."));
          amount.focus();
          return;
        }
        donate.disabled = true;
        try {
          const r = await api("POST", "/api/v1/campaigns/" + encodeURIComponent(id) + "/donate", { amount: minor, request_id: requestID() });
          if (r && r.status === "pending") showOK(result, "Your donation is under way: " + (r.note || "not finished yet") + ".");
          else showOK(result, "Donated " + money(r.amount, r.currency) + (r.rail === "test" ? " in TEST MONEY" : " over Lightning") + ". Thank you.");
          refresh(); refreshWallet();
        } catch (e) { showError(result, "Donating", e); }
        finally { donate.disabled = false; }
      });
      const chips = (c.suggested || []).map((s) => el("button", { type: "button", class: "secondary",
        onclick: () => { amount.value = plain(s, c.currency); amount.focus(); } }, money(s, c.currency)));
      return [el("h2", {}, "Donate"),
        el("p", { class: "hint" }, "A gift to the creator, in " + railName(c) + ". It buys nothing."),
        el("div", { class: "inline" }, el("label", { for: "donate-amount" }, "Amount (" + c.currency + ")", amount), donate),
        chips.length ? el("div", { class: "row", role: "group", "aria-label": "Suggested amounts" }, chips) : null,
        result];
    }

    function buildActions(c) {
      const parts = [];
      if (c.model !== "open") parts.push(c.can_buy ? buyPanel(c) : closedPanel(c));
      else if (c.mine) parts.push(closedPanel(c));
      if (!c.mine && !c.rejected) parts.push(donatePanel(c));
      set(actions, ...parts.flat());
    }

    function update(c) {
      cur = c;
      setTitle(c.title);
      title.textContent = c.title || "(untitled)";
      set(badges, el("span", { class: "badge model" }, modelName(c.model)), stateBadge(c), lockBadge(c),
        c.mine ? el("span", { class: "badge" }, "Mine") : null);
      stateLine.textContent = stateOf(c).line;
      stateLine.dataset.stage = c.stage;
      desc.textContent = c.description || "";
      const p = progressOf(c);
      bar.hidden = !p;
      barLabel.hidden = !p;
      if (p) {
        bar.max = p.max; bar.value = p.value;
        bar.setAttribute("data-value", String(p.value));
        bar.setAttribute("data-max", String(p.max));
        bar.setAttribute("aria-label", p.label);
        barLabel.textContent = p.label;
      }
      set(deadline, deadlineEl(c));
      set(play, c.unlocked ? el("a", { class: "button", href: "#/watch/" + encodeURIComponent(id), id: "watch-link" }, "Play") : null);
      const f = [];
      // The API's figures, never the page's own arithmetic: the price shown is the price charged.
      if (c.model !== "open") f.push(figure("Price now", c.can_buy || c.stage === "open" ? money(c.price_now, c.currency) : "Not on sale"));
      if (c.tiers && c.tiers.length > 1) {
        const last = c.tiers.length - 1;
        f.push(figure("Prices", c.tiers.map((t, i) => (i === 0 ? "first " + t.count + " at " : i === last ? "then " : "next " + t.count + " at ") +
          money(t.price, c.currency)).join(", ")));
      }
      if (c.outcome_note) f.push(figure("Outcome", c.outcome_note));
      if (c.model === "shards") f.push(figure("Shares sold", c.sold + " of " + c.needed));
      if (c.all_or_nothing) f.push(figure("Pledged", c.pledged + " of " + c.needed));
      if (c.owned) f.push(figure("Yours", c.model === "pay" ? "access" : c.bought + (c.bought === 1 ? " share" : " shares")));
      if (c.rejected) f.push(figure("Refused", c.rejected));
      if (c.model === "pay") f.push(figure("Sold", String(c.sold)));
      if (c.goal > 0) f.push(figure("Goal", money(c.goal, c.currency)));
      if (c.mine || c.raised) f.push(figure("Raised", money(c.raised, c.currency)));
      if (c.mine || c.donated) f.push(figure("Donated", money(c.donated, c.currency)));
      f.push(figure("Size", (c.content_size / 1048576).toFixed(1) + " MiB · " + (c.media_type || "?")));
      set(figures, ...f);
      set(how, el("h2", { id: "how-h" }, "How it works"), howItWorks(c));
      // The actions are rebuilt only when what they offer changes, so a
      // refresh neither moves focus nor drops a quote being read.
      const shape = [c.model, c.mine, c.currency, c.can_buy, c.stage, c.owned, c.bought, c.rejected,
        JSON.stringify(c.quote || []), JSON.stringify(c.tiers || []), JSON.stringify(c.suggested || [])].join("|");
      if (shape !== built) {
        const a = document.activeElement;
        const keep = a && actions.contains(a) ? a.id : "";
        const results = Array.from(actions.querySelectorAll("#buy-result, #donate-result")).filter((r) => !r.hidden);
        built = shape; buildActions(c);
        // What the last action said stays.
        for (const r of results) { const n = actions.querySelector("#" + r.id); if (n) n.replaceWith(r); else actions.append(r); }
        const again = keep && document.getElementById(keep);
        if (again) again.focus({ preventScroll: true });
      }
    }

    async function loadReceipts() {
      let rs;
      try { rs = await api("GET", "/api/v1/receipts?campaign=" + encodeURIComponent(id)); } catch (_) { return; }
      // A purchase that failed moved no money: it is no receipt.
      rs = (rs || []).filter((r) => r.status !== "failed" && r.status !== "expired" && !(r.status === "paying" && !r.amount));
      if (rs.length === 0) { set(receipts, el("p", { class: "empty", id: "no-receipts" }, "None yet.")); return; }
      const shares = rs.filter((r) => r.status === "complete" || r.status === "pledged")
        .reduce((n, r) => n + (r.indices ? r.indices.length : 0), 0);
      const words = { complete: "paid", pledged: "pledged (held)", paying: "paying…", refunded: "refunded", pending: "paying…" };
      set(receipts,
        shares ? el("p", { id: "my-shares" }, "You hold " + shares + (shares === 1 ? " share." : " shares.")) : null,
        el("table", {},
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Time"), el("th", { scope: "col" }, "For"),
            el("th", { scope: "col", class: "num" }, "Amount"), el("th", { scope: "col" }, "Status"))),
          el("tbody", { id: "receipt-rows" }, rs.map((r) => el("tr", { "data-amount": r.amount, "data-status": r.status },
            el("td", {}, r.time ? dateText(r.time) : ""),
            el("td", {}, r.kind === "donate" ? "donation" : r.indices && r.indices.length ? r.indices.length + (r.indices.length === 1 ? " share" : " shares") : "access"),
            el("td", { class: "num" }, money(r.amount, r.currency)),
            el("td", {}, words[r.status] || r.status || "paid"))))));
    }

    async function refresh() {
      try {
        update(await api("GET", "/api/v1/campaigns/" + encodeURIComponent(id)));
      } catch (e) {
        if (!cur) { title.textContent = "Campaign not found"; desc.textContent = SC.humanError("Loading the campaign", e); }
      }
      loadReceipts();
    }
    refresh();
    every(1000, refresh);
  };
})();
