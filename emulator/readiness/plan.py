"""The readiness plan: which scenarios a rehearsal judges, each with its category, its Ingo page and its trigger; the
file format, the bundled plan, and loading a team's own plan with file:line:column problems."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import TypedDict

from emulator.core.configuration import ConfigurationError
from emulator.core.limits import DEFAULT_LIMITS, Limits
from emulator.core.validation import FILES, closest, describe, keys_at, pydantic_sentence, unknown_name
from emulator.core.yamlpos import Position, YamlProblem, load_with_positions, position_of
from emulator.readiness.judges import JUDGES, MANUAL

Category = Literal["self-service", "controlled", "guided"]
#: What a scenario id, a URL and the texts may be.
ScenarioId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
#: The most scenarios a plan may hold.
MOST_SCENARIOS = 200
#: How the bundled plan is named where a report says which plan it was judged against.
BUNDLED = "bundled (emulator/readiness/plan.yaml)"
#: A file is a plan (not a scenario file) when a top-level key ``plan`` opens a line.
PLAN_KEY = re.compile(r"^plan\s*:", re.M)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PlanInfo(Strict):
    """What the plan is: its name and version as the integration manager gave them, and where it comes from."""

    name: Title
    version: Annotated[str, Field(min_length=1, max_length=50)]
    source: Url | None = None
    description: Text | None = None


class PlanScenario(Strict):
    """One scenario of the plan: what passes it, how to make it happen here, and which rule judges it."""

    id: ScenarioId
    title: Title
    category: Category
    source: Url
    ingo_scenario: Title | None = None
    passes_when: Text
    trigger: Text
    judge: Annotated[str, Field(description=f"the rule that judges it (default: the id); {MANUAL}: a person "
                                            "judges it, the report shows it as not run")] | None = None

    @field_validator("judge")
    @classmethod
    def _known_judge(cls, judge: str | None) -> str | None:
        if judge is not None and judge != MANUAL and judge not in JUDGES:
            guess = closest(judge, [*JUDGES, MANUAL])
            raise ValueError(f"{judge!r} is no rule the emulator judges with" + (f"; did you mean {guess}?" if guess
                                                                                 else "")
                             + f" (known: {', '.join([*JUDGES, MANUAL])})")
        return judge

    @property
    def rule(self) -> str:
        """The name of the rule that judges this scenario."""
        return self.judge or self.id


class PlanFile(Strict):
    """A readiness plan file."""

    version: Literal[1]
    plan: PlanInfo
    scenarios: Annotated[list[PlanScenario], Field(min_length=1, max_length=MOST_SCENARIOS)]


class PlanInfoJson(TypedDict):
    """The plan a report was judged against."""

    name: str
    version: str
    source: str | None
    file: str


@dataclass(frozen=True)
class Plan:
    """A valid plan and the file it came from."""

    info: PlanInfo
    scenarios: tuple[PlanScenario, ...]
    file: str

    def as_json(self) -> PlanInfoJson:
        return {"name": self.info.name, "version": self.info.version, "source": self.info.source, "file": self.file}


class PlanError(ConfigurationError):
    """A plan file is not valid; ``problems`` says where and what, one line each (file:line:column: ...)."""

    def __init__(self, file: str, problems: list[str]) -> None:
        super().__init__(f"the readiness plan {file} is not valid (--readiness-plan):")
        self.problems = problems


def bundled_path() -> Path:
    """The plan the emulator ships: Ingo's testing pages and rules (docs/readiness.md)."""
    return Path(str(resources.files("emulator.readiness").joinpath("plan.yaml")))


def is_plan(text: str) -> bool:
    """Whether a YAML text is a readiness plan rather than a scenario file (it has a top-level ``plan`` key)."""
    return PLAN_KEY.search(text) is not None


def load_plan(path: Path | None = None, limits: Limits = DEFAULT_LIMITS) -> Plan:
    """The plan in ``path`` (the bundled one without it), read within ``limits``; PlanError names each problem."""
    if path is None:
        return load_plan_text(bundled_path().read_text(encoding="utf-8"), BUNDLED, limits)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise PlanError(str(path), [f"{path}:1:1: the file is {size} bytes; at most {limits.max_bytes} are read"])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(str(path), [f"{path}:1:1: cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise PlanError(str(path), [f"{path}:1:1: the file is not UTF-8 text: {exc.reason}"]) from None
    return load_plan_text(text, str(path), limits)


@functools.lru_cache(maxsize=8)
def load_plan_text(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> Plan:
    """A plan from YAML text (a plan is immutable: the same text is read once); PlanError lists every problem with
    its position."""
    try:
        document, values, keys = load_with_positions(text, file, limits)
    except YamlProblem as exc:
        raise PlanError(file, [str(exc)]) from None
    if not isinstance(document, dict):
        raise PlanError(file, [f"{values.get((), Position(file, 1, 1))}: expected a mapping with 'version', 'plan' "
                               "and 'scenarios' at the top of the file"])
    repeated = _repeated_ids(document, values, file)
    try:
        parsed = PlanFile.model_validate(document)
    except ValidationError as exc:
        raise PlanError(file, sorted(_problems(exc, values, keys, file) + repeated, key=_place)) from None
    if repeated:
        raise PlanError(file, repeated)
    return Plan(parsed.plan, tuple(parsed.scenarios), file)


def _place(problem: str) -> tuple[int, int]:
    """(line, column) of a problem line ``file:line:column: ...``, for sorting."""
    found = re.search(r":(\d+):(\d+): ", problem)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def _problems(exc: ValidationError, values: dict[Any, Position], keys: dict[Any, Position], file: str) -> list[str]:
    found: list[tuple[Position, str]] = []
    for error in exc.errors(include_url=False):
        location = tuple(error["loc"])
        kind = error["type"]
        where = position_of(location, values, keys, key=kind == "extra_forbidden", file=file)
        name = ".".join(str(part) for part in location) or "the file"
        if kind == "extra_forbidden":
            message = unknown_name(name, keys_at(PlanFile, location[:-1]), "a key of a readiness plan")
        elif kind == "missing":
            message = f"{name} is required"
        elif kind == "value_error":
            message = f"{name}: {str(error.get('msg', '')).removeprefix('Value error, ')}"
        else:
            given = error.get("input")
            shown = f", got {given!r}" if isinstance(given, (str, int, float, bool)) and len(repr(given)) < 60 else ""
            message = f"{name} {describe(error, FILES) or pydantic_sentence(error)}{shown}"
        if all(position != where for position, _ in found):
            found.append((where, message))
    return [f"{position}: {message}" for position, message in sorted(found, key=lambda p: (p[0].line, p[0].column))]


def _repeated_ids(document: Mapping[str, Any], values: dict[Any, Position], file: str) -> list[str]:
    seen: set[Any] = set()
    problems = []
    scenarios = document.get("scenarios")
    for index, scenario in enumerate(scenarios if isinstance(scenarios, list) else []):
        identifier = scenario.get("id") if isinstance(scenario, dict) else None
        if identifier in seen:
            where = values.get(("scenarios", index, "id"), Position(file, 1, 1))
            problems.append(f"{where}: the id {identifier!r} is given to two scenarios; each id names one")
        seen.add(identifier)
    return problems
