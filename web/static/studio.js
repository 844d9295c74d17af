// shardcast web UI: the creator's dashboard: every campaign of this
// node with its own figures (a pay campaign shows its sales and revenue,
// not a bar), totals, money in over time with a legend whose colours are
// the lines', releasing, and publishing.
"use strict";

(function () {
  const { el, set, svg, api, money, parseMoney, progressOf, stateBadge, deadlineEl, modelName, every, setTitle, showError } = window.SC;

  // colour returns the i-th line's colour: a fixed palette, then hues
  // spread around the wheel, as many as there are campaigns.
  const palette = ["#0b5cad", "#b5540b", "#2e7d32", "#7b1fa2", "#00838f", "#ad1457", "#5d4037", "#455a64"];
  function colour(i) { return i < palette.length ? palette[i] : "hsl(" + Math.round((i * 137.5) % 360) + ", 65%, 38%)"; }

  // chart draws each campaign's progress: a bar where there is a target
  // (shares, a goal), else its sales in words.
  function chart(cs) {
    const rowH = 24, labelW = 150, w = 480;
    const s = svg("svg", { class: "chart", viewBox: "0 0 " + w + " " + (cs.length * rowH + 4), role: "img",
      "aria-label": "Progress of my campaigns", id: "chart" });
    cs.forEach((c, i) => {
      const p = progressOf(c);
      const y = i * rowH + 2;
      const name = (c.title || c.id).slice(0, 22);
      s.append(svg("text", { x: 0, y: y + 15, text: name }));
      if (!p) {
        s.append(svg("text", { x: labelW, y: y + 15, class: "sales", text: c.model === "open"
          ? money(c.donated, c.currency) + " donated"
          : c.sold + " sold · " + money(c.raised, c.currency) + " revenue" }));
        return;
      }
      const frac = p.value / p.max;
      s.append(svg("rect", { class: "track", x: labelW, y: y + 4, width: w - labelW - 50, height: 14, rx: 3 }));
      s.append(svg("rect", { class: "bar" + (frac >= 1 ? " done" : ""), x: labelW, y: y + 4,
        width: Math.max(0, Math.min(1, frac)) * (w - labelW - 50), height: 14, rx: 3 }));
      s.append(svg("text", { x: w - 44, y: y + 15, text: Math.round(frac * 100) + "%" }));
    });
    return s;
  }

  function publishForm() {
    const f = el("form", { id: "publish", novalidate: true });
    const file = el("input", { id: "pub-file", type: "file", accept: "video/*,audio/*,*/*", required: true });
    const model = el("select", { id: "pub-model" },
      el("option", { value: "shards" }, "Pay for your shard"),
      el("option", { value: "pay" }, "Pay to watch"),
      el("option", { value: "open" }, "Open (donations)"));
    const titleIn = el("input", { id: "pub-title", type: "text", maxlength: 200 });
    const descIn = el("textarea", { id: "pub-description", rows: 3 });
    const currency = el("input", { id: "pub-currency", type: "text", value: "USD", maxlength: 8 });
    const price = el("input", { id: "pub-price", type: "text", inputmode: "decimal", value: "1.00" });
    const shards = el("input", { id: "pub-shards", type: "number", min: 1, step: 1, value: 10 });
    const goal = el("input", { id: "pub-goal", type: "text", inputmode: "decimal", placeholder: "optional" });
    const suggested = el("input", { id: "pub-suggested", type: "text", placeholder: "1, 5, 10" });
    const deadline = el("input", { id: "pub-deadline", type: "datetime-local" });
    const earlyN = el("input", { id: "pub-early-count", type: "number", min: 0, step: 1, placeholder: "0" });
    const earlyP = el("input", { id: "pub-early-price", type: "text", inputmode: "decimal", placeholder: "0.50" });
    const rail = el("select", { id: "pub-rail" },
      el("option", { value: "test" }, "Test rail (TEST MONEY)"),
      el("option", { value: "lightning" }, "Lightning (your LND node)"));
    const aon = el("input", { id: "pub-aon", type: "checkbox" });
    const shortfall = el("select", { id: "pub-shortfall" },
      el("option", { value: "release" }, "release the work free"),
      el("option", { value: "locked" }, "keep it locked"));
    const submit = el("button", { id: "pub-submit", type: "submit" }, "Publish");
    const formError = el("div", { id: "pub-error", hidden: true });
    function formSay(msg) { SC.showError(formError, "Publishing", null); set(formError, el("p", {}, msg)); }
    // A term the daemon refused points at its own input.
    const inputs = { price: price, shards: shards, goal: goal, suggested: suggested, deadline: deadline, title: titleIn,
      early_count: earlyN, early_price: earlyP, currency: currency, model: model, rails: rail, all_or_nothing: aon, shortfall: shortfall };
    function showPublishError(e) {
      SC.showError(formError, "Publishing", e);
      const input = e && e.term && inputs[e.term.field];
      if (input) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", "pub-error"); input.focus(); }
    }
    const priceL = el("label", { for: "pub-price" }, "Price per copy or share", price);
    const shardsL = el("label", { for: "pub-shards" }, "Shares", el("small", {}, "or set a goal and it is goal ÷ price"), shards);
    const suggL = el("label", { for: "pub-suggested" }, "Suggested donations", suggested);
    const early = el("fieldset", {}, el("legend", {}, "Early-buyer price (optional)"),
      el("div", { class: "two" }, el("label", { for: "pub-early-count" }, "First N shares", earlyN),
        el("label", { for: "pub-early-price" }, "at price", earlyP)));
    const aonL = el("label", { for: "pub-aon", class: "inline" }, aon,
      " All or nothing: sales are pledges, taken only if every share is pledged by the deadline");
    const shortfallL = el("label", { for: "pub-shortfall" }, "At a deadline short of the goal", shortfall);
    const railHint = el("p", { class: "hint" });
    function sync() {
      const m = model.value, ln = rail.value === "lightning";
      priceL.hidden = m === "open";
      shardsL.hidden = m !== "shards";
      early.hidden = m !== "shards";
      suggL.hidden = m !== "open";
      aonL.hidden = m !== "shards" || !ln;
      shortfallL.hidden = m !== "shards";
      if (ln) {
        if (currency.value.trim().toUpperCase() !== "BTC") { currency.value = "BTC"; price.value = "0.00001"; }
        set(railHint, "Buyers pay in bitcoin over Lightning, to your LND node (amounts in BTC).");
      } else {
        set(railHint, "Buyers pay on the test rail: ", el("span", { class: "test-money" }, "TEST MONEY"), ".");
      }
    }
    model.addEventListener("change", sync);
    rail.addEventListener("change", sync);
    sync();
    f.append(
      el("label", { for: "pub-file" }, "File", file),
      el("label", { for: "pub-model" }, "Model", model),
      el("label", { for: "pub-rail" }, "Payments", rail),
      el("label", { for: "pub-title" }, "Title", titleIn),
      el("label", { for: "pub-description" }, "Description", descIn),
      el("div", { class: "two" }, el("label", { for: "pub-currency" }, "Currency", currency), priceL, shardsL,
        el("label", { for: "pub-goal" }, "Goal", goal), suggL,
        el("label", { for: "pub-deadline" }, "Deadline", el("small", {}, "shards: unsold shares are released then"), deadline)),
      early, aonL, shortfallL, railHint,
      formError, el("div", {}, submit));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const fl = file.files && file.files[0];
      if (!fl) { formSay("Choose a file to publish.", true); file.focus(); return; }
      const m = model.value, cur = currency.value.trim().toUpperCase() || "USD";
      const q = new URLSearchParams({ model: m, title: titleIn.value.trim() || fl.name,
        media_type: fl.type || "application/octet-stream", currency: cur, rails: rail.value });
      if (m === "shards") q.set("shortfall", shortfall.value);
      if (m === "shards" && rail.value === "lightning" && aon.checked) q.set("all_or_nothing", "true");
      if (descIn.value.trim()) q.set("description", descIn.value.trim());
      const need = (input, name, label) => {
        if (!input.value.trim()) return true;
        const v = parseMoney(input.value, cur);
        if (!(v >= 0)) { formSay(label + ": enter an amount such as 2.50.", true); input.focus(); return false; }
        q.set(name, String(v));
        return true;
      };
      if (m !== "open" && !need(price, "price", "Price")) return;
      if (!need(goal, "goal", "Goal")) return;
      if (m === "shards" && shards.value && !goal.value.trim()) q.set("shards", String(parseInt(shards.value, 10)));
      if (m === "open" && suggested.value.trim()) {
        const vs = suggested.value.split(",").map((s) => parseMoney(s, cur));
        if (vs.some((v) => !(v > 0))) { formSay("Suggested donations: amounts separated by commas.", true); suggested.focus(); return; }
        q.set("suggested", vs.join(","));
      }
      if (deadline.value) {
        const d = new Date(deadline.value);
        if (isNaN(d)) { formSay("Deadline: not a date.", true); deadline.focus(); return; }
        q.set("deadline", d.toISOString().replace(/\.\d{3}Z$/, "Z"));
      }
      if (m === "shards" && earlyN.value && Number(earlyN.value) > 0) {
        q.set("early_count", String(parseInt(earlyN.value, 10)));
        if (!need(earlyP, "early_price", "Early price")) return;
      }
      SC.clearBox(formError);
      for (const i of f.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
      submit.disabled = true;
      submit.textContent = "Publishing…";
      try {
        const c = await api("POST", "/api/v1/publish?" + q.toString(), undefined, fl);
        SC.say("Published " + (c.title || c.id));
        location.hash = "#/c/" + encodeURIComponent(c.id);
      } catch (e) { showPublishError(e); }
      finally { submit.disabled = false; submit.textContent = "Publish"; }
    });
    return f;
  }

  // salesChart draws the money that came in (sales and donations) to my
  // campaigns over time, cumulative, one step line per campaign.

  // salesChart draws the money that came in (sales and donations) to each
  // of my campaigns over time, cumulative, one step line per campaign,
  // with a legend under it in the lines' own colours.
  async function salesChart(cs) {
    const w = 480, h = 160, padL = 64, padB = 18;
    const series = [];
    for (const [i, c] of cs.entries()) {
      let pts;
      try { pts = await api("GET", "/api/v1/campaigns/" + encodeURIComponent(c.id) + "/sales?bucket=10"); } catch (e) { continue; }
      let sum = 0;
      const line = (pts || []).map((p) => { sum += (p.raised || 0) + (p.donated || 0); return { t: Date.parse(p.start), v: sum }; });
      if (line.length) series.push({ c, line, colour: colour(i) });
    }
    const box = el("figure", { id: "sales-figure", class: "sales-figure" });
    const s = svg("svg", { class: "chart", id: "sales-chart", viewBox: "0 0 " + w + " " + h, role: "img",
      "aria-label": "Money in over time, sales and donations, per campaign" });
    box.append(s);
    if (!series.length) {
      s.append(svg("text", { x: padL, y: h / 2, text: "No sales or donations yet" }));
      return box;
    }
    const t0 = Math.min(...series.map((x) => x.line[0].t)), t1 = Math.max(Date.now(), ...series.map((x) => x.line[x.line.length - 1].t));
    const vmax = Math.max(1, ...series.map((x) => x.line[x.line.length - 1].v));
    const X = (t) => padL + (t1 > t0 ? (t - t0) / (t1 - t0) : 1) * (w - padL - 8);
    const Y = (v) => h - padB - (v / vmax) * (h - padB - 8);
    s.append(svg("line", { class: "axis", x1: padL, y1: h - padB, x2: w - 4, y2: h - padB }));
    s.append(svg("line", { class: "axis", x1: padL, y1: 8, x2: padL, y2: h - padB }));
    s.append(svg("text", { x: 2, y: 16, text: money(vmax, series[0].c.currency) }));
    s.append(svg("text", { x: padL, y: h - 2, text: new Date(t0).toLocaleTimeString() }));
    const legend = el("ul", { class: "legend", id: "sales-legend" });
    for (const x of series) {
      let d = "M" + X(x.line[0].t) + " " + Y(0);
      for (const p of x.line) d += " H" + X(p.t) + " V" + Y(p.v);
      d += " H" + X(t1);
      s.append(svg("path", { class: "series", d, fill: "none", stroke: x.colour, "stroke-width": 2, "data-id": x.c.id }));
      const sw = svg("svg", { class: "swatch", width: 14, height: 14, "aria-hidden": "true" });
      sw.append(svg("rect", { x: 0, y: 5, width: 14, height: 4, fill: x.colour, "data-id": x.c.id }));
      legend.append(el("li", { "data-id": x.c.id, "data-colour": x.colour }, sw, " " + (x.c.title || x.c.id),
        " · " + money(x.line[x.line.length - 1].v, x.c.currency)));
    }
    box.append(el("figcaption", {}, legend));
    return box;
  }

  // totals sums my campaigns' figures per currency.
  function totals(cs) {
    const by = new Map();
    for (const c of cs) {
      const t = by.get(c.currency) || { sold: 0, raised: 0, donated: 0, n: 0 };
      t.n++; t.sold += c.sold || 0; t.raised += c.raised || 0; t.donated += c.donated || 0;
      by.set(c.currency, t);
    }
    return el("dl", { class: "figures", id: "totals" }, Array.from(by, ([cur, t]) => [
      el("div", {}, el("dt", {}, "Campaigns (" + cur + ")"), el("dd", {}, String(t.n))),
      el("div", {}, el("dt", {}, "Sold"), el("dd", {}, String(t.sold))),
      el("div", {}, el("dt", {}, "Revenue"), el("dd", {}, money(t.raised, cur))),
      el("div", {}, el("dt", {}, "Donations"), el("dd", {}, money(t.donated, cur))),
      el("div", {}, el("dt", {}, "Total in"), el("dd", { "data-total": t.raised + t.donated }, money(t.raised + t.donated, cur)))]).flat());
  }

  SC.pages.studio = function (main) {
    setTitle("Creator");
    const mine = el("div", { id: "mine" });
    const totalsBox = el("div", { id: "totals-box" });
    const chartBox = el("div", { id: "chart-box" });
    const salesBox = el("div", { id: "sales-box" });
    const problem = el("div", { id: "studio-error", hidden: true });
    set(main, el("h1", {}, "Creator"), problem,
      el("h2", {}, "My campaigns"), totalsBox, chartBox, mine,
      el("h2", {}, "Money in over time"), salesBox,
      el("details", { class: "panel", open: true }, el("summary", {}, el("strong", {}, "Publish a work")), publishForm()));
    let last = "";
    async function load() {
      let cs;
      try { cs = await api("GET", "/api/v1/campaigns"); } catch (e) { showError(problem, "Loading your campaigns", e); return; }
      SC.clearBox(problem);
      cs = (cs || []).filter((c) => c.mine).sort((a, b) => (b.created || "").localeCompare(a.created || ""));
      const key = JSON.stringify(cs);
      if (key === last) return;
      last = key;
      if (cs.length === 0) {
        set(chartBox); set(totalsBox);
        set(mine, el("p", { class: "empty" }, "Nothing published from this node yet."));
        return;
      }
      const focus = document.activeElement && mine.contains(document.activeElement) ? document.activeElement.dataset.id : "";
      set(totalsBox, totals(cs));
      set(chartBox, chart(cs));
      salesChart(cs).then((c) => set(salesBox, c));
      set(mine, el("div", { class: "scroll" }, el("table", {},
        el("thead", {}, el("tr", {}, ["Title", "Model", "State", "Sold", "Revenue", "Donated", "Progress", ""].map((h, i) =>
          el("th", { scope: "col", class: i >= 3 && i <= 5 ? "num" : undefined }, h)))),
        el("tbody", {}, cs.map((c) => {
          const p = progressOf(c);
          let rel = null;
          if (c.model === "shards" && c.pooled < c.needed && c.stage !== "released" && c.stage !== "funded") {
            rel = el("button", { type: "button", class: "secondary release", "data-id": c.id }, "Release now");
            const err = el("div", { hidden: true });
            rel.addEventListener("click", async () => {
              if (!confirm("Publish all unsold shares now? \"" + (c.title || c.id) + "\" unlocks for everyone.")) return;
              rel.disabled = true;
              try {
                const r = await api("POST", "/api/v1/campaigns/" + encodeURIComponent(c.id) + "/release");
                SC.say("Released " + r.released + " shares of " + (c.title || "the campaign") + ".");
                load();
              } catch (e) { showError(err, "Releasing", e); rel.disabled = false; }
            });
            rel = [rel, err];
          }
          return el("tr", { "data-id": c.id, "data-stage": c.stage },
            el("td", {}, el("a", { href: "#/c/" + encodeURIComponent(c.id) }, c.title || c.id)),
            el("td", {}, modelName(c.model)),
            el("td", {}, stateBadge(c)),
            el("td", { class: "num" }, c.model === "open" ? "—" : String(c.sold)),
            el("td", { class: "num" }, c.model === "open" ? "—" : money(c.raised, c.currency)),
            el("td", { class: "num" }, money(c.donated, c.currency)),
            el("td", {}, p ? p.label : c.model === "pay" ? c.sold + " sold" : "—", " · ", deadlineEl(c)),
            el("td", {}, rel));
        })))));
      const again = focus && mine.querySelector('button.release[data-id="' + CSS.escape(focus) + '"]');
      if (again) again.focus({ preventScroll: true });
    }
    load();
    every(2000, load);
  };
})();
