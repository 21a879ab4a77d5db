"""State with one owner: the protocol every part of the emulator that holds state follows, and the registry that a
reset, a snapshot and a restore walk (LocalStack's state lifecycle hooks are the model).

A part is registered once, in the wiring (``emulator.app.build_runtime``), in the order a restore loads the parts.
It says

- ``reset``: what a reset does to it, for everyone or for one participant;
- ``export``: what of it a snapshot keeps, its ``section`` of the archive, as JSON (no secret; card and account
  numbers masked);
- ``check``: everything a restore needs, built from its section; :class:`Refused` naming the first problem, and
  nothing changed (it may run on a worker thread while the emulator serves: it reads, it never writes);
- ``load``: the checked section put in place. It runs on the event loop, so it only swaps in what ``check`` built,
  and it cannot fail; a part whose load is slow (the store: a database transaction, millions of records) says so
  with ``loads_slowly`` and is loaded first, on a worker thread: its failure (a full disk) leaves everything as it
  was.

A part without a section (the rate windows, the findings watch, the scheduler's jobs) keeps nothing in an archive:
a restore gives it ``load(None)``, which by default is a reset of everything. Export, check and load concern the
whole emulator; only reset knows participants (an archive is never of one participant).

Not parts: requests under way (the gateway's in-flight set, open waits) end with their request, whatever a reset or a
restore did meanwhile.

To add a stateful feature: subclass :class:`Stateful` (a Protocol: subclassing it gives the defaults), set
``section`` if a snapshot should keep it, and register it in ``build_runtime``. Snapshots, restores and resets follow.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Protocol, TypeVar

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError

from emulator.core.validation import describe, field_path, pydantic_sentence

Checked = TypeVar("Checked")
T = TypeVar("T")
#: Where a problem is, from the top of a section: keys and list indexes.
Where = tuple[str | int, ...]
#: How deep free-form JSON (a request's body, an event's data) may nest in an archive: deeper than anything the
#: emulator keeps (its own request bodies are refused far earlier), and shallow enough for every recursive reader.
MOST_DEPTH = 64


class Refused(ValueError):
    """A section a part cannot take back: where (keys and indexes from the section's top) and what is wrong there,
    as the end of a sentence that starts with the place (``"must be a number"``, ``"is required"``)."""

    def __init__(self, where: Where, problem: str) -> None:
        super().__init__(problem)
        self.where = where
        self.problem = problem

    def within(self, *outer: str | int) -> Refused:
        """The same problem, seen from further out."""
        return Refused((*outer, *self.where), self.problem)

    def sentence(self, *outer: str | int) -> str:
        """``store.records.token.0.record.created must be a number``."""
        place = field_path((*outer, *self.where))
        if not place:
            return self.problem
        return f"{place}{'' if self.problem.startswith(':') else ' '}{self.problem}"


class Stateful(Protocol[Checked]):
    """A part of the emulator that holds state (see the module's documentation for what each method promises)."""

    #: The archive section this part keeps its state in; None: a snapshot keeps nothing of it.
    section: ClassVar[str | None] = None
    #: Whether ``load`` takes long (then a restore runs it first, on a worker thread); at most one part does.
    loads_slowly: ClassVar[bool] = False

    def reset(self, participant_id: int | None = None) -> None:
        """Back to a fresh start: everything, or what belongs to one participant."""

    def export(self) -> Any:
        """The part's section of an archive, as JSON (only called when ``section`` is set)."""
        return None

    def check(self, section: Any) -> Checked:
        """What ``load`` puts in place, built from the archive's section (None for a part without one); Refused
        naming the first problem. Reads the part, never changes it."""
        return section  # type: ignore[no-any-return]  # a part without a section takes None and gives it back

    def load(self, checked: Checked) -> None:
        """Put a checked section in place (a part without a section starts fresh)."""
        self.reset()


@dataclass(frozen=True)
class Plan:
    """A whole archive, checked by every part: what each part's ``load`` takes, by part."""

    checked: dict[int, Any]
    sections: dict[str, Any]

    def __getitem__(self, section: str) -> Any:
        """What the part owning ``section`` checked (for what a restore reports)."""
        return self.sections[section]


class Registry:
    """Every stateful part, once, in the order a restore loads them."""

    def __init__(self) -> None:
        self._parts: list[Stateful[Any]] = []

    def add(self, part: Stateful[T]) -> Stateful[T]:
        """Register ``part``; a section may have one owner, and one part at most may load slowly."""
        if part.section is not None and part.section in self.sections:
            raise ValueError(f"section {part.section!r} already has an owner")
        if part.loads_slowly and any(p.loads_slowly for p in self._parts):
            raise ValueError("only one part may load slowly (its failure must leave everything as it was)")
        self._parts.append(part)
        return part

    def __iter__(self) -> Iterator[Stateful[Any]]:
        return iter(list(self._parts))

    @property
    def sections(self) -> list[str]:
        """The sections of an archive, in the order the parts were registered."""
        return [part.section for part in self._parts if part.section is not None]

    def reset(self, participant_id: int | None = None) -> None:
        """Every part back to a fresh start, or one participant's state in every part."""
        for part in self._parts:
            part.reset(participant_id)

    def export(self) -> dict[str, Any]:
        """Every part's section, as JSON."""
        return {part.section: part.export() for part in self._parts if part.section is not None}

    def check(self, sections: Mapping[str, Any]) -> Plan:
        """Every part's section checked (each must be present); Refused from the archive's top naming the first
        problem. Changes nothing."""
        checked: dict[int, Any] = {}
        by_section: dict[str, Any] = {}
        for part in self._parts:
            if part.section is None:
                checked[id(part)] = part.check(None)
                continue
            if part.section not in sections:
                raise Refused((part.section,), "is missing")
            try:
                value = part.check(sections[part.section])
            except Refused as exc:
                raise exc.within(part.section) from None
            checked[id(part)] = by_section[part.section] = value
        return Plan(checked, by_section)

    def slow(self) -> Stateful[Any] | None:
        """The part whose load is slow, if one is."""
        return next((part for part in self._parts if part.loads_slowly), None)

    def load_slow(self, plan: Plan) -> None:
        """Load the part whose load is slow, if one is (a restore does it first, on a worker thread)."""
        slow = self.slow()
        if slow is not None:
            slow.load(plan.checked[id(slow)])

    def load(self, plan: Plan, *, slow_done: bool = False) -> None:
        """Put a checked plan in place: the slow part first (unless ``slow_done``: ``load_slow`` did), then every
        other part in order."""
        slow = self.slow()
        if not slow_done:
            self.load_slow(plan)
        for part in self._parts:
            if part is not slow:
                part.load(plan.checked[id(part)])


# -- checking a section ----------------------------------------------------------------------------------------------


def validated(adapter: TypeAdapter[T], value: Any, where: Where = ()) -> T:
    """``value`` as ``adapter``'s type; Refused naming pydantic's first problem (never the value itself)."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise refusal(exc, where) from None


def each(adapter: TypeAdapter[T], section: Any, where: Where = ()) -> list[T]:
    """A list's items, each as ``adapter``'s type, checked one by one (a worker thread checking a long list then
    lets the event loop run between items); Refused naming the first problem."""
    if not isinstance(section, list):
        raise Refused(where, "must be a list")
    return [validated(adapter, item, (*where, index)) for index, item in enumerate(section)]


def refusal(exc: ValidationError, where: Where = ()) -> Refused:
    """pydantic's first problem as a Refused at its place."""
    first = exc.errors(include_url=False)[0]
    kind = first["type"]
    place = (*where, *first["loc"])
    if kind == "missing":
        return Refused(place, "is required")
    if kind == "extra_forbidden":
        return Refused(place, "is not a key of the snapshot format")
    if kind in ("value_error", "assertion_error"):
        return Refused(place, f": {(first.get('ctx') or {}).get('error') or first['msg']}")
    return Refused(place, describe(first) or pydantic_sentence(first))


def shallow(value: Any) -> Any:
    """``value`` if it nests at most MOST_DEPTH deep (checked without recursion); ValueError otherwise."""
    level: list[Any] = [value]
    for _ in range(MOST_DEPTH + 1):
        level = [child for item in level if isinstance(item, (dict, list))
                 for child in (item.values() if isinstance(item, dict) else item)]
        if not level:
            return value
    raise ValueError(f"nests deeper than {MOST_DEPTH} levels")


#: How an archive's sections are checked: exactly the keys the emulator writes, each of its own JSON type (no
#: number in a string, no true for 1). Built on first use (a restore), not at import: a faster start.
ARCHIVED = ConfigDict(extra="forbid", strict=True, defer_build=True)
#: A participant id as credentials have them (``core.credentials``): 1 to 5 digits.
Participant = Annotated[int, Field(ge=1, le=99_999)]
#: Free-form JSON an archive carries (a request's body, an event's data): anything JSON, not nested absurdly deep.
Json = Annotated[Any, AfterValidator(shallow)]
