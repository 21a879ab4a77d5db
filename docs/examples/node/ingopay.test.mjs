// A test against the IngoPay emulator: its own tenant, a decline scripted for that tenant only, a wait for a
// webhook, a findings check, and a readiness rehearsal of Ingo's testing plan on the tenant's traffic (its report
// judged at the end). Node 18+ and nothing to install: node --test ingopay.test.mjs
// The emulator runs already (INGOPAY_URL, default http://127.0.0.1:8080; INGOPAY_ADMIN_TOKEN if it has one).
import assert from "node:assert/strict";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

const BASE = process.env.INGOPAY_URL ?? "http://127.0.0.1:8080";
const TOKEN = process.env.INGOPAY_ADMIN_TOKEN;

// The emulator's admin API (/_emulator/...): the emulator's own, not Ingo's. Unsigned JSON.
async function admin(method, path, body, type = "application/json") {
  const response = await fetch(BASE + path, {
    method,
    headers: { "Content-Type": type, ...(TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {}) },
    body: body === undefined || typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

// Why a wait was not met (its 409): a sentence, and how each near miss differs from the match.
const why = (answer) => JSON.stringify([answer.body.message, answer.body.near_misses?.map((m) => m.differences)]);

// Ingo's gateway: every request signed with Kong hmac-auth, hmac-sha512, as a real client signs it.
async function gateway(tenant, path, fields) {
  const raw = JSON.stringify({ participant_id: tenant.participant_id, timestamp: Math.floor(Date.now() / 1000),
    version: 11, ...fields });
  const date = new Date().toUTCString();
  const digest = createHash("sha512").update(raw).digest("base64");
  const signed = [`POST ${path} HTTP/1.1`, `x-date: ${date}`, "content-type: application/json",
    `content-sha512: ${digest}`, `content-length: ${Buffer.byteLength(raw)}`].join("\n");
  const signature = createHmac("sha512", tenant.secret).update(signed).digest("base64");
  const response = await fetch(BASE + path, {
    method: "POST",
    body: raw,
    headers: {
      "X-Date": date, "Content-Type": "application/json", "Content-sha512": digest,
      Authorization: `hmac username="${tenant.username}", algorithm="hmac-sha512", `
        + `headers="request-line x-date content-type content-sha512 content-length", signature="${signature}"`,
    },
  });
  return response.json();
}

// The webhook receiver of the application under test, in miniature: it checks X-Ingo-Signature (docs/webhooks.md),
// refuses a delivery that does not verify, and acknowledges the rest at once, each metadata.id processed once.
const WEBHOOK_SECRET = "the-secret-of-this-test";
function signed(raw, header) {
  const parts = Object.fromEntries(String(header ?? "").split(",").map((part) => part.trim().split(/=(.*)/s, 2)));
  const expected = Buffer.from(createHmac("sha512", WEBHOOK_SECRET)
    .update(Buffer.concat([Buffer.from(`${parts.t}.`), raw])).digest("base64"));
  const given = Buffer.from(parts.v1 ?? "");
  return /^[0-9]+$/.test(parts.t ?? "") && Math.abs(Date.now() / 1000 - Number(parts.t)) <= 300
    && given.length === expected.length && timingSafeEqual(given, expected);
}
const processed = new Set();
const receiver = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk)).on("end", () => {
    const raw = Buffer.concat(chunks);
    if (!signed(raw, request.headers["x-ingo-signature"])) return response.writeHead(401).end();
    response.end("ok");
    processed.add(JSON.parse(raw).metadata.id);  // a repeat of an id already processed changes nothing
  });
});
before(() => new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve)));
after(() => {
  receiver.closeAllConnections();
  receiver.close();
});

test("a declined payout, then a payout whose webhook is delivered, and no findings", async (t) => {
  // 1. A tenant: a credential with a participant of its own (state, scenarios, findings), removed afterwards.
  const minted = await admin("POST", "/_emulator/credentials",
    { webhook_url: `http://127.0.0.1:${receiver.address().port}/ingo`, webhook_secret: WEBHOOK_SECRET });
  assert.equal(minted.status, 201, JSON.stringify(minted.body));
  const tenant = minted.body;
  t.after(() => admin("DELETE", `/_emulator/credentials/${tenant.username}`));
  // A readiness rehearsal (docs/readiness.md): from now on the tenant's traffic is judged against Ingo's plan.
  const rehearsal = await admin("POST", "/_emulator/readiness", { participant_id: tenant.participant_id });
  assert.equal(rehearsal.status, 201, JSON.stringify(rehearsal.body));

  const verified = await gateway(tenant, "/gateway/verify", {
    account_type: "CA", participant_unique_id1: "customer-1", account: "4111111111111111", expiration_date: "2912",
    recipient_first_name: "Jane", recipient_last_name: "Doe", recipient_address1: "1 Main St",
    recipient_city: "Atlanta", recipient_state: "GA", recipient_zip: "30301" });
  assert.equal(verified.status, 100, JSON.stringify(verified));
  const token = verified.data.customer_account_token;

  // 2. A decline for this tenant only: a scenario loaded inactive (names are global: make it unique), then
  //    activated for the tenant's participant.
  const scenario = `decline-${tenant.username}`;
  const uploaded = await admin("POST", "/_emulator/scenarios", `version: 1
scenarios:
  - name: ${scenario}
    active: false
    rules:
      - name: insufficient-funds
        match: {endpoint: process, participant_unique_id1: {prefix: "decline-"}}
        respond: {status: 851}
`, "application/yaml");
  assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
  const activated = await admin("POST", `/_emulator/scenarios/${scenario}/activate`,
    { participant_id: tenant.participant_id });
  assert.equal(activated.status, 200, JSON.stringify(activated.body));

  const declined = await gateway(tenant, "/gateway/process", { account_type: "CA", amount: 25.0,
    source_of_funds: 4, customer_account_token: token, participant_unique_id1: "decline-1" });
  assert.equal(declined.status, 851);
  const seen = await admin("POST", "/_emulator/requests/wait", {
    match: { participant_id: tenant.participant_id, rule: `${scenario}/insufficient-funds` }, count: 1 });
  assert.equal(seen.status, 200, why(seen));

  // 3. A webhook: amount cents .06 is a bundled magic value (approved; an OFAC "suspended" event, 1106, at once).
  //    Wait for its delivery instead of sleeping; a 409 tells how the deliveries seen differ.
  const paid = await gateway(tenant, "/gateway/process", { account_type: "CA", amount: 10.06,
    source_of_funds: 4, customer_account_token: token, participant_unique_id1: "payout-1" });
  assert.equal(paid.status, 100, JSON.stringify(paid));
  const delivered = await admin("POST", "/_emulator/webhooks/wait", {
    match: { participant_id: tenant.participant_id, transaction_id: paid.data.transaction_id, event_status: 1106,
      status: "succeeded" },
    timeout: 10 });
  assert.equal(delivered.status, 200, why(delivered));

  // 4. Findings: nothing this tenant did would lose money against Ingo (paying this token again while the OFAC
  //    review is open would be push_to_ofac_suspended).
  const findings = await admin("GET", `/_emulator/findings?participant_id=${tenant.participant_id}`);
  assert.equal(findings.body.count, 0, JSON.stringify(findings.body.findings));

  // 5. The rehearsal: no scenario failed, and those this test ran passed (the rest say what would run them; the
  //    evidence pack is GET /_emulator/readiness/report?participant_id=N&format=md).
  const readiness = await admin("GET", `/_emulator/readiness?participant_id=${tenant.participant_id}`);
  const failed = readiness.body.scenarios.filter((s) => s.status === "failed").map((s) => s.why);
  assert.deepEqual(failed, []);
  const passed = readiness.body.scenarios.filter((s) => s.status === "passed").map((s) => s.id);
  for (const id of ["verify-tokenization", "process-with-token", "no-retry-on-decline", "webhook-acknowledged"]) {
    assert.ok(passed.includes(id), `${id}: ${JSON.stringify(readiness.body.scenarios.find((s) => s.id === id))}`);
  }
});
