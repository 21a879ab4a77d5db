"""Safe YAML loading that remembers where every value came from, so errors can name file:line:column."""

from __future__ import annotations

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
#: libyaml's loader when PyYAML was built with it (several times faster), else the pure-Python one; both safe.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)




def check_limits(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse text that is too large, too deep or expands too far through aliases, with where it happens.

    Linear in the text: an alias adds the (already counted) size of the node it repeats, never a copy of it.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise YamlProblem(Position(file, 1, 1), f"the file is {size} bytes; at most {limits.max_bytes} are read "
                                                "(--scenario-max-bytes)")
    anchored: dict[str, int] = {}  # the expanded size of each anchored node
    open_nodes: list[list[Any]] = []  # [anchor, expanded size so far] of each mapping and sequence being read
    total = aliases = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(open_nodes) >= limits.max_depth:
                    raise _problem(file, event, f"mappings and sequences nest more than {limits.max_depth} deep")
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
    except yaml.YAMLError as exc:
        raise _syntax_problem(text, file, exc) from None


def _syntax_problem(text: str, file: str, exc: yaml.YAMLError) -> YamlProblem:
    """Where and why ``text`` is not YAML, in the pure-Python parser's words (libyaml's are terser)."""
    if SafeLoader is not yaml.SafeLoader:
        try:
            for _ in yaml.parse(text, Loader=yaml.SafeLoader):
                pass
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
    try:
        return yaml.load(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file, 1, 1)
        raise YamlProblem(where, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Position(file, 1, 1), f"not valid YAML: {exc}") from None


def load_with_positions(text: str, file: str, limits: Limits = DEFAULT_LIMITS
                        ) -> tuple[Any, dict[Path_, Position], dict[Path_, Position]]:
    """Parse ``text`` safely within ``limits``; return the document, the position of each value and of each key.

    Paths are tuples of mapping keys and list indexes, as pydantic reports error locations.
    """
    check_limits(text, file, limits)
    try:
        try:
            node = yaml.compose(text, Loader=SafeLoader)
        except yaml.YAMLError:
            # libyaml's messages are terser ("found character that cannot start any token"):
            # parse again with the pure-Python loader for the message people read.
            node = yaml.compose(text, Loader=yaml.SafeLoader)
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
