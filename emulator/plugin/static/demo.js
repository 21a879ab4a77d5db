/* The emulator's demo host page: create a session, mount the SDK, list SDK events and webhook events. */
(function () {
  "use strict";
  var setup = document.getElementById("setup");
  var sdkList = document.getElementById("sdk-events");
  var hookList = document.getElementById("webhook-events");
  var sessionBox = document.getElementById("session");
  var tokenRow = document.getElementById("token-row");
  var webPlugin = null;
  var sessionId = null;
  var seen = {};
  var poller = null;

  function adminHeaders() {
    var token = document.getElementById("admin-token").value;
    return token ? { "Authorization": "Bearer " + token } : {};
  }

  function item(list, title, payload) {
    var li = document.createElement("li");
    var strong = document.createElement("strong");
    strong.textContent = title;
    var pre = document.createElement("pre");
    pre.textContent = JSON.stringify(payload, null, 2);
    li.appendChild(strong);
    li.appendChild(pre);
    list.appendChild(li);
  }

  function recipient() {
    var info = {};
    ["first_name", "last_name", "address_line1", "city", "state", "zip_code", "email_address"].forEach(function (name) {
      var value = document.getElementById(name).value.trim();
      if (value) info[name] = value;
    });
    return info;
  }

  function pollWebhooks() {
    if (!sessionId) return;
    fetch("/_emulator/events", { headers: adminHeaders(), cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : { events: [] }; })
      .then(function (json) {
        (json.events || []).slice().reverse().forEach(function (event) {
          var ancillary = (event.envelope.data || {}).ancillary || {};
          if (ancillary.session_id !== sessionId || seen[event.id]) return;
          seen[event.id] = true;
          item(hookList, event.topic, event.envelope);
        });
      });
  }

  setup.addEventListener("submit", function (e) {
    e.preventDefault();
    var destination = document.getElementById("destination").value;
    sdkList.textContent = "";
    hookList.textContent = "";
    seen = {};
    var headers = Object.assign({ "Content-Type": "application/json" }, adminHeaders());
    fetch("/_emulator/plugin/demo-session", {
      method: "POST", headers: headers,
      body: JSON.stringify({ recipient_information: recipient(), host_uri: window.location.origin })
    }).then(function (response) {
      if (response.status === 401) {
        tokenRow.hidden = false;
        throw new Error("the admin token is needed");
      }
      return response.json();
    }).then(function (json) {
      sessionBox.textContent = JSON.stringify(json, null, 2);
      var data = (json.response || {}).data;
      if (!data || !data.authorized_url) return;
      sessionId = data.session_identifier;
      if (webPlugin) webPlugin.destroy();
      webPlugin = IngoInstantPayments.create({ container: "#ingo-container" });
      Object.keys(IngoInstantPayments.EVENTS).forEach(function (name) {
        webPlugin.addEventListener(IngoInstantPayments.EVENTS[name], function (payload) {
          item(sdkList, name, payload);
          pollWebhooks();
        });
      });
      webPlugin.mount(data.authorized_url, destination);
      if (!poller) poller = setInterval(pollWebhooks, 1500);
    }).catch(function (error) {
      sessionBox.textContent = String(error);
    });
  });

  if (new URLSearchParams(window.location.search).get("autostart")) setup.requestSubmit();
})();
