/* IngoInstantPayments: the iFrame SDK as the IngoPay emulator serves it (/plugin/sdk/ingo-instant-payments.js).
 *
 *   var webPlugin = IngoInstantPayments.create({ container: "#ingo" });   // or create("#ingo") / create(element)
 *   webPlugin.addEventListener(IngoInstantPayments.EVENTS.TOKEN_SUCCESS, function (data) { ... });
 *   webPlugin.mount(authorizedUrl, IngoInstantPayments.FUNDING_DESTINATIONS.DEBIT);
 *
 * The SDK and the page talk by postMessage. The SDK accepts messages only from the window of the iFrame it
 * created and only from the origin of the authorized_url (the emulator); the page accepts the SDK's hello only
 * from the session's host_uri and posts events only to it.
 */
(function (global) {
  "use strict";

  var VERSION = "emulator-1";
  var FUNDING_DESTINATIONS = Object.freeze({
    DEBIT: "debit", CREDIT: "credit", ACH: "ach", BILLPAY: "billpay", PAYPAL: "paypal"
  });
  var EVENTS = Object.freeze({
    TOKEN_SUCCESS: "iip.webplugin.token_success",
    FUNDING_CANCELED: "iip.webplugin.funding_canceled",
    TERMINAL_FAILURE: "iip.webplugin.terminal_failure",
    TERMINAL_FAILURE_ACKNOWLEDGED: "iip.webplugin.terminal_failure_acknowledged",
    MAX_VERIFICATION_ATTEMPTS_EXCEEDED: "iip.webplugin.max_verification_attempts_exceeded",
    PAGE_LOAD: "iip.webplugin.page_load"
  });
  var KNOWN_EVENTS = Object.keys(EVENTS).map(function (key) { return EVENTS[key]; });
  var KNOWN_DESTINATIONS = Object.keys(FUNDING_DESTINATIONS).map(function (key) { return FUNDING_DESTINATIONS[key]; });

  function eventName(name) {
    if (EVENTS.hasOwnProperty(name)) return EVENTS[name]; // "TOKEN_SUCCESS" works as well as EVENTS.TOKEN_SUCCESS
    if (KNOWN_EVENTS.indexOf(name) < 0) throw new Error("IngoInstantPayments: unknown event " + name);
    return name;
  }

  function resolveContainer(container) {
    var found = typeof container === "string" ? document.querySelector(container) : container;
    if (!found || typeof found.appendChild !== "function") {
      throw new Error("IngoInstantPayments.create: container " + container + " was not found");
    }
    return found;
  }

  function create(options) {
    if (typeof options === "string" || (options && options.nodeType === 1)) options = { container: options };
    options = options || {};
    var container = resolveContainer(options.container || "#ingo-instant-payments");
    var listeners = {};
    var iframe = null;
    var iframeOrigin = null;
    var destination = null;

    function dispatch(payload) {
      (listeners[payload.event_name] || []).slice().forEach(function (callback) {
        try {
          callback(JSON.parse(JSON.stringify(payload)));
        } catch (error) {
          setTimeout(function () { throw error; });
        }
      });
    }

    function hello() {
      if (iframe && iframe.contentWindow) {
        iframe.contentWindow.postMessage({ iip: 1, type: "hello", funding_destination: destination, sdk_version: VERSION },
          iframeOrigin);
      }
    }

    function onMessage(e) {
      if (!iframe || e.source !== iframe.contentWindow || e.origin !== iframeOrigin) return;
      var data = e.data;
      if (!data || data.iip !== 1) return;
      if (data.type === "ready") {
        hello();
      } else if (data.type === "resize" && options.autoResize !== false && typeof data.height === "number") {
        iframe.style.height = Math.max(120, Math.ceil(data.height)) + "px";
      } else if (data.type === "event" && data.event && KNOWN_EVENTS.indexOf(data.event.event_name) >= 0) {
        dispatch(data.event);
      }
    }

    global.addEventListener("message", onMessage);

    var webPlugin = {
      mount: function (authorizedUrl, fundingDestination) {
        if (KNOWN_DESTINATIONS.indexOf(fundingDestination) < 0) {
          throw new Error("IngoInstantPayments: mount needs one of IngoInstantPayments.FUNDING_DESTINATIONS, not " +
            fundingDestination);
        }
        var url = new URL(authorizedUrl, global.location.href);
        webPlugin.unmount();
        destination = fundingDestination;
        iframeOrigin = url.origin;
        iframe = document.createElement("iframe");
        iframe.src = url.href;
        iframe.title = options.title || "Add your account";
        iframe.setAttribute("referrerpolicy", "origin");
        iframe.style.width = options.width || "100%";
        iframe.style.height = options.height || "560px";
        iframe.style.border = "0";
        iframe.addEventListener("load", hello);
        container.appendChild(iframe);
        return webPlugin;
      },
      unmount: function () {
        if (iframe && iframe.parentNode) iframe.parentNode.removeChild(iframe);
        iframe = null;
        return webPlugin;
      },
      destroy: function () {
        webPlugin.unmount();
        global.removeEventListener("message", onMessage);
        listeners = {};
      },
      addEventListener: function (name, callback) {
        if (typeof callback !== "function") throw new Error("IngoInstantPayments: addEventListener needs a function");
        var key = eventName(name);
        (listeners[key] = listeners[key] || []).push(callback);
        return webPlugin;
      },
      removeEventListener: function (name, callback) {
        var key = eventName(name);
        listeners[key] = (listeners[key] || []).filter(function (known) { return known !== callback; });
        return webPlugin;
      },
      get iframe() { return iframe; }
    };
    return webPlugin;
  }

  global.IngoInstantPayments = Object.freeze({
    create: create, FUNDING_DESTINATIONS: FUNDING_DESTINATIONS, EVENTS: EVENTS, version: VERSION
  });
})(window);
