"""A rehearsal's report, judged when it is read: the plan, each scenario's status with its evidence (and for a
failure the rule broken and its page), the outcome coverage, the findings and the probes, dated on both clocks."""

from __future__ import annotations

from typing import cast

from typing_extensions import TypedDict

from emulator import __version__
from emulator.core.masking import mask
from emulator.findings.models import FindingJson
from emulator.readiness import evidence
from emulator.readiness.coverage import CoverageJson, coverage
from emulator.readiness.evidence import EvidenceJson
from emulator.readiness.judges import JUDGES, MANUAL, Status, Verdict
from emulator.readiness.plan import Category, Plan, PlanInfoJson, PlanScenario
from emulator.readiness.rehearsal import Rehearsal
from emulator.readiness.traffic import Traffic

#: Evidence items shown per scenario, at most (``evidence_omitted`` counts the rest).
EVIDENCE_SHOWN = 20
#: What a person-judged scenario says.
BY_A_PERSON = "judged by a person in a live session with Ingo's integration team, not by the emulator"


class Times(TypedDict):
    """A moment on the emulator clock (what scenarios and follow-ups run on) and on the machine's."""

    time: float
    wall_time: float


class ScenarioJson(TypedDict):
    """One scenario of the plan as judged: its status, the evidence, and for a failure why (the rule and its page),
    for one not run what would run it."""

    id: str
    title: str
    category: Category
    source: str
    ingo_scenario: str | None
    passes_when: str
    trigger: str
    rule: str
    status: Status
    evidence: list[EvidenceJson]
    evidence_omitted: int
    why: str | None
    next: str | None


class Summary(TypedDict):
    passed: int
    failed: int
    not_run: int


class Kept(TypedDict):
    """What the rehearsal holds, and how many of each kind left to make room (the oldest first)."""

    requests: int
    deliveries: int
    findings: int
    events: int
    dropped: dict[str, int]


class ReadinessJson(TypedDict):
    """A participant's readiness: the evidence pack a team attaches to its certification request."""

    participant_id: int
    emulator_version: str
    plan: PlanInfoJson
    started: Times
    generated: Times
    summary: Summary
    scenarios: list[ScenarioJson]
    coverage: CoverageJson
    findings: list[FindingJson]
    probes: list[EvidenceJson]
    kept: Kept


class RehearsalJson(TypedDict):
    """A rehearsal under way, as the list of rehearsals shows it (not judged: reading the list costs nothing)."""

    participant_id: int
    started: Times
    requests: int
    deliveries: int


class RehearsalList(TypedDict):
    rehearsals: list[RehearsalJson]


def judge(scenario: PlanScenario, seen: Traffic) -> ScenarioJson:
    """One scenario judged on what the rehearsal saw."""
    rule = scenario.rule
    if rule == MANUAL:
        verdict, rule_text = Verdict("not_run", next=BY_A_PERSON), BY_A_PERSON
    else:
        judged_by = JUDGES[rule]
        verdict, rule_text = judged_by.check(seen), judged_by.rule
    why = f"{verdict.fact}; Ingo's rule: {rule_text} ({scenario.source})" if verdict.status == "failed" else None
    following = None
    if verdict.status == "not_run":
        following = verdict.next or f"to run it: {scenario.trigger}"
    return {"id": scenario.id, "title": scenario.title, "category": scenario.category, "source": scenario.source,
            "ingo_scenario": scenario.ingo_scenario, "passes_when": scenario.passes_when, "trigger": scenario.trigger,
            "rule": rule_text, "status": verdict.status, "evidence": verdict.evidence[:EVIDENCE_SHOWN],
            "evidence_omitted": max(0, len(verdict.evidence) - EVIDENCE_SHOWN), "why": why, "next": following}


def summarise(scenarios: list[ScenarioJson]) -> Summary:
    return {"passed": sum(s["status"] == "passed" for s in scenarios),
            "failed": sum(s["status"] == "failed" for s in scenarios),
            "not_run": sum(s["status"] == "not_run" for s in scenarios)}


def report(rehearsal: Rehearsal, plan: Plan, *, now: float, wall_now: float) -> ReadinessJson:
    """The rehearsal judged against ``plan`` now, masked as everything the emulator shows (it holds no body; a card
    number written into a plan's text or a finding would still leave as its last four only)."""
    seen = rehearsal.traffic()
    scenarios = [judge(scenario, seen) for scenario in plan.scenarios]
    judged: ReadinessJson = {
        "participant_id": rehearsal.participant_id, "emulator_version": __version__, "plan": plan.as_json(),
        "started": {"time": rehearsal.started, "wall_time": rehearsal.started_wall},
        "generated": {"time": now, "wall_time": wall_now}, "summary": summarise(scenarios),
        "scenarios": scenarios, "coverage": coverage(seen.entries, rehearsal.events),
        "findings": [finding.as_json() for finding in seen.findings],
        "probes": [evidence.delivery(record, f"probe: {record.get('probe')}")
                   for record in seen.deliveries if record.get("probe")],
        "kept": {"requests": len(seen.entries), "deliveries": len(seen.deliveries),
                 "findings": len(seen.findings), "events": len(rehearsal.events),
                 "dropped": dict(rehearsal.dropped)}}
    return cast(ReadinessJson, mask(judged))


def listed(rehearsal: Rehearsal) -> RehearsalJson:
    """A rehearsal in the list of rehearsals: who, since when, and how much it has seen."""
    return {"participant_id": rehearsal.participant_id,
            "started": {"time": rehearsal.started, "wall_time": rehearsal.started_wall},
            "requests": len(rehearsal.entries), "deliveries": len(rehearsal.deliveries)}

