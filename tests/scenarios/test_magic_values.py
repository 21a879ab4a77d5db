"""The bundled magic values (scenarios/magic-values.yaml): every trigger produces its outcome.

Expected codes and messages are written out here, from the documented trigger scheme (the file's header
comment and the README), never read back from the catalogue or from emulator.scenarios.magic.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.bodies import ACH, CARD, RECIPIENT, v11
from tests.support.bodies import SESSION as SESSION_BODY
from tests.support.paths import ROOT

PROCESS = "/gateway/process"
DEBIT = "/gateway/v12/debit/process"
VERIFY = "/gateway/verify"
SESSION_PATH = "/api/v1/sessions/point-in-time/plugin"

MISSING = "Transaction Failure - Contact Ingo Payments Client Services at 877-739-2926"
INCORRECT = "Transaction Failure- Contact Ingo Payments Client Services at 877-739-2926"

#: client_message of a representative subset, as Ingo publishes it (reference 4.2) or the emulator documents it.
MESSAGES = {
    101: "Success - Idempotent Response",
    102: "Success - Pending Issuer Response",
    103: "Success - Payment request received - queued for processing",
    104: "In Progress - Idempotent Response",
    111: "Success - AVS Street address matches but the zip does not",
    113: "Success - AVS Street address and zip could not be verified due to incompatible formats",
    400: MISSING,
    401: INCORRECT,
    402: INCORRECT,
    500: "System Error - Please retry the transaction",
    700: "Account not currently available for processing via Ingo",
    751: "Card expired",
    753: "AVS Declined - Street address matches but the zip does not",
    755: "AVS Declined - Street address and zip could not be verified due to incompatible formats",
    851: "Declined - Insufficient funds",
    852: "Declined - Do not honor",
    854: "Declined - Stolen card",
    900: "General System Error - Contact Ingo Payments Client Services at 877-739-2926",
    1042: "Check Digit Failure - Please check account number and try again.",
    13723: "Idempotency key mismatch",
}

# Where each outcome fires and what the caller sees at once:
#   "verify"  - at verify (the account is refused there, or approved with a soft result)
#   "pay"     - at process and at debit (verify approves)
#   "process" - at process only (verify approves; debit approves)
VERIFY_CODES = [(111, 111), (112, 112), (113, 113), (750, 750), (752, 752), (753, 753), (754, 754), (755, 755),
                (1103, 100), (1104, 100), (1105, 100)]
PAY_CODES = [101, 104, 400, 401, 402, 500, 501, 503, 601, 602, 603, 604, 700, 701, 710, 751, 760, 761,
             851, 852, 853, 854, 855, 856, 857, 858, 859, 900]
PROCESS_CODES = [(770, 770), (1042, 1042), (102, 102), (103, 103), (1125, 102), (130, 100), (1106, 100),
                 (1107, 100), (1108, 100), (1113, 100), (1114, 100)]
#: Soft verification results approve: the account is tokenized.
SOFT = {111, 112, 113, 1103, 1104, 1105}


def luhn_complete(partial: str) -> str:
    """``partial`` with the Luhn check digit appended (an independent implementation, for the card pattern)."""
    digits = [int(c) for c in partial]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return partial + str((10 - total % 10) % 10)


def card(code: int) -> str:
    """4000 00CC CCC0 000X: the five-digit code in the middle, a Luhn check digit last."""
    return luhn_complete(f"400000{code:05d}0000")


def bank(code: int) -> str:
    return f"99{code:05d}0"


def wallet(code: int) -> str:
    return f"magic{code}@example.com"


def test_the_card_pattern_gives_valid_visa_numbers():
    assert card(851) == "4000000085100008"
    assert card(101) == "4000000010100008"
    assert bank(851) == "99008510"
    assert wallet(1114) == "magic1114@example.com"


# -- helpers ---------------------------------------------------------------------------------------------------


def payment(token: str, account_type: str, puid1: str = "magic-pay-1", amount: float = 10.5) -> dict:
    return v11(account_type=account_type, amount=amount, customer_account_token=token, source_of_funds=4,
               participant_unique_id1=puid1)


def debit_body(token: str, account_type: str, puid1: str = "magic-pull-1", amount: str = "20.50") -> dict:
    return {"request": {"participant_id": "12345", "timestamp": str(v11()["timestamp"])},
            "transaction": {"account_type": account_type,
                            "transaction_amount": {"currency_code": "USD", "amount": amount},
                            "participant_unique_ids": {"participant_unique_id1": puid1,
                                                       "participant_unique_id2": ""},
                            "customer_account_token": token, "source_of_funds": 4}}


async def verify(emulator, fields: dict) -> dict:
    status, body, _ = await emulator.post(VERIFY, v11(**fields))
    assert status == 200, body
    return body


async def token_for(emulator, fields: dict) -> str:
    body = await verify(emulator, fields)
    assert body["status"] == 100, body
    return body["data"]["customer_account_token"]


async def pay(emulator, token: str, account_type: str, **options) -> dict:
    status, body, _ = await emulator.post(PROCESS, payment(token, account_type, **options))
    assert status == 200, body
    return body


async def pull(emulator, token: str, account_type: str, **options) -> dict:
    status, body, _ = await emulator.post(DEBIT, debit_body(token, account_type, **options))
    assert status == 200, body
    return body


async def events(emulator) -> list[dict]:
    response = await emulator.client.get("/_emulator/events")
    assert response.status == 200
    return (await response.json())["events"]


async def advance(emulator, seconds: float) -> None:
    response = await emulator.client.post("/_emulator/clock", json={"advance": seconds})
    assert response.status == 200, await response.text()


def card_fields(code: int, **extra) -> dict:
    return {**CARD, "account": card(code), **extra}


def bank_fields(code: int, account_type: str = "AC") -> dict:
    return {**ACH, "account_type": account_type, "account": bank(code), "routing_number": "011000015"}


def wallet_fields(code: int, account_type: str) -> dict:
    return {"account_type": account_type, "participant_unique_id1": "wallet-1", "account": wallet(code),
            "receiver_type": 1, **RECIPIENT}


# -- Ingo's documentation examples approve -----------------------------------------------------------------------


async def test_documentation_examples_approve(emulator):
    body = await verify(emulator, {**CARD, "account": "4111111111111111"})
    assert (body["status"], body["client_message"]) == (100, "Success")
    paid = await pay(emulator, body["data"]["customer_account_token"], "CA", amount=1010.5)
    assert (paid["status"], paid["client_message"]) == (100, "Success")
    body = await verify(emulator, {**ACH, "routing_number": "011000015", "account": "22222222"})
    assert (body["status"], body["client_message"]) == (100, "Success")
    paid = await pay(emulator, body["data"]["customer_account_token"], "AC", puid1="doc-ach", amount=10.5)
    assert (paid["status"], paid["client_message"]) == (100, "Success")
    pulled = await pull(emulator, body["data"]["customer_account_token"], "AC", amount="101.96")
    assert (pulled["response"]["status"], pulled["response"]["message"]) == ("100", "Success")


# -- card numbers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code, now", VERIFY_CODES)
async def test_card_trigger_at_verify(emulator, code, now):
    body = await verify(emulator, card_fields(code))
    assert body["status"] == now, body
    if code in MESSAGES:
        assert body["client_message"] == MESSAGES[code]
    if code in SOFT:
        assert body["data"]["customer_account_token"], body
        assert body["data"]["last_4"] == card(code)[-4:]
    else:
        assert "customer_account_token" not in body["data"], body
        # refused at verify: the number was never tokenized, so nothing can be paid with it later
        assert body["client_message"] != "Success"


@pytest.mark.parametrize("code", PAY_CODES)
async def test_card_trigger_at_process_and_debit(emulator, code):
    token = await token_for(emulator, card_fields(code))  # verify approves these numbers
    paid = await pay(emulator, token, "CA")
    assert paid["status"] == code, paid
    if code in MESSAGES:
        assert paid["client_message"] == MESSAGES[code]
    pulled = await pull(emulator, token, "CA")
    assert pulled["response"]["status"] == str(code), pulled
    if code in MESSAGES:
        assert pulled["response"]["message"] == MESSAGES[code]


@pytest.mark.parametrize("code, now", PROCESS_CODES)
async def test_card_trigger_at_process_only(emulator, code, now):
    token = await token_for(emulator, card_fields(code))
    paid = await pay(emulator, token, "CA")
    assert paid["status"] == now, paid
    if now in MESSAGES:
        assert paid["client_message"] == MESSAGES[now]
    if code in (770, 1042):  # not debit outcomes: a pull with the same card approves
        pulled = await pull(emulator, token, "CA")
        assert pulled["response"]["status"] == "100", pulled


async def test_a_card_refused_at_verify_is_never_paid(emulator):
    body = await verify(emulator, card_fields(752))
    assert body["status"] == 752
    assert body["client_message"] == "Invalid expiration date"
    body = await verify(emulator, card_fields(750))
    assert (body["status"], body["client_message"]) == (750, "Invalid card number")


# -- bank accounts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", PAY_CODES)
async def test_bank_trigger_on_ach(emulator, code):
    token = await token_for(emulator, bank_fields(code))
    paid = await pay(emulator, token, "AC")
    assert paid["status"] == code, paid
    if code in MESSAGES:
        assert paid["client_message"] == MESSAGES[code]
    pulled = await pull(emulator, token, "AC")
    assert pulled["response"]["status"] == str(code), pulled


@pytest.mark.parametrize("code, now", [(111, 111), (753, 753), (755, 755)])
async def test_bank_trigger_at_verify(emulator, code, now):
    body = await verify(emulator, bank_fields(code))
    assert body["status"] == now, body
    assert body["client_message"] == MESSAGES[code]


@pytest.mark.parametrize("verified_as, paid_as, code", [
    ("SD", "SD", 851), ("SD", "SD", 503), ("AC", "SD", 700), ("AC", "RT", 851), ("AC", "RT", 1042),
    ("SD", "RT", 102), ("AC", "RT", 1114),
])
async def test_bank_trigger_on_same_day_and_rtp(emulator, verified_as, paid_as, code):
    token = await token_for(emulator, bank_fields(code, verified_as))
    paid = await pay(emulator, token, paid_as)
    expected = {102: 102, 1114: 100}.get(code, code)
    assert paid["status"] == expected, paid


async def test_bank_trigger_on_same_day_debit(emulator):
    token = await token_for(emulator, bank_fields(852, "SD"))
    pulled = await pull(emulator, token, "SD")
    assert (pulled["response"]["status"], pulled["response"]["message"]) == ("852", "Declined - Do not honor")


async def test_ordinary_bank_account_approves(emulator):
    token = await token_for(emulator, {**ACH, "account": "99999999"})  # 99 prefix but no trigger
    assert (await pay(emulator, token, "AC"))["status"] == 100


# -- wallets -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("account_type, code, now", [
    ("PD", 851, 851), ("PD", 700, 700), ("PD", 1114, 100), ("PD", 102, 102),
    ("PU", 852, 852), ("PU", 500, 500), ("PU", 1042, 1042),
    ("VE", 856, 856), ("VE", 900, 900), ("VE", 601, 601),
])
async def test_wallet_trigger_at_process(emulator, account_type, code, now):
    token = await token_for(emulator, wallet_fields(code, account_type))
    paid = await pay(emulator, token, account_type)
    assert paid["status"] == now, paid
    if now in MESSAGES:
        assert paid["client_message"] == MESSAGES[now]


@pytest.mark.parametrize("account_type, code", [("PD", 753), ("PU", 111), ("VE", 750)])
async def test_wallet_trigger_at_verify(emulator, account_type, code):
    body = await verify(emulator, wallet_fields(code, account_type))
    assert body["status"] == code, body


async def test_ordinary_wallet_approves(emulator):
    token = await token_for(emulator, wallet_fields(0, "PD") | {"account": "jane.doe@example.com"})
    assert (await pay(emulator, token, "PD"))["status"] == 100


# -- recipient last names ----------------------------------------------------------------------------------------


CHECK_BENEFICIARY = {"beneficiary_account": "3000000038", "beneficiary_first_name": "Jane",
                     "beneficiary_last_name": "Doe", "beneficiary_address1": "1 Main St",
                     "beneficiary_city": "Atlanta", "beneficiary_state": "GA", "beneficiary_zip": "30301"}


def named(account_type: str, last_name: str) -> dict:
    if account_type == "CA":
        return {**CARD, "recipient_last_name": last_name}
    if account_type == "AC":
        return {**ACH, "recipient_last_name": last_name}
    if account_type == "CK":
        return {"account_type": "CK", "participant_unique_id1": "check-1",
                "beneficiary": {**CHECK_BENEFICIARY, "beneficiary_last_name": last_name}}
    return {"account_type": account_type, "participant_unique_id1": "wallet-1", "account": "jane.doe@example.com",
            "receiver_type": 1, **RECIPIENT, "recipient_last_name": last_name}


@pytest.mark.parametrize("account_type, code, now", [
    ("CA", 851, 851), ("CA", 854, 854), ("CA", 102, 102), ("CA", 1107, 100),
    ("AC", 852, 852), ("AC", 700, 700), ("AC", 1114, 100),
    ("CK", 855, 855), ("CK", 400, 400), ("CK", 1113, 100),
    ("PD", 853, 853), ("PD", 1042, 1042),
])
async def test_last_name_trigger_at_process(emulator, account_type, code, now):
    token = await token_for(emulator, named(account_type, f"Magic{code}"))
    paid = await pay(emulator, token, account_type)
    assert paid["status"] == now, paid
    if now in MESSAGES:
        assert paid["client_message"] == MESSAGES[now]


@pytest.mark.parametrize("account_type, code", [("CA", 753), ("AC", 111), ("CK", 750), ("PD", 755)])
async def test_last_name_trigger_at_verify(emulator, account_type, code):
    body = await verify(emulator, named(account_type, f"Magic{code}"))
    assert body["status"] == code, body


async def test_last_name_trigger_ignores_case(emulator):
    token = await token_for(emulator, named("CA", "MAGIC851"))
    assert (await pay(emulator, token, "CA"))["status"] == 851


async def test_last_name_trigger_on_debit(emulator):
    token = await token_for(emulator, named("AC", "Magic851"))
    pulled = await pull(emulator, token, "AC")
    assert pulled["response"]["status"] == "851", pulled


SESSION: dict[str, Any] = {**SESSION_BODY, "participant_unique_id1": "session-magic-1"}


async def test_last_name_13723_on_the_session_endpoint(emulator):
    body = {**SESSION, "recipient_information": {**SESSION["recipient_information"], "last_name": "Magic13723"}}
    status, document, _ = await emulator.post(SESSION_PATH, body, extra_headers={"Idempotency-Key": "k-1"})
    assert status == 200, document
    assert (document["status"], document["client_message"]) == (13723, "Idempotency key mismatch")
    status, document, _ = await emulator.post(SESSION_PATH, SESSION, extra_headers={"Idempotency-Key": "k-2"})
    assert (status, document["status"]) == (200, 100), document


# -- amount cents ------------------------------------------------------------------------------------------------


CENTS_PROCESS = [(2, 102), (3, 103), (42, 1042), (51, 851), (52, 852), (53, 853), (54, 854), (55, 855),
                 (56, 856), (57, 857), (58, 858), (59, 859), (60, 601), (61, 602), (62, 603), (63, 604),
                 (70, 700), (71, 701), (72, 710), (75, 751), (80, 500), (81, 501), (83, 503), (90, 900),
                 (6, 100), (8, 100), (13, 100), (14, 100)]
CENTS_DEBIT = [(51, 851), (52, 852), (59, 859), (60, 601), (63, 604), (70, 700), (72, 710), (75, 751), (80, 500),
               (83, 503), (90, 900)]


async def test_amount_cents_on_process(emulator, card_token):
    for index, (cents, expected) in enumerate(CENTS_PROCESS):
        paid = await pay(emulator, card_token, "CA", puid1=f"cents-{index}", amount=float(f"12.{cents:02d}"))
        assert paid["status"] == expected, (cents, paid)
    paid = await pay(emulator, card_token, "CA", puid1="cents-none", amount=12.01)
    assert paid["status"] == 100


async def test_amount_cents_on_debit(emulator):
    token = await token_for(emulator, ACH)
    for index, (cents, expected) in enumerate(CENTS_DEBIT):
        pulled = await pull(emulator, token, "AC", puid1=f"cents-{index}", amount=f"20.{cents:02d}")
        assert pulled["response"]["status"] == str(expected), (cents, pulled)
    pulled = await pull(emulator, token, "AC", puid1="cents-none", amount="20.01")
    assert pulled["response"]["status"] == "100"


async def test_amount_cents_messages(emulator, card_token):
    paid = await pay(emulator, card_token, "CA", puid1="m-51", amount=7.51)
    assert (paid["status"], paid["client_message"]) == (851, "Declined - Insufficient funds")
    paid = await pay(emulator, card_token, "CA", puid1="m-80", amount=7.80)
    assert (paid["status"], paid["client_message"]) == (500, "System Error - Please retry the transaction")


# -- follow-up events --------------------------------------------------------------------------------------------


SUSPENDED = "gateway.transaction.recipient.verification.ofac.status.suspended"
CLEARED = "gateway.transaction.recipient.verification.ofac.status.cleared"
OFAC_FAILED = "gateway.transaction.recipient.verification.ofac.status.failure"
SUCCESS = "gateway.transaction.recipient.payment.status.success"
RETURNED = "gateway.transaction.recipient.payment.status.returned"
TERMINATED = "gateway.transaction.recipient.payment.status.terminated"

# code: (status now, [(seconds after the request, topic, status), ...]) -- as the README documents them, with the
# payment's final-outcome webhook: at once when the push is paid and no event of the rule settles or holds it
FOLLOW_UPS = [
    (102, 102, [(60, SUCCESS, "1125")]),
    (103, 103, [(60, SUCCESS, "1125")]),
    (1125, 102, [(300, SUCCESS, "1125")]),
    (130, 100, [(0, SUSPENDED, "130")]),
    (1106, 100, [(0, SUSPENDED, "1106")]),
    (1107, 100, [(0, SUSPENDED, "1106"), (3600, CLEARED, "1107"), (3600, SUCCESS, "1125")]),
    (1108, 100, [(0, SUSPENDED, "1106"), (3600, OFAC_FAILED, "1108")]),
    (1113, 100, [(3600, TERMINATED, "1113")]),
    (1114, 100, [(0, SUCCESS, "1125"), (2 * 86400, RETURNED, "1114")]),
]


def seen(found: list[dict]) -> list[tuple[str, str]]:
    return sorted((e["topic"], e["envelope"]["data"]["event"]["status"]) for e in found)


@pytest.mark.parametrize("trigger", ["card", "name", "bank"])
@pytest.mark.parametrize("code, now, follow_ups", FOLLOW_UPS)
async def test_follow_up_events_arrive_on_the_emulator_clock(emulator, code, now, follow_ups, trigger):
    if trigger == "card":
        token, account_type = await token_for(emulator, card_fields(code)), "CA"
    elif trigger == "bank":
        token, account_type = await token_for(emulator, bank_fields(code)), "AC"
    else:
        token, account_type = await token_for(emulator, named("CA", f"Magic{code}")), "CA"
    paid = await pay(emulator, token, account_type)
    assert paid["status"] == now, paid
    expected: list[tuple[str, str]] = []
    elapsed = 0
    for after in sorted({after for after, _, _ in follow_ups}):
        due = [(topic, status) for at, topic, status in follow_ups if at == after]
        if after > elapsed:
            await advance(emulator, after - elapsed - 1)
            assert seen(await events(emulator)) == sorted(expected), f"{due} before {after}s"
            await advance(emulator, 1)
            elapsed = after
        else:
            await advance(emulator, 0)
        expected.extend(due)
        assert seen(await events(emulator)) == sorted(expected)
    for event in await events(emulator):
        assert event["participant_id"] == 12345
        assert event["envelope"]["data"]["event"]["transaction_id"] == str(paid["data"]["transaction_id"])
        assert event["envelope"]["data"]["ancillary"]["participant_unique_id1"] == "magic-pay-1"


async def test_returned_payment_arrives_after_two_days_not_one(emulator):
    token = await token_for(emulator, card_fields(1114))
    paid = await pay(emulator, token, "CA")
    assert (paid["status"], paid["client_message"]) == (100, "Success")
    await advance(emulator, 86400)
    assert [e["topic"] for e in await events(emulator)] == [SUCCESS]  # paid at once; the return is not due yet
    await advance(emulator, 86400)
    found = await events(emulator)
    assert [e["topic"] for e in found] == [RETURNED, SUCCESS]  # newest first
    event = found[0]["envelope"]["data"]["event"]
    assert (event["status"], event["client_message"]) == ("1114", "Payment Returned by Issuer")
    assert event["amount"] == "10.50"


async def test_ofac_suspend_now_then_cleared_after_an_hour(emulator):
    token = await token_for(emulator, card_fields(1107))
    assert (await pay(emulator, token, "CA"))["status"] == 100
    await advance(emulator, 0)
    found = await events(emulator)
    assert [(e["topic"], e["envelope"]["data"]["event"]["client_message"]) for e in found] == [
        (SUSPENDED, "Recipient Verification OFAC Suspend")]
    await advance(emulator, 3599)
    assert len(await events(emulator)) == 1
    await advance(emulator, 1)
    found = await events(emulator)
    # newest first: cleared, the held payment completes and its final-outcome webhook follows
    assert [e["topic"] for e in found] == [SUCCESS, CLEARED, SUSPENDED]
    assert found[1]["envelope"]["data"]["event"]["client_message"] == "Recipient Verification OFAC Cleared"


@pytest.mark.parametrize("code, topic", [
    (1103, "plugin.transaction.recipient.verification.rvdm.success"),
    (1104, "plugin.transaction.recipient.verification.rvdm.success"),  # Ingo: a soft fail comes on the success topic
    (1105, "plugin.transaction.recipient.verification.rvdm.failure"),
])
async def test_recipient_verification_events_follow_verify(emulator, code, topic):
    body = await verify(emulator, card_fields(code))
    assert (body["status"], body["client_message"]) == (100, "Success")
    await advance(emulator, 0)
    found = await events(emulator)
    assert [(e["topic"], e["envelope"]["data"]["event"]["status"]) for e in found] == [(topic, str(code))]
    assert found[0]["envelope"]["data"]["event"]["customer_account_token"] == body["data"]["customer_account_token"]


async def test_the_ach_name_and_address_trigger_refuses_at_verify_and_sends_the_nav_webhook(emulator):
    body = await verify(emulator, bank_fields(777))
    assert (body["status"], body["client_message"]) == (777, "Address did not match")
    assert "customer_account_token" not in body["data"]
    await advance(emulator, 0)
    [event] = await events(emulator)
    assert event["topic"] == "plugin.transaction.account.verification.ach.nav.failure"
    assert (event["envelope"]["data"]["event"]["status"], event["envelope"]["data"]["event"]["client_message"]) == (
        "777", "Address did not match")
    # name-on-account validation is a bank check: the card, wallet and last-name patterns for 777 approve
    assert (await verify(emulator, card_fields(777)))["status"] == 100
    assert (await verify(emulator, wallet_fields(777, "PD")))["status"] == 100
    assert (await verify(emulator, named("CA", "Magic777")))["status"] == 100


@pytest.mark.parametrize("cents, topic, after, status", [
    (2, SUCCESS, 60, "1125"), (14, RETURNED, 2 * 86400, "1114"), (13, TERMINATED, 3600, "1113"),
    (8, OFAC_FAILED, 3600, "1108"), (6, CLEARED, 3600, "1107"),
])
async def test_amount_cents_follow_ups(emulator, card_token, cents, topic, after, status):
    await pay(emulator, card_token, "CA", amount=float(f"3.{cents:02d}"))
    await advance(emulator, after - 1)
    assert topic not in [e["topic"] for e in await events(emulator)]
    await advance(emulator, 1)
    assert (topic, status) in seen(await events(emulator))


# -- the committed files and the README are generated ------------------------------------------------------------


def test_committed_magic_values_file_is_generated():
    from emulator.scenarios import magic

    committed = (ROOT / "scenarios" / "magic-values.yaml").read_text(encoding="utf-8")
    assert committed == magic.generate(), "run: python -m emulator.scenarios.magic > scenarios/magic-values.yaml"


def test_packaged_copy_of_the_bundled_scenarios_matches():
    packaged = ROOT / "emulator" / "bundled_scenarios" / "magic-values.yaml"
    if packaged.is_symlink() or not packaged.exists():
        pytest.skip("the package links to (or builds from) scenarios/")
    assert packaged.read_text(encoding="utf-8") == (ROOT / "scenarios" / "magic-values.yaml").read_text("utf-8")


def test_committed_json_schema_equals_the_schema_command(capsys):
    from emulator.cli import main

    assert main(["schema"]) == 0  # `ingopay-emulator schema`, in this process
    printed = capsys.readouterr().out
    committed = (ROOT / "docs" / "scenario.schema.json").read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(printed)
    assert committed.strip() == printed.strip(), "run: ingopay-emulator schema > docs/scenario.schema.json"


def test_the_docs_show_the_magic_values_table():
    from emulator.scenarios import magic

    readme = (ROOT / "docs" / "magic-values.md").read_text(encoding="utf-8")
    start, end = "<!-- magic-values:start -->", "<!-- magic-values:end -->"
    assert start in readme and end in readme, "docs/magic-values.md needs its table between the markers"
    section = readme.split(start, 1)[1].split(end, 1)[0]
    assert magic.markdown_table() in section


#: Catalogued outcomes with no magic value: the table's row (docs/magic-values.md) says why instead of naming
#: triggers.
UNTRIGGERED = {1111: "Address on file verified by customer",
               1127: "Overall max account verification attempts limit exceeded"}


@pytest.mark.parametrize("code, message", sorted(UNTRIGGERED.items()))
def test_an_outcome_without_a_trigger_says_why_in_the_docs(code, message):
    import yaml

    readme = (ROOT / "docs" / "magic-values.md").read_text(encoding="utf-8")
    [row] = [line for line in readme.splitlines() if line.startswith(f"| {code} | {message} |")]
    assert "no trigger: " in row and "`" not in row, row
    bundled = yaml.safe_load((ROOT / "scenarios" / "magic-values.yaml").read_text(encoding="utf-8"))
    names = [rule["name"] for rule in bundled["scenarios"][0]["rules"]]
    assert not [name for name in names if name.endswith(f"-{code}")]


#: The table's source column (docs/magic-values.md), written out: Ingo's codes link the page that shows them, invented
#: ones say so and link the choice's reason in docs/contract.md (relative to docs/, where the table is).
SOURCES = {
    851: "[emulator's](contract.md#choice-status-851)",
    500: "[emulator's](contract.md#choice-status-500)",
    601: "[emulator's](contract.md#choice-status-601)",
    111: "[Ingo](https://developer-payments.ingomoney.com/en/ingopay-api/codes-messaging/response-codes)",
    400: "[Ingo](https://developer-payments.ingomoney.com/en/ingopay-iframe/api-gateway-process/response-codes)",
    1106: "[Ingo](https://developer-payments.ingomoney.com/en/ingopay-iframe/webhooks/event-status-codes)",
    1114: "[Ingo](https://developers.ingopayments.com/iframe-webhooks/websockets/check-returned)",
    777: "[Ingo](https://developers.ingopayments.com/ingopay-webhooks/websockets/ach-nameaddress-verification-failure)",
    13723: "[Ingo](https://developers.ingopayments.com/docs/iframe/session/session-management)",
}


def test_the_table_says_who_defines_each_code():
    readme = (ROOT / "docs" / "magic-values.md").read_text(encoding="utf-8")
    section = readme.split("<!-- magic-values:start -->", 1)[1].split("<!-- magic-values:end -->", 1)[0]
    rows = [line.split(" | ") for line in section.strip().splitlines()]
    assert rows[0][:3] == ["| status", "client_message", "source"]
    by_code = {row[0].lstrip("| "): row for row in rows[2:]}
    for code, source in SOURCES.items():
        assert by_code[str(code)][2] == source, code
    ingo = re.compile(r"\[Ingo\]\(https://(developers\.ingopayments\.com|developer-payments\.ingomoney\.com)/\S+\)")
    emulator = re.compile(r"\[emulator's\]\(contract\.md#choice-status-[0-9]+\)")
    assert [row[0] for row in rows[2:] if not emulator.fullmatch(row[2]) and not ingo.fullmatch(row[2])] == []
    before = readme.split("<!-- magic-values:start -->", 1)[0].rsplit("# Magic values", 1)[1]
    assert "**emulator's** marks a code the emulator invented" in before
