"""The session-create request, as the reference documents it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from emulator.core.provenance import choice, ingo
from emulator.gateway.schemas import Strict

LOCALES = ("ar-SA", "cs-CZ", "da-DK", "de-DE", "en-GB", "en-US", "es-ES", "es-US", "fa-IR", "fi-FI", "fr-FR",
           "hmn-Latn", "it-IT", "ja-JP", "km-KH", "ko-KR", "nb-NO", "nl-NL", "pl-PL", "pt-BR", "ru-RU", "sv-SE",
           "tl-PH", "tr-TR", "vi-VN", "zh-CN", "zh-Hans", "zh-TW")

Text = Annotated[str, StringConstraints(max_length=255)] | None


class OpenBanking(Strict):
    mobus_customer_id: Text = None


class RecipientInformation(Strict):
    first_name: Text = None
    last_name: Text = None
    business_name: Text = None
    address_line1: Text = None
    city: Text = None
    state: Annotated[str, StringConstraints(max_length=2)] | None = None
    zip_code: Annotated[str, StringConstraints(max_length=10)] | None = None
    email_address: Text = None
    phone_number: Annotated[str, StringConstraints(max_length=25)] | None = None
    mobile_number: Annotated[str, StringConstraints(max_length=25)] | None = None
    open_banking: OpenBanking | None = None


class CreateSession(Strict):
    source = ingo("https://developers.ingopayments.com/docs/iframe/session/create")
    field_sources = {"host_uri": choice("session-host-uri")}
    participant_unique_id1: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    participant_unique_id2: Annotated[str, StringConstraints(max_length=100)] | None = None
    recipient_information: RecipientInformation
    host_uri: Annotated[str, StringConstraints(max_length=200, pattern=r"^https?://[^/\s]+$")] | None = None
    language_locale_code: Literal[LOCALES] | None = Field(default=None)  # type: ignore[valid-type]
