"""Reading scenario files and folders, with every problem reported as file:line:column: what, expected."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from emulator.core.limits import DEFAULT_LIMITS, Limits
from emulator.core.patterns import PatternError
from emulator.core.validation import FILES, describe, pydantic_sentence
from emulator.core.yamlpos import Position, YamlProblem, load_with_positions, position_of
from emulator.scenarios import schema

SUFFIXES = (".yaml", ".yml")
#: What each model is called in messages.
CONTEXT = {"ScenarioFile": "the file", "Scenario": "scenario", "Rule": "rule", "Match": "match",
           "Respond": "respond", "TextMatch": "text condition", "AmountMatch": "amount condition",
           "RecipientMatch": "recipient", "NthMatch": "nth", "Latency": "latency", "Fault": "fault",
           "Event": "event"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a scenario file."""

    position: Position
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


class ScenarioError(ValueError):
    """One or more scenario files are invalid; ``problems`` lists each with its position."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Loaded:
    """A valid scenario and the file it came from."""

    scenario: schema.Scenario
    source: str
    position: Position | None = None  # where the scenario's name is written


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, and those in named folders (sorted, not recursive into hidden folders)."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            found.append(path)
    return found


def load_paths(paths: Iterable[Path], limits: Limits = DEFAULT_LIMITS, *, own: Iterable[Path] = ()) -> list[Loaded]:
    """Load every file; raise ScenarioError with all problems of all files, or return every scenario. The files of
    ``own`` (the emulator's bundled scenarios) come last and are read under the default limits, whatever the user's
    limits for their own files are."""
    loaded: list[Loaded] = []
    problems: list[Problem] = []
    mine = scenario_files(own)
    for file in scenario_files(paths) + mine:
        limits_here = DEFAULT_LIMITS if file in mine else limits
        try:
            if file.stat().st_size > limits_here.max_bytes:  # not even read into memory
                problems.append(Problem(Position(str(file), 1, 1), f"the file is {file.stat().st_size} bytes; at most "
                                        f"{limits_here.max_bytes} are read (--scenario-max-bytes)"))
                continue
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            problems.append(Problem(Position(str(file), 1, 1), "no such file or folder"))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(Position(str(file), 1, 1), f"cannot read the file: {exc}"))
            continue
        try:
            loaded.extend(_load_text_cached(text, str(file), limits_here))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    problems.extend(_duplicate_names(loaded))
    if problems:
        raise ScenarioError(problems)
    return loaded


def load_text(text: str, source: str, limits: Limits = DEFAULT_LIMITS) -> list[Loaded]:
    """Parse and validate one document (an upload: never cached); raise ScenarioError naming every problem."""
    return _load_text(text, source, limits)


@functools.lru_cache(maxsize=16)
def _load_text_cached(text: str, source: str, limits: Limits) -> tuple[Loaded, ...]:
    """Validated files are immutable in use; the bundled file is read by every app a test suite builds."""
    return tuple(_load_text(text, source, limits))


def _load_text(text: str, source: str, limits: Limits) -> list[Loaded]:
    try:
        document, values, keys = load_with_positions(text, source, limits)
    except YamlProblem as exc:
        raise ScenarioError([Problem(exc.position, exc.message)]) from None
    if not isinstance(document, dict):
        where = values.get((), Position(source, 1, 1))
        raise ScenarioError([Problem(where, "expected a mapping with a 'scenarios' list at the top of the file")])
    duplicates = _duplicate_rules(document, values)
    try:
        parsed = schema.ScenarioFile.model_validate(document)
    except ValidationError as exc:
        problems = _problems(exc, document, values, keys, source) + duplicates
        raise ScenarioError(sorted(problems, key=lambda p: (p.position.line, p.position.column))) from None
    loaded = [Loaded(scenario, source, values.get(("scenarios", index, "name")))
              for index, scenario in enumerate(parsed.scenarios)]
    duplicates += _duplicate_names(loaded)  # an upload is one document: check it on its own too
    if duplicates:
        raise ScenarioError(duplicates)
    return loaded


def _duplicate_rules(document: dict[str, Any], values: dict[Any, Any]) -> list[Problem]:
    """Rules named twice in a scenario, at the second name (found even when the scenario has other problems)."""
    problems = []
    scenarios = document.get("scenarios")
    for i, scenario in enumerate(scenarios if isinstance(scenarios, list) else []):
        rules = scenario.get("rules") if isinstance(scenario, dict) else None
        seen: set[str] = set()
        for j, rule in enumerate(rules if isinstance(rules, list) else []):
            name = rule.get("name") if isinstance(rule, dict) else None
            if not isinstance(name, str):
                continue
            if name in seen:
                problems.append(Problem(values[("scenarios", i, "rules", j, "name")],
                                        f"two rules are named {name!r}; rule names must be unique in a scenario"))
            seen.add(name)
    return problems


def _duplicate_names(loaded: list[Loaded]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for item in loaded:
        name = item.scenario.name
        if name in seen:
            problems.append(Problem(item.position or Position(item.source, 1, 1),
                                    f"scenario {name!r} is also defined in {seen[name]}; names must be unique"))
        seen.setdefault(name, str(item.position or item.source))
    return problems


def _problems(exc: ValidationError, document: Any, values: dict[Any, Any], keys: dict[Any, Any],
              source: str) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    for error in exc.errors(include_url=False):
        location = tuple(error["loc"])
        if isinstance((error.get("ctx") or {}).get("error"), schema.DuplicateRuleName):
            continue  # reported by _duplicate_rules, at the rule's name
        if location in seen:
            continue
        seen.add(location)
        is_key = error["type"] == "extra_forbidden"
        where = position_of(location, values, keys, key=is_key, file=source)
        message = _message(error, location, values)
        if isinstance((error.get("ctx") or {}).get("error"), PatternError):
            message = f"{_rule_named(location, document)}{message}"
        problem = Problem(where, message)
        if any(p.position == where for p in problems):
            continue  # a shorthand value (latency: -1) fails twice at one place; once is enough
        problems.append(problem)
    problems.sort(key=lambda p: (p.position.line, p.position.column))
    return problems


def _rule_named(location: tuple[Any, ...], document: Any) -> str:
    """"scenario 'x', rule 'y': " for a location inside a rule, as far as the document names them."""
    named = []
    current = document
    for depth, part in enumerate(location[:4]):
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            break
        if depth in (1, 3) and isinstance(current, dict) and isinstance(current.get("name"), str):
            named.append(f"{'scenario' if depth == 1 else 'rule'} {current['name']!r}")
    return ", ".join(named) + ": " if named else ""


def _model_at(location: tuple[Any, ...]) -> type[BaseModel]:
    """The model that holds the last element of ``location``."""
    model: type[BaseModel] = schema.ScenarioFile
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        field = _field(model, part)
        if field is None:
            return model
        inner = _inner_model(field.annotation)
        if inner is None:
            return model
        model = inner
    return model


def _field(model: type[BaseModel], name: Any) -> Any:
    for field_name, info in model.model_fields.items():
        if name in (field_name, info.alias):
            return info
    return None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel]) -> str:
    return ", ".join(info.alias or name for name, info in model.model_fields.items())


#: How a shorthand-capable value may be written, for "must be ..." messages.
SHORTHAND = {"TextMatch": "a text or a mapping with exact, prefix, regex, last4",
             "AmountMatch": "a number or a mapping with exact, min, max, cents",
             "NthMatch": "a number, a list of numbers, or a mapping with in, from, to, every",
             "Latency": "seconds (a number) or a mapping with min and max",
             "Fault": "a fault name or a mapping with type, after_processing, seconds"}


def _display_name(location: tuple[Any, ...], values: dict[Any, Any]) -> tuple[Any, ...]:
    """The part of ``location`` written in the file (shorthands add keys that are not there)."""
    probe = location
    while probe and probe not in values:
        probe = probe[:-1]
    return probe


def _message(error: Mapping[str, Any], location: tuple[Any, ...], values: dict[Any, Any]) -> str:
    kind = error["type"]
    model = _model_at(location)
    context = CONTEXT.get(model.__name__, model.__name__)
    written = _display_name(location, values) if kind != "extra_forbidden" and kind != "missing" else location
    named = [part for part in written if isinstance(part, str)]
    name = named[-1] if named else "document"
    if written != location and kind not in ("extra_forbidden", "missing"):
        model = _model_at(location[: len(written) + 1])
        inner = _field(model, written[-1]) if written else None
        shorthand = SHORTHAND.get(getattr(_inner_model(inner.annotation) if inner else None, "__name__", ""), "")
        if shorthand and kind in ("model_type", "dict_type"):
            return f"{name!r} must be {shorthand}, got {error.get('input')!r}"
    field = _field(model, location[-1]) if location and not isinstance(location[-1], int) else None
    shorthand = SHORTHAND.get(getattr(_inner_model(field.annotation) if field else None, "__name__", ""), "")
    if shorthand and kind in ("model_type", "dict_type"):
        return f"{name!r} must be {shorthand}, got {error.get('input')!r}"
    given = error.get("input")
    shown = f", got {given!r}" if isinstance(given, (str, int, float, bool)) and len(repr(given)) < 60 else ""
    context_values = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"unknown key {name!r} in {context}, expected one of: {_allowed_keys(model)}"
    if kind == "missing":
        return f"{context} is missing the required key {name!r}"
    if kind == "literal_error":
        return f"{name!r} is {given!r}, expected one of: {context_values.get('expected')}"
    if kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        return f"{name!r}: {message}" if location else message
    predicate = describe(error, FILES)
    if predicate is not None:
        return f"{name!r} {predicate}{shown}"
    return f"{name!r}: {pydantic_sentence(error)}{shown}"
