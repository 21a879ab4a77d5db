"""Where each behaviour comes from: an Ingo page, Kong's plugin, the emulator's choice (with its reason), or the
emulator's own surface; and the one registry of the emulator's choices, each with a stable id, its reason, the
setting that gives the other answer and its anchor in ``docs/contract.md`` (whose index of choices is generated from
this registry by ``scripts/regenerate``).

Use :func:`ingo`, :func:`kong` or :func:`choice` where a behaviour is declared (a catalogue status, a webhook topic,
a route's answer, a request model's field rules, a diagnosis code)::

    Topic("gateway.transaction.recipient.payment.status.x", "...", "1", 100, source=ingo("https://developers..."))
    Topic("gateway.transaction.recipient.payment.status.y", "...", "1", 100, source=choice("topic-payment-status"))

A choice must be registered in :data:`CHOICES` below first (``choice`` refuses an unknown id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NotRequired

from typing_extensions import TypedDict

Kind = Literal["ingo", "kong", "choice", "own"]
#: Ingo's documentation sites (the reference's "Main source sites"); an Ingo source is a page on one of them.
INGO_SITES = ("https://developers.ingopayments.com/", "https://developer-payments.ingomoney.com/",
              "https://developer.ingo.money/")
#: Where a Kong source file is read (the reference's Kong commit is master of July 2026).
KONG_REPOSITORY = "https://github.com/Kong/kong/blob/master/"
#: The page every choice's anchor is on.
CONTRACT = "docs/contract.md"
CHOICE_PREFIX = "choice:"
#: The id of a catalogued status that is the emulator's own: ``status-<code>``.
STATUS_PREFIX = "status-"
ANCHOR_PREFIX = "choice-"


class SourceJson(TypedDict):
    """A source as the admin API and the OpenAPI document show it."""

    kind: Kind
    ref: str  # the page's URL, Kong's source file, "choice:<id>", or what of the emulator's own it is
    url: NotRequired[str]  # the Ingo page, or the Kong file on GitHub
    note: NotRequired[str]
    title: NotRequired[str]  # a choice: what the emulator does
    reason: NotRequired[str]  # a choice: why it is one (what Ingo says, or does not)
    setting: NotRequired[str | None]  # a choice: the flag that gives another answer
    contract: NotRequired[str]  # a choice: its anchor in docs/contract.md


class RelianceJson(TypedDict):
    """One part of an answer (or of a webhook delivery) and where it comes from."""

    what: str
    source: SourceJson


class ReliedJson(TypedDict):
    """One choice (or Kong behaviour) a participant's traffic rested on: how often, and examples."""

    source: SourceJson
    count: int
    parts: list[str]
    request_ids: list[str]
    delivery_ids: list[str]


@dataclass(frozen=True)
class Source:
    """Where one behaviour comes from. Make one with :func:`ingo`, :func:`kong`, :func:`choice` or use :data:`OWN`."""

    kind: Kind
    ref: str
    note: str = ""

    @property
    def is_choice(self) -> bool:
        return self.kind == "choice"

    @property
    def owner(self) -> str:
        """Who defines it, in the catalogue's words: "ingo", "kong" or "emulator" (a choice or its own)."""
        return self.kind if self.kind in ("ingo", "kong") else "emulator"

    @property
    def choice_id(self) -> str | None:
        return self.ref[len(CHOICE_PREFIX):] if self.is_choice else None

    @property
    def contract(self) -> str | None:
        """A choice's anchor in docs/contract.md (``docs/contract.md#choice-<id>``)."""
        return f"{CONTRACT}#{ANCHOR_PREFIX}{self.choice_id}" if self.is_choice else None

    def as_json(self) -> SourceJson:
        shown: SourceJson = {"kind": self.kind, "ref": self.ref}
        if self.kind == "ingo":
            shown["url"] = self.ref
        elif self.kind == "kong":
            shown["url"] = KONG_REPOSITORY + self.ref
        if self.note:
            shown["note"] = self.note
        known = find(self.choice_id) if self.choice_id is not None else None
        if known is not None:
            shown["title"], shown["reason"] = known.title, known.reason
            shown["setting"], shown["contract"] = known.setting, known.contract
        return shown


def ingo(url: str, note: str = "") -> Source:
    """An Ingo page that says so (only what the page itself says: an inference is a :func:`choice`)."""
    if not url.startswith(INGO_SITES):
        raise ValueError(f"{url!r} is not a page of Ingo's documentation ({', '.join(INGO_SITES)})")
    return Source("ingo", url, note)


def kong(path: str, note: str = "") -> Source:
    """A file of Kong Gateway's source that does this (it holds for Ingo as far as Ingo's gateway is stock Kong)."""
    if not path.startswith("kong/"):
        raise ValueError(f"{path!r} is not a path in Kong's repository (kong/...)")
    return Source("kong", path, note)


def choice(choice_id: str, note: str = "") -> Source:
    """One of the emulator's choices, by its id in :data:`CHOICES` (``status-<code>`` for a catalogued code)."""
    if choice_id not in CHOICES and not choice_id.startswith(STATUS_PREFIX):
        raise KeyError(f"no choice has the id {choice_id!r}: register it in CHOICES in emulator/core/provenance.py "
                       "(its title, reason and setting), then run scripts/regenerate (docs/contract.md lists it)")
    return Source("choice", CHOICE_PREFIX + choice_id, note)


def own(what: str) -> Source:
    """Part of the emulator's own surface, with no Ingo counterpart (the admin API, a user's scenario rule)."""
    return Source("own", what)


#: The admin API, the inspector, this document: the emulator's own, nothing of Ingo's.
OWN = own("the emulator's own surface (no Ingo counterpart)")
#: A scenario rule the user wrote answered: the user's choice, not the emulator's.
SCENARIO = own("a scenario rule (yours: the bundled magic values are choice:magic-values)")

#: Kong's plugins and router, as the reference read them (section 3.3 and 9).
HMAC_AUTH = kong("kong/plugins/hmac-auth/access.lua")
ROUTER = kong("kong/runloop/handler.lua", "no Route matched with those values")

#: Ingo's pages cited by more than one declaration.
RESPONSE_CODES = ingo("https://developer-payments.ingomoney.com/en/ingopay-api/codes-messaging/response-codes")
GATEWAY_CODES = ingo("https://developer-payments.ingomoney.com/en/ingopay-iframe/api-gateway-process/response-codes")
AUTHENTICATION = ingo("https://developers.ingopayments.com/docs/ingopay/authentication")


@dataclass(frozen=True)
class Choice:
    """One thing the emulator decided where Ingo publishes nothing (or only part)."""

    id: str
    title: str  # what the emulator does, in one sentence
    reason: str  # why it is a choice: what Ingo's pages say and leave open, and what the emulator followed
    setting: str | None = None  # the flag(s) that give another answer

    @property
    def ref(self) -> str:
        return CHOICE_PREFIX + self.id

    @property
    def anchor(self) -> str:
        return ANCHOR_PREFIX + self.id

    @property
    def contract(self) -> str:
        return f"{CONTRACT}#{self.anchor}"


_WEBHOOKS = "https://developers.ingopayments.com/docs/hub/webhooks"

#: The emulator's choices, by id. Each id is stable: tests, the journal and docs/contract.md name it.
CHOICES: dict[str, Choice] = {c.id: c for c in (
    Choice("business-error-http-200",
           "A business refusal (a decline, a validation error) answers HTTP 200 with its Ingo status in the body.",
           "Ingo's pages show the bodies of answers, never the HTTP status a refusal comes with.",
           "--error-http-status"),
    Choice("business-error-http-mapped",
           "With --error-http-status mapped, a business refusal answers 400, 409, 422, 500 or 503 by its status's "
           "family.",
           "Ingo publishes no HTTP status for business refusals: the mapping by family is the emulator's.",
           "--error-http-status"),
    Choice("throttle-body",
           "A throttled request gets HTTP 429 {\"message\": \"API rate limit exceeded\"} with Retry-After and the "
           "RateLimit-* and X-RateLimit-*-Second headers, beyond --rate-limit requests a second per credential.",
           "Ingo asks for at most five requests a second and says it rate limits beyond "
           "(https://developer-payments.ingomoney.com/en/ingopay-api/overview), not what a throttled request gets "
           "back: this is the answer of Kong's rate-limiting plugin (kong/plugins/rate-limiting/handler.lua), on the "
           "guess that Ingo's gateway is Kong.",
           "--rate-limit"),
    Choice("webhook-signature",
           "Each webhook delivery is signed X-Ingo-Signature: t=<unix>,v1=Base64(HMAC-SHA512(secret, "
           "\"<t>.\" + body)).",
           f"Ingo says every delivery carries an X-Ingo-Signature header to verify ({_WEBHOOKS}); how it is "
           "computed is not published.",
           "--webhook-secret"),
    Choice("retry-schedule",
           "A delivery not acknowledged with a 2xx is attempted again on the --webhook-retry-schedule waits, with "
           "the same metadata.id, then marked failed.",
           f"Ingo says it retries a delivery not acknowledged with a 2xx within 10 seconds ({_WEBHOOKS}), not when "
           "nor how often.",
           "--webhook-retry-schedule"),
    Choice("magic-values",
           "The bundled magic values: card numbers, bank accounts, wallets, last names and amount cents that "
           "answer each catalogued status.",
           "Ingo publishes no sandbox magic values: its controlled test scenarios use accounts the integration "
           "manager pre-loads (https://developers.ingopayments.com/docs/ingopay/testing).",
           "--no-default-scenarios"),
    Choice("body-timestamp-skew",
           "A body timestamp further than --clock-skew seconds from the real time is Ingo status 402.",
           "Ingo's 402 is \"the timestamp used in the signature generation is too distant\" (" + GATEWAY_CODES.ref +
           "); that the body's timestamp is what is checked, within the X-Date window, is the emulator's reading.",
           "--no-body-timestamp-check"),
    Choice("body-digest",
           "A Content-sha512 that is missing or does not match the body, or a Content-Length that does not, is a "
           "401 \"HMAC signature does not match\".",
           "Ingo says a body whose hash does not match is rejected (" + AUTHENTICATION.ref + "), not with what "
           "answer; Kong's hmac-auth checks bodies with Digest, not Content-sha512.",
           "--enforce-body-headers"),
    Choice("signed-headers",
           "request-line and x-date must be signed, and content-type, content-length and content-sha512 when there "
           "is a body; otherwise a 401 \"HMAC signature cannot be verified\".",
           "Ingo's pages list the headers to send and sign (" + AUTHENTICATION.ref + "); whether its gateway "
           "refuses a request that signs fewer (Kong's enforce_headers) is not published.",
           "--enforce-headers, --enforce-body-headers"),
    Choice("duplicate-header",
           "A repeated Authorization, X-Date, Date, Content-Type or Content-sha512 is a 401 \"HMAC signature cannot "
           "be verified\" naming it.",
           "Kong reads one of the copies; which one the client meant is a guess, so the emulator refuses.",
           None),
    Choice("x-date-format",
           "X-Date and Date are read in Ingo's documented form only: RFC 1123 in GMT with the date's weekday.",
           "Ingo documents that form (https://developers.ingopayments.com/docs/ingopay/quick-start); Kong's "
           "hmac-auth reads dates with nginx's more lenient ngx_parse_http_time. A client that sends Ingo's form "
           "passes both.",
           "--x-date-format"),
    Choice("legacy-algorithm",
           "hmac-sha512 only: another algorithm (hmac-sha256 included) is a 401 \"HMAC signature cannot be "
           "verified\".",
           "Ingo accepts hmac-sha256 from legacy integrations only and requires hmac-sha512 for new ones (" +
           AUTHENTICATION.ref + "); the emulator serves a new integration.",
           "--algorithms"),
    Choice("malformed-body",
           "A body that is not a JSON object (or nests deeper than 32 levels) is Ingo status 401 at HTTP 400.",
           "Ingo publishes no answer for a body that is not JSON.",
           None),
    Choice("account-not-available",
           "Ingo status 700 answers a push to an American Express card, a payee_id no biller has, an account no "
           "biller or card issuer takes, and an amount outside every biller's limits.",
           "Ingo publishes 700 \"Account not currently available for processing via Ingo\" (" + RESPONSE_CODES.ref +
           "), not which accounts get it.",
           "--biller-limits"),
    Choice("destination-limits",
           "A destination's minimum (credit_info.min) is enforced with status 602; its maximum is not.",
           "Ingo's examples show the limits but no code for breaking them, and its ACH process example pays more "
           "than the maximum its ACH verify example shows.",
           None),
    Choice("search-timestamp-version",
           "timestamp and version are optional on the biller searches, and checked when sent.",
           "The biller search pages list neither (https://developers.ingopayments.com/docs/ingopay/ancillary/"
           "biller-search); the other v11 endpoints require both.",
           None),
    Choice("track2-pattern",
           "track2 must match the emulator's reading of track 2 (made like the page's track 1 pattern and ISO/IEC "
           "7813), at most 255 characters.",
           "The retail card-present process page gives track 1's pattern; what could be read of it gives none for "
           "track 2 (https://developers.ingopayments.com/docs/ingopay/process/retail-card-present).",
           None),
    Choice("session-host-uri",
           "A session's host_uri must be a scheme and a host name only (http or https, no path), at most 200 "
           "characters.",
           "Ingo's session page asks for the hosting application's protocol and hostname, 200 characters at most "
           "(https://developers.ingopayments.com/docs/iframe/session/create), not what else is refused.",
           None),
    Choice("payee-search-answer",
           "POST /gateway/search answers data.payees (each like a verify issuer, with account_type CA or BP) and "
           "count.",
           "Ingo's older search page lists the request's fields; its answer section could not be read "
           "(https://developer-payments.ingomoney.com/en/ingopay-api/gateway/search).",
           "--biller-limits"),
    Choice("iframe-page",
           "The page an authorized_url opens, and the calls it makes, stand in for Ingo's hosted iFrame.",
           "Ingo hosts the page: its pages describe the flow, the SDK's events and the webhooks, not the page nor "
           "its calls (https://developers.ingopayments.com/docs/iframe/overview).",
           None),
    Choice("iframe-sdk",
           "The SDK script's URL and what IngoInstantPayments.create() takes.",
           "Ingo's iFrame pages give neither the script's URL nor create()'s arguments "
           "(https://developers.ingopayments.com/docs/iframe/quick-start).",
           None),
    Choice("topic-rvdm",
           "The names and descriptions of the RVDM webhook topics (plugin.transaction.recipient.verification.rvdm.*).",
           "Ingo's RVDM event pages print the event but cut its topic off "
           "(https://developers.ingopayments.com/iframe-webhooks/websockets/rvdm-verification-success): the names "
           "follow plugin.transaction.account.tokenization.success.",
           None),
    Choice("topic-payment-status",
           "A final-outcome webhook after every push and pull, a decline included, on "
           "gateway.transaction.recipient.payment.status.terminated (1113) or .success (1125).",
           "Ingo's quick-start promises a webhook with the final outcome after a process call, while its testing page "
           "names only OFAC and returns as gateway.* webhooks; Ingo documents 1113 and 1125, their client messages "
           "and descriptions on Notify's transaction.recipient.payment.status.* topics "
           "(https://developers.ingopayments.com/api-reference/websockets/payment-terminated, .../payment-successful), "
           "copied as they are; the gateway.* names, the version and the event's extra fields are the emulator's.",
           "--payment-webhooks"),
    Choice("method-not-allowed",
           "A known path asked with another method answers 405 naming the method, with Allow.",
           "Ingo publishes neither; Kong, which routes by method too, would answer 404 \"no Route matched with "
           "those values\".",
           None),
    Choice("request-limits",
           "A body larger than --max-body-size answers 413, and a request whose headers or body come too slowly "
           "408, each naming the limit.",
           "Ingo publishes no size or time limit for requests.",
           "--max-body-size, --header-timeout, --body-timeout"),
)}

def status_choices() -> dict[str, Choice]:
    """One choice per catalogued status whose code and message are the emulator's (``source: emulator``), its
    reason from the family Ingo publishes (the catalogue is read on the first call)."""
    from emulator.core.catalogue import FAMILY_RANGES, catalogue

    found: dict[str, Choice] = {}
    for status in catalogue().values():
        if status.is_ingo:
            continue
        family = FAMILY_RANGES.get(status.family)
        where = (f"Ingo's code families give {family} (https://developers.ingopayments.com/docs/hub/errors); the "
                 "codes of the range and their messages could not be found on Ingo's pages" if family
                 else "Ingo publishes neither the code nor its message")
        found[STATUS_PREFIX + str(status.code)] = Choice(
            STATUS_PREFIX + str(status.code), f"Status {status.code} \"{status.message}\".",
            f"{where}: the code and its message are the emulator's.",
            "a scenario rule with a status and message of your own")
    return found


def status_source(code: int) -> Source | None:
    """A catalogued status's source: the Ingo page that shows it, or the emulator's choice; None when unknown."""
    from emulator.core.catalogue import catalogue

    known = catalogue().get(code)
    if known is None:
        return None
    return ingo(known.page) if known.is_ingo and known.page else choice(STATUS_PREFIX + str(code))


def find(choice_id: str) -> Choice | None:
    """The choice with this id (a registered one, or a catalogued status's)."""
    if choice_id in CHOICES:
        return CHOICES[choice_id]
    return status_choices().get(choice_id) if choice_id.startswith(STATUS_PREFIX) else None


def every_choice() -> list[Choice]:
    """Every choice: the registered ones, then one per emulator status, in code order."""
    statuses = sorted(status_choices().values(), key=lambda c: int(c.id[len(STATUS_PREFIX):]))
    return [*CHOICES.values(), *statuses]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_index() -> str:
    """docs/contract.md's index of choices (between its ``<!-- choices:start/end -->`` markers), one row each."""
    lines = ["| Id | What the emulator does | Why it is a choice | Setting |", "|---|---|---|---|"]
    for item in every_choice():
        lines.append(f"| <a id=\"{item.anchor}\"></a>`{item.ref}` | {_cell(item.title)} | {_cell(item.reason)} | "
                     f"{_cell(item.setting or '-')} |")
    return "\n".join(lines)
