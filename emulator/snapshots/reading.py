"""Reading an archive's bytes into JSON a little at a time, so that a worker thread reading 60 MB never holds the
interpreter (and so the event loop, and health checks) for long.

``json.loads`` reads a whole document in one call of its C scanner, which holds the interpreter until it is done:
over a second for a large archive, and seconds for one built of nothing but nested arrays. Here the same scanner reads
one value at a time within a window of at most :data:`WINDOW` characters; a container that does not fit is read
member by member, so no single call reads much more than a window (a single string may be longer: strings scan fast).
Problems are reported as ``json`` reports them, with the line and column in the whole document.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import sys
from collections.abc import Callable, Iterable
from json.scanner import make_scanner
from typing import Any, cast

from emulator.core.stateful import MOST_DEPTH
from emulator.snapshots.format import SnapshotRefused

#: What JSON calls whitespace, a run of at most a window at a time.
WHITESPACE = re.compile(r"[ \t\n\r]{0,1048576}")
#: The first window a value is read in, and the largest, in characters.
FIRST = 4096
WINDOW = 1 << 20


def parse(raw: Iterable[bytes]) -> Any:
    """The JSON document of an archive's bytes (in pieces, as they arrived); SnapshotRefused naming what is wrong and
    where."""
    text = _text(raw)
    reader = _Reader(text)
    start = reader.skip(0)
    if start == len(text):
        raise SnapshotRefused("the snapshot is empty; send what GET /_emulator/snapshot answered")
    try:
        document, end = reader.value(start, 0)
        end = reader.skip(end)
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    except json.JSONDecodeError as exc:
        raise SnapshotRefused(f"the snapshot is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                              ) from None
    except RecursionError:
        raise SnapshotRefused("the snapshot is nested too deeply to be one this emulator wrote") from None
    except ValueError as exc:
        if isinstance(exc, _Refusal):
            raise SnapshotRefused(str(exc)) from None
        # an integer longer than Python converts
        raise SnapshotRefused(f"the snapshot holds an integer of more than {sys.get_int_max_str_digits()} digits"
                              ) from None
    return document


def _text(raw: Iterable[bytes]) -> str:
    """The bytes as UTF-8 text (a byte order mark skipped), decoded a window at a time."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    parts: list[str] = []
    offset = 0
    for piece in raw:
        for at in range(0, len(piece), WINDOW):
            chunk = piece[at:at + WINDOW]
            try:
                parts.append(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                where = offset + at + exc.start
                raise SnapshotRefused(f"the snapshot is not UTF-8 text (byte {where} is {chunk[exc.start]:#04x})"
                                      ) from None
        offset += len(piece)
    try:
        parts.append(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        raise SnapshotRefused(f"the snapshot is not UTF-8 text: it ends inside a character (byte {offset})") from None
    return "".join(parts)


class _Refusal(ValueError):
    """A problem the scanner's hooks found (raised through the scanner as a ValueError)."""


def _no_constant(name: str) -> Any:
    raise _Refusal(f"the snapshot holds {name}, which is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400: Python reads infinity, which no JSON answer could carry back
        raise _Refusal(f"the snapshot holds the number {text[:40]}, which is too large for a double")
    return value


class _Reader:
    """The document's text and the scanner that reads one value of it."""

    def __init__(self, text: str) -> None:
        self.text = text
        decoder = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)
        self.scan = cast(Callable[[str, int], tuple[Any, int]], make_scanner(decoder))  # type: ignore[arg-type]

    def skip(self, at: int) -> int:
        """Where the next value starts, after any whitespace."""
        while True:
            found = WHITESPACE.match(self.text, at)
            assert found is not None  # a run of none matches
            if found.end() - at < WINDOW:
                return found.end()
            at = found.end()

    def value(self, at: int, depth: int) -> tuple[Any, int]:
        """The value that starts at ``at``, and where it ends."""
        text = self.text
        size = FIRST
        while at + size < len(text):
            try:
                value, end = self.scan(text[at:at + size], 0)
            except (StopIteration, json.JSONDecodeError):
                value, end = None, size  # cut short, or wrong: a larger window (or the members) tell which
            if end < size:  # ended before the cut: whole
                return value, at + end
            if size >= WINDOW:
                if text[at] in "{[":
                    return self._container(at, depth)
                break  # a long string (or a wrong value): read at once
            size *= 4
        try:
            found: tuple[Any, int] = self.scan(text, at)
        except StopIteration as stop:
            raise json.JSONDecodeError("Expecting value", text, stop.value) from None
        return found

    def _container(self, at: int, depth: int) -> tuple[Any, int]:
        """An object or an array too large for one window, read member by member."""
        if depth >= MOST_DEPTH:
            raise RecursionError
        text, closing = self.text, "}" if text_at(self.text, at) == "{" else "]"
        found: Any = {} if closing == "}" else []
        pos = self.skip(at + 1)
        if text_at(text, pos) == closing:
            return found, pos + 1
        while True:
            if closing == "}":
                if text_at(text, pos) != '"':
                    raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
                key, pos = self.value(pos, depth + 1)
                pos = self.skip(pos)
                if text_at(text, pos) != ":":
                    raise json.JSONDecodeError("Expecting ':' delimiter", text, pos)
                found[key], pos = self.value(self.skip(pos + 1), depth + 1)
            else:
                item, pos = self.value(pos, depth + 1)
                found.append(item)
            pos = self.skip(pos)
            if text_at(text, pos) == closing:
                return found, pos + 1
            if text_at(text, pos) != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
            pos = self.skip(pos + 1)


def text_at(text: str, pos: int) -> str:
    """The character at ``pos``, or nothing at the end."""
    return text[pos:pos + 1]


def let_go(document: Any) -> None:
    """Empty a parsed document a little at a time, so that what nothing else holds is freed piece by piece: freeing
    a large document at once holds the interpreter for as long as that takes. A container something else still holds
    (a record the store is to take) is only dropped from it, never emptied. (CPython: ``sys.getrefcount`` tells.)"""
    stack = [document]
    while stack:
        item = stack[-1]
        if isinstance(item, dict) and item:
            child = item.popitem()[1]
        elif isinstance(item, list) and item:
            child = item.pop()
        else:
            stack.pop()
            continue
        # held by ``child`` and getrefcount's argument only: nothing else holds it, so it may be emptied first
        if isinstance(child, (dict, list)) and child and sys.getrefcount(child) == 2:
            stack.append(child)
        del child
