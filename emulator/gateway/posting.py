"""When a payment posts: Ingo's estimated_posting_time and estimated_posting_date per account type."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

#: Business days until posting, and whether the time text names minutes or the date.
POSTING_RULES: dict[str, tuple[int, str]] = {
    "CA": (0, "minutes"), "RT": (0, "minutes"), "PD": (0, "minutes"), "PU": (0, "minutes"), "VE": (0, "minutes"),
    "SD": (0, "date"), "AC": (1, "date"), "WT": (1, "date"), "BP": (2, "date"), "CK": (7, "days"),
}


def add_business_days(start: date, days: int) -> date:
    current = start
    while current.weekday() >= 5:
        current += timedelta(days=1)
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def estimated_posting(account_type: str, now: float) -> tuple[str, str]:
    """(estimated_posting_time, estimated_posting_date) for a payment made at ``now``."""
    return _posting_on(account_type, int(now // 86400))


@lru_cache(maxsize=256)
def _posting_on(account_type: str, day: int) -> tuple[str, str]:
    """The answer only depends on the account type and the UTC day, so it is computed once per day."""
    business_days, style = POSTING_RULES.get(account_type, (1, "date"))
    today = date(1970, 1, 1) + timedelta(days=day)
    if style == "minutes":
        return "Payment will post within 5 minutes.", today.strftime("%m/%d/%Y")
    if style == "days":
        return "Payment will post 7-10 Days", add_business_days(today, business_days).strftime("%m/%d/%Y")
    when = add_business_days(today, business_days).strftime("%m/%d/%Y")
    return f"Payment will post {when}", when
