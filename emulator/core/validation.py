"""pydantic's problems in people's words: request validation reported as Ingo reports it (400 missing or null, 401
incorrect), the one translator of problems that scenario files reuse in their own vocabulary, and the strict
bodies of the emulator's own calls (an unknown name answered with the closest known one)."""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, ValidationError, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from emulator.core import names
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


#: Each kind of pydantic problem :func:`describe` puts in words, as the predicate of a sentence, from the vocabulary
#: and the problem's context.
PREDICATES: dict[str, Callable[[Vocabulary, Mapping[str, Any]], str]] = {
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), lambda words, context: "must be an integer"),
    **dict.fromkeys(("float_type", "float_parsing"), lambda words, context: "must be a number"),
    "string_type": lambda words, context: f"must be {words.text}",
    "bool_type": lambda words, context: "must be true or false",
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"),
                    lambda words, context: f"must be {words.mapping}"),
    "list_type": lambda words, context: "must be a list",
    "string_too_short": lambda words, context: f"must be at least {_characters(context.get('min_length'))}",
    "string_too_long": lambda words, context: f"must be at most {_characters(context.get('max_length'))}",
    "string_pattern_mismatch": lambda words, context: f"does not match {words.form} {context.get('pattern')}",
    **dict.fromkeys(("literal_error", "enum"), lambda words, context: f"must be one of {context.get('expected')}"),
}


def describe(error: Mapping[str, Any], words: Vocabulary = API) -> str | None:
    """pydantic's problem as the predicate of a sentence ("must be an integer"), in ``words``; None for a kind of
    problem only the caller can put well (a missing or unknown key, a validator's own message)."""
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in words.bounds:
        return "must be " + words.bounds[kind].format(**{k: context.get(k) for k in ("ge", "le", "gt", "lt")})
    predicate = PREDICATES.get(kind)
    return predicate(words, context) if predicate is not None else None


def pydantic_sentence(error: Mapping[str, Any]) -> str:
    """pydantic's own message, lowercased to continue a sentence."""
    message = str(error.get("msg", "is not valid"))
    return message[0].lower() + message[1:] if message else "is not valid"


def _characters(count: Any) -> str:
    return f"{count} character{'' if count == 1 else 's'}"


def explain(exc: ValidationError, words: Vocabulary = API, *, model: type[BaseModel] | None = None) -> str:
    """The first problem pydantic found, as one sentence that names the key: for an admin call's body. An unknown
    key (reported first) comes with the closest key ``model`` knows at that place."""
    errors = exc.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    name = field_path(first["loc"]) or "the body"
    kind = first["type"]
    if kind == "missing":
        return f"{name} is required"
    if kind == "extra_forbidden":
        known = keys_at(model, first["loc"][:-1]) if model is not None else []
        return unknown_name(shown_name(name), known, "a key this call knows")
    if kind == "value_error":
        message = str(first.get("ctx", {}).get("error") or first["msg"])
        if not first["loc"] or message.startswith(name):
            return message
        head, colon, _ = message.partition(": ")
        return f"{name}.{message}" if colon and _KEY_PATH.fullmatch(head) else f"{name}: {message}"
    return f"{name}: {describe(first, words) or pydantic_sentence(first)}"


# -- unknown names: the closest known one -------------------------------------------------------------------

#: The longest unknown name repeated in a message (a hostile client may send any length).
SHOWN_NAME = 60
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
#: A message that begins with a key path ("headers.Cookie: ...") names a key inside the place it was found.
_KEY_PATH = re.compile(r"[\w.-]+")


def snake_case(name: str) -> str:
    """``participantId`` (Jackson's default naming) -> ``participant_id``; a snake_case name is unchanged."""
    return _CAMEL_HUMP.sub("_", name).replace("-", "_").lower()


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name an unknown one most likely meant (camelCase read as snake_case first), or None."""
    return names.closest(snake_case(name), known)


def shown_name(name: str) -> str:
    """An unknown name as a message repeats it: at most SHOWN_NAME characters."""
    return name if len(name) <= SHOWN_NAME else name[:SHOWN_NAME] + "…"


def unknown_name(name: str, known: Sequence[str], what: str) -> str:
    """``participantId is not a key this call knows; did you mean participant_id? (known: participant_id)``."""
    leaf = name.rsplit(".", 1)[-1]
    guess = closest(leaf, known)
    hint = f"; did you mean {name[: len(name) - len(leaf)]}{guess}?" if guess else ""
    listed = f" (known: {', '.join(known)})" if known else ""
    return f"{name} is not {what}{hint}{listed}"


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models an annotation holds: itself, or inside Annotated, a union, a list or a dict's values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Annotated:
        yield from models_in(arguments[0])
    elif origin in (Union, types.UnionType, list, tuple, set, frozenset):
        for argument in arguments:
            yield from models_in(argument)
    elif origin is dict and len(arguments) == 2:
        yield from models_in(arguments[1])


def keys_at(model: type[BaseModel], location: Sequence[Any]) -> list[str]:
    """The keys (aliases where a field has one) of the model found at ``location`` under ``model``; an index or a
    free-form key on the way is passed over."""
    models = [model]
    for part in location:
        following = [inner for found in models for name, info in found.model_fields.items()
                     if part in (name, info.alias) for inner in models_in(info.annotation)]
        if following:
            models = following
    return sorted({info.alias or name for found in models for name, info in found.model_fields.items()})


# -- the emulator's own calls: strict bodies --------------------------------------------------------------------

def refuse_nulls(document: Any) -> Any:
    """A JSON object's keys must not be null: an absent key is how a call says "not given" (for a scope, null
    would otherwise mean everyone)."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            if value is None:
                raise ValueError(f"{shown_name(str(key))} is null; leave the key out if you mean none (null is "
                                 "never a value in this call)")
    return document


def schema_without_nulls(schema: JsonSchemaValue) -> JsonSchemaValue:
    """A model's JSON Schema as :func:`refuse_nulls` validates it: an optional key is left out, never null."""
    for item in schema.get("properties", {}).values():
        if item.get("default", ...) is None:
            del item["default"]
        choices = item.get("anyOf")
        if isinstance(choices, list) and {"type": "null"} in choices:
            choices.remove({"type": "null"})
            if len(choices) == 1:
                del item["anyOf"]
                item.update(choices[0])
    return schema


class Body(BaseModel):
    """A JSON body of one of the emulator's own calls: unknown keys refused (naming the closest known one), a null
    value refused, types strict (no "5" for 5)."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)  # built on first use: a faster start

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, document: Any) -> Any:
        return refuse_nulls(document)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return schema_without_nulls(handler.resolve_ref_schema(handler(core_schema)))
