// shardcast web UI, shared parts: building elements, calling the API,
// money, dates, and the words for a campaign's model and state. Every
// string from the network goes into the page as text, never as HTML. The
// pages (catalog.js, campaign.js, player.js, studio.js) and the router
// (app.js) use these through window.SC.
"use strict";

(function () {
  const SC = (window.SC = { pages: {} });

  // ---- elements -----------------------------------------------------------

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

  // ---- the API ------------------------------------------------------------

  // The daemon's credential for this page: it sends it back as a header
  // on every call, with the session cookie. No page of another origin can
  // read it, so no other page can make these calls.
  function meta(name) {
    const m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute("content") : "";
  }
  const csrf = meta("shardcast-csrf");

  // APIError is an error answer: its kind (the API's "kind"), the HTTP
  // status, the term a publish broke, and the API's own message, kept for
  // the details a user may open.
  class APIError extends Error {
    constructor(data, status, text) {
      super((data && data.error) || text || "HTTP " + status);
      this.kind = (data && data.kind) || "";
      this.status = status;
      this.term = data && data.term;
    }
  }

  async function api(method, path, body, raw) {
    const opts = { method, headers: { "X-Shardcast-CSRF": csrf }, credentials: "same-origin" };
    if (raw !== undefined) {
      opts.body = raw;
      opts.headers["Content-Type"] = "application/octet-stream";
    } else if (body !== undefined || method !== "GET") {
      opts.body = JSON.stringify(body === undefined ? {} : body);
      opts.headers["Content-Type"] = "application/json";
    }
    let res;
    try { res = await fetch(path, opts); } catch (e) { throw new APIError(null, 0, "unreachable"); }
    let data = null;
    const text = await res.text();
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) throw new APIError(data, res.status, text.trim() || res.statusText);
    return data;
  }

  // The words for each kind of error the API answers; what the user was
  // doing comes first ("Buying: …").
  const kindWords = {
    insufficient_funds: "your wallet does not hold enough. Nothing was paid.",
    sold_out: "those shares are sold out. Nothing was paid.",
    ended: "the campaign has ended: its deadline passed. Nothing was paid.",
    creator_offline: "the creator's node cannot be reached right now. Nothing was paid; try again later.",
    rail_unreachable: "your node cannot reach its Lightning node (LND). Check that LND is running. Nothing was paid.",
    payment_failed: "the payment failed. Nothing was paid.",
    rejected: "this creator was caught selling bad shares; your node refuses the campaign.",
    own: "this is your own campaign.",
    timeout: "the node gave up waiting. If a payment started, your receipts say how it ends.",
    unauthorized: "this page's session ended. Reload the page.",
    not_found: "this campaign is not known to your node.",
  };

  // humanError says what went wrong in words, without IDs or error chains.
  function humanError(doing, e) {
    if (e && e.kind === "bad_term" && e.term) {
      return doing + ": " + e.term.field.replace(/_/g, " ") + " " + e.term.reason + ".";
    }
    if (e && e.status === 0) return doing + ": your node does not answer. Is the daemon running?";
    const w = e && kindWords[e.kind];
    if (w) return doing + ": " + w;
    if (e && e.status >= 500) return doing + ": it failed on your node or the network. Nothing was paid; try again.";
    return doing + ": it could not be done.";
  }

  // errorBox shows an error where the action was, until the next try; the
  // API's message is one click away.
  function showError(box, doing, e) {
    set(box, el("p", {}, humanError(doing, e)),
      e && e.message ? el("details", {}, el("summary", {}, "Details"), el("p", { class: "raw" }, e.message)) : null);
    box.hidden = false;
    box.className = "inline-error";
    box.setAttribute("role", "alert");
  }

  function showOK(box, ...msg) {
    set(box, el("p", {}, ...msg));
    box.hidden = false;
    box.className = "inline-ok";
    box.setAttribute("role", "status");
  }

  function clearBox(box) { set(box); box.hidden = true; }

  // requestID names one click's purchase: the node buys once per ID.
  function requestID() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "web-" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // ---- money --------------------------------------------------------------

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

  // railName names the rail a campaign is paid on, as a buyer should
  // read it before paying.
  function railName(c) {
    return (c.rails || []).includes("lightning") ? "bitcoin over Lightning, from your LND node" : "TEST MONEY (no real money moves)";
  }

  // ---- time ---------------------------------------------------------------

  function countdown(deadline) {
    if (!deadline) return "";
    const ms = Date.parse(deadline) - Date.now();
    if (isNaN(ms)) return "";
    if (ms <= 0) return "ended";
    let s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const parts = d > 0 ? [d + "d", h + "h", m + "m"] : h > 0 ? [h + "h", m + "m", s + "s"] : [m + "m", s + "s"];
    return parts.join(" ") + " left";
  }

  function dateText(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  // deadlineEl shows the deadline's date, always visible, and while the
  // campaign is open a countdown that the page's one ticker updates and
  // that stops at the end.
  function deadlineEl(c) {
    if (!c.deadline) return el("span", { class: "deadline" }, "No deadline");
    const past = Date.parse(c.deadline) <= Date.now();
    const live = !past && c.stage === "open";
    return el("span", { class: "deadline" },
      el("time", { datetime: c.deadline }, (past ? "Ended " : "Ends ") + dateText(c.deadline)),
      live ? " · " : null,
      live ? el("span", { class: "countdown", "data-deadline": c.deadline }, countdown(c.deadline)) : null);
  }

  // ---- a campaign in words -------------------------------------------------

  function modelName(m) {
    return { open: "Free · donations", pay: "Pay to watch", shards: "Fund to unlock" }[m] || m;
  }

  // stateOf says where a campaign stands, from the API's stage: a short
  // label for a badge and a sentence.
  function stateOf(c) {
    const n = c.needed, sold = c.sold;
    if (c.model === "open") return { key: "free", label: "Free", line: "Free to watch. Donations go to the creator." };
    if (c.model === "pay") {
      if (c.owned) return { key: "owned", label: "Yours", line: "You bought access: it plays on your node." };
      return { key: "open", label: "On sale", line: "On sale: " + money(c.price_now, c.currency) + " for access on your node." };
    }
    const own = c.owned ? " You hold " + c.bought + (c.bought === 1 ? " share." : " shares.") : "";
    switch (c.stage) {
      case "funded":
        return { key: "funded", label: "Funded", line: "Funded: every share was sold, so it is unlocked for everyone." + own };
      case "released":
        return { key: "released", label: "Free for everyone", line: "Released: the creator's node published the shares that were not sold (" +
          sold + " of " + n + " were sold), so it is free for everyone." + own };
      case "deciding":
        return { key: "deciding", label: "Ending", line: "The deadline passed. The creator's node is " +
          (c.all_or_nothing ? "taking or returning the pledges." : "publishing the unsold shares; then it is free for everyone.") + own };
      case "locked":
        return { key: "locked", label: "Ended · locked", line: "Ended short of its goal: " + sold + " of " + n +
          " shares were sold by the deadline" + (c.all_or_nothing ? ", every pledge was returned," : "") + " and it stays locked." + own };
      case "sold_out":
        return { key: "sold_out", label: "Sold out", line: c.all_or_nothing
          ? "Every share is pledged. At the deadline the pledges are taken and it unlocks for everyone." + own
          : "Every share is sold; it unlocks for everyone as the last shares arrive." + own };
    }
    if (c.owned) return { key: "owned", label: "You hold shares", line: "You hold " + c.bought + (c.bought === 1 ? " share" : " shares") +
      ". It unlocks for everyone when all " + n + " shares are sold." };
    return { key: "open", label: "On sale", line: sold + " of " + n + " shares sold. It unlocks for everyone when all " + n + " are sold." };
  }

  function stateBadge(c) {
    const s = stateOf(c);
    return el("span", { class: "badge state-" + s.key, "data-state": s.key }, s.label);
  }

  function lockBadge(c) {
    return el("span", { class: "badge " + (c.unlocked ? "unlocked" : "locked"), "data-unlocked": String(!!c.unlocked) },
      c.unlocked ? "Plays here" : "Locked");
  }

  // progressOf returns {value, max, label} for a campaign's progress bar,
  // or null when the model has no target to show: a pay campaign shows its
  // sales, never a full bar.
  function progressOf(c) {
    if (c.model === "shards") {
      const v = (c.sold || 0) + (c.pledged || 0);
      return { value: Math.min(v, c.needed), max: c.needed || 1,
        label: c.sold + " of " + c.needed + " shares sold" + (c.pledged ? ", " + c.pledged + " pledged" : "") };
    }
    if (c.model === "open" && c.goal > 0) {
      return { value: Math.min(c.donated, c.goal), max: c.goal,
        label: money(c.donated, c.currency) + " of " + money(c.goal, c.currency) + " donated" };
    }
    if (c.model === "pay" && c.goal > 0) {
      return { value: Math.min(c.raised, c.goal), max: c.goal,
        label: money(c.raised, c.currency) + " of " + money(c.goal, c.currency) + " raised" };
    }
    return null;
  }

  // ---- page chrome --------------------------------------------------------

  const timers = [];
  function every(ms, fn) { timers.push(setInterval(fn, ms)); }
  function stopTimers() { timers.forEach(clearInterval); timers.length = 0; }

  function setTitle(t) { document.title = t ? t + " · shardcast" : "shardcast"; }

  // say puts a message of the whole page (not of one action) in the
  // status line, which stays until the next one.
  function say(msg) {
    const box = document.getElementById("status");
    box.textContent = msg;
    box.className = "status show";
  }

  async function refreshWallet() {
    try {
      const w = await api("GET", "/api/v1/wallet?currency=USD");
      document.getElementById("wallet").textContent = "Wallet " + money(w.balance, w.currency);
    } catch (_) { /* the header stays as it is */ }
  }

  Object.assign(SC, {
    el, set, svg, meta, api, APIError, humanError, showError, showOK, clearBox, requestID,
    money, plain, parseMoney, railName, countdown, dateText, deadlineEl,
    modelName, stateOf, stateBadge, lockBadge, progressOf, every, stopTimers, setTitle, say, refreshWallet,
  });
})();
