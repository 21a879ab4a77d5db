"""Regular expressions users write (scenario rules, waits), run by RE2: time linear in the text, whatever the pattern.

Python's ``re`` backtracks: ``^(a+)+$`` against 27 ``a`` and a ``!`` takes seconds, doubling with each ``a``, and
would hold every tenant's requests meanwhile. RE2 (Google's engine, the ``google-re2`` package) never backtracks,
so it cannot run what needs backtracking (backreferences, lookaround, atomic groups, possessive quantifiers): such
a pattern is refused where it is written, with the position of what RE2 cannot run. A pattern is also bounded in
length and in the size of the program it compiles to, and the text it is matched against in length, so one match
costs a few milliseconds at most.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import re2

#: The longest pattern accepted, in characters.
MAX_PATTERN = 1000
#: The largest program (RE2 instructions) a pattern may compile to: the cost of a match grows with it.
MAX_PROGRAM = 2000
#: The longest text a pattern is matched against, in characters; a longer value never matches a pattern.
MAX_TEXT = 1024
#: Memory RE2 may use for one pattern (its program and its cache of states), in bytes.
MAX_MEMORY = 256 * 1024
#: Where a pattern's syntax and limits are explained to people.
DOCUMENTED = "docs/scenarios.md#patterns"

#: What RE2 refuses because it needs backtracking, by how the refused text begins: what to call it in a message.
_BACKTRACKING = (
    ("(?=", "a lookahead"), ("(?!", "a negative lookahead"), ("(?<=", "a lookbehind"),
    ("(?<!", "a negative lookbehind"), ("(?P=", "a named backreference"), ("(?>", "an atomic group"),
    ("\\k", "a named backreference"),
)


class PatternError(ValueError):
    """A pattern that cannot be used: not valid RE2 syntax, something only a backtracking engine runs, or over a
    limit. ``position`` is the offset in the pattern of what is wrong, when it is known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class Pattern:
    """A compiled user pattern; :meth:`search` says whether it matches anywhere in a text."""

    source: str
    ignore_case: bool
    _compiled: Any

    def search(self, text: str) -> bool:
        """Whether the pattern matches somewhere in ``text`` (never, for a text over :data:`MAX_TEXT`)."""
        return len(text) <= MAX_TEXT and self._compiled.search(text) is not None


def compile_pattern(source: str, *, ignore_case: bool = False) -> Pattern:
    """The one way a user's pattern is compiled: RE2 syntax, within the limits; PatternError saying what is
    wrong, where in the pattern, and what is accepted."""
    if len(source) > MAX_PATTERN:
        raise PatternError(f"the pattern has {len(source)} characters; at most {MAX_PATTERN} are accepted")
    return _compiled(source, ignore_case)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, ignore_case: bool) -> Pattern:
    options = re2.Options()
    options.log_errors = False  # the refusal is reported to whoever wrote the pattern, not to stderr
    options.never_capture = True  # only whether it matches is asked: groups cost and give nothing
    options.case_sensitive = not ignore_case
    options.max_mem = MAX_MEMORY
    try:
        compiled = re2.compile(source, options)
    except re2.error as exc:
        raise _refusal(source, _words(exc)) from None
    if compiled.programsize > MAX_PROGRAM:
        raise PatternError(f"{source!r} is too large to match quickly: it compiles to {compiled.programsize} steps, "
                           f"at most {MAX_PROGRAM}; use smaller repetition counts ({{n,m}}) or fewer alternatives")
    return Pattern(source, ignore_case, compiled)


def _words(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else ""
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)


def _refusal(source: str, words: str) -> PatternError:
    """RE2's complaint ("invalid escape sequence: \\1") as a message that says what the pattern cannot use, and
    where."""
    problem, _, culprit = words.partition(": ")
    if problem == "pattern too large - compile failed":
        return PatternError(f"{source!r} is too large to match quickly; use smaller repetition counts ({{n,m}}) or "
                            "fewer alternatives")
    # RE2 quotes the start of what it refused ("(?P" for "(?P=name)"): the construct it begins, where it is
    found = [(source.find(start), start, name) for start, name in _BACKTRACKING
             if culprit and (start.startswith(culprit) or culprit.startswith(start))]
    found = [item for item in found if item[0] >= 0]
    if not found and problem == "invalid escape sequence" and culprit[1:2].isdigit():
        found = [(source.find(culprit), culprit, "a backreference")]
    elif not found and problem == "bad repetition operator" and culprit.endswith("+"):
        found = [(source.find(culprit), culprit, "a possessive quantifier")]
    if found and found[0][0] >= 0:
        position, start, kind = min(found)
        return PatternError(f"{source!r} uses {kind} ({start}) at position {position}, which RE2 cannot run: "
                            "patterns are RE2 syntax, matched in time linear in the text, so no backreferences, "
                            f"lookaround, atomic groups or possessive quantifiers ({DOCUMENTED})", position)
    position = source.find(culprit) if culprit else -1
    at = f" at position {position} ('{culprit}')" if position >= 0 else f" ({culprit})" if culprit else ""
    return PatternError(f"invalid regular expression {source!r}: {problem}{at} (RE2 syntax, see {DOCUMENTED})",
                        position if position >= 0 else None)


__all__ = ["MAX_PATTERN", "MAX_PROGRAM", "MAX_TEXT", "Pattern", "PatternError", "compile_pattern"]
