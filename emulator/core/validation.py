"""Request validation with pydantic, reported as Ingo reports it: 400 missing or null, 401 incorrect."""

from __future__ import annotations

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
    return InvalidParameter(f"{name}: {describe(first)}{given}", field=name)


def describe(error: dict[str, Any]) -> str:
    """pydantic's sentence, in the words an API user expects."""
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be an integer"
    if kind in ("float_type", "float_parsing"):
        return "must be a number"
    if kind in ("string_type",):
        return "must be a string"
    if kind == "bool_type":
        return "must be true or false"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be an object"
    if kind == "list_type":
        return "must be a list"
    if kind == "string_too_short":
        return f"must be at least {context.get('min_length')} characters"
    if kind == "string_too_long":
        return f"must be at most {context.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return f"does not match the required format {context.get('pattern')}"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}"
    if kind in ("literal_error", "enum"):
        return f"must be one of {context.get('expected')}"
    message = error.get("msg", "is not valid")
    return message[0].lower() + message[1:] if message else "is not valid"
