// The inspector: reads the admin API (/_emulator/...) and renders it, live. Plain DOM, no build step, no CDN.
// Everything that comes from the API is written with textContent, never as HTML. Live updates come from the
// server-sent event stream /_emulator/stream, read with fetch (so the admin token travels in a header); when the
// stream cannot be had, the page polls every few seconds instead and says so.
"use strict";

(function () {
  const TOKEN_KEY = "ingopay-emulator-admin-token";
  const POLL_MS = 3000; // only while the live stream is down
  const MAX_REQUESTS = 500;
  const MAX_DELIVERIES = 50; // the newest shown; GET /_emulator/webhooks has them all
  // the page's own address keeps the filters; the participant is participant_id, as in every admin call
  const FILTERS = ["endpoint", "outcome", "participant_id", "puid1", "rule", "since", "q"];
  const FILTER_INPUTS = { endpoint: "f-endpoint", outcome: "f-outcome", participant_id: "f-participant",
    puid1: "f-puid1", rule: "f-rule", since: "f-since", q: "requests-filter" };
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

  function authHeaders(extra) {
    const headers = Object.assign({}, extra || {});
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    return headers;
  }

  async function api(path, options = {}) {
    const headers = authHeaders(Object.assign({ Accept: "application/json" }, options.headers || {}));
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
      const error = new Error(path + ": " + message);
      error.status = response.status;
      throw error;
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

  function clockTime(seconds) {  // time of day, to the millisecond: two clocks side by side
    if (typeof seconds !== "number") return dash;
    return new Date(seconds * 1000).toISOString().slice(11, 23) + "Z";
  }

  function pretty(value) {
    if (value === undefined || value === null) return "(none)";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  // 444 is how the journal writes "closed without an answer" (nginx's code): the client saw no HTTP status
  function httpShown(http) { return http === 444 ? "none (closed)" : show(http); }

  function statusClass(http) {
    if (typeof http !== "number") return "badge";
    if (http >= 500) return "badge bad";
    if (http >= 400) return "badge warn";
    return "badge good";
  }

  // --- outcome families: words, tone and symbol, from GET /_emulator/outcomes ------------------------------------
  let families = {};

  function badge(code) {
    if (!code) return dash;
    const family = families[code] || { label: code, tone: "", icon: "?", meaning: "" };
    return el("span", { class: "outcome tone-" + family.tone, "data-outcome": code, title: family.meaning },
      el("span", { class: "icon", "aria-hidden": "true", text: family.icon }), " ", family.label);
  }

  // --- where an answer comes from: an Ingo page, Kong's plugin, the emulator's choice, or the emulator's own --------
  // A request whose answer rested on a choice of the emulator's (Ingo publishes nothing there) says so in the list.
  function choiceMark(refs) {
    if (!refs || refs.length === 0) return "";
    return el("span", { class: "choice-mark", "data-choices": refs.join(" "),
      title: "This answer rested on the emulator's choice (Ingo does not publish it): " + refs.join(", ") },
    el("span", { "aria-hidden": "true", text: "◇" }), " emulator's choice");
  }

  const SOURCE_KINDS = { ingo: "Ingo's page", kong: "Kong's plugin", choice: "The emulator's choice",
    own: "The emulator's own" };

  function sourceView(source) {
    const head = el("span", { class: "source-kind", text: SOURCE_KINDS[source.kind] || source.kind });
    if (source.kind === "ingo" || source.kind === "kong") {
      return [head, ": ", el("a", { href: source.url, target: "_blank", rel: "noopener noreferrer", text: source.ref }),
        source.note ? el("span", { class: "muted", text: " (" + source.note + ")" }) : ""];
    }
    if (source.kind === "choice") {
      return [head, " ", el("code", { text: source.ref }), source.title ? ": " + source.title : "",
        el("div", { class: "choice-reason" }, el("strong", { text: "Why: " }), source.reason || dash),
        el("div", { class: "muted" }, source.setting ? "Another answer: " + source.setting + " · " : "",
          "see ", el("code", { text: source.contract || "docs/contract.md" }))];
    }
    return [head, ": ", source.ref];
  }

  function renderProvenance(parts) {
    const chosen = parts.filter((p) => p.source.kind === "choice").length;
    $("provenance-summary").textContent = chosen
      ? `This answer rested on ${chosen} choice${chosen === 1 ? "" : "s"} of the emulator's: Ingo publishes nothing `
        + "there, so a test that relies on it relies on a guess."
      : "Nothing in this answer rests on a choice of the emulator's.";
    $("provenance").replaceChildren(...parts.map((p) => el("li",
      { class: "provenance-part", "data-kind": p.source.kind, "data-ref": p.source.ref },
      el("span", { class: "provenance-what", text: p.what }), " — ", sourceView(p.source))));
  }

  function renderLegend() {
    const select = $("f-outcome");
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, "any"),
      ...Object.values(families).filter((f) => !["delivered", "retrying", "undelivered", "finding"].includes(f.code))
        .map((f) => el("option", { value: f.code }, f.label)));
    select.value = chosen || currentFilters().outcome || "";
    $("legend").replaceChildren(...Object.values(families).map((f) => [el("dt", {}, badge(f.code)),
      el("dd", { text: f.meaning })]).flat());
  }

  // Each cell names its column (data-label), so that a narrow screen can show a table as one card per row.
  function labelCells() {
    for (const table of document.querySelectorAll("table")) {
      const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
      if (!names.length) continue;
      for (const row of table.querySelectorAll("tbody tr")) {
        [...row.children].forEach((cell, i) => {
          if (!cell.dataset.label && names[i] && !cell.hasAttribute("colspan")) cell.dataset.label = names[i];
        });
      }
    }
  }

  // <details> that stay open across re-renders (keyed by what they show).
  const openDetails = new Set();
  function details(key, summary, ...content) {
    const node = el("details", { open: openDetails.has(key) }, el("summary", { text: summary }), ...content);
    node.addEventListener("toggle", () => { node.open ? openDetails.add(key) : openDetails.delete(key); });
    return node;
  }

  // Re-render a section only when its data changed, so focus and scrolling survive live updates.
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

  // The emulator stopped (or the network is gone): say so, and stop the clock from ticking on as if it ran.
  let unreachable = false;
  function offline(on) {
    unreachable = on;
    document.body.dataset.reachable = on ? "false" : "true";
    if (on) {
      $("error").textContent = `The emulator at ${window.location.origin} is not answering: is it still running? `
        + "The page reconnects by itself when it is back.";
      $("error").hidden = false;
      $("bar-clock-frozen").textContent = "not answering";
      $("bar-clock-frozen").className = "tag tag-warn";
    }
  }

  // --- filters, kept in the address bar ---------------------------------------------------------------------------
  function currentFilters() {
    const query = new URLSearchParams(window.location.search);
    const found = {};
    for (const name of FILTERS) found[name] = query.get(name) || "";
    return found;
  }

  function writeUrl(changes) {
    const query = new URLSearchParams(window.location.search);
    for (const [name, value] of Object.entries(changes)) {
      if (value === "" || value === null || value === undefined) query.delete(name); else query.set(name, value);
    }
    const text = query.toString();
    history.replaceState(null, "", window.location.pathname + (text ? "?" + text : "") + window.location.hash);
  }

  function filtersFromInputs() {
    const changes = {};
    const before = currentFilters().participant_id;
    for (const name of FILTERS) changes[name] = $(FILTER_INPUTS[name]).value.trim();
    writeUrl(changes);
    renderRequests();
    if (changes.participant_id !== before) refresh(true);  // the clock panel follows the participant
  }

  function inputsFromUrl() {
    const found = currentFilters();
    for (const name of FILTERS) {
      const input = $(FILTER_INPUTS[name]);
      if (input.tagName === "SELECT" && found[name] && ![...input.options].some((o) => o.value === found[name])) {
        input.append(el("option", { value: found[name] }, found[name]));
      }
      input.value = found[name];
    }
  }

  // the API's endpoint name (verify, process, ...), else the first two segments of the path (not one per id)
  function endpointOf(entry) { return entry.endpoint || entry.path.split("/").slice(0, 3).join("/"); }

  function requestText(entry) {
    const d = entry.diagnosis || {};
    return [entry.method, entry.path, entry.http_status, entry.ingo_status, d.code, d.detail, entry.matched_rule,
      entry.participant_id, entry.username, entry.outcome, amountOf(entry), puid1Of(entry),
      ...(entry.relied_on || [])].join(" ").toLowerCase();
  }

  // a payment's own fields, from the body as the journal keeps it (masked): how a person finds a payment in the list
  function bodyField(entry, name) {
    const body = entry.request_body;
    const value = body && typeof body === "object" && !Array.isArray(body) ? body[name] : undefined;
    return typeof value === "string" || typeof value === "number" ? value : undefined;
  }

  function puid1Of(entry) { return bodyField(entry, "participant_unique_id1"); }

  function amountOf(entry) {
    const amount = bodyField(entry, "amount");
    return typeof amount === "number" ? amount.toFixed(2) : amount;
  }

  function keep(entry, f, now) {
    if (f.endpoint && endpointOf(entry) !== f.endpoint) return false;
    if (f.outcome && entry.outcome !== f.outcome) return false;
    if (f.participant_id && String(entry.participant_id) !== f.participant_id) return false;
    if (f.puid1 && String(puid1Of(entry) || "") !== f.puid1) return false;
    if (f.rule && !String(entry.matched_rule || "").toLowerCase().includes(f.rule.toLowerCase())) return false;
    if (f.since && typeof now === "number" && entry.time < now - Number(f.since)) return false;
    if (f.q && !requestText(entry).includes(f.q.toLowerCase())) return false;
    return true;
  }

  // --- requests ---------------------------------------------------------------------------------------------------
  let requests = [];
  const byRequestId = new Map();

  function detailLink(entry, text) {
    const query = new URLSearchParams(window.location.search);
    query.set("request", entry.id);
    return el("a", { href: "?" + query.toString() + "#detail", class: "open-detail", "data-id": entry.id,
      onclick: (event) => { event.preventDefault(); openDetail(entry.id); } }, text);
  }

  function renderEndpointOptions() {
    const select = $("f-endpoint");
    const chosen = select.value || currentFilters().endpoint;
    const names = [...new Set(requests.map(endpointOf))].sort();
    if (chosen && !names.includes(chosen)) names.push(chosen);
    select.replaceChildren(el("option", { value: "" }, "any"), ...names.map((n) => el("option", { value: n }, n)));
    select.value = chosen || "";
  }

  function renderRequests() {
    const f = currentFilters();
    const now = participantClock || clock;  // a participant's entries are on its clock
    const shown = requests.filter((e) => keep(e, f, now && now.now));
    const rows = shown.map((entry) => {
      const d = entry.diagnosis;
      return el("tr", { class: "request", "data-id": entry.id, "data-http-status": entry.http_status,
        "data-outcome": entry.outcome },
        el("td", { class: "outcome-cell" }, badge(entry.outcome), choiceMark(entry.relied_on)),
        el("td", { class: "nowrap times", "data-label": "Time" }, el("span", { title: "emulator clock" }, when(entry.time)),
          el("br"), el("span", { class: "muted", title: "wall clock" }, "wall " + clockTime(entry.wall_time))),
        el("td", {}, detailLink(entry, el("code", { text: entry.method + " " + (entry.target || entry.path) }))),
        el("td", { class: "amount nowrap", "data-label": "Amount" }, show(amountOf(entry))),
        el("td", { class: "puid1", "data-label": "participant_unique_id1" }, show(puid1Of(entry))),
        // the HTTP status is neutral: a decline is an HTTP 200 too; the outcome says what it means
        el("td", { "data-label": "HTTP" }, el("span", { class: "badge", text: httpShown(entry.http_status),
          title: entry.http_status === 444 ? "the connection was closed without an answer (journaled as 444)" : null })),
        el("td", { class: "ingo-status", "data-label": "Ingo status" }, show(entry.ingo_status)),
        el("td", { class: "diagnosis", "data-label": "Diagnosis" },
          d ? [el("code", { class: "diagnosis-code", text: show(d.code) }), el("div", { text: show(d.detail) })] : dash),
        el("td", { class: "rule", "data-label": "Rule" }, entry.matched_rule === "none"
          ? el("span", { class: "muted", title: "scenario rules were consulted and none matched", text: "none" })
          : entry.matched_rule ? el("code", { text: entry.matched_rule }) : dash),
        el("td", { class: "nowrap", "data-label": "Participant" }, show(entry.participant_id)),
        el("td", { class: "nowrap", "data-label": "Latency" },
          typeof entry.latency_ms === "number" ? entry.latency_ms.toFixed(1) + " ms" : dash));
    });
    $("requests-body").replaceChildren(...rows);
    const filtered = FILTERS.some((name) => f[name]);
    $("requests-count").textContent = filtered ? `(${shown.length} of ${requests.length})` : `(${requests.length})`;
    $("requests-empty").hidden = shown.length > 0;
    $("requests-empty").textContent = requests.length ? "No request matches these filters." : "No requests yet.";
  }

  // --- one request's whole story ----------------------------------------------------------------------------------
  let detailId = null;
  let detail = null;

  function openDetail(id) {
    detailId = Number(id);
    writeUrl({ request: String(detailId) });
    $("detail").hidden = false;
    $("replay-fill").hidden = true;
    $("replay-result").hidden = true;
    $("action-status").textContent = "";
    last.detail = undefined;
    detail = null;
    actionsReady(false);
    loadDetail().then(() => $("detail").focus());
  }

  function closeDetail() {
    detailId = null;
    detail = null;
    writeUrl({ request: "" });
    $("detail").hidden = true;
  }

  async function loadDetail() {
    if (detailId === null) return;
    try {
      const story = await api("/_emulator/requests/" + detailId);
      if (changed("detail", story)) { detail = story; renderDetail(); }
    } catch (error) {
      if (error.status === 404) {
        $("detail-summary").textContent = `Request ${detailId} is no longer in the journal (it keeps the newest `
          + "--journal-size requests; a reset clears it).";
        detail = null;
      } else {
        fail(error);
      }
    }
  }

  // A text with the first difference marked: the rest of that line highlighted.
  function marked(text, index) {
    if (index === null || index === undefined || index > text.length) return el("pre", { class: "compare-text", text });
    const lineEnd = text.indexOf("\n", index);
    const stop = lineEnd === -1 ? text.length : lineEnd;
    const shownMark = text.slice(index, stop) || "⏎ (ends here)";
    return el("pre", { class: "compare-text" }, text.slice(0, index),
      el("mark", { class: "first-difference", text: shownMark }), text.slice(stop));
  }

  function firstDifference(a, b) {
    if (a === b) return null;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
    return n;
  }

  function whereIn(text, index) {
    const before = text.slice(0, index);
    const line = before.split("\n").length;
    const column = index - before.lastIndexOf("\n");
    return `line ${line}, column ${column}`;
  }

  function comparisonView(c, key) {
    const server = c.server || "";
    const sides = (client) => {
      const index = client === null ? null : firstDifference(client, server);
      const verdict = client === null ? "" : index === null
        ? (c.what === "signing string" ? "They are the same: so the secret or the algorithm differs." : "They are the same.")
        : `First difference at ${whereIn(server, index)} (character ${index}).`;
      return [
        el("div", { class: "compare" },
          el("div", {}, el("h4", { text: pasted ? "You pasted" : "The client sent" }),
            client === null ? el("p", { class: "muted", text: "unknown" }) : marked(client, index)),
          el("div", {}, el("h4", { text: "The server expected" }), marked(server, index))),
        el("p", { class: "verdict", text: verdict }),
      ];
    };
    const box = el("div", { class: "comparison", "data-what": c.what });
    const body = el("div", {});
    let pasted = false;
    body.replaceChildren(...sides(c.client));
    box.append(el("h4", { class: "compare-what", text: c.what }), el("p", { class: "hint", text: c.note }), body);
    if (c.client === null) {
      const id = "paste-" + key;
      const area = el("textarea", { id, rows: 6, spellcheck: "false", autocomplete: "off" });
      area.addEventListener("input", () => {
        pasted = true;
        body.replaceChildren(...sides(area.value.replace(/\r\n/g, "\n")));
      });
      box.append(el("label", { for: id, text: "Paste your client's signing string" }), area,
        el("p", { class: "hint", text: "A browser turns \\r\\n line endings into \\n when you paste: if your client "
          + "joins the lines with \\r\\n, that is the difference (join them with \\n)." }));
    }
    return box;
  }

  const ACTIONS = ["copy-curl", "replay-same", "replay-new"];
  function actionsReady(ready) { for (const id of ACTIONS) $(id).disabled = !ready; }

  function renderDetail() {
    actionsReady(Boolean(detail));
    if (!detail) return;
    const entry = detail.request;
    $("detail-id").textContent = String(entry.id);
    const answer = entry.response_body && typeof entry.response_body === "object" ? entry.response_body : {};
    $("detail-summary").replaceChildren(badge(entry.outcome), " ",
      el("code", { text: entry.method + " " + (entry.target || entry.path) }),
      entry.http_status === 444 ? " → no answer (the connection was closed)" : " → HTTP " + entry.http_status,
      entry.ingo_status !== null && entry.ingo_status !== undefined ? ", Ingo " + entry.ingo_status : "",
      answer.client_message ? ` “${answer.client_message}”` : answer.message ? ` “${answer.message}”` : "",
      " · participant " + show(entry.participant_id),
      " · credential " + (entry.username || (detail.signing ? detail.signing.username + " (as signed, not verified)" : dash)),
      " · request id ", el("code", { text: entry.request_id }));
    renderProvenance(detail.provenance || []);
    // timeline
    $("timeline").replaceChildren(...detail.timeline.map((m) => {
      const related = m.kind === "related_request" ? byRequestId.get(m.ref) : null;
      return el("li", { class: "moment kind-" + m.kind, "data-kind": m.kind },
        el("span", { class: "moment-times" },
          el("time", { title: "emulator clock" }, when(m.time)), " ",
          el("span", { class: "muted", title: "wall clock" },
            m.wall_time === null ? "(not yet)" : "wall " + clockTime(m.wall_time))),
        el("span", { class: "moment-kind", text: m.kind.replace("_", " ") }),
        m.outcome ? badge(m.outcome) : "",
        el("span", { class: "moment-title" }, related ? detailLink(related, m.title) : m.title));
    }));
    // the 401's side-by-side
    const comparisons = detail.comparisons || [];
    $("comparison-box").hidden = comparisons.length === 0;
    $("comparisons").replaceChildren(...comparisons.map((c, i) => comparisonView(c, i)));
    // signing
    const s = detail.signing;
    $("signing").replaceChildren(s
      ? el("dl", { class: "facts" },
        el("dt", { text: "Credential" }), el("dd", { text: s.username }),
        el("dt", { text: "Algorithm" }), el("dd", { text: s.algorithm }),
        el("dt", { text: "Signed headers" }), el("dd", { text: s.signed_headers.join(" ") }),
        el("dt", { text: "Signing string the server builds" }), el("dd", {}, el("pre", { id: "signing-string", text: s.signing_string })))
      : el("p", { class: "muted", text: "No hmac Authorization header that parses: nothing was signed." }));
    // headers
    const headers = entry.request_headers || [];
    $("detail-headers").replaceChildren(...(headers.length ? headers.map(([name, value]) => el("tr", {},
      el("th", { scope: "row" }, el("code", { text: name })), el("td", {}, el("code", { class: "wrap", text: value }))))
      : [el("tr", {}, el("td", { colspan: 2, class: "muted", text: "Not kept for this request." }))]));
    $("detail-request-body").textContent = pretty(entry.request_body);
    $("detail-response-body").textContent = pretty(entry.response_body);
    // the rule
    const why = entry.why_matched;
    $("detail-rule").replaceChildren(why
      ? el("dl", { class: "facts" },
        el("dt", { text: "Rule" }), el("dd", {}, el("code", { text: why.scenario + "/" + why.rule })),
        el("dt", { text: "Scenario chosen because" }), el("dd", { text: why.chosen }),
        el("dt", { text: "It matches" }), el("dd", {}, el("pre", { text: Object.keys(why.match).length
          ? JSON.stringify(why.match, null, 2) : "every request (an empty match)" })),
        el("dt", { text: "Times matched" }), el("dd", { text: String(why.match_count) }))
      : el("p", { class: "muted", text: entry.matched_rule === "none"
        ? "Scenario rules were consulted and none matched: the emulator's default behaviour answered."
        : "Scenario rules were not consulted: the request was answered before (authentication, rate limit, "
          + "validation or an idempotent replay)." }));
    $("curl").textContent = detail.curl;
    $("replay-new").hidden = !(entry.request_body && typeof entry.request_body === "object"
      && "participant_unique_id1" in entry.request_body);
  }

  async function copyCurl() {
    if (!detail) return;
    $("curl-box").open = true;
    try {
      await navigator.clipboard.writeText(detail.curl);
      $("action-status").textContent = "curl command copied to the clipboard.";
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents($("curl"));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      $("action-status").textContent = "The clipboard is not available here: the command below is selected, copy it.";
    }
  }

  function fillInputs() {
    const box = $("replay-fill");
    const inputs = [...box.querySelectorAll("input[data-path]")];
    return Object.fromEntries(inputs.map((i) => [i.dataset.path, i.value]));
  }

  function askForMasked(mode) {
    const box = $("replay-fill");
    box.replaceChildren(
      el("p", { text: "The journal never keeps full card or account numbers or CVVs. Type the values to send "
        + "(they are sent once and not kept by the page):" }),
      ...detail.masked.map((path, i) => el("div", {},
        el("label", { for: "fill-" + i, text: path }),
        el("input", { id: "fill-" + i, "data-path": path, autocomplete: "off", spellcheck: "false",
          type: /cvv|cvc|pin|secret|password/i.test(path) ? "password" : "text" }))),
      el("button", { type: "button", id: "replay-send", onclick: () => replay(mode, fillInputs()) }, "Send the replay"));
    box.hidden = false;
    box.querySelector("input").focus();
  }

  async function replay(mode, fill) {
    if (!detail) return;
    if (detail.masked.length && fill === undefined) { askForMasked(mode); return; }
    $("action-status").textContent = "Replaying…";
    try {
      const result = await api("/_emulator/requests/" + detail.request.id + "/replay",
        { method: "POST", body: fill ? { participant_unique_id1: mode, fill } : { participant_unique_id1: mode } });
      $("replay-fill").hidden = true;
      const box = $("replay-result");
      box.replaceChildren(el("p", { class: "replay-answer" }, "Replayed: HTTP " + result.http_status,
        result.body && result.body.status !== undefined ? ", Ingo " + result.body.status : "", " ",
        result.id ? el("a", { href: "?request=" + result.id + "#detail", class: "open-detail", "data-id": result.id,
          onclick: (event) => { event.preventDefault(); openDetail(result.id); } }, "open request " + result.id) : ""));
      box.hidden = false;
      $("action-status").textContent = "Replay sent with a fresh signature.";
      await refresh();
    } catch (error) {
      $("action-status").textContent = "";
      fail(error);
    }
  }

  // --- webhook deliveries -----------------------------------------------------------------------------------------
  async function act(button, work, message) {
    button.disabled = true;
    try {
      await work();
      if (message) say(message);
      await refresh(true);
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
        el("td", { class: "nowrap" }, when(a.time), el("br"), el("span", { class: "muted" }, "wall " + clockTime(a.wall_time))),
        el("td", {}, el("span", { class: statusClass(a.http_status), text: show(a.http_status) })),
        el("td", { class: "nowrap" }, typeof a.latency_ms === "number" ? a.latency_ms.toFixed(1) + " ms" : dash),
        el("td", {}, show(a.error)),
        el("td", {}, a.ok ? "yes" : "no"),
        el("td", {}, a.response_body ? el("code", { class: "clip", text: a.response_body }) : dash)));
      return el("article", { class: "delivery", "data-id": d.id, "data-status": d.status, "aria-labelledby": headingId },
        el("h3", { id: headingId }, badge(d.outcome), " ", el("code", { text: d.topic }),
          d.probe ? el("span", { class: "tag probe", title: "a readiness rehearsal's test of the receiver, never an event",
            text: d.probe.replace("_", " ") + " probe" }) : ""),
        el("p", { class: "meta" },
          "Delivery ", el("code", { text: d.id }), " · status " + d.status + " · event ", el("code", { text: show(d.event_id) }),
          " · participant ", show(d.participant_id), " · to ", el("code", { class: "wrap", text: show(d.url) }),
          d.next_attempt_at ? " · next attempt " + when(d.next_attempt_at) : ""),
        el("button", { type: "button", class: "redeliver", "aria-label": "Redeliver " + d.id,
          onclick: (event) => act(event.currentTarget, () => api("/_emulator/webhooks/" + encodeURIComponent(d.id)
            + "/redeliver", { method: "POST" }), "Redelivered " + d.id) }, "Redeliver"),
        el("div", { class: "table-wrap" }, el("table", {},
          el("caption", { class: "visually-hidden", text: "Attempts of delivery " + d.id }),
          el("thead", {}, el("tr", {}, ["#", "Time (emulator · wall)", "HTTP", "Latency", "Error", "OK", "Response"].map(
            (h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, attempts))),
        details("payload-" + d.id, "Payload", el("pre", { text: pretty(d.payload) })));
    });
    $("webhooks-list").replaceChildren(...cards);
    $("webhooks-count").textContent = list.length > MAX_DELIVERIES
      ? `(newest ${MAX_DELIVERIES} of ${list.length})` : `(${list.length})`;
    $("webhooks-empty").hidden = list.length > 0;
  }

  // --- scenarios --------------------------------------------------------------------------------------------------
  function renderScenarios(document_) {
    const list = document_.scenarios || [];
    $("scenarios-count").textContent = `(${list.length})`;
    $("scenarios-body").replaceChildren(...rowsOf(list, (s) => {
      const state = s.active ? "active for everyone"
        : s.active_for && s.active_for.length ? "for participant " + s.active_for.join(", ") : "inactive";
      const verb = s.active ? "Deactivate" : "Activate";
      return [el("code", { text: s.name }),
        el("span", { class: "tag " + (s.active ? "tag-on" : ""), text: state }),
        String((s.rules || []).length), show(s.description),
        el("button", { type: "button", class: "switch", "data-scenario": s.name, "aria-label": verb + " " + s.name,
          onclick: (event) => act(event.currentTarget, () => api("/_emulator/scenarios/" + encodeURIComponent(s.name)
            + (s.active ? "/deactivate" : "/activate"), { method: "POST" }), verb + "d " + s.name) }, verb)];
    }));
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
  let clock = null;
  let clockFetchedAt = 0;
  let participantClock = null;  // the clock of the participant the view is filtered to (null: not filtered)
  let participantFetchedAt = 0;

  function emulatorNow() {
    if (!clock) return null;
    return clock.frozen ? clock.now : clock.now + (Date.now() - clockFetchedAt) / 1000;
  }

  function tick() {
    if (!clock || unreachable) return;
    const now = emulatorNow();
    $("bar-clock-now").textContent = when(now);
    $("bar-clock-wall").textContent = clockTime(Date.now() / 1000);
    $("clock-wall").textContent = when(Date.now() / 1000);
    if (participantClock) {
      const p = participantClock;
      $("bar-participant-now").textContent = when(p.frozen ? p.now : p.now + (Date.now() - participantFetchedAt) / 1000);
    }
  }

  // The participant the view is filtered to ("" for none): the clock panel then shows and moves its clock.
  function filteredParticipant() {
    const p = currentFilters().participant_id;
    return /^[1-9][0-9]{0,4}$/.test(p) ? p : "";
  }

  function renderParticipantClock(c) {
    participantClock = c && c.participant_id !== null ? c : null;
    participantFetchedAt = Date.now();
    $("status-participant-clock").hidden = !participantClock;
    if (participantClock) {
      const own = Boolean(c.own_clock);
      $("bar-participant-label").textContent = "Participant " + c.participant_id + "'s clock";
      $("bar-participant-kind").textContent = own ? (c.frozen ? "its own, frozen" : "its own") : "the emulator clock";
      $("bar-participant-kind").className = "tag " + (own ? "tag-own" : "");
      $("clock-whose").textContent = own
        ? `Participant ${c.participant_id}'s own clock: the buttons move it and fire its jobs only.`
        : `Participant ${c.participant_id} follows the emulator clock; the buttons give it a clock of its own `
          + "(from the emulator clock as it stands) and move that only.";
    } else {
      $("clock-whose").textContent = "The emulator clock: every participant without a clock of its own follows it. "
        + "Filter the view to one participant to see and move its own clock.";
    }
    if (clock) renderClockPanel();
    tick();
  }

  function renderClock(c) {
    clock = c;
    clockFetchedAt = Date.now();
    const frozen = Boolean(c.frozen);
    $("bar-clock-frozen").textContent = frozen ? "frozen" : "running";
    $("bar-clock-frozen").className = "tag " + (frozen ? "tag-frozen" : "");
    renderClockPanel();
    tick();
  }

  function renderClockPanel() {  // the clock the view is filtered to, or the emulator clock
    const c = participantClock || clock;
    const frozen = Boolean(c.frozen);
    $("clock-now").textContent = c.iso || when(c.now);
    $("clock-now").dataset.now = String(c.now);
    $("clock-frozen").textContent = frozen ? "yes" : "no";
    const offset = Number(c.offset_seconds || 0);
    $("clock-offset").textContent = (offset >= 0 ? "+" : "") + offset.toFixed(0) + " s";
    $("clock-pending").textContent = show(c.pending_count);
    const next = typeof c.next_due === "number" ? when(c.next_due) + ` (in ${Math.max(0, Math.round(c.next_due - c.now))} s)` : "nothing scheduled";
    $("clock-next").textContent = next;
    if (c === clock) $("bar-next-due").textContent = next;
    $("next-due").disabled = typeof c.next_due !== "number";
    $("freeze").textContent = frozen ? "Unfreeze" : "Freeze";
    $("freeze").setAttribute("aria-pressed", String(frozen));
    $("clock-jobs").replaceChildren(...((c.pending || []).length ? c.pending.map((job) => el("li", {},
      el("time", { text: when(job.due) }), " · participant " + show(job.participant_id) + " · " + job.label))
      : [el("li", { class: "muted", text: "None." })]));
  }

  async function changeClock(body, button) {
    button.disabled = true;
    const participant = filteredParticipant();
    try {
      const c = await api("/_emulator/clock", { method: "POST",
        body: participant ? { ...body, participant_id: Number(participant) } : body });
      if (participant) renderParticipantClock(c); else renderClock(c);
      say(body.advance !== undefined ? `Clock advanced (${button.textContent}); ${c.fired || 0} job(s) fired`
        : c.frozen ? "Clock frozen" : "Clock running");
      await refresh(true);
    } catch (error) {
      fail(error);
    } finally {
      button.disabled = false;
      const shown = participantClock || clock;
      if (shown) $("next-due").disabled = typeof shown.next_due !== "number";
    }
  }

  // --- findings -------------------------------------------------------------------------------------------------
  function requestRefs(ids) {
    return ids.map((rid) => {
      const entry = byRequestId.get(rid);
      return entry ? detailLink(entry, "request " + entry.id) : el("code", { class: "clip", text: rid });
    }).flatMap((node, i) => (i ? [", ", node] : [node]));
  }

  function renderFindings(document_) {
    const found = document_.findings || [];
    $("findings-count").textContent = `(${found.length})`;
    $("bar-findings-count").textContent = String(found.length);
    $("bar-findings-count").className = "tag " + (found.length ? "tag-warn" : "");
    $("bar-findings-latest").textContent = found.length ? found[0].code : "none";
    $("findings-body").replaceChildren(...rowsOf(found, (f) => [
      badge("finding"), el("span", {}, when(f.time), el("br"), el("span", { class: "muted" }, "wall " + clockTime(f.wall_time))),
      el("code", { text: f.code }), show(f.participant_id),
      f.message + (f.occurrences > 1 ? ` (${f.occurrences} times)` : ""),
      el("a", { href: f.reference, text: f.rule, rel: "noreferrer" }),
      el("span", {}, requestRefs(f.requests || []), (f.deliveries || []).length ? " · " + f.deliveries.join(", ") : "")]));
  }

  // --- readiness: a rehearsal of Ingo's testing plan (GET /_emulator/readiness) -----------------------------------
  let rehearsals = [];
  const STATUS_TONE = { passed: "good", failed: "bad", not_run: "wait" };
  const STATUS_WORDS = { passed: "✓ Passed", failed: "✕ Failed", not_run: "◷ Not run" };

  function chosenRehearsal() {
    const asked = Number(new URLSearchParams(window.location.search).get("readiness"));
    if (rehearsals.some((r) => r.participant_id === asked)) return asked;
    return rehearsals.length ? rehearsals[rehearsals.length - 1].participant_id : null;
  }

  function renderRehearsals(document_) {
    rehearsals = document_.rehearsals || [];
    $("readiness-count").textContent = `(${rehearsals.length})`;
    const chosen = chosenRehearsal();
    $("readiness-participant").replaceChildren(...rehearsals.map((r) => el("option", { value: r.participant_id },
      `participant ${r.participant_id} (since ${clockTime(r.started.wall_time)} wall, ${r.requests} requests)`)));
    if (chosen !== null) $("readiness-participant").value = String(chosen);
    $("readiness-empty").hidden = rehearsals.length > 0;
    if (!rehearsals.length) $("readiness-view").hidden = true;
  }

  async function loadReadiness() {
    const chosen = chosenRehearsal();
    if (chosen === null) return;
    try {
      const report = await api("/_emulator/readiness?participant_id=" + chosen);
      if (changed("readiness", report)) renderReadiness(report);
    } catch (error) {
      if (error.status !== 404) throw error;
    }
  }

  function evidenceItem(item) {
    const times = ` (emulator ${when(item.time)}, wall ${clockTime(item.wall_time)})`;
    if (item.kind === "request") {
      const entry = { id: item.journal_id };
      const words = [item.endpoint, "HTTP " + httpShown(item.http_status), "Ingo " + show(item.ingo_status),
        item.participant_unique_id1 ? "puid1 " + item.participant_unique_id1 : "",
        item.transaction_id ? "transaction " + item.transaction_id : ""].filter(Boolean).join(" · ");
      return el("li", { class: "evidence", "data-kind": "request" }, item.note + ": ",
        detailLink(entry, "request " + item.journal_id), " ", el("span", { class: "muted", text: words + times }));
    }
    if (item.kind === "delivery") {
      const attempts = (item.attempts || []).map((a) => `#${a.attempt} ${a.http_status === null ? a.error : "HTTP "
        + a.http_status}`).join(", ");
      return el("li", { class: "evidence", "data-kind": "delivery" }, item.note + ": ",
        el("code", { text: item.delivery_id }), item.probe ? el("span", { class: "tag", text: item.probe + " probe" }) : "",
        " ", el("span", { class: "muted", text: `${item.topic} · event ${item.event_id} · ${attempts || "not attempted"}`
          + times }));
    }
    return el("li", { class: "evidence", "data-kind": "finding" }, el("code", { text: item.code }), " " + item.note,
      " ", requestRefs(item.requests || []));
  }

  function renderReadiness(report) {
    $("readiness-view").hidden = false;
    const s = report.summary;
    $("readiness-summary").replaceChildren(el("strong", { text: `Participant ${report.participant_id}` }),
      ` · ${report.plan.name}, version ${report.plan.version} · started ${when(report.started.wall_time)} · `,
      el("span", { class: "outcome tone-good", text: `${s.passed} passed` }), " ",
      el("span", { class: "outcome tone-bad", text: `${s.failed} failed` }), " ",
      el("span", { class: "outcome tone-wait", text: `${s.not_run} not run` }));
    $("readiness-body").replaceChildren(...report.scenarios.map((sc) => el("tr", { class: "scenario",
      "data-scenario": sc.id, "data-status": sc.status },
      el("td", {}, el("span", { class: "outcome tone-" + STATUS_TONE[sc.status], text: STATUS_WORDS[sc.status] })),
      el("td", {}, el("code", { text: sc.id }), el("br"), sc.title, el("br"),
        el("a", { href: sc.source, rel: "noreferrer", class: "muted", text: sc.ingo_scenario || "Ingo's page" })),
      el("td", { text: sc.category }),
      el("td", { class: sc.status === "failed" ? "why" : "next", text: sc.why || sc.next || "" }),
      el("td", {}, sc.evidence.length ? el("ul", { class: "evidence-list" }, sc.evidence.map(evidenceItem),
        sc.evidence_omitted ? el("li", { class: "muted", text: `and ${sc.evidence_omitted} more` }) : "") : dash))));
    $("readiness-coverage").textContent = report.coverage.summary;
    $("readiness-never").replaceChildren(...report.coverage.items.filter((i) => !i.met).map((i) => el("li",
      { "data-code": i.code }, el("strong", { text: i.label }), ": " + i.how)));
    $("readiness-probes").replaceChildren(...(report.probes.length ? report.probes.map(evidenceItem)
      : [el("li", { class: "muted", text: "None yet: the first delivery a receiver acknowledges brings them." })]));
  }

  async function downloadPack(button) {
    const chosen = chosenRehearsal();
    if (chosen === null) return;
    const format = button.dataset.format;
    button.disabled = true;
    try {
      const response = await fetch(`/_emulator/readiness/report?participant_id=${chosen}&format=${format}`,
        { headers: authHeaders(), cache: "no-store" });
      if (!response.ok) throw new Error("the evidence pack: HTTP " + response.status);
      const link = el("a", { href: URL.createObjectURL(await response.blob()),
        download: `readiness-participant-${chosen}.${format}` });
      document.body.append(link);
      link.click();
      link.remove();
      $("readiness-status").textContent = `Downloaded readiness-participant-${chosen}.${format}`;
    } catch (error) {
      fail(error);
    } finally {
      button.disabled = false;
    }
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

  // --- reading everything -----------------------------------------------------------------------------------------
  const SOURCES = [  // the clock first: the time filter of the requests reads it
    ["clock", "/_emulator/clock", renderClock],
    ["participant-clock", () => filteredParticipant() && "/_emulator/clock?participant_id=" + filteredParticipant(),
      renderParticipantClock],
    ["requests", "/_emulator/requests?limit=" + MAX_REQUESTS, (d) => {
      requests = d.requests || [];
      byRequestId.clear();
      for (const entry of requests) byRequestId.set(entry.request_id, entry);
      renderEndpointOptions();
      renderRequests();
    }],
    ["findings", "/_emulator/findings", renderFindings],
    ["webhooks", "/_emulator/webhooks", renderWebhooks],
    ["scenarios", "/_emulator/scenarios", renderScenarios],
    ["state", "/_emulator/state", renderState],
    ["ratelimit", "/_emulator/ratelimit", renderRateLimit],
    ["rehearsals", "/_emulator/readiness/rehearsals", renderRehearsals],
  ];

  let busy = null;
  let again = false;
  // quiet: keep what the status line says (the outcome of the action that asked for this refresh)
  async function refresh(quiet = false) {
    if (busy) { again = true; return busy; }
    busy = (async () => {
      do {
        again = false;
        if (!Object.keys(families).length) {
          try { families = Object.fromEntries((await api("/_emulator/outcomes")).families.map((f) => [f.code, f])); renderLegend(); }
          catch (error) { /* shown below with the other failures */ }
        }
        const results = await Promise.allSettled(SOURCES.map(([, source]) => {
          const path = typeof source === "function" ? source() : source;  // a source may not apply to this view
          return path ? api(path) : Promise.resolve(null);
        }));
        let failure = null;
        results.forEach((result, i) => {
          const [name, , render] = SOURCES[i];
          if (result.status === "fulfilled") {
            if (changed(name, result.value)) render(result.value);
          } else {
            failure = failure || result.reason;
          }
        });
        if (detailId !== null) await loadDetail();
        try { await loadReadiness(); } catch (error) { failure = failure || error; }
        labelCells();
        if (failure) fail(failure); else { clearError(); $("token-form").hidden = true; }
        offline(failure instanceof TypeError);  // fetch itself failed: nothing answers at this address
        document.body.dataset.loaded = "true";
        if (!failure && !quiet) say("Updated " + clockTime(Date.now() / 1000).slice(0, 8) + "Z");
      } while (again);
    })();
    try { await busy; } finally { busy = null; }
  }

  // --- live updates: the server-sent event stream, read with fetch (headers can carry the token) -----------------
  let paused = false;
  let liveState = "connecting";
  let streamAbort = null;
  let pollTimer = null;
  let soon = null;

  function setLive(stateName, text) {
    liveState = stateName;
    document.body.dataset.live = stateName;
    $("live").textContent = text;
    $("live").className = "live live-" + stateName;
    clearInterval(pollTimer);
    pollTimer = null;
    if (stateName === "polling") pollTimer = setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
  }

  function changeSoon() {  // a burst of changes is one refresh
    if (paused || soon) return;
    soon = setTimeout(() => { soon = null; refresh(); }, 60);
  }

  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function follow() {
    let backoff = 1000;
    while (!paused) {
      const controller = new AbortController();
      streamAbort = controller;
      try {
        const response = await fetch("/_emulator/stream", { headers: authHeaders({ Accept: "text/event-stream" }),
          cache: "no-store", signal: controller.signal });
        if (response.status === 401) throw new NeedsToken("the admin API needs the admin token");
        if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
        setLive("live", "● Live");
        backoff = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (/^event: (change|ready)$/m.test(block)) changeSoon();
          }
        }
      } catch (error) {
        if (paused || controller.signal.aborted) break;
        if (error instanceof NeedsToken) { fail(error); setLive("polling", "Waiting for the admin token"); return; }
      }
      if (paused) break;
      setLive("polling", `Live updates unavailable: polling every ${POLL_MS / 1000} s`);
      await delay(backoff);
      backoff = Math.min(backoff * 2, 15000);
    }
  }

  function pause(on) {
    paused = on;
    $("pause").textContent = paused ? "Resume updates" : "Pause updates";
    $("pause").setAttribute("aria-pressed", String(paused));
    if (paused) {
      if (streamAbort) streamAbort.abort();
      setLive("paused", "Paused");
      say("Updates paused");
    } else {
      say("Updates on");
      refresh();
      follow();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    inputsFromUrl();
    for (const name of FILTERS) {
      const input = $(FILTER_INPUTS[name]);
      input.addEventListener(input.tagName === "SELECT" ? "change" : "input", filtersFromInputs);
    }
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    $("filters-clear").addEventListener("click", () => {
      for (const name of FILTERS) $(FILTER_INPUTS[name]).value = "";
      filtersFromInputs();
    });
    $("refresh").addEventListener("click", () => refresh());
    $("pause").addEventListener("click", () => pause(!paused));
    for (const button of document.querySelectorAll("button[data-advance]")) {
      const value = button.dataset.advance;
      button.addEventListener("click", () => changeClock({ advance: value === "next_due" ? value : Number(value) }, button));
    }
    $("freeze").addEventListener("click", (event) => {
      const shown = participantClock || clock;
      changeClock({ freeze: !(shown && shown.frozen) }, event.currentTarget);
    });
    $("reset").addEventListener("click", (event) => {
      if (!window.confirm("Reset the emulator? State, the journal, events, findings and pending jobs are cleared.")) return;
      act(event.currentTarget, async () => { closeDetail(); await api("/_emulator/reset", { method: "POST" }); }, "Emulator reset");
    });
    $("detail-close").addEventListener("click", closeDetail);
    $("readiness-participant").addEventListener("change", (event) => {
      writeUrl({ readiness: event.currentTarget.value });
      last.readiness = undefined;
      refresh();
    });
    $("readiness-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const participant = Number($("readiness-start-id").value.trim() || $("readiness-participant").value);
      act($("readiness-start"), async () => {
        await api("/_emulator/readiness", { method: "POST", body: { participant_id: participant } });
        writeUrl({ readiness: String(participant) });
        last.readiness = undefined;
      }, "Rehearsal started for participant " + participant);
    });
    for (const button of document.querySelectorAll("button.readiness-pack")) {
      button.addEventListener("click", () => downloadPack(button));
    }
    $("copy-curl").addEventListener("click", copyCurl);
    $("replay-same").addEventListener("click", () => replay("same"));
    $("replay-new").addEventListener("click", () => replay("new"));
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $("token-input").value);
      $("token-input").value = "";
      refresh().then(() => { if (liveState !== "live" && !paused) follow(); });
    });
    const chosen = new URLSearchParams(window.location.search).get("request");
    actionsReady(false);  // until the request's story has loaded
    if (chosen && /^\d+$/.test(chosen)) { detailId = Number(chosen); $("detail").hidden = false; }
    setInterval(tick, 1000);
    refresh();
    follow();
  });
})();
