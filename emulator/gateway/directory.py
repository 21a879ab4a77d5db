"""Where money can go: card issuers by BIN, banks by routing number, billers, wallets. Made-up but stable."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: Ingo's documentation examples, answered with the issuer its examples show.
KNOWN_BANKS = {"011000015": ("550333", "Test Bank")}
KNOWN_CARD_ISSUERS = {"411111": ("526263", "Bank of America - Platinum MasterCard and Visa",
                                 "PO Box 15019", "Wilmington", "DE", "19850-5019")}
_BANK_NAMES = ("First Federal Test Bank", "Sample Savings Bank", "Example Credit Union", "Demo National Bank",
               "Placeholder Community Bank", "Mock Mutual Bank")
_CARD_BANKS = ("Example Card Services", "Sample Debit Bank", "Demo Prepaid Card Co", "Test Issuing Bank",
               "Placeholder Card Bank")


@dataclass(frozen=True)
class BillerEntry:
    """A bill-pay destination in the directory, that biller search finds and bill-pay verify accepts (answered as
    ``answer_shapes.Biller``)."""

    id: str
    name: str
    address: str
    city: str
    state: str
    zip: str
    account_pattern: str
    min: str = "5.00"
    max: str = "2000.00"

    def matches(self, account: str) -> bool:
        return re.fullmatch(self.account_pattern, account) is not None

    @property
    def limits(self) -> tuple[str, str]:
        """The smallest and the largest amount the biller takes, as Ingo prints them ("5.00", "2000.00")."""
        return self.min, self.max


BILLERS = (
    # Ingo's biller search example finds this biller for the account 12345678 (eight digits)
    BillerEntry("123457", "First Service Middle Jersey", "PO Box 5555", "Anytown", "NJ", "00000", r"[0-9]{8,10}"),
    BillerEntry("123458", "Example Card Services Balance Paydown", "PO Box 1200", "Wilmington", "DE", "19850",
                r"[0-9]{15,16}", "1.00", "5000.00"),
    BillerEntry("123459", "Sample Wireless", "PO Box 7000", "Springfield", "IL", "62701", r"[0-9]{9,12}",
                "1.00", "500.00"),
    BillerEntry("123460", "Anytown Water Authority", "100 Main St", "Anytown", "OH", "43001", r"[A-Z]{2}[0-9]{6,8}"),
)
BILLERS_BY_ID = {b.id: b for b in BILLERS}


#: The characters of a made-up wallet id: Ingo's example shows last_4 "k6Aw" for jane.doe@example.com.
_WALLET_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def wallet_id(account_type: str, account: str) -> str:
    """The provider's id of a PayPal or Venmo wallet, made up but stable per account (last_4 shows its end: Ingo's
    example answers last_4 "k6Aw" for an email, so the last four come from the wallet, not from what was sent)."""
    number = int(hashlib.sha256(f"wallet|{account_type}|{account.lower()}".encode()).hexdigest(), 16)
    characters = []
    for _ in range(13):
        number, index = divmod(number, len(_WALLET_ALPHABET))
        characters.append(_WALLET_ALPHABET[index])
    return "".join(characters)


def within(limits: tuple[str, str], amount: float) -> bool:
    """Whether ``amount`` is within a destination's limits (its ``min`` and ``max``, both included)."""
    low, high = limits
    return float(low) <= amount <= float(high)


def _pick(seed: str, options: tuple[str, ...]) -> str:
    return options[int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(options)]


def _number(seed: str, digits: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**digits).zfill(digits)


def card_network(pan: str) -> str:
    if pan.startswith("4"):
        return "Visa"
    if pan[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(pan[:4]) <= 2720:
        return "MasterCard"
    if pan[:2] in {"34", "37"}:
        return "American Express"
    if pan.startswith(("6011", "65")):
        return "Discover"
    return "NA"


def luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_expired(year: int, month: int, now: float) -> bool:
    """Whether a card good through the end of ``month`` of 20``year`` (MM/YY or YYMM) has expired at ``now``."""
    today = datetime.fromtimestamp(now, tz=UTC)
    return (2000 + year, month) < (today.year, today.month)


def routing_ok(routing: str) -> bool:
    """The ABA checksum: 3*(d1+d4+d7) + 7*(d2+d5+d8) + (d3+d6+d9) divisible by 10."""
    d = [int(c) for c in routing]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


def card_issuer(pan: str) -> dict[str, Any]:
    """The issuer entry of a card verify (issuing network from the BIN, bank made up from it)."""
    bin6 = pan[:6]
    if bin6 in KNOWN_CARD_ISSUERS:
        payee_id, name, address, city, state, zip_code = KNOWN_CARD_ISSUERS[bin6]
    else:
        payee_id, name = _number("card" + bin6, 6), _pick("card" + bin6, _CARD_BANKS)
        address, city, state, zip_code = f"PO Box {_number('box' + bin6, 5)}", "Anytown", "DE", "19850"
    return {"payee_id": payee_id, "payee_name": name, "payee_address": address, "payee_city": city,
            "payee_state": state, "payee_zip": zip_code, "issuing_network": card_network(pan),
            "credit_enabled": 1, "debit_enabled": 0, "limits": ("0.05", "1500.00"), "card_type": "Debit"}


def bank_issuer(routing: str) -> dict[str, Any]:
    payee_id, name = KNOWN_BANKS.get(routing) or (_number("bank" + routing, 6), _pick("bank" + routing, _BANK_NAMES))
    return {"payee_id": payee_id, "payee_name": name, "payee_address": None, "payee_city": None,
            "payee_state": None, "payee_zip": None, "issuing_network": "NA", "credit_enabled": 1,
            "debit_enabled": 0, "limits": ("0.10", "1000.00"), "card_type": "DDA"}


def biller_issuer(biller: BillerEntry) -> dict[str, Any]:
    return {"payee_id": biller.id, "payee_name": biller.name, "payee_address": biller.address,
            "payee_city": biller.city, "payee_state": biller.state, "payee_zip": biller.zip,
            "issuing_network": "NA", "credit_enabled": 1, "debit_enabled": 0, "limits": biller.limits,
            "card_type": "NA"}


def wallet_issuer(account_type: str) -> dict[str, Any]:
    """PayPal's (or Venmo's) issuer entry; Ingo's example prints its address fields as empty strings."""
    venmo = account_type == "VE"
    return {"payee_id": "614005" if venmo else "614004", "payee_name": "Venmo" if venmo else "Paypal",
            "payee_address": "", "payee_city": "", "payee_state": "", "payee_zip": "",
            "issuing_network": "NA", "credit_enabled": 1, "debit_enabled": 0, "limits": ("0.01", "10000.00"),
            "card_type": "NA"}
