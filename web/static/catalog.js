// shardcast web UI: the catalog. Its refresh changes only the cards
// whose campaign changed, so keyboard focus stays where it is, and it
// announces only what changed (a new campaign, a new state), never the
// whole list.
"use strict";

(function () {
  const { el, set, api, money, deadlineEl, modelName, stateOf, stateBadge, progressOf, every, setTitle } = window.SC;

  function priceLine(c) {
    if (c.model === "open") return "Free · donations welcome";
    if (c.model === "pay") return c.owned ? "You bought access" : money(c.price_now, c.currency) + " for access";
    if (c.stage !== "open") return stateOf(c).label;
    if (c.sold_out) return "Sold out";
    return money(c.price_now, c.currency) + " a share now";
  }

  function card(c) {
    const p = progressOf(c);
    const href = "#/c/" + encodeURIComponent(c.id);
    return el("li", { class: "card", "data-id": c.id, "data-model": c.model, "data-stage": c.stage },
      el("h2", {}, el("a", { href, "data-focus": "title" }, c.title || "(untitled)")),
      el("div", { class: "row" },
        el("span", { class: "badge model" }, modelName(c.model)), stateBadge(c),
        el("span", { class: "badge " + (c.unlocked ? "unlocked" : "locked"), "data-unlocked": String(!!c.unlocked) },
          c.unlocked ? "Plays here" : "Locked"),
        c.mine ? el("span", { class: "badge" }, "Mine") : null),
      el("p", { class: "meta" }, priceLine(c)),
      p ? el("progress", { value: p.value, max: p.max, "aria-label": p.label }) : null,
      p ? el("p", { class: "meta" }, p.label) : null,
      el("p", { class: "meta" }, deadlineEl(c)),
      el("div", { class: "row" },
        c.unlocked ? el("a", { class: "button", href: "#/watch/" + encodeURIComponent(c.id), "data-focus": "play" }, "Play") : null,
        el("a", { class: "button secondary", href, "data-focus": "details" }, c.unlocked ? "Details" : "Details and buying")));
  }

  SC.pages.catalog = function (main) {
    setTitle("Catalog");
    const list = el("ul", { id: "catalog", class: "grid", "aria-busy": "true", "aria-label": "Campaigns" });
    // Only what changed is said here, politely.
    const news = el("p", { id: "catalog-news", class: "visually-hidden", role: "status", "aria-live": "polite" });
    const problem = el("div", { id: "catalog-error", hidden: true });
    set(main, el("h1", {}, "Catalog"),
      el("p", { class: "meta" }, "Campaigns this node knows, from its own publishing and from its peers."), problem, news, list);
    const seen = new Map(); // id -> {key, stage}
    let first = true;
    async function load() {
      let cs;
      try { cs = await api("GET", "/api/v1/campaigns"); } catch (e) { SC.showError(problem, "Loading the catalog", e); return; }
      SC.clearBox(problem);
      cs = (cs || []).sort((a, b) => (b.created || "").localeCompare(a.created || ""));
      list.setAttribute("aria-busy", "false");
      if (cs.length === 0) {
        if (!list.querySelector(".empty")) set(list, el("li", { class: "empty" }, "No campaigns yet. Publish one in the Creator tab, or connect to a peer."));
        return;
      }
      const empty = list.querySelector(".empty");
      if (empty) empty.remove();
      const said = [];
      const ids = new Set(cs.map((c) => c.id));
      for (const node of Array.from(list.children)) if (!ids.has(node.dataset.id)) node.remove();
      cs.forEach((c, i) => {
        const key = JSON.stringify(c);
        const old = seen.get(c.id);
        let node = list.querySelector('[data-id="' + CSS.escape(c.id) + '"]');
        if (!old || old.key !== key || !node) {
          const fresh = card(c);
          if (node) {
            // Keep focus on the same control of the card.
            const a = document.activeElement;
            const focus = a && node.contains(a) ? a.dataset.focus : "";
            node.replaceWith(fresh);
            const again = focus && fresh.querySelector('[data-focus="' + focus + '"]');
            if (again) again.focus({ preventScroll: true });
          }
          node = fresh;
          if (!first && !old) said.push("New campaign: " + (c.title || "untitled") + ".");
          else if (!first && old && old.stage !== stateOf(c).key) said.push((c.title || "untitled") + ": " + stateOf(c).label + ".");
          seen.set(c.id, { key, stage: stateOf(c).key });
        }
        if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
      });
      first = false;
      if (said.length) news.textContent = said.join(" ");
    }
    load();
    every(2000, load);
  };
})();
