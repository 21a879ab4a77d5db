"""docs/testing-scenarios.md names only triggers, flags and topics that exist, and its Self-Service scenarios pass."""

from __future__ import annotations

import re

import pytest
import yaml

from emulator.settings import OPTIONS
from emulator.webhooks.topics import TOPICS
from tests.support.bodies import CARD, v11
from tests.support.paths import ROOT

DOC = (ROOT / "docs" / "testing-scenarios.md").read_text(encoding="utf-8")
RULES = yaml.safe_load((ROOT / "scenarios" / "magic-values.yaml").read_text(encoding="utf-8"))["scenarios"][0]["rules"]


def table_rows() -> list[str]:
    """The body rows of the page's scenario tables (not the headers or the category table)."""
    return [line for line in DOC.splitlines()
            if line.startswith("| ") and not line.startswith(("| Ingo's", "|---"))]


def rule_for(code: int | str, kind: str) -> dict:
    """The bundled rule ``kind-code`` (card-1106, cents-06, ...)."""
    [rule] = [r for r in RULES if r["name"] == f"{kind}-{code}"]
    return rule


def test_the_page_cites_ingos_testing_pages_and_the_magic_values_page_links_it():
    assert "https://developers.ingopayments.com/docs/ingopay/testing" in DOC
    assert "https://developers.ingopayments.com/docs/iframe/testing" in DOC
    values = (ROOT / "docs" / "magic-values.md").read_text(encoding="utf-8")
    magic = values.split("# Magic values", 1)[1].split("<!-- magic-values:start -->", 1)[0]
    assert "(testing-scenarios.md)" in magic


def test_every_named_magic_value_is_bundled_with_the_triggers_the_row_names():
    named = 0
    for row in table_rows():
        for code in map(int, re.findall(r"magic value (\d+)", row)):
            named += 1
            for card in re.findall(r"`(4000\d{12})`", row):
                assert rule_for(code, "card")["match"]["account"] == card, row
            for account in re.findall(r"`(99\d{6})`", row):
                assert rule_for(code, "bank")["match"]["account"] == account, row
            for name in re.findall(r"`(Magic\d+)`", row):
                assert rule_for(code, "name")["match"]["recipient"]["last_name"] == name, row
            for cents in re.findall(r"amount cents \.(\d\d)", row):
                assert rule_for(cents, "cents")["description"].startswith(f"{code} "), row
    assert named == 4  # OFAC suspended, cleared, confirmed; returned payment


def test_the_outcomes_the_rows_promise_are_what_the_bundled_rules_send():
    for row in table_rows():
        for code in map(int, re.findall(r"magic value (\d+)", row)):
            respond = rule_for(code, "card")["respond"]
            sent = {(e["topic"], e["status"]) for e in respond.get("events", [])}
            for topic, status in re.findall(r"`((?:gateway|plugin)\.[a-z_.]+)` \((\d+)\)", row):
                assert (topic, int(status)) in sent, row


def test_every_flag_and_topic_the_page_names_exists():
    flags = set(re.findall(r"`(--[a-z-]+)", DOC))
    assert flags >= {"--plugin-rvdm", "--plugin-max-attempts"}
    assert flags <= {option.cli for option in OPTIONS}
    topics = set(re.findall(r"`((?:gateway|plugin)\.transaction\.[a-z_.]+)`", DOC))
    assert "plugin.transaction.session.request.terminated" in topics
    assert topics <= set(TOPICS)


async def test_successful_account_tokenization_then_idempotent_verify(emulator):
    """Ingo's two Self-Service Verify scenarios, with the inputs the page names."""
    status, first, _ = await emulator.post("/gateway/verify", v11(**{**CARD, "account": "4111111111111111"}))
    assert status == 200
    assert (first["status"], first["client_message"]) == (100, "Success")
    token = first["data"]["customer_account_token"]
    assert isinstance(token, str) and token
    status, again, _ = await emulator.post("/gateway/verify", v11(account_type="CA",
                                                                  participant_unique_id1="customer-1",
                                                                  customer_account_token=token))
    assert (again["status"], again["data"]["customer_account_token"]) == (100, token)


@pytest.mark.parametrize("words", ["Guided", "BillPay", "TERMINAL_FAILURE"])
def test_what_cannot_be_reproduced_is_named_with_its_reason(words):
    open_part = DOC.split("## Open", 1)[1]
    assert words in open_part or words in DOC.split("## Test categories", 1)[1].split("## IngoPay", 1)[0]
