"""Safe YAML loading that remembers where every value came from, so errors can name file:line:column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


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


def load_with_positions(text: str, file: str) -> tuple[Any, dict[Path_, Position], dict[Path_, Position]]:
    """Parse ``text`` safely; return the document, the position of each value and of each mapping key.

    Paths are tuples of mapping keys and list indexes, as pydantic reports error locations.
    """
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
