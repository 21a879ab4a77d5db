"""What the domain tells the scenario engine about a valid request, before the request takes effect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Result = TypeVar("Result")


@dataclass
class Facts:
    """What rules can match on, gathered from a valid request (and the token it names).

    ``fallback`` names a second endpoint whose rules answer when none written for ``endpoint`` matches (the iFrame
    tokenizes through verify, so verify's rules apply inside it too).
    """

    endpoint: str
    participant_id: int
    account_type: str | None = None
    account: str | None = None
    amount: float | None = None
    recipient: Mapping[str, str | None] = field(default_factory=dict)
    participant_unique_id1: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    funding_destination: str | None = None
    request: Mapping[str, Any] = field(default_factory=dict)
    token: Mapping[str, Any] | None = None
    fallback: str | None = None


@dataclass
class Pending(Generic[Result]):
    """A valid request that has not taken effect yet: the facts rules match on, and how to carry it out.

    The domain returns one from each operation a scenario rule may answer; whoever applies the rule (the HTTP edge)
    calls ``carry_out`` unless the rule refuses the request or faults it first, applies the rule's status and data
    to the result, then calls ``settle`` when there is one (what follows once the result is final: the iFrame
    completes its session with the token). ``ancillary`` is the ``data.ancillary`` of the follow-up webhook events
    a rule schedules for the request; ``event_members``, when the domain has them, gives the members Ingo's page
    shows in ``data.event`` of a topic (and status) that only the domain knows (the iFrame's attempt counts).
    """

    facts: Facts
    carry_out: Callable[[], Awaitable[Result]]
    ancillary: dict[str, Any]
    settle: Callable[[Result], Any] | None = None
    event_members: Callable[[str, int | None], dict[str, Any]] | None = None
