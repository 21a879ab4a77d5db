"""Safe YAML loading that remembers where every value came from, so errors can name file:line:column."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from emulator.core.limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True)
class Position:
    """A place in a source file (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class YamlProblem(ValueError):
    """The text is not YAML the loader accepts; ``position`` says where."""

    def __init__(self, position: Position, message: str) -> None:
        super().__init__(f"{position}: {message}")
        self.position = position
        self.message = message


Path_ = tuple[Any, ...]


class TooDeep(yaml.YAMLError):
    """The scanner met more nesting than the limit allows (raised before the nodes, or even the events, exist)."""

    def __init__(self, mark: Any, max_depth: int) -> None:
        super().__init__(f"mappings and sequences nest more than {max_depth} deep")
        self.mark = mark


class BoundedSafeLoader(yaml.SafeLoader):
    """PyYAML's pure-Python safe loader, refusing nesting deeper than ``max_depth`` as it scans.

    Its scanner looks ahead for a possible key after every ``[`` or ``{`` and checks each open one on every token:
    thousands of open brackets cost seconds of CPU before the first event comes out. Counted here, at the bracket
    or the indentation that opens one level too many, a hostile file is refused within a few dozen tokens.
    """

    max_depth = DEFAULT_LIMITS.max_depth

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 (PyYAML's name)
        if len(self.indents) + self.flow_level >= self.max_depth:  # the block levels around, the flow ones within
            raise TooDeep(self.get_mark(), self.max_depth)
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column: int) -> bool:
        added = bool(super().add_indent(column))
        if added and len(self.indents) > self.max_depth:
            raise TooDeep(self.get_mark(), self.max_depth)
        return added


#: libyaml's loader when PyYAML was built with it (several times faster; it stops at 1,000 levels of its own, fast),
#: else the pure-Python one with its nesting bounded as it scans; both safe.
SafeLoader: type[Any] = getattr(yaml, "CSafeLoader", BoundedSafeLoader)


def _loader(loader_class: type[Any], text: str, limits: Limits) -> Any:
    """A loader for ``text``; the pure-Python one bounded to ``limits.max_depth``."""
    loader = loader_class(text)
    if isinstance(loader, BoundedSafeLoader):
        loader.max_depth = limits.max_depth
    return loader


def _events(text: str, limits: Limits, loader_class: type[Any] | None = None) -> Iterator[Any]:
    """The YAML events of ``text``, one at a time (as ``yaml.parse``, with the depth bound of ``limits``)."""
    loader = _loader(loader_class or SafeLoader, text, limits)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def _compose(text: str, limits: Limits, loader_class: type[Any]) -> Any:
    """The node tree of ``text`` (as ``yaml.compose``, with the depth bound of ``limits``)."""
    loader = _loader(loader_class, text, limits)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


#: The largest text whose YAML syntax error is described again in the pure-Python parser's clearer words (it reads
#: about a megabyte a second); a larger one gets libyaml's own words, at the same line and column.
CLEARER_MESSAGE_MAX = 32 * 1024


def check_limits(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse text that is too large, too deep or expands too far through aliases, with where it happens.

    Linear in the text: an alias adds the (already counted) size of the node it repeats, never a copy of it; the
    depth is counted on each event as it comes (and by the pure-Python scanner at each bracket and indentation), so
    a hostile file stops at the level that breaks the limit, before anything is built.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise YamlProblem(Position(file, 1, 1), f"the file is {size} bytes; at most {limits.max_bytes} are read "
                                                "(--scenario-max-bytes)")
    try:
        _check_events(text, file, limits)
    except yaml.YAMLError as exc:
        raise _syntax_problem(text, file, exc, limits) from None


def _check_events(text: str, file: str, limits: Limits) -> None:
    """Count depth, nodes and aliases on the event stream: YamlProblem at the event that breaks a limit; the
    parser's own YAMLError as it comes."""
    anchored: dict[str, int] = {}  # the expanded size of each anchored node
    open_nodes: list[list[Any]] = []  # [anchor, expanded size so far] of each mapping and sequence being read
    total = aliases = 0
    for event in _events(text, limits):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(open_nodes) >= limits.max_depth:
                raise _problem(file, event, _too_deep(limits))
            open_nodes.append([event.anchor, 1])
            added = 1
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, count = open_nodes.pop()
            if anchor is not None:
                anchored[anchor] = count
            if open_nodes:
                open_nodes[-1][1] += count
            continue
        elif isinstance(event, yaml.ScalarEvent):
            added = 1
            if event.anchor is not None:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > limits.max_aliases:
                raise _problem(file, event, f"the file uses more than {limits.max_aliases} aliases "
                                            "(--scenario-max-aliases)")
            added = anchored.get(event.anchor or "", 1)
        else:
            continue
        total += added
        if total > limits.max_nodes:
            raise _problem(file, event, f"the file expands to more than {limits.max_nodes} YAML nodes, counting "
                                        "what each alias repeats (--scenario-max-nodes)")
        if open_nodes and not isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            open_nodes[-1][1] += added


def _too_deep(limits: Limits) -> str:
    return f"mappings and sequences nest more than {limits.max_depth} deep (--scenario-max-depth)"


def _syntax_problem(text: str, file: str, exc: yaml.YAMLError, limits: Limits) -> YamlProblem:
    """Where and why ``text`` is not YAML: nesting beyond the limit as that, wherever the parser met it first;
    otherwise in the pure-Python parser's words (libyaml's are terser) when the text is small enough to read again
    at once."""
    if isinstance(exc, TooDeep):
        return YamlProblem(Position(file, exc.mark.line + 1, exc.mark.column + 1), _too_deep(limits))
    if isinstance(exc, yaml.MarkedYAMLError) and "nesting depth" in str(exc.problem):
        # libyaml's scanner met its own limit (1,000 levels) looking ahead, before the events that break ours came
        # out: the text up to there yields them, and says where
        mark = exc.problem_mark
        try:
            _check_events(text[:mark.index] if mark else "", file, limits)
        except YamlProblem as ours:
            return ours
        except yaml.YAMLError:
            pass
    elif SafeLoader is not BoundedSafeLoader and len(text) <= CLEARER_MESSAGE_MAX:
        try:
            for _ in _events(text, limits, BoundedSafeLoader):
                pass
        except TooDeep as deep:
            return _syntax_problem(text, file, deep, limits)
        except yaml.YAMLError as clearer:
            exc = clearer
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1)
        return YamlProblem(where, f"YAML syntax error: {exc.problem or exc.context or 'not valid YAML'}")
    return YamlProblem(Position(file, 1, 1), f"YAML error: {exc}")


def _problem(file: str, event: Any, message: str) -> YamlProblem:
    mark = event.start_mark
    return YamlProblem(Position(file, mark.line + 1, mark.column + 1), message)


def read_yaml_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> Any:
    """A YAML file read safely within ``limits`` (the credentials and webhook files); YamlProblem says where."""
    try:
        if path.stat().st_size > limits.max_bytes:
            raise YamlProblem(Position(str(path), 1, 1), f"the file is {path.stat().st_size} bytes; at most "
                                                         f"{limits.max_bytes} are read")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlProblem(Position(str(path), 1, 1), f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise YamlProblem(Position(str(path), 1, 1), f"the file is not UTF-8 text: {exc.reason}") from None
    return safe_load(text, str(path), limits)


def safe_load(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """``yaml.safe_load`` within ``limits``; YamlProblem says where a problem is."""
    check_limits(text, file, limits)
    loader = _loader(SafeLoader, text, limits)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1)
        raise YamlProblem(where, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Position(file, 1, 1), f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()


def load_with_positions(text: str, file: str, limits: Limits = DEFAULT_LIMITS
                        ) -> tuple[Any, dict[Path_, Position], dict[Path_, Position]]:
    """Parse ``text`` safely within ``limits``; return the document, the position of each value and of each key.

    Paths are tuples of mapping keys and list indexes, as pydantic reports error locations.
    """
    check_limits(text, file, limits)
    try:
        try:
            node = _compose(text, limits, SafeLoader)
        except yaml.YAMLError:
            if SafeLoader is BoundedSafeLoader or len(text) > CLEARER_MESSAGE_MAX:
                raise
            # libyaml's messages are terser ("found character that cannot start any token"):
            # parse again with the pure-Python loader for the message people read.
            node = _compose(text, limits, BoundedSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1)
        problem = exc.problem or exc.context or "not valid YAML"
        raise YamlProblem(where, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Position(file, 1, 1), f"YAML error: {exc}") from None
    values: dict[Path_, Position] = {}
    keys: dict[Path_, Position] = {}
    if node is None:
        return None, values, keys
    constructor = yaml.SafeLoader("")

    def build(current: yaml.Node, path: Path_) -> Any:
        values[path] = Position(file, current.start_mark.line + 1, current.start_mark.column + 1)
        if isinstance(current, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in current.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlProblem(values[path], "YAML merge keys (<<) are not supported in scenario files")
                key = constructor.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    raise YamlProblem(Position(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                                      "mapping keys must be plain scalars")
                if key in result:
                    where = Position(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    raise YamlProblem(where, f"duplicate key {key!r}")
                keys[path + (key,)] = Position(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = build(value_node, path + (key,))
            return result
        if isinstance(current, yaml.SequenceNode):
            return [build(item, path + (index,)) for index, item in enumerate(current.value)]
        try:
            return constructor.construct_object(current, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise YamlProblem(values[path], f"cannot read this value: {exc.problem}") from None

    return build(node, ()), values, keys


def position_of(path: Path_, values: dict[Path_, Position], keys: dict[Path_, Position], *,
                key: bool = False, file: str = "") -> Position:
    """The closest known position for ``path`` (the key itself when ``key``; else its value)."""
    probe = tuple(path)
    if key and probe in keys:
        return keys[probe]
    while probe:
        if probe in values:
            return values[probe]
        probe = probe[:-1]
    return values.get((), Position(file, 1, 1))
