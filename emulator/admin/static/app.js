// The inspector: reads the admin API (/_emulator/...) every two seconds and renders it. Plain DOM, no build step.
// Everything that comes from the API is written with textContent, never as HTML.
"use strict";

(function () {
  const TOKEN_KEY = "ingopay-emulator-admin-token";
  const POLL_MS = 2000;
  const MAX_DELIVERIES = 50; // the newest shown; GET /_emulator/webhooks has them all
  const $ = (id) => document.getElementById(id);

  // --- the admin token (only when the emulator runs with --admin-token) -------------------------------------------
  // /_emulator/ui?token=... stores it in this tab's sessionStorage and takes it out of the address bar.
  const params = new URLSearchParams(window.location.search);
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    params.delete("token");
    const query = params.toString();
    history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
  }

  class NeedsToken extends Error {}

  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    // every POST says it is JSON, body or not: the admin API refuses state changes a foreign page could send
    if (options.body !== undefined || (options.method || "GET") !== "GET") headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method: options.method || "GET", headers, cache: "no-store",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (response.status === 401) throw new NeedsToken("the admin API needs the admin token");
    let document_ = null;
    try { document_ = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const message = document_ && document_.message ? document_.message : "HTTP " + response.status;
      throw new Error(path + ": " + message);
    }
    return document_;
  }

  // --- small DOM helpers ------------------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const dash = "–";
  function show(value) { return value === undefined || value === null || value === "" ? dash : String(value); }

  function when(seconds) {
    if (typeof seconds !== "number") return dash;
    return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z").replace("T", " ");
  }

  function pretty(value) {
    if (value === undefined || value === null) return "(none)";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function statusClass(http) {
    if (typeof http !== "number") return "badge";
    if (http >= 500) return "badge bad";
    if (http >= 400) return "badge warn";
    return "badge good";
  }

  // <details> that stay open across re-renders (keyed by what they show).
  const openDetails = new Set();
  function details(key, summary, ...content) {
    const node = el("details", { open: openDetails.has(key) }, el("summary", { text: summary }), ...content);
    node.addEventListener("toggle", () => { node.open ? openDetails.add(key) : openDetails.delete(key); });
    return node;
  }

  // Re-render a section only when its data changed, so focus and scrolling survive the polling.
  const last = {};
  function changed(name, data) {
    const text = JSON.stringify(data);
    if (last[name] === text) return false;
    last[name] = text;
    return true;
  }

  function say(message) { $("updated").textContent = message; }

  function fail(error) {
    const box = $("error");
    if (error instanceof NeedsToken) {
      $("token-form").hidden = false;
      box.textContent = "The admin API answered 401: enter the admin token (started with --admin-token).";
    } else {
      box.textContent = String(error.message || error);
    }
    box.hidden = false;
  }

  function clearError() { $("error").hidden = true; $("error").textContent = ""; }

  // --- requests ---------------------------------------------------------------------------------------------------
  let requests = [];

  function requestText(entry) {
    const d = entry.diagnosis || {};
    return [entry.method, entry.path, entry.http_status, entry.ingo_status, d.code, d.detail, entry.matched_rule,
      entry.participant_id, entry.username].join(" ").toLowerCase();
  }

  function renderRequests() {
    const needle = $("requests-filter").value.trim().toLowerCase();
    const shown = needle ? requests.filter((e) => requestText(e).includes(needle)) : requests;
    const rows = [];
    for (const entry of shown) {
      const d = entry.diagnosis;
      const key = "request-" + entry.id;
      const extra = d ? Object.fromEntries(Object.entries(d).filter(([k]) => k !== "code" && k !== "detail")) : {};
      rows.push(el("tr", { class: "request", "data-id": entry.id, "data-http-status": entry.http_status },
        el("td", { class: "nowrap" }, when(entry.time)),
        el("td", {},
          el("code", { text: entry.method + " " + entry.path }),
          details(key, "Bodies",
            el("h4", { text: "Request body (masked)" }), el("pre", { text: pretty(entry.request_body) }),
            el("h4", { text: "Response body (masked)" }), el("pre", { text: pretty(entry.response_body) }),
            Object.keys(extra).length ? [el("h4", { text: "Diagnosis facts" }), el("pre", { text: pretty(extra) })] : [])),
        el("td", {}, el("span", { class: statusClass(entry.http_status), text: show(entry.http_status) })),
        el("td", { class: "ingo-status" }, show(entry.ingo_status)),
        el("td", { class: "diagnosis" },
          d ? [el("code", { class: "diagnosis-code", text: show(d.code) }), el("div", { text: show(d.detail) })] : dash),
        el("td", { class: "rule" }, entry.matched_rule === "none"
          ? el("span", { class: "muted", title: "scenario rules were consulted and none matched", text: "none" })
          : entry.matched_rule ? el("code", { text: entry.matched_rule }) : dash),
        el("td", {}, show(entry.participant_id)),
        el("td", { class: "nowrap" }, typeof entry.latency_ms === "number" ? entry.latency_ms.toFixed(1) + " ms" : dash)));
    }
    $("requests-body").replaceChildren(...rows);
    $("requests-count").textContent = needle ? `(${shown.length} of ${requests.length})` : `(${requests.length})`;
    $("requests-empty").hidden = shown.length > 0;
  }

  // --- webhook deliveries -----------------------------------------------------------------------------------------
  async function redeliver(id, button) {
    button.disabled = true;
    try {
      await api("/_emulator/webhooks/" + encodeURIComponent(id) + "/redeliver", { method: "POST" });
      say("Redelivered " + id);
      await refresh();
    } catch (error) {
      fail(error);
    } finally {
      button.disabled = false;
    }
  }

  function renderWebhooks(document_) {
    const list = document_.deliveries || [];
    const cards = list.slice(0, MAX_DELIVERIES).map((d) => {
      const headingId = "delivery-" + d.id;
      const attempts = (d.attempts || []).map((a) => el("tr", { class: "attempt" },
        el("td", {}, show(a.attempt)),
        el("td", { class: "nowrap" }, when(a.time)),
        el("td", {}, el("span", { class: statusClass(a.http_status), text: show(a.http_status) })),
        el("td", { class: "nowrap" }, typeof a.latency_ms === "number" ? a.latency_ms.toFixed(1) + " ms" : dash),
        el("td", {}, show(a.error)),
        el("td", {}, a.ok ? "yes" : "no"),
        el("td", {}, a.response_body ? el("code", { class: "clip", text: a.response_body }) : dash)));
      return el("article", { class: "delivery", "data-id": d.id, "data-status": d.status, "aria-labelledby": headingId },
        el("h3", { id: headingId },
          el("span", { class: "badge " + ({ succeeded: "good", failed: "bad", pending: "warn" }[d.status] || ""), text: d.status }),
          " ", el("code", { text: d.topic })),
        el("p", { class: "meta" },
          "Delivery ", el("code", { text: d.id }), " · event ", el("code", { text: show(d.event_id) }),
          " · participant ", show(d.participant_id), " · to ", el("code", { text: show(d.url) }),
          d.next_attempt_at ? " · next attempt " + when(d.next_attempt_at) : ""),
        el("button", { type: "button", class: "redeliver", "aria-label": "Redeliver " + d.id,
          onclick: (event) => redeliver(d.id, event.currentTarget) }, "Redeliver"),
        el("div", { class: "table-wrap" }, el("table", {},
          el("caption", { class: "visually-hidden", text: "Attempts of delivery " + d.id }),
          el("thead", {}, el("tr", {}, ["#", "Time", "HTTP", "Latency", "Error", "OK", "Response"].map(
            (h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, attempts))),
        details("payload-" + d.id, "Payload", el("pre", { text: pretty(d.payload) })));
    });
    $("webhooks-list").replaceChildren(...cards);
    $("webhooks-count").textContent = list.length > MAX_DELIVERIES
      ? `(newest ${MAX_DELIVERIES} of ${list.length})` : `(${list.length})`;
    $("webhooks-empty").hidden = list.length > 0;
  }

  // --- sessions, tokens, transactions -----------------------------------------------------------------------------
  function rowsOf(items, cells) {
    if (!items.length) return [el("tr", {}, el("td", { colspan: 8, class: "muted", text: "None yet." }))];
    return items.map((item) => el("tr", {}, cells(item).map((c) => el("td", {}, c))));
  }

  function renderState(document_) {
    $("tokens-body").replaceChildren(...rowsOf(document_.tokens || [], (t) => [
      el("code", { text: t.token }), show(t.account_type), "…" + show(t.last_4), show(t.participant_id), when(t.created)]));
    $("sessions-body").replaceChildren(...rowsOf(document_.sessions || [], (s) => [
      el("code", { text: s.id }), show(s.status), show(s.participant_id), show(s.participant_unique_id1),
      show(s.host_uri), when(s.created)]));
    $("transactions-body").replaceChildren(...rowsOf(document_.transactions || [], (t) => [
      el("code", { text: show(t.id) }), show(t.kind), typeof t.amount === "number" ? t.amount.toFixed(2) : show(t.amount),
      show(t.status), show(t.account_type) + " …" + show(t.last_4), show(t.participant_id), when(t.created)]));
  }

  // --- clock ------------------------------------------------------------------------------------------------------
  let frozen = false;

  function renderClock(c) {
    frozen = Boolean(c.frozen);
    $("clock-now").textContent = (c.iso || when(c.now));
    $("clock-now").dataset.now = String(c.now);
    $("clock-frozen").textContent = frozen ? "yes" : "no";
    const offset = Number(c.offset_seconds || 0);
    $("clock-offset").textContent = (offset >= 0 ? "+" : "") + offset.toFixed(0) + " s";
    $("clock-pending").textContent = show(c.pending_count);
    $("freeze").textContent = frozen ? "Unfreeze" : "Freeze";
    $("freeze").setAttribute("aria-pressed", String(frozen));
  }

  async function changeClock(body, button) {
    button.disabled = true;
    try {
      const c = await api("/_emulator/clock", { method: "POST", body });
      renderClock(c);
      say(body.advance !== undefined ? `Clock advanced ${button.textContent}; ${c.fired || 0} job(s) fired`
        : frozen ? "Clock frozen" : "Clock running");
      await refresh();
    } catch (error) {
      fail(error);
    } finally {
      button.disabled = false;
    }
  }

  // --- findings -------------------------------------------------------------------------------------------------
  function renderFindings(document_) {
    const found = document_.findings || [];
    $("findings-count").textContent = `(${found.length})`;
    $("findings-body").replaceChildren(...rowsOf(found, (f) => [
      when(f.time), el("code", { text: f.code }), show(f.participant_id),
      f.message + (f.occurrences > 1 ? ` (${f.occurrences} times)` : ""),
      el("a", { href: f.reference, text: f.rule, rel: "noreferrer" }),
      (f.requests || []).concat(f.deliveries || []).join(", ")]));
  }

  // --- rate windows -----------------------------------------------------------------------------------------------
  function renderRateLimit(r) {
    $("ratelimit-summary").textContent = r.enabled
      ? `Rate limiting is on: ${r.limit_per_second} requests a second per credential (a sliding one-second window).`
      : "Rate limiting is off (--rate-limit 0); forced 429s still apply.";
    const names = Object.keys(r.credentials || {});
    $("ratelimit-body").replaceChildren(...rowsOf(names, (name) => {
      const w = r.credentials[name];
      return [el("code", { text: name }), show(w.limit), show(w.in_window), show(w.remaining), show(w.forced_refusals)];
    }));
  }

  // --- polling ----------------------------------------------------------------------------------------------------
  const SOURCES = [
    ["requests", "/_emulator/requests?limit=200", (d) => { requests = d.requests || []; renderRequests(); }],
    ["findings", "/_emulator/findings", renderFindings],
    ["webhooks", "/_emulator/webhooks", renderWebhooks],
    ["state", "/_emulator/state", renderState],
    ["clock", "/_emulator/clock", renderClock],
    ["ratelimit", "/_emulator/ratelimit", renderRateLimit],
  ];

  let busy = null;
  async function refresh() {
    if (busy) return busy;
    busy = (async () => {
      const results = await Promise.allSettled(SOURCES.map(([, path]) => api(path)));
      let failure = null;
      results.forEach((result, i) => {
        const [name, , render] = SOURCES[i];
        if (result.status === "fulfilled") {
          if (changed(name, result.value)) render(result.value);
        } else {
          failure = failure || result.reason;
        }
      });
      if (failure) fail(failure); else { clearError(); $("token-form").hidden = true; }
      document.body.dataset.loaded = "true";
      if (!failure) say("Updated " + new Date().toLocaleTimeString());
    })();
    try { await busy; } finally { busy = null; }
  }

  let paused = false;
  let timer = null;
  function schedule() {
    clearInterval(timer);
    if (!paused) timer = setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("requests-filter").addEventListener("input", renderRequests);
    $("refresh").addEventListener("click", () => refresh());
    $("pause").addEventListener("click", (event) => {
      paused = !paused;
      event.currentTarget.textContent = paused ? "Resume auto-refresh" : "Pause auto-refresh";
      event.currentTarget.setAttribute("aria-pressed", String(paused));
      say(paused ? "Auto-refresh paused" : "Auto-refresh on");
      schedule();
    });
    for (const button of document.querySelectorAll("button[data-advance]")) {
      button.addEventListener("click", () => changeClock({ advance: Number(button.dataset.advance) }, button));
    }
    $("freeze").addEventListener("click", (event) => changeClock({ freeze: !frozen }, event.currentTarget));
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $("token-input").value);
      $("token-input").value = "";
      refresh();
    });
    refresh();
    schedule();
  });
})();
