// shardcast web UI: the player, or while this node cannot decrypt the
// film, a locked view whose progress follows the campaign and that turns
// into the player by itself when the film unlocks.
"use strict";

(function () {
  const { el, set, api, every, stopTimers, setTitle, stateOf, progressOf, humanError, showError } = window.SC;

  SC.pages.player = function (main, id) {
    const title = el("h1", {}, "Player");
    const stage = el("div", { id: "stage" });
    const problem = el("div", { id: "player-error", hidden: true });
    set(main, title, problem, stage,
      el("p", {}, el("a", { href: "#/c/" + encodeURIComponent(id) }, "Campaign details")));
    let state = "";
    let lockedKey = "";
    let bar = null, barLabel = null, line = null;

    function locked(c) {
      const p = progressOf(c);
      const key = JSON.stringify([c.stage, c.can_buy, c.owned, !!p]);
      if (state !== "locked" || key !== lockedKey) {
        state = "locked";
        lockedKey = key;
        bar = p ? el("progress", { id: "locked-progress", max: p.max, value: p.value, "aria-label": p.label }) : null;
        barLabel = p ? el("p", { class: "meta", id: "locked-progress-label" }) : null;
        line = el("p", { class: "meta", id: "locked-state" });
        const href = "#/c/" + encodeURIComponent(id);
        const main = c.can_buy
          ? el("a", { class: "button", href }, c.model === "shards" ? "Buy a share" : "Buy access")
          : el("a", { class: "button secondary", href }, "Campaign details");
        set(stage, el("div", { id: "locked", class: "locked-box", "data-stage": c.stage },
          el("span", { class: "lock", "aria-hidden": "true" }, "🔒"),
          el("p", {}, el("strong", {}, "Locked."), " Your node cannot play this film yet."),
          line, bar, barLabel, main));
      }
      // The figures move in place: focus and the rest stay.
      line.textContent = stateOf(c).line;
      if (p && bar) {
        bar.max = p.max; bar.value = p.value;
        bar.setAttribute("aria-label", p.label);
        bar.dataset.value = String(p.value);
        barLabel.textContent = p.label;
      }
    }

    async function check() {
      let c;
      try { c = await api("GET", "/api/v1/campaigns/" + encodeURIComponent(id)); }
      catch (e) { if (!state) set(stage, el("p", { class: "empty" }, humanError("Loading the film", e))); return; }
      title.textContent = c.title || "Player";
      setTitle(c.title);
      if (c.unlocked && state !== "open" && state !== "opening") {
        // The stream comes from the gateway, an origin of its own; off
        // loopback its URL carries a capability.
        state = "opening";
        let w;
        try { w = await api("GET", "/api/v1/campaigns/" + encodeURIComponent(id) + "/watch"); }
        catch (e) { state = ""; showError(problem, "Opening the stream", e); return; }
        state = "open";
        const v = el("video", { id: "player", controls: true, preload: "metadata", playsinline: true,
          src: w.url, "aria-label": c.title || "video" });
        v.addEventListener("error", () => showError(problem, "Playing", { kind: "", message: "the player could not read the stream" }));
        set(stage, el("div", { class: "video-wrap" }, v));
      } else if (!c.unlocked) {
        locked(c);
      }
      if (state === "open") stopTimers();
    }
    check();
    every(1000, check);
  };
})();
