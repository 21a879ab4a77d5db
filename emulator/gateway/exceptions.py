"""The gateway's business errors, each carrying its Ingo status code."""

from emulator.core.errors import IngoError, InvalidParameter, MissingParameter, TimestampTooDistant
from emulator.core.provenance import RESPONSE_CODES, choice


class AccountNotAvailable(IngoError, code=700, diagnosis_code="account_not_available",
                          source=choice("account-not-available")):
    """The account cannot be paid through Ingo (700)."""


class AmountBelowMinimum(IngoError, code=602, diagnosis_code="amount_below_minimum",
                         source=choice("destination-limits")):
    """The amount is below the destination's minimum (602, emulator choice)."""


class CheckDigitFailure(IngoError, code=1042, diagnosis_code="check_digit_failure", source=RESPONSE_CODES):
    """The account or routing number fails its check digit (1042)."""


class CardExpired(IngoError, code=751, diagnosis_code="card_expired", source=choice("status-751")):
    """The card's expiration date has passed (751, emulator choice)."""


class InvalidToken(IngoError, code=760, diagnosis_code="invalid_token", source=choice("status-760")):
    """The customer_account_token is unknown to this participant (760, emulator choice)."""


class TokenAccountTypeMismatch(IngoError, code=761, diagnosis_code="token_account_type_mismatch",
                               source=choice("status-761")):
    """The token was issued for another account type (761, emulator choice)."""


__all__ = [
    "AccountNotAvailable", "AmountBelowMinimum", "CardExpired", "CheckDigitFailure",
    "InvalidParameter", "InvalidToken", "MissingParameter", "TimestampTooDistant",
    "TokenAccountTypeMismatch",
]
