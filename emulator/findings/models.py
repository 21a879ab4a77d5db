"""What a finding is and where findings are kept (the kinds there are: :mod:`emulator.findings.kinds`)."""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from time import monotonic
from time import time as wall_clock
from typing import Any

from pydantic import TypeAdapter
from typing_extensions import TypedDict

from emulator.core.clock import ClockOutOfRange, checked
from emulator.core.stateful import ARCHIVED, Refused, Stateful, each
from emulator.findings.kinds import KINDS as KINDS  # also importable from here, as before

LOG = logging.getLogger("ingopay_emulator.findings")
#: Findings kept (the oldest go first).
KEPT = 1_000
#: Requests or deliveries named by one finding, at most.
NAMED = 20


class FindingJson(TypedDict):
    """A finding as the admin API shows it."""

    id: str
    code: str
    participant_id: int | None
    username: str | None
    message: str
    rule: str
    reference: str
    requests: list[str]
    deliveries: list[str]
    occurrences: int
    time: float
    wall_time: float | None


@dataclass
class Finding:
    """One thing a client did that would lose money against Ingo: which kind, a sentence, what was involved."""

    id: str
    code: str
    participant_id: int | None
    username: str | None
    message: str
    time: float
    requests: list[str] = field(default_factory=list)  # request ids, as the journal shows them
    deliveries: list[str] = field(default_factory=list)
    occurrences: int = 1
    wall_time: float | None = None  # the machine's time when first found (``time`` is the emulator clock's)

    def as_json(self) -> FindingJson:
        kind = KINDS[self.code]
        return {"id": self.id, "code": self.code, "participant_id": self.participant_id, "username": self.username,
                "message": self.message, "rule": kind.rule, "reference": kind.reference,
                "requests": list(self.requests), "deliveries": list(self.deliveries),
                "occurrences": self.occurrences, "time": self.time, "wall_time": self.wall_time}

    def again(self, *, request: str | None = None, delivery: str | None = None) -> None:
        """The same mistake once more: counted, and what was involved named while there is room."""
        self.occurrences += 1
        if request is not None and request not in self.requests and len(self.requests) < NAMED:
            self.requests.append(request)
        if delivery is not None and delivery not in self.deliveries and len(self.deliveries) < NAMED:
            self.deliveries.append(delivery)


class _KeptFinding(FindingJson):
    """A finding as an archive must hold it."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]


KEPT_FINDING = TypeAdapter(_KeptFinding)


def checked_findings(section: Any) -> list[Finding]:
    """The findings of an archive, each as they are kept; Refused naming the first problem."""
    found = []
    for index, item in enumerate(each(KEPT_FINDING, section)):
        if item["code"] not in KINDS:
            raise Refused((index, "code"), f"{item['code'][:80]!r} is not a kind of finding (known: "
                                           f"{', '.join(KINDS)})")
        number = item["id"].removeprefix("fnd_")
        if not item["id"].startswith("fnd_") or not number.isdigit() or len(number) > 12:
            raise Refused((index, "id"), "must be fnd_ and a number, as the emulator numbers findings")
        if item["participant_id"] is not None and not 1 <= item["participant_id"] <= 99_999:
            raise Refused((index, "participant_id"), "must be a participant id (1 to 99999)")
        for name, named in (("requests", item["requests"]), ("deliveries", item["deliveries"])):
            if len(named) > NAMED:
                raise Refused((index, name), f"names more than {NAMED}, which a finding never does")
        if item["occurrences"] < 1:
            raise Refused((index, "occurrences"), "must be at least 1")
        for name, moment in (("time", item["time"]), ("wall_time", item["wall_time"])):
            try:
                if moment is not None:
                    checked(moment)
            except ClockOutOfRange as exc:
                raise Refused((index, name), f": {exc}") from None
        found.append(Finding(item["id"], item["code"], item["participant_id"], item["username"], item["message"],
                             item["time"], list(item["requests"]), list(item["deliveries"]), item["occurrences"],
                             item["wall_time"]))
    return found


#: How often the log tells again a kind of finding that keeps coming for one participant (each is kept all the same).
LOG_EVERY_SECONDS = 10.0


class FindingLog:
    """The warning line of each finding, but not a line a request for a client that keeps doing the same thing: the
    first of a kind for a participant is told, then at most one line every ``interval`` seconds that says how many
    were not (a client's bug made 50,000 lines in a minute; every finding is still kept and listed)."""

    def __init__(self, interval: float = LOG_EVERY_SECONDS, now: Callable[[], float] = monotonic) -> None:
        self.interval = interval
        self._now = now
        self._told: dict[tuple[str, int | None], tuple[float, int]] = {}  # kind: when last told, how many since

    def tell(self, code: str, participant_id: int | None, message: str) -> None:
        key, now = (code, participant_id), self._now()
        last = self._told.get(key)
        if last is not None and now - last[0] < self.interval:
            self._told[key] = (last[0], last[1] + 1)
            return
        untold = last[1] if last is not None else 0
        self._told[key] = (now, 0)
        if untold:
            LOG.warning("finding %s (participant %s): %s (and %d more of this kind for this participant in the last "
                        "%.0f s, not logged: GET /_emulator/findings lists them)", code, participant_id, message,
                        untold, now - last[0] if last is not None else 0)
        else:
            LOG.warning("finding %s (participant %s): %s", code, participant_id, message)

    def forget(self, participant_id: int | None = None) -> None:
        """Start afresh (a reset): the next finding of each kind is told."""
        self._told = {} if participant_id is None else {k: v for k, v in self._told.items() if k[1] != participant_id}


class Findings(Stateful[list[Finding]]):
    """The last ``size`` findings, oldest first; each new one is logged as a warning (:class:`FindingLog`) and told
    to the ``listeners``; ``evicted`` counts those that left to make room.

    Their state (stateful part ``findings``): a reset clears them (of everyone or one participant), a snapshot
    keeps them, and new findings are numbered after the highest restored one."""

    section = "findings"

    def __init__(self, size: int = KEPT) -> None:
        self._found: deque[Finding] = deque(maxlen=size)
        self.size = size
        self.evicted = 0
        self._numbers = itertools.count(1)
        self.listeners: list[Callable[[Finding], Any]] = []
        self.log = FindingLog()

    def __len__(self) -> int:
        return len(self._found)

    def add(self, code: str, message: str, *, participant_id: int | None, username: str | None, time: float,
            requests: Iterable[str] = (), deliveries: Iterable[str] = ()) -> Finding:
        assert code in KINDS, code
        finding = Finding(f"fnd_{next(self._numbers):06d}", code, participant_id, username, message, time,
                          list(requests)[:NAMED], list(deliveries)[:NAMED], wall_time=wall_clock())
        if len(self._found) == self.size:
            self.evicted += 1
        self._found.append(finding)
        self.log.tell(code, participant_id, message)
        for listener in self.listeners:
            listener(finding)
        return finding

    def listing(self, *, participant_id: int | None = None, code: str | None = None) -> list[Finding]:
        """Findings newest first, of one participant and one code when given."""
        return [f for f in reversed(self._found)
                if (participant_id is None or f.participant_id == participant_id)
                and (code is None or f.code == code)]

    def clear(self, participant_id: int | None = None) -> None:
        if participant_id is None:
            self.evicted = 0
        kept = [] if participant_id is None else [f for f in self._found if f.participant_id != participant_id]
        self._found.clear()
        self._found.extend(kept)
        self.log.forget(participant_id)

    def reset(self, participant_id: int | None = None) -> None:
        self.clear(participant_id)

    def export(self) -> list[dict[str, Any]]:
        """Every finding, oldest first (for a snapshot)."""
        return [dict(f.as_json()) for f in self._found]

    def check(self, section: Any) -> list[Finding]:
        return checked_findings(section)

    def load(self, checked: list[Finding]) -> None:
        self._found.clear()
        self._found.extend(checked)
        self._numbers = itertools.count(max((int(f.id.removeprefix("fnd_")) for f in checked), default=0) + 1)
