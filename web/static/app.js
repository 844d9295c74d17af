// shardcast web UI: the router. A single page with hash routes, talking to
// the JSON API of the daemon that serves it; the pages are in catalog.js,
// campaign.js, player.js and studio.js, their shared parts in core.js.
"use strict";

(function () {
  const { el, set, api, meta, setTitle, stopTimers, showError, refreshWallet, countdown, pages } = window.SC;
  const main = document.getElementById("main");

  async function loadID() {
    try {
      const id = await api("GET", "/api/v1/id");
      document.getElementById("node-id").textContent = "Node " + id.id;
    } catch (_) { /* optional */ }
  }

  function route() {
    stopTimers();
    const h = location.hash.replace(/^#\/?/, "");
    const [page, ...rest] = h.split("/");
    const arg = decodeURIComponent(rest.join("/"));
    for (const a of document.querySelectorAll(".top nav a")) a.removeAttribute("aria-current");
    if (page === "c" && arg) pages.campaign(main, arg);
    else if (page === "watch" && arg) pages.player(main, arg);
    else if (page === "studio") { document.getElementById("nav-studio").setAttribute("aria-current", "page"); pages.studio(main); }
    else { document.getElementById("nav-catalog").setAttribute("aria-current", "page"); pages.catalog(main); }
    main.focus({ preventScroll: true });
  }

  // Off loopback, the daemon first asks for its API token; the session
  // cookie it sets in exchange opens the app.
  function pageLogin() {
    setTitle("Log in");
    const token = el("input", { id: "login-token", type: "password", autocomplete: "off", required: true });
    const submit = el("button", { id: "login-submit", type: "submit" }, "Log in");
    const problem = el("div", { id: "login-error", hidden: true });
    const f = el("form", { id: "login", novalidate: true },
      el("label", { for: "login-token" }, "API token",
        el("small", {}, "the contents of api.token in the daemon's repo directory"), token),
      problem, el("div", {}, submit));
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      try {
        await api("POST", "/api/v1/login", { token: token.value.trim() });
        location.reload();
      } catch (e) {
        showError(problem, "Logging in", e);
        if (e.status === 401) set(problem, el("p", {}, "Logging in: that is not this daemon's token."));
        submit.disabled = false;
      }
    });
    set(main, el("h1", {}, "Log in"),
      el("p", { class: "meta" }, "This daemon's API is reachable from the network: paste its token once."), f);
  }

  if (meta("shardcast-login")) {
    pageLogin();
    return;
  }

  window.addEventListener("hashchange", route);
  // One ticker for every countdown on the page; a countdown that reaches
  // its end stops and says so.
  setInterval(() => {
    for (const t of document.querySelectorAll(".countdown[data-deadline]")) {
      const s = countdown(t.dataset.deadline);
      t.textContent = s;
      if (s === "ended") t.removeAttribute("data-deadline");
    }
  }, 1000);
  setInterval(refreshWallet, 5000);
  refreshWallet();
  loadID();
  route();
})();
