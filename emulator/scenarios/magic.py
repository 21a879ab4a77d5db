"""The bundled magic values: one trigger per catalogued outcome, generated from the catalogue.

``python -m emulator.scenarios.magic > scenarios/magic-values.yaml`` rewrites the bundled file; a test
keeps the committed file equal to what this produces.
"""

from __future__ import annotations

from typing import Any

import yaml

from emulator.core.catalogue import Status, catalogue
from emulator.core.provenance import STATUS_PREFIX, choice

#: Amount cents that script the most common outcomes on process and debit (Braintree-style).
CENTS = {2: 102, 3: 103, 6: 1107, 8: 1108, 13: 1113, 14: 1114, 42: 1042, 51: 851, 52: 852, 53: 853, 54: 854,
         55: 855, 56: 856, 57: 857, 58: 858, 59: 859, 60: 601, 61: 602, 62: 603, 63: 604, 70: 700, 71: 701,
         72: 710, 75: 751, 80: 500, 81: 501, 83: 503, 90: 900}

#: Follow-up events for outcomes that arrive by webhook: (status now, [(after, topic, status), ...]).
FOLLOW_UPS: dict[int, tuple[int, list[tuple[str, str, int]]]] = {
    102: (102, [("60s", "gateway.transaction.recipient.payment.status.success", 1125)]),
    103: (103, [("60s", "gateway.transaction.recipient.payment.status.success", 1125)]),
    1125: (102, [("5m", "gateway.transaction.recipient.payment.status.success", 1125)]),
    130: (100, [("0s", "gateway.transaction.recipient.verification.ofac.status.suspended", 130)]),
    1106: (100, [("0s", "gateway.transaction.recipient.verification.ofac.status.suspended", 1106)]),
    # cleared, the held payment resumes and completes: its final-outcome webhook follows the clearance
    1107: (100, [("0s", "gateway.transaction.recipient.verification.ofac.status.suspended", 1106),
                 ("1h", "gateway.transaction.recipient.verification.ofac.status.cleared", 1107),
                 ("1h", "gateway.transaction.recipient.payment.status.success", 1125)]),
    1108: (100, [("0s", "gateway.transaction.recipient.verification.ofac.status.suspended", 1106),
                 ("1h", "gateway.transaction.recipient.verification.ofac.status.failure", 1108)]),
    1113: (100, [("1h", "gateway.transaction.recipient.payment.status.terminated", 1113)]),
    1114: (100, [("2d", "gateway.transaction.recipient.payment.status.returned", 1114)]),
    1103: (100, [("0s", "plugin.transaction.recipient.verification.rvdm.success", 1103)]),
    1104: (100, [("0s", "plugin.transaction.recipient.verification.rvdm.success", 1104)]),
    1105: (100, [("0s", "plugin.transaction.recipient.verification.rvdm.failure", 1105)]),
    777: (777, [("0s", "plugin.transaction.account.verification.ach.nav.failure", 777)]),
}
#: Where a webhook-only outcome is triggered.
FOLLOW_UP_ENDPOINT = {1103: ["verify"], 1104: ["verify"], 1105: ["verify"], 777: ["verify"]}
#: The kinds of trigger: card number, bank account, wallet, last name.
ALL_KINDS = ("card", "bank", "wallet", "name")
#: The kinds of trigger an outcome has when not all four fit it.
KINDS = {777: ("bank",)}  # name-on-account validation is an ACH check
#: Catalogued outcomes no magic value produces, and why (the emulator's words; the README shows them).
NO_TRIGGER = {
    1111: "no trigger: Ingo sends it on transaction.recipient.payment.status.check, a Notify topic the emulator "
          "does not serve",
    1127: "no trigger: the iFrame sends it (plugin.transaction.session.request.terminated) when a session's "
          "verification attempts run out (--plugin-max-attempts)",
}
CARD_TYPES = ["CA"]
BANK_TYPES = ["AC", "SD", "RT", "WT"]
WALLET_TYPES = ["PD", "PU", "VE"]


def luhn_digit(partial: str) -> str:
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def card_number(code: int) -> str:
    """``4000 00CC CCC0 000X``: Visa, the five-digit code in the middle, a valid check digit."""
    partial = f"400000{code:05d}0000"
    return partial + luhn_digit(partial)


def bank_account(code: int) -> str:
    return f"99{code:05d}0"


def wallet_account(code: int) -> str:
    return f"magic{code}@example.com"


def last_name(code: int) -> str:
    return f"Magic{code}"


def endpoints_for(status: Status) -> list[str]:
    """Where the trigger fires: at payment time when the code can occur there, else at verify or session."""
    if status.code in FOLLOW_UP_ENDPOINT:
        return FOLLOW_UP_ENDPOINT[status.code]
    if status.code in FOLLOW_UPS:
        return ["process"]
    payment: list[str] = [e for e in ("process", "debit") if e in status.endpoints]
    if payment:
        return payment
    for endpoint in ("verify", "session", "biller_search", "risk"):
        if endpoint in status.endpoints:
            return ["risk_score"] if endpoint == "risk" else [endpoint]
    return ["process"]


def respond_for(status: Status) -> dict[str, Any]:
    if status.code in FOLLOW_UPS:
        now, events = FOLLOW_UPS[status.code]
        respond: dict[str, Any] = {"status": now}
        respond["events"] = [{"after": after, "topic": topic, "status": code} for after, topic, code in events]
        return respond
    return {"status": status.code}


def _condition(kind: str, code: int) -> dict[str, Any]:
    """What a trigger of ``kind`` (card, bank, wallet, name) matches for ``code``."""
    if kind == "card":
        return {"account_type": CARD_TYPES, "account": card_number(code)}
    if kind == "bank":
        return {"account_type": BANK_TYPES, "account": bank_account(code)}
    if kind == "wallet":
        return {"account_type": WALLET_TYPES, "account": wallet_account(code)}
    return {"recipient": {"last_name": last_name(code)}}


def triggered() -> list[Status]:
    """The catalogued outcomes the magic values produce: all but approval (100) and those in NO_TRIGGER."""
    return [s for s in catalogue().values() if s.code != 100 and s.code not in NO_TRIGGER]


def rules() -> list[dict[str, Any]]:
    """Every bundled trigger rule: card, bank, wallet and last name per outcome, then the amount cents."""
    found: list[dict[str, Any]] = []
    for status in triggered():
        endpoints = endpoints_for(status)
        respond = respond_for(status)
        base = {"endpoint": endpoints if len(endpoints) > 1 else endpoints[0]}
        description = f"{status.code} {status.message}"
        for kind in KINDS.get(status.code, ALL_KINDS):
            if kind == "name" or endpoints != ["session"]:
                found.append({"name": f"{kind}-{status.code}", "description": description,
                              "match": {**base, **_condition(kind, status.code)}, "respond": respond})
    for cents, code in sorted(CENTS.items()):
        status = catalogue()[code]
        # Follow-up outcomes (stand-ins, returns, OFAC) belong to pushes; a pull stand-in is a decline.
        endpoints = [e for e in ("process", "debit") if e in endpoints_for(status)]
        found.append({"name": f"cents-{cents:02d}", "description": f"{status.code} {status.message}",
                      "match": {"endpoint": endpoints if len(endpoints) > 1 else endpoints[0],
                                "amount": {"cents": cents}},
                      "respond": respond_for(status)})
    return found


HEADER = """\
# yaml-language-server: $schema=../docs/scenario.schema.json
#
# Bundled magic values: one trigger per catalogued Ingo outcome. GENERATED from
# emulator/core/catalogue/status_codes.yaml by `python -m emulator.scenarios.magic`; do not edit by hand.
#
# Triggers (see README "Magic values" or `ingopay-emulator triggers`):
#   card number   4000 00CC CCC0 000X   (CCCCC = the five-digit status code, X = Luhn check digit)
#   bank account  99CCCCC0              (with any valid routing number, e.g. 011000015)
#   wallet        magicCODE@example.com (PayPal / Venmo)
#   last name     MagicCODE             (recipient_last_name, beneficiary_last_name or recipient_information.last_name)
#   amount cents  .02 .03 .06 .08 .13 .14 .42 .51-.63 .70-.72 .75 .80 .81 .83 .90 on process and debit
# Everything else, including Ingo's documentation examples (4111111111111111, routing 011000015,
# account 22222222), is approved.
"""


class _NoAliases(yaml.SafeDumper):
    """Write repeated values out in full: a file people read should not contain &id001 anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


#: The bundled scenario's name: a rule of it answered with the emulator's magic values (choice:magic-values).
SCENARIO_NAME = "magic-values"


def generate() -> str:
    document = {"version": 1, "scenarios": [{
        "name": SCENARIO_NAME,
        "description": "Bundled triggers for every catalogued Ingo outcome (turn off with --no-default-scenarios).",
        "active": True,
        "rules": rules(),
    }]}
    return HEADER + str(yaml.dump(document, Dumper=_NoAliases, sort_keys=False, width=120))


if __name__ == "__main__":
    print(generate(), end="")


def _code(text: str) -> str:
    """``text`` as Markdown code, or nothing when there is no text."""
    return f"`{text}`" if text else ""


def source_cell(status: Status) -> str:
    """Who defines the code: ``[Ingo](page)``, linked to the page that documents it, or ``emulator's``, linked to
    the choice's reason in docs/contract.md (relative to docs/, where the table is)."""
    if status.is_ingo:
        return f"[Ingo]({status.page})"
    anchor = choice(STATUS_PREFIX + str(status.code)).contract or ""  # a choice always has one
    return f"[emulator's]({anchor.removeprefix('docs/')})"


def _table_row(status: Status, cents_for: dict[int, int]) -> list[str]:
    """The magic-values table's row of one outcome: its triggers, or why it has none."""
    head = [str(status.code), status.message, source_cell(status)]
    if status.code in NO_TRIGGER:
        return [*head, "", "", "", "", "", "", NO_TRIGGER[status.code]]
    endpoints = endpoints_for(status)
    session_only = endpoints == ["session"]
    follow = ", ".join(f"{code} after {after}" for after, _, code in FOLLOW_UPS.get(status.code, (0, []))[1])
    answer = f"{FOLLOW_UPS[status.code][0]} now" if status.code in FOLLOW_UPS else ""
    cents = f".{cents_for[status.code]:02d}" if status.code in cents_for else ""
    kinds = KINDS.get(status.code, ALL_KINDS)
    values = {"card": card_number(status.code), "bank": bank_account(status.code),
              "wallet": wallet_account(status.code), "name": last_name(status.code)}
    shown = [_code(values[kind]) if kind in kinds and (kind == "name" or not session_only) else ""
             for kind in ALL_KINDS]
    return [*head, ", ".join(endpoints), *shown, cents, "; ".join(x for x in (answer, follow) if x)]


def markdown_table() -> str:
    """docs/magic-values.md's table: one row per outcome, each trigger that produces it."""
    cents_for = {code: cents for cents, code in CENTS.items()}
    lines = ["| status | client_message | source | endpoint | card number (CA) | bank account (AC, SD, RT, WT) | "
             "wallet (PD, PU, VE) | last name | amount cents | follow-up webhooks |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for status in catalogue().values():
        if status.code != 100:
            lines.append("| " + " | ".join(_table_row(status, cents_for)) + " |")
    return "\n".join(lines)
