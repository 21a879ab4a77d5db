"""Every behaviour says where it comes from: each status, topic, route, request rule and diagnosis code carries its
source (an Ingo page, Kong's plugin, or the emulator's choice with its reason), and a participant can list which of
the emulator's choices its traffic rested on, as a user's tests would: a real client's requests, then
GET /_emulator/provenance."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest

from emulator.app import ROUTES
from emulator.auth.diagnosis import CODES
from emulator.auth.diagnosis import SOURCES as AUTH_SOURCES
from emulator.client import encode_body, sign
from emulator.core import provenance
from emulator.core.catalogue import catalogue
from emulator.core.errors import REFUSALS, IngoError
from emulator.core.provenance import CHOICES, INGO_SITES, Source, choice, every_choice, status_source
from emulator.gateway.schemas import VERIFY_SCHEMAS, Strict
from emulator.settings import OPTIONS, Settings
from emulator.testing import EmulatorServer
from emulator.web.middlewares import DIAGNOSIS_SOURCES
from emulator.web.provenance import REFUSAL_MODULES
from emulator.webhooks.topics import TOPICS
from tests.support.app import NOW, Signed
from tests.support.bodies import CARD, v11
from tests.support.paths import ROOT
from tests.support.webhook_receiver import Receiver, admin, advance, emit, start_emulator, start_receiver

PACKAGE = ROOT / "emulator"
#: A card the bundled magic values decline with 852 (4000 00CC CCC0 000X: CCCCC the status, X the Luhn digit).
DECLINED_852 = "4000000085200006"


def _where(source: Any) -> str:
    return f"{source.kind} {source.ref}" if isinstance(source, Source) else repr(source)


# -- every answer path has a source --------------------------------------------------------------------------------


def test_every_catalogued_status_has_a_source_and_an_emulator_code_its_reason():
    for status in catalogue().values():
        source = status_source(status.code)
        assert source is not None, status
        if status.is_ingo:
            assert (source.kind, source.ref) == ("ingo", status.page), status
        else:
            found = provenance.find(f"status-{status.code}")
            assert source.ref == f"choice:status-{status.code}" and found is not None, status
            assert "the code and its message are the emulator's" in found.reason, found


def test_every_webhook_topic_names_its_source():
    missing = [name for name, topic in TOPICS.items() if not isinstance(topic.source, Source)]
    assert missing == [], (
        f"these topics have no source: {missing}; give each Topic in emulator/webhooks/topics.py "
        "source=ingo(\"<the Ingo page that shows the topic>\") or source=choice(\"<id>\") with the id registered in "
        "CHOICES in emulator/core/provenance.py")


def test_every_route_says_where_its_answer_comes_from():
    missing = [f"{route.method} {route.path} ({route.handler.__module__})" for route in ROUTES
               if route.source is None]
    assert missing == [], (
        f"these routes have no source: {missing}; give the route's Doc in its */urls.py a source=ingo(\"<page>\") "
        "or choice(\"<id>\") (emulator/core/provenance.py); routes under /_emulator/ are the emulator's own")


def test_every_request_model_names_the_page_of_its_field_rules():
    models = {route.doc.body for route in ROUTES if route.spec.signed and isinstance(route.doc.body, type)}
    models |= {model for model, _ in VERIFY_SCHEMAS.values()}
    missing = sorted(m.__name__ for m in models if not isinstance(getattr(m, "source", None), Source))
    assert missing == [], (
        f"these request models have no source: {missing}; set source = ingo(\"<the page listing its fields>\") in "
        "the model's class (emulator/gateway/schemas.py, emulator/sessions/schemas.py), and field_sources for the "
        "fields whose rule is the emulator's choice")
    for model in models:
        assert issubclass(model, Strict)
        unknown = set(model.field_sources) - set(model.model_fields)
        assert unknown == set(), f"{model.__name__}.field_sources names fields it does not have: {unknown}"


def test_every_diagnosis_code_has_a_source():
    assert set(AUTH_SOURCES) == set(CODES), (
        f"give each code of CODES a source in SOURCES (emulator/auth/diagnosis.py): "
        f"{sorted(set(CODES) ^ set(AUTH_SOURCES))}")
    for module in REFUSAL_MODULES:
        assert module.__name__  # imported: their refusal classes are registered
    unsourced = sorted(f"{refusal.__module__}.{refusal.__qualname__} ({code})" for code, refusal in REFUSALS.items()
                       if not isinstance(refusal.source, Source))
    assert unsourced == [], (
        f"these refusals have no source: {unsourced}; declare the class with source=ingo(\"<page>\") or "
        "source=choice(\"<id>\"), beside its diagnosis_code")
    # Every diagnosis code written out in the package: a refusal class's, Kong's (CODES) or a middleware's own.
    known = set(REFUSALS) | set(CODES) | set(DIAGNOSIS_SOURCES)
    written = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (isinstance(key, ast.Constant) and key.value == "code" and isinstance(value, ast.Constant)
                            and isinstance(value.value, str)):
                        written.add((value.value, path.relative_to(ROOT)))
            elif isinstance(node, ast.ClassDef):  # class X(IngoError, diagnosis_code="..."), or assigned in its body
                for keyword in node.keywords:
                    if keyword.arg == "diagnosis_code":
                        written.add((ast.literal_eval(keyword.value), path.relative_to(ROOT)))
                for item in node.body:
                    if (isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "diagnosis_code"
                                                             for t in item.targets)):
                        written.add((ast.literal_eval(item.value), path.relative_to(ROOT)))
    unsourced_codes = sorted(f"{code} ({where})" for code, where in written if code not in known)
    assert unsourced_codes == [], (
        f"these diagnosis codes have no source: {unsourced_codes}; add each to DIAGNOSIS_SOURCES in "
        "emulator/web/middlewares.py (an answer the edge makes itself) or make it a refusal class with a source")
    assert issubclass(REFUSALS["scenario"], IngoError)


def test_an_unregistered_choice_is_refused_naming_where_to_register_it():
    with pytest.raises(KeyError, match="register it in CHOICES in emulator/core/provenance.py"):
        choice("webhook-after-every-payment-without-an-entry")
    with pytest.raises(ValueError, match="is not a page of Ingo's documentation"):
        provenance.ingo("https://example.com/ingo")


def test_every_registered_choice_is_declared_somewhere_and_its_setting_exists():
    text = "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")
                     if path.name != "provenance.py" or path.parent.name != "core")
    unused = sorted(c for c in CHOICES if f'choice("{c}"' not in text)
    assert unused == [], f"registered choices nothing declares: {unused} (remove them, or declare them)"
    flags = {option.cli for option in OPTIONS}
    for item in CHOICES.values():
        for flag in re.findall(r"--[a-z0-9-]+", item.setting or ""):
            assert flag in flags, f"choice {item.id}: {flag} is no setting"


def test_ingo_sources_are_pages_of_ingos_sites():
    sources = [topic.source for topic in TOPICS.values()] + [route.source for route in ROUTES]
    sources += list(AUTH_SOURCES.values()) + [r.source for r in REFUSALS.values()]
    for source in sources:
        assert source is not None
        if source.kind == "ingo":
            assert source.ref.startswith(INGO_SITES), _where(source)


def test_contract_lists_every_choice_with_its_anchor():
    """docs/contract.md's index is generated from the registry (scripts/regenerate): one place for each fact."""
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- choices:start -->\n(.*?)\n<!-- choices:end -->", text, re.S)
    assert found is not None, "docs/contract.md has no <!-- choices:start --> ... <!-- choices:end --> section"
    assert found.group(1) == provenance.markdown_index(), "run .venv/bin/python scripts/regenerate"
    for item in every_choice():
        assert text.count(f'<a id="{item.anchor}"></a>') == 1, item.id


# -- what a user sees: a client's traffic, then the journal, the story and GET /_emulator/provenance -------------


async def _journal(emu: Signed, **query: Any) -> list[dict[str, Any]]:
    response = await emu.client.get("/_emulator/requests", params={k: str(v) for k, v in query.items()})
    assert response.status == 200
    return (await response.json())["requests"]


async def _provenance(emu: Signed, **query: Any) -> dict[str, Any]:
    response = await emu.client.get("/_emulator/provenance", params={k: str(v) for k, v in query.items()})
    document = await response.json()
    assert response.status == 200, document
    return document


def _relied(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["source"]["ref"]: item for item in document["relied_on"]}


async def _declined_push(emu: Signed, participant_id: int = 12345) -> tuple[int, dict[str, Any]]:
    """Verify the magic card that declines 852, then push to it: the push is declined."""
    status, verified, _ = await emu.post("/gateway/verify", v11(**{**CARD, "account": DECLINED_852,
                                                                   "participant_id": participant_id}))
    assert (status, verified["status"]) == (200, 100), verified
    status, paid, _ = await emu.post("/gateway/process", v11(
        participant_id=participant_id, account_type="CA", amount=10.5, source_of_funds=4,
        customer_account_token=verified["data"]["customer_account_token"], participant_unique_id1="pay-1"))
    return status, paid


async def test_a_decline_rests_on_the_emulators_choices_and_an_approval_on_none(emulator: Signed):
    status, declined = await _declined_push(emulator)
    assert (status, declined["status"]) == (200, 852), declined

    newest, oldest = await _journal(emulator)
    assert oldest["relied_on"] == []  # the verify: Ingo's answer to Ingo's fields, nothing the emulator chose
    assert set(newest["relied_on"]) == {"choice:status-852", "choice:business-error-http-200",
                                        "choice:magic-values"}

    document = await _provenance(emulator, participant_id=12345)
    assert document["participant_id"] == 12345 and document["journal"]["entries"] == 2
    relied = _relied(document)
    assert set(relied) == set(newest["relied_on"])
    decline = relied["choice:status-852"]
    assert decline["count"] == 1 and decline["request_ids"] == [newest["request_id"]]
    assert decline["source"]["title"] == 'Status 852 "Declined - Do not honor".'
    assert "851-867 to Card Issuer Declines" in decline["source"]["reason"]
    assert decline["source"]["contract"] == "docs/contract.md#choice-status-852"
    http = relied["choice:business-error-http-200"]["source"]
    assert http["setting"] == "--error-http-status" and "never the HTTP status" in http["reason"]


async def test_the_story_says_where_each_part_of_an_answer_comes_from(emulator: Signed):
    await _declined_push(emulator)
    entry, _ = await _journal(emulator)
    response = await emulator.client.get(f"/_emulator/requests/{entry['id']}")
    story = await response.json()
    parts = {part["what"]: part["source"] for part in story["provenance"]}
    assert parts["the answer's shape"] == {
        "kind": "ingo", "ref": "https://developers.ingopayments.com/docs/ingopay/process/card",
        "url": "https://developers.ingopayments.com/docs/ingopay/process/card",
        "note": "and each account type's process page"}
    assert parts["Ingo status 852 and its message"]["ref"] == "choice:status-852"
    assert parts["HTTP 200 for a business refusal"]["contract"] == "docs/contract.md#choice-business-error-http-200"
    assert parts["the scenario rule magic-values/card-852"]["ref"] == "choice:magic-values"


async def test_your_own_scenario_rule_is_yours_and_its_own_message_is_no_guess_of_the_emulators(emulator: Signed):
    document = ("scenarios:\n  - name: mine\n    rules:\n"
                "      - {name: decline, match: {endpoint: process, amount: {exact: 10.5}}, respond: {status: 852}}\n"
                "      - {name: worded, match: {endpoint: process, amount: {exact: 11.5}},\n"
                "         respond: {status: 852, message: \"Declined by our bank\"}}\n")
    response = await emulator.client.post("/_emulator/scenarios", data=document.encode(),
                                          headers={"Content-Type": "application/yaml"})
    assert response.status == 201, await response.text()
    status, verified, _ = await emulator.post("/gateway/verify", v11(**CARD))
    token = verified["data"]["customer_account_token"]
    for amount, puid1 in ((10.5, "pay-1"), (11.5, "pay-2")):
        status, paid, _ = await emulator.post("/gateway/process", v11(
            account_type="CA", amount=amount, source_of_funds=4, customer_account_token=token,
            participant_unique_id1=puid1))
        assert paid["status"] == 852, paid
    worded, plain, _ = await _journal(emulator)
    # The code and message are the emulator's; the rule that answered them is yours, not a bundled magic value.
    assert set(plain["relied_on"]) == {"choice:status-852", "choice:business-error-http-200"}
    # With your own message, only the HTTP status of the refusal is left to the emulator.
    assert worded["relied_on"] == ["choice:business-error-http-200"]
    story = await (await emulator.client.get(f"/_emulator/requests/{worded['id']}")).json()
    parts = {part["what"]: part["source"] for part in story["provenance"]}
    assert parts["the scenario rule mine/worded"]["kind"] == "own"
    assert parts["Ingo status 852 with the scenario's message"]["kind"] == "own"


async def test_a_rule_of_the_emulators_own_is_told_from_a_rule_of_ingos_page(emulator: Signed):
    # The biller search pages list no timestamp: checking one sent is the emulator's choice.
    status, body, _ = await emulator.post("/gateway/v1/biller/search",
                                          {"participant_id": 12345, "account": "12345678", "timestamp": "soon"})
    assert (status, body["status"], body["diagnosis"]["field"]) == (200, 401, "timestamp"), body
    # A zip code of the wrong form: the card verify page's rule.
    status, body, _ = await emulator.post("/gateway/verify", v11(**{**CARD, "recipient_zip": "3030"}))
    assert (status, body["status"], body["diagnosis"]["field"]) == (200, 401, "recipient_zip"), body
    zip_entry, timestamp_entry = await _journal(emulator)
    assert "choice:search-timestamp-version" in timestamp_entry["relied_on"]
    assert "choice:search-timestamp-version" not in zip_entry["relied_on"]
    response = await emulator.client.get(f"/_emulator/requests/{zip_entry['id']}")
    parts = {part["what"]: part["source"] for part in (await response.json())["provenance"]}
    assert parts["the refusal invalid_parameter of recipient_zip"]["ref"] == \
        "https://developers.ingopayments.com/docs/ingopay/verify/card"


async def test_with_mapped_http_statuses_a_decline_rests_on_the_mapping(make_emulator):
    emu = await make_emulator(error_http_status="mapped")
    status, body = await _declined_push(emu)
    assert (status, body["status"]) == (422, 852), body
    entry, _ = await _journal(emu)
    assert "choice:business-error-http-mapped" in entry["relied_on"]
    assert "choice:business-error-http-200" not in entry["relied_on"]


async def test_a_throttled_client_rests_on_the_throttle_answer(make_emulator):
    emu = await make_emulator(rate_limit=1)
    answers = [await emu.post("/gateway/verify", v11(**{**CARD, "participant_unique_id1": f"c-{n}"}))
               for n in range(2)]
    assert [status for status, _, _ in answers] == [200, 429]
    relied = _relied(await _provenance(emu, participant_id=12345))
    throttle = relied["choice:throttle-body"]
    assert throttle["count"] == 1 and "kong/plugins/rate-limiting/handler.lua" in throttle["source"]["reason"]


async def test_a_refused_signature_says_whether_kong_or_the_emulator_decided(emulator: Signed):
    raw = encode_body(v11(**CARD))
    headers = sign("POST", "/gateway/verify", raw, username="test", secret="not-the-secret", now=NOW)
    response = await emulator.client.post("/gateway/verify", data=raw, headers=headers)
    assert response.status == 401
    (entry,) = await _journal(emulator)
    story = await (await emulator.client.get(f"/_emulator/requests/{entry['id']}")).json()
    (part,) = story["provenance"]
    assert part["source"] == {"kind": "kong", "ref": "kong/plugins/hmac-auth/access.lua",
                              "url": "https://github.com/Kong/kong/blob/master/kong/plugins/hmac-auth/access.lua"}
    assert entry["relied_on"] == []  # Kong's, not a choice of the emulator's


async def test_webhook_deliveries_rest_on_the_signature_and_the_retry_schedule(aiohttp_client, aiohttp_server,
                                                                                clock):
    async def fails_first(number: int, request: Any) -> Any:
        from aiohttp import web

        return web.Response(status=500 if number == 1 else 200)

    receiver = Receiver(fails_first)
    emu = await start_emulator(aiohttp_client, clock, (await start_receiver(aiohttp_server, receiver),))
    event = await emit(emu, "gateway.transaction.recipient.payment.status.terminated")
    await advance(emu, 0)
    await advance(emu, 30)  # the first wait of the retry schedule
    assert len(receiver.received) == 2 and "X-Ingo-Signature" in receiver.received[0].headers
    relied = _relied(await _provenance(emu, participant_id=12345))
    (delivery,) = (await admin(emu, "GET", f"/_emulator/webhooks?event_id={event['id']}"))["deliveries"]
    for ref in ("choice:webhook-signature", "choice:retry-schedule", "choice:topic-payment-status"):
        assert relied[ref]["delivery_ids"] == [delivery["id"]] and relied[ref]["count"] == 1, ref
    assert relied["choice:webhook-signature"]["source"]["setting"] == "--webhook-secret"


async def test_one_participants_choices_are_not_anothers(emulator: Signed):
    await _declined_push(emulator.as_user("other"), participant_id=54321)
    await emulator.post("/gateway/verify", v11(**CARD))
    assert (await _provenance(emulator, participant_id=12345))["relied_on"] == []
    assert "choice:status-852" in _relied(await _provenance(emulator, participant_id=54321))
    everyone = await _provenance(emulator)
    assert everyone["participant_id"] is None and everyone["journal"]["entries"] == 3


async def test_the_provenance_call_takes_participant_id_only(emulator: Signed):
    response = await emulator.client.get("/_emulator/provenance", params={"participant": "12345"})
    document = await response.json()
    assert response.status == 400 and "did you mean participant_id" in document["message"], document
    response = await emulator.client.get("/_emulator/provenance", params={"participant_id": "twelve"})
    assert response.status == 400


TERMINATED = "gateway.transaction.recipient.payment.status.terminated"


def test_a_tenants_tests_list_the_guesses_they_rest_on():
    """As a team's suite would: a tenant of a running emulator pays, then asks which of the emulator's choices its
    traffic rested on."""
    server = EmulatorServer(settings=Settings(rate_limit=0)).start()
    try:
        tenant = server.tenant()
        client = tenant.client()
        verified = client.post("/gateway/verify", client.base(**{**CARD, "account": DECLINED_852}))
        assert verified.status == 200 and verified["status"] == 100, verified.body
        paid = client.post("/gateway/process", client.base(
            account_type="CA", amount=10.5, source_of_funds=4, participant_unique_id1="pay-1",
            customer_account_token=verified["data"]["customer_account_token"]))
        assert paid["status"] == 852, paid.body
        tenant.wait_for_webhook({"topic": TERMINATED, "status": "succeeded"})
        relied = {item["source"]["ref"]: item for item in tenant.provenance()}
        # the decline's answer rests on three choices; its final-outcome webhook's topic name on a fourth, and the
        # delivery's signature on a fifth
        assert set(relied) == {"choice:status-852", "choice:business-error-http-200", "choice:magic-values",
                               "choice:topic-payment-status", "choice:webhook-signature"}
        assert all(item["count"] == 1 for item in relied.values())
        assert relied["choice:topic-payment-status"]["parts"] == [f"the topic {TERMINATED}"]
        assert all(len(item["request_ids"]) == 1 for ref, item in relied.items()
                   if ref not in ("choice:topic-payment-status", "choice:webhook-signature"))
        assert server.provenance(participant_id=12345) == []  # the built-in credential sent nothing
    finally:
        server.stop()


def test_nothing_on_the_request_path_derives_provenance():
    """Provenance is read from what the journal keeps when someone asks: the modules that answer requests never
    import the derivation."""
    for module in ("web/middlewares.py", "web/replies.py", "web/scripted.py", "core/journal.py", "app.py"):
        text = (PACKAGE / module).read_text(encoding="utf-8")
        assert "web.provenance" not in text and "admin.provenance" not in text, module


def test_the_openapi_document_says_where_each_operation_comes_from():
    from emulator.openapi.document import build_document

    document = build_document(ROUTES)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "x-source" in operation, f"{method.upper()} {path}"
    search = document["paths"]["/gateway/search"]["post"]
    assert search["x-source"]["ref"] == "choice:payee-search-answer"
    assert search["responses"]["429"]["x-source"]["ref"] == "choice:throttle-body"
    assert document["paths"]["/gateway/verify"]["post"]["responses"]["401"]["x-source"]["kind"] == "kong"
    process = document["components"]["schemas"]["Process"]
    assert process["x-source"]["ref"] == "https://developers.ingopayments.com/docs/ingopay/process/card"
    assert process["properties"]["track2"]["x-source"]["ref"] == "choice:track2-pattern"
    assert json.dumps(document)  # still plain JSON


async def test_the_inspector_marks_a_guess_and_tells_where_each_part_comes_from(emulator: Signed, chromium):
    from playwright.async_api import expect

    status, declined = await _declined_push(emulator)
    assert declined["status"] == 852
    page = await chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(str(emulator.client.make_url("/_emulator/ui")))
    await expect(page.locator("body[data-loaded=true]")).to_have_count(1)

    rows = page.locator("tr.request")
    await expect(rows).to_have_count(2)
    declined_row = page.locator("tr.request", has=page.locator("td.ingo-status", has_text=re.compile("^852$")))
    mark = declined_row.locator(".choice-mark")
    await expect(mark).to_have_text("◇ emulator's choice")
    await expect(mark).to_have_attribute("title", re.compile("choice:status-852"))
    verify_row = page.locator("tr.request", has=page.locator("code", has_text="/gateway/verify"))
    await expect(verify_row.locator(".choice-mark")).to_have_count(0)
    # The text filter finds every request that rested on one choice.
    await page.get_by_label("Text").fill("choice:business-error-http-200")
    await expect(rows).to_have_count(1)
    await page.get_by_label("Text").fill("")

    await declined_row.locator("a.open-detail").click()
    await expect(page.locator("#provenance-summary")).to_contain_text("rested on 3 choices of the emulator's")
    status_part = page.locator(".provenance-part[data-ref='choice:status-852']")
    await expect(status_part).to_contain_text("Ingo status 852 and its message")
    await expect(status_part).to_contain_text("851-867 to Card Issuer Declines")
    await expect(status_part).to_contain_text("docs/contract.md#choice-status-852")
    shape = page.locator(".provenance-part[data-kind=ingo]", has_text="the answer's shape")
    await expect(shape.locator("a")).to_have_attribute(
        "href", "https://developers.ingopayments.com/docs/ingopay/process/card")
    assert errors == [], errors
