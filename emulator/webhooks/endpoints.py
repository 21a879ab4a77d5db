"""Where webhooks go: receiver URLs, each with its secret, topic filter and participant."""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from emulator.core import http_url
from emulator.core.configuration import ConfigurationError
from emulator.core.credentials import DEFAULT_WEBHOOK_SECRET
from emulator.core.limits import MAX_TOPICS
from emulator.core.masking import masked_url
from emulator.core.stateful import ARCHIVED, Participant, each
from emulator.core.validation import FILES, Body, describe, pydantic_sentence
from emulator.core.yamlpos import YamlProblem, read_yaml_file
from emulator.webhooks.events import Event


@dataclass
class Endpoint:
    """A receiver: events whose topic matches ``topics`` (all when empty) and participant are sent to ``url``."""

    url: str
    secret: str = DEFAULT_WEBHOOK_SECRET
    topics: tuple[str, ...] = ()
    participant_id: int | None = None
    source: str = "cli"
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            self.id = "ep_" + hashlib.sha256(f"{self.url}|{self.participant_id}".encode()).hexdigest()[:12]

    def wants(self, event: Event) -> bool:
        if self.participant_id is not None and self.participant_id != event.participant_id:
            return False
        return not self.topics or any(fnmatch.fnmatchcase(event.topic, pattern) for pattern in self.topics)

    def as_json(self) -> dict[str, Any]:
        """The endpoint as shown by the admin API and snapshots: never the secret itself, and the URL with any
        credential it carries masked."""
        return {"id": self.id, "url": masked_url(self.url), "topics": list(self.topics),
                "participant_id": self.participant_id, "source": self.source,
                "secret": "default" if self.secret == DEFAULT_WEBHOOK_SECRET else "configured"}


class KeptEndpoint(TypedDict):
    """An endpoint as a snapshot keeps it (``Endpoint.as_json``): a restore lists those this emulator lacks."""

    __pydantic_config__ = ARCHIVED  # type: ignore[misc]

    id: str
    url: str
    topics: list[str]
    participant_id: Participant | None
    source: str
    secret: Literal["default", "configured"]


KEPT_ENDPOINT = TypeAdapter(KeptEndpoint)


def checked_endpoints(section: Any) -> list[KeptEndpoint]:
    """The endpoints of an archive; Refused naming the first problem."""
    return each(KEPT_ENDPOINT, section)


#: A receiver's URL, as a config file, the admin API or a tenant gives it.
#: Checked by ``core.http_url`` (a refusal says what is wrong in words); the pattern is for the OpenAPI document.
WebhookUrl = Annotated[str, Field(max_length=2000, json_schema_extra={"pattern": r"^https?://[^\s]+$"}),
                       AfterValidator(http_url.checked)]


class EndpointSpec(Body):
    """An endpoint as a config file or the admin API gives it (a key left out: the default; null is refused, so
    that a participant_id written without a value never sends every participant's events)."""

    url: WebhookUrl
    secret: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    topics: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list,
                                                                              max_length=MAX_TOPICS)
    participant_id: Annotated[int, Field(ge=1, le=99999)] | None = None

    def build(self, default_secret: str, source: str) -> Endpoint:
        return Endpoint(self.url, self.secret or default_secret, tuple(self.topics), self.participant_id, source)


class EndpointError(ConfigurationError, ValueError):
    """An endpoint definition is wrong; the message names where and what."""


def parse_spec(document: Any, where: str) -> EndpointSpec:
    try:
        return EndpointSpec.model_validate(document)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field_name = ".".join(str(p) for p in first["loc"]) or "entry"
        if first["type"] == "value_error":  # a validator's own sentence (the URL's, or the whole entry's)
            said = first["ctx"]["error"]
            raise EndpointError(f"{where}: {field_name}: {said}" if first["loc"] else f"{where}: {said}") from None
        raise EndpointError(f"{where}: {field_name}: {describe(first, FILES) or pydantic_sentence(first)}") from None


def load_config(path: Path, default_secret: str) -> list[Endpoint]:
    """A YAML list of {url, secret, topics, participant_id}."""
    try:
        document = read_yaml_file(Path(path))
    except YamlProblem as exc:
        raise EndpointError(f"{exc.position}: webhook endpoints file: {exc.message}") from None
    if not isinstance(document, list):
        raise EndpointError(f"{path}: expected a list of endpoints, each with url and optional secret, topics, "
                            "participant_id")
    return [parse_spec(entry, f"{path}: entry {index}").build(default_secret, "config")
            for index, entry in enumerate(document, start=1)]


def from_settings(urls: Iterable[str], config: Path | None, default_secret: str) -> list[Endpoint]:
    endpoints = [parse_spec({"url": url}, f"webhook-url {masked_url(url)!r}").build(default_secret, "cli")
                 for url in urls]
    if config is not None:
        endpoints.extend(load_config(config, default_secret))
    return endpoints
