// shardcast web UI: a single page with hash routes, talking to the JSON API
// of the daemon that serves it. No dependencies; every string from the
// network goes into the page as text, never as HTML.
"use strict";

(function () {
  const main = document.getElementById("main");
  const statusBox = document.getElementById("status");
  let timers = [];      // intervals of the current page, cleared on navigation
  let statusTimer = 0;

  // ---- helpers ----------------------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // set replaces the children of node, skipping empty ones.
  function set(node, ...kids) {
    node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
  }

  function svg(tag, attrs) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v; else e.setAttribute(k, String(v));
    }
    return e;
  }

  // The daemon's credential for this page: it sends it back as a header
  // on every call, with the session cookie. No page of another origin can
  // read it, so no other page can make these calls.
  function meta(name) {
    const m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute("content") : "";
  }
  const csrf = meta("shardcast-csrf");

  async function api(method, path, body, raw) {
    const opts = { method, headers: { "X-Shardcast-CSRF": csrf }, credentials: "same-origin" };
    if (raw !== undefined) {
      opts.body = raw;
      opts.headers["Content-Type"] = "application/octet-stream";
    } else if (body !== undefined || method !== "GET") {
      opts.body = JSON.stringify(body === undefined ? {} : body);
      opts.headers["Content-Type"] = "application/json";
    }
    const res = await fetch(path, opts);
    let data = null;
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) {
      const msg = data && data.error ? data.error : (text.trim() || res.statusText);
      throw new Error(msg + " (HTTP " + res.status + ")");
    }
    return data;
  }

  // requestID names one click's purchase: the node buys once per ID.
  function requestID() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "web-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // pending says so when the node answered that a purchase is still under
  // way (HTTP 202): it goes on in the node, and its receipt tells the end.
  function pending(r) {
    if (!r || r.status !== "pending") return false;
    say("Purchase " + (r.offer || "") + " is pending: " + (r.note || "not finished yet") +
      ". Your node goes on with it; its receipt says how it ends.");
    return true;
  }

  // Decimal places between a currency's unit and the minor unit amounts
  // are counted in, as money.Exponent has them: bitcoin is counted in
  // millisatoshi, the unit of Lightning.
  const decimals = {
    BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, VND: 0, VUV: 0,
    XAF: 0, XOF: 0, XPF: 0, BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3, BTC: 11, SAT: 3, MSAT: 0,
  };
  function places(cur) { return cur && cur.toUpperCase() in decimals ? decimals[cur.toUpperCase()] : 2; }
  // Bitcoin amounts drop trailing zeros, as money.Format does.
  function trimmed(cur) { return cur === "BTC" || cur === "SAT"; }

  function money(minor, cur) {
    const p = places(cur);
    const n = Number(minor || 0);
    const neg = n < 0;
    let s = String(Math.abs(n));
    let frac = "";
    if (p > 0) {
      s = s.padStart(p + 1, "0");
      frac = "." + s.slice(-p);
      s = s.slice(0, -p);
      if (trimmed(cur)) frac = frac.replace(/\.?0+$/, "");
    }
    return (neg ? "-" : "") + s.replace(/\B(?=(\d{3})+$)/g, ",") + frac + (cur ? " " + cur : "");
  }

  // plain formats minor units for an input field: "2.50", no separators.
  function plain(minor, cur) { return money(minor, cur).replace(/,/g, "").replace(/\s.*$/, ""); }

  // parseMoney turns "2.50" into 250 minor units, or returns NaN.
  function parseMoney(text, cur) {
    const p = places(cur);
    const m = /^\s*(\d+)(?:[.,](\d*))?\s*$/.exec(text || "");
    if (!m) return NaN;
    const frac = (m[2] || "");
    if (frac.length > p) return NaN;
    return Number(m[1]) * Math.pow(10, p) + Number((frac + "0".repeat(p)).slice(0, p) || 0);
  }

  function countdown(deadline) {
    if (!deadline) return "no deadline";
    const ms = Date.parse(deadline) - Date.now();
    if (isNaN(ms)) return "";
    if (ms <= 0) return "deadline passed";
    let s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const parts = d > 0 ? [d + "d", h + "h", m + "m"] : h > 0 ? [h + "h", m + "m", s + "s"] : [m + "m", s + "s"];
    return parts.join(" ") + " left";
  }

  function timeEl(deadline) {
    const t = el("time", { class: "countdown", "data-deadline": deadline || "", datetime: deadline || undefined,
      title: deadline ? new Date(deadline).toLocaleString() : undefined }, countdown(deadline));
    return t;
  }

  // progressOf returns {value, max, label} for a campaign's progress bar,
  // or null when the model has no target to show.
  function progressOf(c) {
    if (c.model === "shards") {
      const v = Math.max(c.sold || 0, c.pooled || 0);
      return { value: Math.min(v, c.needed), max: c.needed || 1, label: v + " of " + c.needed + " shares" };
    }
    if (c.model === "open" && c.goal > 0) {
      return { value: Math.min(c.donated, c.goal), max: c.goal,
        label: money(c.donated, c.currency) + " of " + money(c.goal, c.currency) + " donated" };
    }
    if (c.goal > 0) {
      return { value: Math.min(c.raised, c.goal), max: c.goal,
        label: money(c.raised, c.currency) + " of " + money(c.goal, c.currency) + " raised" };
    }
    return null;
  }

  function modelName(m) {
    return { open: "Open · donations", pay: "Pay to watch", shards: "Pay for your shard" }[m] || m;
  }

  function lockBadge(c) {
    return el("span", { class: "badge " + (c.unlocked ? "unlocked" : "locked"), "data-unlocked": String(!!c.unlocked) },
      c.unlocked ? "Unlocked" : "Locked");
  }

  function say(msg, isError) {
    statusBox.textContent = msg;
    statusBox.className = "status show" + (isError ? " error" : "");
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { statusBox.className = "status"; }, isError ? 8000 : 4000);
  }

  function every(ms, fn) {
    timers.push(setInterval(fn, ms));
  }

  function setTitle(t) { document.title = t ? t + " · shardcast" : "shardcast"; }

  // ---- header -------------------------------------------------------------

  async function refreshWallet() {
    try {
      const w = await api("GET", "/api/v1/wallet?currency=USD");
      document.getElementById("wallet").textContent = "Wallet " + money(w.balance, w.currency);
    } catch (_) { /* the header stays as it is */ }
  }

  async function loadID() {
    try {
      const id = await api("GET", "/api/v1/id");
      document.getElementById("node-id").textContent = "Node " + id.id;
    } catch (_) { /* optional */ }
  }

  // ---- catalog -------------------------------------------------------------

  function card(c) {
    const p = progressOf(c);
    return el("li", { class: "card", "data-id": c.id, "data-model": c.model },
      el("h2", {}, el("a", { href: "#/c/" + encodeURIComponent(c.id) }, c.title || "(untitled)")),
      el("div", { class: "row" },
        el("span", { class: "badge model" }, modelName(c.model)), lockBadge(c),
        c.mine ? el("span", { class: "badge" }, "Mine") : null),
      el("p", { class: "meta" }, c.model === "open" ? "Free · donations welcome" : (c.sold_out ? "Sold out" : "Price now " + money(c.price_now, c.currency))),
      p ? el("progress", { value: p.value, max: p.max, "aria-label": p.label }) : null,
      p ? el("p", { class: "meta" }, p.label) : null,
      el("p", { class: "meta" }, timeEl(c.deadline)),
      el("div", { class: "row" },
        el("a", { class: "button secondary", href: "#/c/" + encodeURIComponent(c.id) }, "Details"),
        c.unlocked ? el("a", { class: "button", href: "#/watch/" + encodeURIComponent(c.id) }, "Play") : null));
  }

  function pageCatalog() {
    setTitle("Catalog");
    const list = el("ul", { id: "catalog", class: "grid", "aria-live": "polite", "aria-busy": "true" });
    set(main, el("h1", {}, "Catalog"),
      el("p", { class: "meta" }, "Campaigns this node knows, from its own publishing and from its peers."), list);
    let last = "";
    async function load() {
      let cs;
      try { cs = await api("GET", "/api/v1/campaigns"); } catch (e) { say("Loading the catalog: " + e.message, true); return; }
      cs = cs || [];
      cs.sort((a, b) => (b.created || "").localeCompare(a.created || ""));
      const key = JSON.stringify(cs);
      list.setAttribute("aria-busy", "false");
      if (key === last) return;
      last = key;
      if (cs.length === 0) {
        set(list, el("li", { class: "empty" }, "No campaigns yet. Publish one in the Creator tab, or connect to a peer."));
        return;
      }
      set(list, ...cs.map(card));
    }
    load();
    every(2000, load);
  }

  // ---- campaign ------------------------------------------------------------

  function pageCampaign(id) {
    const title = el("h1", {}, "…");
    const badges = el("div", { class: "row" });
    const desc = el("p", { class: "desc" });
    const bar = el("progress", { id: "progress", value: 0, max: 1, "data-value": 0, "aria-label": "Progress" });
    const barLabel = el("p", { class: "meta", id: "progress-label" });
    const figures = el("dl", { class: "figures" });
    const actions = el("div", { class: "panel", id: "actions" });
    const receipts = el("div", { id: "receipts" });
    const watch = el("a", { class: "button", href: "#/watch/" + encodeURIComponent(id), id: "watch-link" }, "Open the player");
    set(main, title, badges, desc, bar, barLabel, figures, el("div", { class: "row" }, watch),
      actions, el("h2", {}, "My receipts"), receipts);
    let built = "";
    let cur = null;

    function figure(label, value) { return el("div", {}, el("dt", {}, label), el("dd", {}, value)); }

    function buildActions(c) {
      const parts = [];
      if (c.mine) {
        set(actions, el("p", { id: "mine-note" }, "You published this campaign: buyers pay from their own nodes. ",
          el("a", { href: "#/studio" }, "Sales and release are on the Creator page.")));
        return;
      }
      if (c.model === "shards" || c.model === "pay") {
        const shares = el("input", { id: "shares", type: "number", min: 1, step: 1, value: 1, inputmode: "numeric",
          disabled: c.model === "pay" });
        const buy = el("button", { id: "buy", type: "button" }, c.model === "pay" ? "Buy" : "Buy shares");
        buy.addEventListener("click", async () => {
          const k = c.model === "pay" ? 1 : parseInt(shares.value, 10);
          if (!(k >= 1)) { say("Enter a number of shares, 1 or more.", true); shares.focus(); return; }
          buy.disabled = true;
          try {
            const r = await api("POST", "/api/v1/campaigns/" + encodeURIComponent(id) + "/buy", { shares: k, request_id: requestID() });
            if (pending(r)) { refresh(); refreshWallet(); return; }
            const what = (r.indices && r.indices.length ? " — share " + r.indices.map((i) => "#" + i).join(", ") : "");
            if (r.pledged) {
              say("Pledged " + money(r.amount, r.currency) + " over Lightning" + what + ". The payment is held until " +
                r.until + ": taken only if every share is pledged by then, returned otherwise.");
            } else {
              say("Paid " + money(r.amount, r.currency) + (r.rail === "test" ? " in TEST MONEY" : " over Lightning") + what);
            }
            refresh(); refreshWallet();
          } catch (e) { say("Buying: " + e.message, true); }
          finally { buy.disabled = false; }
        });
        parts.push(el("h2", {}, c.model === "pay" ? "Buy access" : "Buy shares"),
          el("div", { class: "inline" },
            c.model === "shards" ? el("label", { for: "shares" }, "Shares", shares) : null,
            buy),
          (c.rails || []).includes("lightning")
            ? el("p", { class: "hint" }, "Paid over Lightning from this node's LND node: real bitcoin." +
              (c.all_or_nothing ? " All or nothing: your payment is held until the deadline and taken only if every share is pledged." : ""))
            : el("p", { class: "hint" }, "Paid on the test rail with ", el("span", { class: "test-money" }, "TEST MONEY"),
              "; no real money moves."));
      }
      if (c.model === "open" || c.model === "shards" || c.model === "pay") {
        const amount = el("input", { id: "donate-amount", type: "text", inputmode: "decimal", autocomplete: "off",
          value: c.suggested && c.suggested.length ? plain(c.suggested[0], c.currency) : "" , placeholder: "5.00" });
        const donate = el("button", { id: "donate", type: "button", class: c.model === "open" ? "" : "secondary" }, "Donate");
        donate.addEventListener("click", async () => {
          const minor = parseMoney(amount.value, c.currency);
          if (!(minor > 0)) { say("Enter an amount such as 5.00.", true); amount.focus(); return; }
          donate.disabled = true;
          try {
            const r = await api("POST", "/api/v1/campaigns/" + encodeURIComponent(id) + "/donate", { amount: minor, request_id: requestID() });
            if (pending(r)) { refresh(); refreshWallet(); return; }
            say("Donated " + money(r.amount, r.currency) + (r.rail === "test" ? " in TEST MONEY" : " over Lightning"));
            refresh(); refreshWallet();
          } catch (e) { say("Donating: " + e.message, true); }
          finally { donate.disabled = false; }
        });
        const chips = (c.suggested || []).map((s) => el("button", { type: "button", class: "secondary",
          onclick: () => { amount.value = plain(s, c.currency); amount.focus(); } }, money(s, c.currency)));
        parts.push(el("h2", {}, "Donate"),
          el("div", { class: "inline" },
            el("label", { for: "donate-amount" }, "Amount (" + c.currency + ")", amount), donate),
          chips.length ? el("div", { class: "row", "aria-label": "Suggested amounts" }, chips) : null);
      }
      set(actions, ...parts);
    }

    function update(c) {
      cur = c;
      setTitle(c.title);
      title.textContent = c.title || "(untitled)";
      set(badges, el("span", { class: "badge model" }, modelName(c.model)), lockBadge(c),
        c.mine ? el("span", { class: "badge" }, "Mine") : null);
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
      const f = [];
      // The API's figures, never the page's own arithmetic: the price shown is the price charged.
      if (c.model !== "open") f.push(figure("Price now", c.sold_out ? "Sold out" : money(c.price_now, c.currency)));
      if (c.tiers && c.tiers.length > 1) {
        const last = c.tiers.length - 1;
        f.push(figure("Prices", c.tiers.map((t, i) => (i === 0 ? "first " + t.count + " at " : i === last ? "then " : "next " + t.count + " at ") +
          money(t.price, c.currency)).join(", ")));
      }
      if (c.outcome_note) f.push(figure("Outcome", c.outcome_note));
      if (c.model === "shards") f.push(figure("Shares sold", String(c.sold)), figure("In the pool", c.pooled + " / " + c.needed));
      if (c.all_or_nothing) f.push(figure("Pledged", c.pledged + " / " + c.needed));
      if (c.rejected) f.push(figure("Rejected", c.rejected));
      if (c.model === "pay") f.push(figure("Sold", String(c.sold)));
      if (c.goal > 0) f.push(figure("Goal", money(c.goal, c.currency)));
      if (c.mine || c.raised) f.push(figure("Raised", money(c.raised, c.currency)));
      if (c.mine || c.donated) f.push(figure("Donated", money(c.donated, c.currency)));
      f.push(el("div", {}, el("dt", {}, "Deadline"), el("dd", {}, timeEl(c.deadline))));
      f.push(figure("Size", (c.content_size / 1048576).toFixed(1) + " MiB · " + (c.media_type || "?")));
      set(figures, ...f);
      const shape = c.model + "|" + c.mine + "|" + c.currency + "|" + JSON.stringify(c.suggested || []);
      if (shape !== built) { built = shape; buildActions(c); }
    }

    async function loadReceipts() {
      let rs;
      try { rs = await api("GET", "/api/v1/receipts?campaign=" + encodeURIComponent(id)); } catch (_) { return; }
      rs = rs || [];
      if (rs.length === 0) { set(receipts, el("p", { class: "empty", id: "no-receipts" }, "None yet.")); return; }
      const shares = rs.reduce((n, r) => n + (r.indices ? r.indices.length : 0), 0);
      set(receipts,
        shares ? el("p", { id: "my-shares" }, "You hold " + shares + (shares === 1 ? " share." : " shares.")) : null,
        el("table", {},
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Time"), el("th", { scope: "col" }, "Kind"),
            el("th", { scope: "col", class: "num" }, "Amount"), el("th", { scope: "col" }, "Shares"),
            el("th", { scope: "col" }, "Status"))),
          el("tbody", { id: "receipt-rows" }, rs.map((r) => el("tr", {},
            el("td", {}, r.time ? new Date(r.time).toLocaleString() : ""),
            el("td", {}, r.kind || ""),
            el("td", { class: "num" }, money(r.amount, r.currency)),
            el("td", {}, r.indices && r.indices.length ? r.indices.join(", ") : "—"),
            el("td", {}, r.status || "ok"))))));
    }

    async function refresh() {
      try {
        update(await api("GET", "/api/v1/campaigns/" + encodeURIComponent(id)));
      } catch (e) {
        if (!cur) { title.textContent = "Campaign not found"; desc.textContent = e.message; }
      }
      loadReceipts();
    }
    refresh();
    every(1000, refresh);
  }

  // ---- player --------------------------------------------------------------

  function pagePlayer(id) {
    const title = el("h1", {}, "Player");
    const stage = el("div", { id: "stage" });
    set(main, title, stage,
      el("p", {}, el("a", { href: "#/c/" + encodeURIComponent(id) }, "Campaign details")));
    let state = "";
    async function check() {
      let c;
      try { c = await api("GET", "/api/v1/campaigns/" + encodeURIComponent(id)); }
      catch (e) { if (!state) set(stage, el("p", { class: "empty" }, e.message)); return; }
      title.textContent = c.title || "Player";
      setTitle(c.title);
      if (c.unlocked && state !== "open" && state !== "opening") {
        // The stream comes from the gateway, an origin of its own; off
        // loopback its URL carries a capability.
        state = "opening";
        let w;
        try { w = await api("GET", "/api/v1/campaigns/" + encodeURIComponent(id) + "/watch"); }
        catch (e) { state = ""; say("Opening the stream: " + e.message, true); return; }
        state = "open";
        const v = el("video", { id: "player", controls: true, preload: "metadata", playsinline: true,
          src: w.url, "aria-label": c.title || "video" });
        v.addEventListener("error", () => say("The player could not read the stream.", true));
        set(stage, el("div", { class: "video-wrap" }, v));
      } else if (!c.unlocked && state !== "locked") {
        state = "locked";
        const p = progressOf(c);
        set(stage, el("div", { id: "locked", class: "locked-box", role: "status" },
          el("span", { class: "lock", "aria-hidden": "true" }, "🔒"),
          el("p", {}, el("strong", {}, "Locked."), " This node cannot decrypt this work yet."),
          el("p", { class: "meta" }, c.model === "shards"
            ? "It unlocks for everyone when all shares are sold or the deadline passes" + (p ? " (" + p.label + ")." : ".")
            : "Buying access unlocks it for this node."),
          el("a", { class: "button", href: "#/c/" + encodeURIComponent(id) }, c.model === "shards" ? "Buy a share" : "Buy")));
      }
      if (state === "open") stopTimers();
    }
    check();
    every(1000, check);
  }

  // ---- creator dashboard ---------------------------------------------------

  function chart(cs) {
    const rowH = 24, labelW = 150, w = 480;
    const s = svg("svg", { class: "chart", viewBox: "0 0 " + w + " " + (cs.length * rowH + 4), role: "img",
      "aria-label": "Progress of my campaigns", id: "chart" });
    cs.forEach((c, i) => {
      const p = progressOf(c);
      const frac = p ? p.value / p.max : (c.unlocked ? 1 : 0);
      const y = i * rowH + 2;
      const name = (c.title || c.id).slice(0, 22);
      s.append(svg("text", { x: 0, y: y + 15, text: name }));
      s.append(svg("rect", { class: "track", x: labelW, y: y + 4, width: w - labelW - 50, height: 14, rx: 3 }));
      s.append(svg("rect", { class: "bar" + (frac >= 1 ? " done" : ""), x: labelW, y: y + 4,
        width: Math.max(0, Math.min(1, frac)) * (w - labelW - 50), height: 14, rx: 3 }));
      s.append(svg("text", { x: w - 44, y: y + 15, text: p ? Math.round(frac * 100) + "%" : "—" }));
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
      el("div", {}, submit));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const fl = file.files && file.files[0];
      if (!fl) { say("Choose a file to publish.", true); file.focus(); return; }
      const m = model.value, cur = currency.value.trim().toUpperCase() || "USD";
      const q = new URLSearchParams({ model: m, title: titleIn.value.trim() || fl.name,
        media_type: fl.type || "application/octet-stream", currency: cur, rails: rail.value });
      if (m === "shards") q.set("shortfall", shortfall.value);
      if (m === "shards" && rail.value === "lightning" && aon.checked) q.set("all_or_nothing", "true");
      if (descIn.value.trim()) q.set("description", descIn.value.trim());
      const need = (input, name, label) => {
        if (!input.value.trim()) return true;
        const v = parseMoney(input.value, cur);
        if (!(v >= 0)) { say(label + ": enter an amount such as 2.50.", true); input.focus(); return false; }
        q.set(name, String(v));
        return true;
      };
      if (m !== "open" && !need(price, "price", "Price")) return;
      if (!need(goal, "goal", "Goal")) return;
      if (m === "shards" && shards.value && !goal.value.trim()) q.set("shards", String(parseInt(shards.value, 10)));
      if (m === "open" && suggested.value.trim()) {
        const vs = suggested.value.split(",").map((s) => parseMoney(s, cur));
        if (vs.some((v) => !(v > 0))) { say("Suggested donations: amounts separated by commas.", true); suggested.focus(); return; }
        q.set("suggested", vs.join(","));
      }
      if (deadline.value) {
        const d = new Date(deadline.value);
        if (isNaN(d)) { say("Deadline: not a date.", true); deadline.focus(); return; }
        q.set("deadline", d.toISOString().replace(/\.\d{3}Z$/, "Z"));
      }
      if (m === "shards" && earlyN.value && Number(earlyN.value) > 0) {
        q.set("early_count", String(parseInt(earlyN.value, 10)));
        if (!need(earlyP, "early_price", "Early price")) return;
      }
      submit.disabled = true;
      submit.textContent = "Publishing…";
      try {
        const c = await api("POST", "/api/v1/publish?" + q.toString(), undefined, fl);
        say("Published " + (c.title || c.id));
        location.hash = "#/c/" + encodeURIComponent(c.id);
      } catch (e) { say("Publishing: " + e.message, true); }
      finally { submit.disabled = false; submit.textContent = "Publish"; }
    });
    return f;
  }

  // salesChart draws the money that came in (sales and donations) to my
  // campaigns over time, cumulative, one step line per campaign.
  async function salesChart(cs) {
    const w = 480, h = 160, padL = 56, padB = 18, colors = ["#0b5cad", "#b5540b", "#2e7d32", "#7b1fa2", "#00838f"];
    const series = [];
    for (const c of cs.slice(0, colors.length)) {
      let pts;
      try { pts = await api("GET", "/api/v1/campaigns/" + encodeURIComponent(c.id) + "/sales?bucket=10"); } catch (e) { continue; }
      let sum = 0;
      const line = (pts || []).map((p) => { sum += (p.raised || 0) + (p.donated || 0); return { t: Date.parse(p.start), v: sum }; });
      if (line.length) series.push({ c, line });
    }
    const s = svg("svg", { class: "chart", id: "sales-chart", viewBox: "0 0 " + w + " " + h, role: "img",
      "aria-label": "Money in over time, sales and donations, per campaign" });
    if (!series.length) {
      s.append(svg("text", { x: padL, y: h / 2, text: "No sales or donations yet" }));
      return s;
    }
    const t0 = Math.min(...series.map((x) => x.line[0].t)), t1 = Math.max(Date.now(), ...series.map((x) => x.line[x.line.length - 1].t)) ;
    const vmax = Math.max(1, ...series.map((x) => x.line[x.line.length - 1].v));
    const X = (t) => padL + (t1 > t0 ? (t - t0) / (t1 - t0) : 1) * (w - padL - 8);
    const Y = (v) => h - padB - (v / vmax) * (h - padB - 8);
    s.append(svg("line", { class: "axis", x1: padL, y1: h - padB, x2: w - 4, y2: h - padB, stroke: "#999" }));
    s.append(svg("line", { class: "axis", x1: padL, y1: 8, x2: padL, y2: h - padB, stroke: "#999" }));
    s.append(svg("text", { x: 2, y: 16, text: money(vmax, series[0].c.currency) }));
    s.append(svg("text", { x: padL, y: h - 2, text: new Date(t0).toLocaleTimeString() }));
    series.forEach((x, i) => {
      let d = "M" + X(x.line[0].t) + " " + Y(0);
      for (const p of x.line) d += " H" + X(p.t) + " V" + Y(p.v);
      d += " H" + X(t1);
      s.append(svg("path", { d, fill: "none", stroke: colors[i], "stroke-width": 2, "data-id": x.c.id }));
      s.append(svg("text", { x: w - 150, y: 16 + 14 * i, fill: colors[i], text: (x.c.title || x.c.id).slice(0, 20) }));
    });
    return s;
  }

  function pageStudio() {
    setTitle("Creator");
    const mine = el("div", { id: "mine", "aria-live": "polite" });
    const chartBox = el("div", { id: "chart-box" });
    const salesBox = el("div", { id: "sales-box" });
    set(main, el("h1", {}, "Creator"),
      el("h2", {}, "My campaigns"), chartBox, mine,
      el("h2", {}, "Sales over time"), salesBox,
      el("details", { class: "panel", open: true }, el("summary", {}, el("strong", {}, "Publish a work")), publishForm()));
    let last = "";
    async function load() {
      let cs;
      try { cs = await api("GET", "/api/v1/campaigns"); } catch (e) { say("Loading: " + e.message, true); return; }
      cs = (cs || []).filter((c) => c.mine).sort((a, b) => (b.created || "").localeCompare(a.created || ""));
      const key = JSON.stringify(cs);
      if (key === last) return;
      last = key;
      if (cs.length === 0) {
        set(chartBox);
        set(mine, el("p", { class: "empty" }, "Nothing published from this node yet."));
        return;
      }
      set(chartBox, chart(cs));
      salesChart(cs).then((c) => set(salesBox, c));
      set(mine, el("table", {},
        el("thead", {}, el("tr", {}, ["Title", "Model", "Sold", "Raised", "Donated", "Progress", ""].map((h, i) =>
          el("th", { scope: "col", class: i >= 2 && i <= 4 ? "num" : undefined }, h)))),
        el("tbody", {}, cs.map((c) => {
          const p = progressOf(c);
          let rel = null;
          if (c.model === "shards" && c.pooled < c.needed) {
            rel = el("button", { type: "button", class: "secondary release", "data-id": c.id }, "Release now");
            rel.addEventListener("click", async () => {
              if (!confirm("Publish all unsold shares now? \"" + (c.title || c.id) + "\" unlocks for everyone.")) return;
              rel.disabled = true;
              try {
                const r = await api("POST", "/api/v1/campaigns/" + encodeURIComponent(c.id) + "/release");
                say("Released " + r.released + " shares");
                load();
              } catch (e) { say("Releasing: " + e.message, true); rel.disabled = false; }
            });
          }
          return el("tr", { "data-id": c.id },
            el("td", {}, el("a", { href: "#/c/" + encodeURIComponent(c.id) }, c.title || c.id)),
            el("td", {}, c.model),
            el("td", { class: "num" }, String(c.sold)),
            el("td", { class: "num" }, money(c.raised, c.currency)),
            el("td", { class: "num" }, money(c.donated, c.currency)),
            el("td", {}, p ? p.label : (c.unlocked ? "unlocked" : "—"), " · ", timeEl(c.deadline)),
            el("td", {}, rel));
        }))));
    }
    load();
    every(2000, load);
  }

  // ---- router --------------------------------------------------------------

  function stopTimers() { timers.forEach(clearInterval); timers = []; }

  function route() {
    stopTimers();
    const h = location.hash.replace(/^#\/?/, "");
    const [page, ...rest] = h.split("/");
    const arg = decodeURIComponent(rest.join("/"));
    for (const a of document.querySelectorAll(".top nav a")) a.removeAttribute("aria-current");
    if (page === "c" && arg) pageCampaign(arg);
    else if (page === "watch" && arg) pagePlayer(arg);
    else if (page === "studio") { document.getElementById("nav-studio").setAttribute("aria-current", "page"); pageStudio(); }
    else { document.getElementById("nav-catalog").setAttribute("aria-current", "page"); pageCatalog(); }
    main.focus({ preventScroll: true });
  }

  // Off loopback, the daemon first asks for its API token; the session
  // cookie it sets in exchange opens the app.
  function pageLogin() {
    setTitle("Log in");
    const token = el("input", { id: "login-token", type: "password", autocomplete: "off", required: true });
    const submit = el("button", { id: "login-submit", type: "submit" }, "Log in");
    const f = el("form", { id: "login", novalidate: true },
      el("label", { for: "login-token" }, "API token",
        el("small", {}, "the contents of api.token in the daemon's repo directory"), token),
      el("div", {}, submit));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        await api("POST", "/api/v1/login", { token: token.value.trim() });
        location.reload();
      } catch (e) { say("Logging in: " + e.message, true); submit.disabled = false; }
    });
    set(main, el("h1", {}, "Log in"),
      el("p", { class: "meta" }, "This daemon's API is reachable from the network: paste its token once."), f);
  }

  if (meta("shardcast-login")) {
    pageLogin();
    return;
  }

  window.addEventListener("hashchange", route);
  // One ticker for every countdown on the page.
  setInterval(() => {
    for (const t of document.querySelectorAll("time[data-deadline]")) t.textContent = countdown(t.dataset.deadline);
  }, 1000);
  setInterval(refreshWallet, 5000);
  refreshWallet();
  loadID();
  route();
})();
