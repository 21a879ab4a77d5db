"""pydantic's problems in people's words: request validation reported as Ingo reports it (400 missing or null, 401
incorrect), and the one translator of problems that scenario files reuse in their own vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from emulator.core.errors import InvalidParameter, MissingParameter
from emulator.core.masking import ACCOUNT_KEYS, SECRET_KEYS, last_four

Model = TypeVar("Model", bound=BaseModel)


def field_path(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


def validate(model: type[Model], document: dict[str, Any], *, prefix: str = "") -> Model:
    """Parse ``document`` as ``model``; the first problem becomes Ingo's 400 (missing) or 401 (incorrect)."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise as_ingo_error(exc, prefix=prefix) from None


def as_ingo_error(exc: ValidationError, *, prefix: str = "") -> MissingParameter | InvalidParameter:
    errors = exc.errors(include_url=False)
    missing = [e for e in errors if e["type"] == "missing" or e.get("input", ...) is None]
    if missing:
        name = prefix + field_path(missing[0]["loc"])
        return MissingParameter(f"{name} is required and must not be null", field=name)
    first = errors[0]
    name = prefix + field_path(first["loc"])
    shown = first.get("input")
    leaf = str(first["loc"][-1]).lower() if first["loc"] else ""
    if leaf in SECRET_KEYS:
        shown = None  # a CVV or other secret is never repeated, not even in an explanation
    elif leaf in ACCOUNT_KEYS and isinstance(shown, (str, int)) and not isinstance(shown, bool):
        shown = last_four(str(shown))  # account numbers only ever appear masked to the last four
    given = f" (got {shown!r})" if isinstance(shown, (str, int, float, bool)) and len(repr(shown)) < 80 else ""
    return InvalidParameter(f"{name}: {describe(first) or pydantic_sentence(first)}{given}", field=name)


@dataclass(frozen=True)
class Vocabulary:
    """The words one audience reads problems in: API answers say "a string" and "at most 25 characters", scenario
    files (YAML) say "a text" and "less than or equal to 25", as YAML and JSON Schema users expect."""

    text: str
    mapping: str
    form: str  # what a pattern is called
    bounds: dict[str, str]


API = Vocabulary("a string", "an object", "the required format",
                 {"greater_than_equal": "at least {ge}", "less_than_equal": "at most {le}"})
FILES = Vocabulary("a text", "a mapping", "the expected form",
                   {"greater_than_equal": "greater than or equal to {ge}",
                    "less_than_equal": "less than or equal to {le}",
                    "greater_than": "greater than {gt}", "less_than": "less than {lt}"})


def describe(error: Mapping[str, Any], words: Vocabulary = API) -> str | None:
    """pydantic's problem as the predicate of a sentence ("must be an integer"), in ``words``; None for a kind of
    problem only the caller can put well (a missing or unknown key, a validator's own message)."""
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be an integer"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind == "string_type":
        return f"must be {words.text}"
    if kind == "bool_type":
        return "must be true or false"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be {words.mapping}"
    if kind == "list_type":
        return "must be a list"
    if kind == "string_too_short":
        return f"must be at least {_characters(context.get('min_length'))}"
    if kind == "string_too_long":
        return f"must be at most {_characters(context.get('max_length'))}"
    if kind == "string_pattern_mismatch":
        return f"does not match {words.form} {context.get('pattern')}"
    if kind in words.bounds:
        return "must be " + words.bounds[kind].format(**{k: context.get(k) for k in ("ge", "le", "gt", "lt")})
    if kind in ("literal_error", "enum"):
        return f"must be one of {context.get('expected')}"
    return None


def pydantic_sentence(error: Mapping[str, Any]) -> str:
    """pydantic's own message, lowercased to continue a sentence."""
    message = str(error.get("msg", "is not valid"))
    return message[0].lower() + message[1:] if message else "is not valid"


def _characters(count: Any) -> str:
    return f"{count} character{'' if count == 1 else 's'}"


def explain(exc: ValidationError, words: Vocabulary = API) -> str:
    """The first problem pydantic found, as one sentence that names the key: for an admin call's body."""
    first = exc.errors(include_url=False)[0]
    name = field_path(first["loc"]) or "the body"
    kind = first["type"]
    if kind == "missing":
        return f"{name} is required"
    if kind == "extra_forbidden":
        return f"{name} is not a key this call knows"
    if kind == "value_error":
        reason = str(first.get("ctx", {}).get("error") or first["msg"])
        return f"{name}: {reason}" if first["loc"] else reason
    return f"{name}: {describe(first, words) or pydantic_sentence(first)}"
