"""What a rule answers for one scenario: passed, failed (only on evidence, with the fact a developer acts on) or not
run (its trigger has not happened yet, or what is still missing), and the rule itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from emulator.readiness.evidence import EvidenceJson
from emulator.readiness.traffic import Traffic

Status = Literal["passed", "failed", "not_run"]
#: The judge of a scenario a person judges (a Guided one): never run by the emulator.
MANUAL = "manual"


@dataclass
class Verdict:
    """A scenario's status and what it rests on; ``fact`` says what broke the rule, ``next`` what is still
    needed."""

    status: Status
    evidence: list[EvidenceJson] = field(default_factory=list)
    fact: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class Judge:
    """A rule: Ingo's words for it (what a failure breaks), and the check over a rehearsal's traffic."""

    rule: str
    check: Callable[[Traffic], Verdict]


def failed(found: list[tuple[str, list[EvidenceJson]]]) -> Verdict:
    """Failed on the first fact, with the evidence of every failure."""
    return Verdict("failed", [item for _, items in found for item in items], found[0][0])


def judged(failures: list[tuple[str, list[EvidenceJson]]], passed: list[EvidenceJson],
           waiting: list[EvidenceJson] | None = None, *, next: str | None = None) -> Verdict:
    """The usual verdict: failed on any failure; else passed on what shows it; else not run, with what is still
    waiting and the step that finishes it."""
    if failures:
        return failed(failures)
    if passed:
        return Verdict("passed", passed)
    if waiting:
        return Verdict("not_run", waiting, next=next)
    return Verdict("not_run")
