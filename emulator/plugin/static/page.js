/* The iFrame capture page of the IngoPay emulator.
 *
 * It waits for the SDK's "hello" from its parent window, checks the parent's origin against the session's
 * host_uri, then mounts the session and shows the form for the funding destination. Every SDK event it
 * forwards was built by the server; it posts only to the host page's origin (never "*").
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("iip-config").textContent);
  var params = new URLSearchParams(window.location.search);
  var query = "?t=" + encodeURIComponent(params.get("t") || "") + "&h=" + encodeURIComponent(params.get("h") || "");
  var base = window.location.pathname;
  var main = document.getElementById("iip-main");
  var embedded = window.parent !== window;
  var hostOrigin = null; // the parent's origin, once checked
  var mounted = null; // the server's answer to mount
  var destination = null;

  // -- talking to the host page ----------------------------------------------------------------------

  function allowedOrigin(origin) {
    if (!config.host_uri || typeof origin !== "string") return false;
    var host;
    try { host = new URL(config.host_uri); } catch (e) { return false; }
    if (config.host_uri === "http://localhost") {
      try {
        var given = new URL(origin);
        return given.protocol === "http:" && given.hostname === "localhost";
      } catch (e) { return false; }
    }
    return origin.toLowerCase() === host.origin.toLowerCase();
  }

  function post(message) {
    if (!hostOrigin) return;
    message.iip = 1;
    window.parent.postMessage(message, hostOrigin);
  }

  function emit(event) {
    if (event) post({ type: "event", event: event });
  }

  function resize() {
    post({ type: "resize", height: Math.ceil(document.body.getBoundingClientRect().height) });
  }

  window.addEventListener("message", function (e) {
    if (!embedded || e.source !== window.parent) return;
    var data = e.data;
    if (!data || data.iip !== 1 || data.type !== "hello") return;
    if (!allowedOrigin(e.origin)) {
      refuse(e.origin);
      return;
    }
    if (hostOrigin) return; // mounted already; a second hello changes nothing
    hostOrigin = e.origin;
    destination = typeof data.funding_destination === "string" ? data.funding_destination : "";
    if (window.ResizeObserver) new ResizeObserver(resize).observe(document.body);
    start();
  });

  // -- states ------------------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function screen(state, title, text, extra) {
    document.body.setAttribute("data-state", state);
    main.textContent = "";
    var heading = el("h1", { id: "iip-heading", tabindex: "-1", text: title });
    main.appendChild(heading);
    main.appendChild(el("p", { id: "iip-text", role: state === "active" ? null : "status", text: text }));
    (extra || []).forEach(function (node) { main.appendChild(node); });
    heading.focus();
    resize();
  }

  function showState(state) {
    screen(state.state, state.title, state.text, state.state === "expired" || state.state === "closed" ? [continueButton()] : []);
    emit(state.event);
  }

  function continueButton() {
    var button = el("button", { type: "button", class: "primary", id: "iip-continue", text: "Continue" });
    button.addEventListener("click", function () {
      button.disabled = true;
      call("acknowledge", {}).then(function (answer) {
        emit(answer.body.event);
        screen(document.body.getAttribute("data-state"), "You can close this window",
          "Ask the site you came from for a new link.");
      });
    });
    return el("div", { class: "actions" }, [button]);
  }

  function refuse(origin) {
    hostOrigin = null;
    screen("refused", "Not allowed here", "This page can only be shown by " + (config.host_uri || "its own site") +
      ", not by " + origin + ".");
  }

  function call(action, body) {
    return fetch(base + "/" + action + query, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      credentials: "omit", cache: "no-store"
    }).then(function (response) {
      return response.json().then(function (json) { return { status: response.status, body: json }; });
    });
  }

  function start() {
    if (config.state.state !== "active") {
      showState(config.state);
      return;
    }
    call("mount", { origin: hostOrigin, funding_destination: destination }).then(function (answer) {
      if (answer.status !== 200 || answer.body.state !== "active") {
        showState(answer.body);
        return;
      }
      mounted = answer.body;
      renderForm();
      emit(mounted.event); // PAGE_LOAD
    }, function () {
      screen("error", "Something went wrong", "The page could not reach the emulator. Try again.");
    });
  }

  // -- the forms -------------------------------------------------------------------------------------------

  var LABELS = {
    card_number: "Card number", expiration: "Expiration (MM/YY)", cvv: "Security code (CVV)",
    first_name: "First name", last_name: "Last name", address_line1: "Street address", city: "City",
    state: "State", zip_code: "ZIP code", routing_number: "Routing number", account_number: "Account number",
    account_kind: "Account type", biller_id: "Biller", email: "PayPal email"
  };
  var INPUTS = {
    card_number: { autocomplete: "cc-number", inputmode: "numeric", placeholder: "4111 1111 1111 1111" },
    expiration: { autocomplete: "cc-exp", inputmode: "numeric", size: "third", placeholder: "MM/YY" },
    cvv: { autocomplete: "cc-csc", inputmode: "numeric", size: "third", maxlength: "4" },
    first_name: { autocomplete: "given-name", size: "half" },
    last_name: { autocomplete: "family-name", size: "half" },
    address_line1: { autocomplete: "address-line1" },
    city: { autocomplete: "address-level2", size: "third" },
    zip_code: { autocomplete: "postal-code", inputmode: "numeric", size: "third" },
    routing_number: { inputmode: "numeric", size: "half", maxlength: "9" },
    account_number: { inputmode: "numeric", size: "half" },
    email: { type: "email", autocomplete: "email" }
  };
  var form = null;
  var banner = null;

  function fieldBox(name, control, size) {
    var box = el("div", { class: "field" + (size ? " " + size : "") }, [
      el("label", { for: "f-" + name, text: LABELS[name] }), control,
      el("p", { class: "error", id: "f-" + name + "-error" })
    ]);
    return box;
  }

  function input(name, value) {
    var spec = INPUTS[name] || {};
    var control = el("input", {
      id: "f-" + name, name: name, type: spec.type || "text", autocomplete: spec.autocomplete || "off",
      inputmode: spec.inputmode, maxlength: spec.maxlength, placeholder: spec.placeholder,
      required: "required", "aria-required": "true", "aria-describedby": "f-" + name + "-error"
    });
    if (value) control.value = value;
    return fieldBox(name, control, spec.size);
  }

  function stateSelect(value) {
    var select = el("select", { id: "f-state", name: "state", autocomplete: "address-level1", required: "required",
      "aria-required": "true", "aria-describedby": "f-state-error" }, [el("option", { value: "", text: "Choose…" })]);
    mounted.states.forEach(function (code) { select.appendChild(el("option", { value: code, text: code })); });
    if (value) select.value = String(value).toUpperCase();
    return fieldBox("state", select, "third");
  }

  function accountKind() {
    var choices = ["checking", "savings"].map(function (kind, index) {
      return el("label", {}, [el("input", { type: "radio", name: "account_kind", value: kind, id: "f-account_kind-" + kind,
        checked: index === 0 ? "checked" : null }), document.createTextNode(kind === "checking" ? "Checking" : "Savings")]);
    });
    return el("fieldset", { id: "f-account_kind", "aria-describedby": "f-account_kind-error" },
      [el("legend", { text: LABELS.account_kind })].concat(choices).concat([el("p", { class: "error", id: "f-account_kind-error" })]));
  }

  function billerPicker() {
    var search = el("input", { id: "f-biller-search", type: "search", autocomplete: "off",
      "aria-describedby": "f-biller-search-hint" });
    var button = el("button", { type: "button", class: "secondary", id: "f-biller-search-button", text: "Search" });
    var list = el("ul", { class: "billers", id: "f-biller-results", "aria-live": "polite" });
    var group = el("fieldset", { id: "f-biller_id", "aria-describedby": "f-biller_id-error" }, [
      el("legend", { text: "Biller" }),
      el("label", { for: "f-biller-search", text: "Search billers by name" }),
      el("div", { class: "search" }, [search, button]),
      el("p", { class: "hint", id: "f-biller-search-hint", text: "For example: water, wireless, card." }),
      list, el("p", { class: "error", id: "f-biller_id-error" })
    ]);
    function show(billers) {
      list.textContent = "";
      if (!billers.length) list.appendChild(el("li", { text: "No biller found." }));
      billers.forEach(function (biller) {
        list.appendChild(el("li", {}, [el("label", {}, [
          el("input", { type: "radio", name: "biller_id", value: biller.id, id: "f-biller-" + biller.id }),
          document.createTextNode(biller.name + " (" + biller.city + ", " + biller.state + ")")])]));
      });
      resize();
    }
    function run() {
      fetch(base + "/billers" + query + "&q=" + encodeURIComponent(search.value), { credentials: "omit", cache: "no-store" })
        .then(function (response) { return response.json(); })
        .then(function (json) { show(json.billers || []); });
    }
    button.addEventListener("click", run);
    search.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); run(); } });
    show(mounted.billers || []);
    return group;
  }

  function renderForm() {
    var recipient = mounted.recipient || {};
    var names = mounted.fields;  // the form's fields, as the emulator's plugin model defines them
    form = el("form", { id: "iip-form", novalidate: "novalidate", "aria-labelledby": "iip-heading" });
    banner = el("div", { class: "banner", id: "iip-banner", role: "alert" });
    form.appendChild(banner);
    names.forEach(function (name) {
      if (name === "state") form.appendChild(stateSelect(recipient.state));
      else if (name === "account_kind") form.appendChild(accountKind());
      else if (name === "biller_id") form.appendChild(billerPicker());
      else if (name === "email") form.appendChild(input(name, recipient.email_address));
      else form.appendChild(input(name, recipient[name]));
    });
    var submit = el("button", { type: "submit", class: "primary", id: "iip-submit", text: "Add account" });
    var cancel = el("button", { type: "button", class: "secondary", id: "iip-cancel", text: "Cancel" });
    form.appendChild(el("div", { class: "actions" }, [cancel, submit]));
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    screen("active", mounted.title, attemptsText(), [form]);
    var first = form.querySelector("input:not([type=radio]), select");
    if (first) first.focus();
  }

  function attemptsText() {
    var left = mounted.max_attempts - mounted.attempts;
    return "Enter your details. Fields are prefilled from what we have on file. " +
      (left < mounted.max_attempts ? left + " attempt" + (left === 1 ? "" : "s") + " left." : "");
  }

  function values() {
    var data = {};
    new FormData(form).forEach(function (value, key) { data[key] = String(value); });
    return data;
  }

  // -- client-side checks (the server repeats them) -----------------------------------------------------

  function digits(text) { return String(text || "").replace(/[\s-]/g, ""); }

  function luhn(number) {
    var total = 0;
    for (var i = 0; i < number.length; i++) {
      var digit = Number(number.charAt(number.length - 1 - i));
      if (i % 2) { digit *= 2; if (digit > 9) digit -= 9; }
      total += digit;
    }
    return total % 10 === 0;
  }

  function aba(routing) {
    var d = routing.split("").map(Number);
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 === 0;
  }

  function check(data) {
    var errors = {};
    mounted.fields.forEach(function (name) {
      if (!String(data[name] || "").trim()) errors[name] = LABELS[name] + " is required";
    });
    if ("card_number" in data && !errors.card_number) {
      var pan = digits(data.card_number);
      if (!/^[0-9]{12,19}$/.test(pan)) errors.card_number = "Enter the 12 to 19 digits of the card number";
      else if (!luhn(pan)) errors.card_number = "This card number is not valid (check digit)";
    }
    if ("expiration" in data && !errors.expiration) {
      var found = /^(0[1-9]|1[0-2])\s*\/\s*([0-9]{2})$/.exec(data.expiration.trim());
      var today = new Date(mounted.now * 1000); // the emulator clock, not the browser's
      if (!found) errors.expiration = "Enter the expiration as MM/YY";
      else if ((2000 + Number(found[2])) * 12 + Number(found[1]) < today.getUTCFullYear() * 12 + today.getUTCMonth() + 1)
        errors.expiration = "This card has expired";
    }
    if ("cvv" in data && !errors.cvv && !/^[0-9]{3,4}$/.test(data.cvv.trim())) errors.cvv = "Enter the 3 or 4 digit security code";
    if ("routing_number" in data && !errors.routing_number) {
      var routing = digits(data.routing_number);
      if (!/^[0-9]{9}$/.test(routing)) errors.routing_number = "Enter the 9 digit routing number";
      else if (!aba(routing)) errors.routing_number = "This routing number is not valid (checksum)";
    }
    if (mounted.funding_destination === "ach" && !errors.account_number && !/^[0-9]{4,17}$/.test(digits(data.account_number)))
      errors.account_number = "Enter the 4 to 17 digit account number";
    if ("email" in data && !errors.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(data.email.trim()))
      errors.email = "Enter an email address such as jane.doe@example.com";
    if ("zip_code" in data && !errors.zip_code && !/^[0-9]{5}(-?[0-9]{4})?$/.test(data.zip_code.trim()))
      errors.zip_code = "Enter a 5 digit ZIP code (or ZIP+4)";
    return errors;
  }

  function showErrors(errors, message) {
    var first = null;
    form.querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".error").forEach(function (node) { node.textContent = ""; });
    Object.keys(errors || {}).forEach(function (name) {
      var box = document.getElementById("f-" + name + "-error");
      var control = document.getElementById("f-" + name);
      if (box) box.textContent = errors[name];
      if (control) {
        control.setAttribute("aria-invalid", "true");
        if (!first) first = control.matches("fieldset") ? control.querySelector("input") : control;
      }
    });
    banner.className = "banner";
    banner.textContent = message || "";
    if (first) first.focus();
    resize();
  }

  function busy(on) {
    form.querySelectorAll("button").forEach(function (button) { button.disabled = on; });
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  function onSubmit(e) {
    e.preventDefault();
    var data = values();
    var errors = check(data);
    if (Object.keys(errors).length) {
      showErrors(errors, "Check the highlighted fields.");
      return;
    }
    busy(true);
    call("submit", data).then(function (answer) {
      busy(false);
      var body = answer.body;
      if (answer.status === 409 || answer.status === 403) { showState(body); return; }
      switch (body.outcome) {
        case "invalid":
          showErrors(body.errors, body.message);
          break;
        case "retry":
          mounted.attempts = body.attempts;
          document.getElementById("iip-text").textContent = attemptsText();
          showErrors(body.errors, body.message);
          break;
        case "token_success":
          form.reset();
          screen("completed", "Account added", "Your account ending " + body.last_4 + " was added. You can close this window.");
          emit(body.event);
          break;
        case "terminal_failure":
          form.reset();
          screen("closed", "We could not add this account", body.message + " (" + body.error + ")", [continueButton()]);
          emit(body.event);
          break;
        case "max_attempts":
          form.reset();
          screen("terminated", "Too many attempts", body.message);
          emit(body.event);
          break;
        default:
          showErrors({}, body.message || "Something went wrong. Try again.");
      }
    }, function () {
      busy(false);
      showErrors({}, "The page could not reach the emulator. Try again.");
    });
  }

  function onCancel() {
    busy(true);
    call("cancel", {}).then(function (answer) { showState(answer.body); }, function () {
      busy(false);
      showErrors({}, "The page could not reach the emulator. Try again.");
    });
  }

  // -- opened outside an iFrame --------------------------------------------------------------------------

  if (embedded) {
    // Tell the SDK this page is ready for its hello (carries nothing; the hello is checked, not this).
    window.parent.postMessage({ iip: 1, type: "ready" }, "*");
  } else if (config.state.state === "active") {
    document.getElementById("iip-text").textContent +=
      " This page is waiting to be mounted by IngoInstantPayments.mount() on " + config.host_uri + ".";
  }
})();
