"""Ingo's example accounts: the tokens Ingo's pages print, known to every emulator so that Ingo's examples run as
printed (Ingo's sandbox pre-loads test accounts for its "Controlled" scenarios; these are the emulator's).

Ingo's process, debit and risk examples name tokens that its verify examples return, and some that no example
returns (the debit and risk-score examples); the PayPal and retail process examples pay the card example's token.
Each token here pays what Ingo's examples pay with it. They belong to no participant's state: they are found when
looked up and never listed, reset or counted (docs/contract.md).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from emulator.gateway import directory
from emulator.store import Record

#: Ingo's example recipient (the verify examples' names and address).
_RECIPIENT = {"first_name": "Alex", "last_name": "Rivera", "business_name": None, "address1": "100 Innovation Way",
              "city": "Anytown", "state": "GA", "zip": "00000"}


def _card(token: str, puid1: str, *, pays: tuple[str, ...] = ("CA",)) -> Record:
    return {"token": token, "account_type": "CA", "last_4": "1111", "account": "4111111111111111",
            "routing_number": None, "expiration_date": "2612", "payee_id": None,
            "issuer": directory.card_issuer("4111111111111111"), "recipient": _RECIPIENT,
            "participant_unique_id1": puid1, "payable_as": list(pays)}


def _bank(token: str, puid1: str) -> Record:
    return {"token": token, "account_type": "AC", "last_4": "2222", "account": "22222222",
            "routing_number": "011000015", "expiration_date": "", "payee_id": None,
            "issuer": directory.bank_issuer("011000015"), "recipient": _RECIPIENT, "participant_unique_id1": puid1}


@cache
def _tokens() -> dict[str, Record]:
    tokens = [
        # card verify example (docs/ingopay/verify/card); paid as PU by the PayPal / Venmo process example
        _card("ca875cce-58c0-46a0-8f14-676190cc7df6", "1f2739ed-3531-4af2-ae36-e6faf7936462", pays=("CA", "PU")),
        # retail card-present verify example, and the SDK's TOKEN_SUCCESS example (docs/iframe/session/events)
        _card("715b9903-7bcd-45ae-bc92-4092c8186d9f", "fb746578-c4c3-498f-b398-1ff07b4fe2ff"),
        _card("0bef3f2d-3e17-4320-a865-39ffb6b96c2e", ""),
        # ACH verify example; the debit ACH and risk-score examples' tokens, which no example returns
        _bank("89421718-a62e-4344-8a1d-4baf73fb11f1", "5bf1e2c3-2169-406f-bf1b-f7bc5c2303b3"),
        _bank("4153e416-d81d-4420-a494-9feceed4eef3", "eba1fff2-b74b-401f-957e-cc8a16c49408"),
        _bank("f40810e6-b382-4dd5-8012-9d8518136fdc", ""),
        # BillPay verify example (biller 123457)
        {"token": "a74eacf4-32e8-4081-b69c-565a89dd6cf1", "account_type": "BP", "last_4": "5678",
         "account": "12345678", "routing_number": None, "expiration_date": "", "payee_id": "123457",
         "issuer": directory.biller_issuer(directory.BILLERS_BY_ID["123457"]), "recipient": _RECIPIENT,
         "participant_unique_id1": "f8f68709-8e5d-4c19-8ca0-2eaffef4ec57"},
        # PayPal / Venmo verify example
        {"token": "a3650c4f-60e3-4f80-ba4b-b79055e20007", "account_type": "PU", "last_4": "k6Aw",
         "account": "jane.doe@example.com", "routing_number": None, "expiration_date": "", "payee_id": None,
         "issuer": directory.wallet_issuer("PU"), "recipient": _RECIPIENT,
         "participant_unique_id1": "5ced00c4-116d-4786-b1cd-016f7f23dc54"},
        # check verify example
        {"token": "6218c726-3989-40ab-af84-fa6f4c932cb6", "account_type": "CK", "last_4": "0038",
         "account": "3000000038", "routing_number": None, "expiration_date": "", "payee_id": None, "issuer": None,
         "recipient": _RECIPIENT, "participant_unique_id1": "35a792a5-39e6-46fa-add1-419a75d3aa9a"},
    ]
    return {record["token"]: {**record, "created": 0.0, "example": True} for record in tokens}


#: The risk-score example's session token and the debit ACH example's assessment token (no example returns them).
RISK_SESSIONS = frozenset({"e9751823-fed0-4982-802b-6a4bb1cdc86c"})
RISK_ASSESSMENTS = {"36f6b449-fa29-4f9e-919f-ad1e6433f1d5": "4153e416-d81d-4420-a494-9feceed4eef3"}


def token(value: str) -> Record | None:
    """Ingo's example token ``value`` (a copy), or None."""
    found = _tokens().get(value)
    return copy.deepcopy(found) if found is not None else None


def risk_session(value: str) -> Record | None:
    """The record of Ingo's example risk session ``value`` (it never expires), or None."""
    return {"token": value, "expires": float("inf")} if value in RISK_SESSIONS else None


def risk_assessment(value: str) -> dict[str, Any] | None:
    """The record of Ingo's example risk assessment ``value``, or None."""
    account = RISK_ASSESSMENTS.get(value)
    return {"token": value, "customer_account_token": account, "created": 0.0} if account else None
