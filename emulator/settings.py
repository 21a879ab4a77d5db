"""Settings: each declared once, as a field of :class:`Settings` with its help, flag, variable and checks.

From those fields come the command line's arguments (:func:`add_arguments`), the reading of the INGOPAY_EMULATOR_*
variables (:func:`from_sources`), the checks (:func:`validate`) and docs/configuration.md's table
(:func:`markdown_table`).

The top floor: it imports only the foundation (``emulator.core``). What a value means to a feature (which HMAC
algorithms Kong knows, which RVDM fields exist) is checked where the feature is wired (``emulator.app``), with a
message that names the setting (:func:`named`).

Not pydantic-settings: its environment source reads lists as JSON (``INGOPAY_EMULATOR_SCENARIOS=a.yaml:b.yaml``
would stop working), names a negated flag's variable after the field (``INGOPAY_EMULATOR_NO_DIAGNOSIS`` would be
ignored), reports pydantic's messages instead of naming the flag or variable and the form expected, and does not
warn about a mistyped variable; keeping them would take more code than this table.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from emulator.core import http_url
from emulator.core.configuration import ConfigurationError
from emulator.core.credentials import DEFAULT_WEBHOOK_SECRET
from emulator.core.durations import EXPECTED as DURATION_FORM
from emulator.core.durations import parse_duration
from emulator.core.limits import DEFAULT_LIMITS, INGO_REQUESTS_PER_SECOND, MAX_DEPTH_CEILING
from emulator.core.names import closest

ENV_PREFIX = "INGOPAY_EMULATOR_"
T = TypeVar("T")

#: Headers every signed request must list in ``headers="..."`` (a setting: --enforce-headers).
DEFAULT_ENFORCED_HEADERS = ("request-line", "x-date")
#: Headers that a request with a body must also sign (a setting: --enforce-body-headers).
DEFAULT_ENFORCED_BODY_HEADERS = ("content-type", "content-length", "content-sha512")


def _words(value: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.replace(",", " ").split() if part.strip())


def _whole_number(value: str) -> int:
    return int(value.strip())


def _finite_number(value: str) -> float:
    number = float(value.strip())
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _durations(value: str) -> tuple[float, ...]:
    return tuple(parse_duration(part) for part in _words(value))


def _path(value: str) -> Path:
    if not value.strip():
        raise ValueError(value)
    return Path(value)


def _pairs(value: str) -> str:
    """``NAME=VALUE`` pairs separated by commas, kept as written (the feature reads the names and values)."""
    for part in _words(value):
        name, sep, given = part.partition("=")
        if not sep or not name.strip() or not given.strip():
            raise ValueError(value)
    return value


def _http_url(value: str) -> str:
    return http_url.checked(value.strip())


def _http_url_or_none(value: str) -> str | None:
    """An empty value is no URL (``INGOPAY_EMULATOR_PUBLIC_URL=`` in a compose file leaves the default)."""
    return _http_url(value) if value.strip() else None


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(value)


@dataclass(frozen=True)
class Parser:
    """How one kind of setting is read from text, with the expected form named when the text does not fit."""

    expected: str
    convert: Callable[[str], Any]
    explains: bool = False  # the converter's ValueError already says what is wrong and what was expected

    def __call__(self, text: str) -> Any:
        try:
            return self.convert(text)
        except (ValueError, TypeError) as exc:
            message = str(exc) if self.explains else f"expected {self.expected}, got {text!r}"
            raise argparse.ArgumentTypeError(message) from None


TEXT = Parser("text", str)
WHOLE_NUMBER = Parser("a whole number", _whole_number)
SECONDS = Parser("a number of seconds (such as 2.5)", _finite_number)
PATH = Parser("a file or folder path", _path)
WORDS = Parser("a list separated by commas", _words)
DURATIONS = Parser(f"a list separated by commas of {DURATION_FORM}", _durations, explains=True)
BOOLEAN = Parser("true or false (or 1/0, yes/no, on/off)", _boolean)
HTTP_URL = Parser("an http:// or https:// URL", _http_url, explains=True)
HTTP_URL_OR_NONE = Parser("an http:// or https:// URL, or nothing", _http_url_or_none, explains=True)
PAIRS = Parser("NAME=VALUE pairs separated by commas (such as LastName=hard,City=bypass)", _pairs)


@dataclass(frozen=True)
class Check:
    """A rule a setting's value must keep, and the sentence that refuses a value that breaks it."""

    holds: Callable[[Any, Settings], bool]  # the value, and all the settings (for a rule that ties two together)
    #: ``{setting}`` is the setting's flag and variable, ``{value}`` its value, ``{other}`` those of ``other``.
    problem: str
    other: str | None = None


AT_LEAST_ONE = Check(lambda count, _: count >= 1, "{setting} must be at least 1")
AT_LEAST_A_KILOBYTE = Check(lambda size, _: size >= 1024, "{setting} must be at least 1024 bytes")
POSITIVE_SECONDS = Check(lambda seconds, _: seconds > 0, "{setting} must be greater than 0 seconds")
NOT_NEGATIVE = Check(lambda seconds, _: seconds >= 0, "{setting} must not be negative")
A_FILE = Check(lambda path, _: path is None or Path(path).is_file(), "{setting}: no such file: {value}")
A_PORT = Check(lambda port, _: 1 <= port <= 65535 or port == 0,
               "{setting} must be between 1 and 65535 (or 0 for any free port)")
NOT_NEGATIVE_RATE = Check(lambda rate, _: rate >= 0,
                          "{setting} must be 0 (off) or a positive number of requests per second")
SOME_ALGORITHM = Check(lambda names, _: bool(names), "{setting} must name at least one HMAC algorithm")
WITH_TLS_KEY = Check(lambda cert, settings: (cert is None) == (settings.tls_key is None),
                     "{setting} and {other} go together: give both or neither", other="tls_key")
WAITS_WITHIN_A_YEAR = Check(lambda waits, _: all(0 <= wait <= 366 * 86400 for wait in waits),
                            "{setting}: each wait must be between 0 and 366 days")
ONE_TO_TEN_ATTEMPTS = Check(lambda attempts, _: 1 <= attempts <= 10, "{setting} must be between 1 and 10")
NOT_NEGATIVE_ALIASES = Check(lambda aliases, _: aliases >= 0, "{setting} must be 0 (no aliases) or more")
A_DEPTH_PYTHON_CAN_BUILD = Check(
    lambda depth, _: 1 <= depth <= MAX_DEPTH_CEILING,
    f"{{setting}} must be from 1 to {MAX_DEPTH_CEILING} (building the nodes of a deeper file could exhaust Python's "
    "stack)")


@dataclass(frozen=True, kw_only=True)
class Option:
    """One setting as the command line and the environment see it (derived from its field of :class:`Settings`)."""

    name: str = ""  # the field's name, filled in by OPTIONS
    default: Any = None  # the field's default, filled in by OPTIONS
    help: str
    parse: Parser = TEXT
    flag: str | None = None  # for boolean options: the flag that sets the non-default value
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    repeatable: bool = False  # the flag may be given several times; the variable holds a list
    separator: str | None = os.pathsep  # how the variable separates a list (None: whitespace or commas)
    checks: tuple[Check, ...] = ()  # what validate() asks of the value, in order

    @property
    def env(self) -> str:
        return ENV_PREFIX + (self.flag or self.name).lstrip("-").replace("-", "_").upper()

    @property
    def cli(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


#: The key of a field's :class:`Option` in its metadata.
_OPTION = "option"


def setting(default: T, help: str, parse: Parser = TEXT, *, flag: str | None = None, metavar: str | None = None,
            choices: tuple[str, ...] | None = None, repeatable: bool = False, separator: str | None = os.pathsep,
            check: Check | tuple[Check, ...] = ()) -> T:
    """Declare a field of :class:`Settings` with all the rest of the setting: its help, how its text is read, its
    flag and variable, and the checks its value must pass (the default is the field's)."""
    option = Option(help=help, parse=parse, flag=flag, metavar=metavar, choices=choices, repeatable=repeatable,
                    separator=separator, checks=check if isinstance(check, tuple) else (check,))
    return dataclasses.field(default=default, metadata={_OPTION: option})


@dataclass(frozen=True)
class Settings:
    """Everything that configures one emulator instance; each field declares one setting, in the order --help and
    docs/configuration.md list them."""

    host: str = setting("127.0.0.1", "address to listen on")
    port: int = setting(8080, "port to listen on", WHOLE_NUMBER, check=A_PORT)
    credentials: Path | None = setting(
        None, "YAML list of {username, secret, participant_id}", PATH, metavar="FILE", check=A_FILE)
    clock_skew: int = setting(
        300, "seconds X-Date and the body timestamp may differ from the signature clock, either way",
        WHOLE_NUMBER, metavar="SECONDS", check=POSITIVE_SECONDS)
    signature_clock: str = setting(
        "real", "the clock X-Date and the body timestamp are checked against, and webhook signatures are dated with: "
        "real (the time clients live in, whatever the emulator clock shows) or emulator (to replay requests dated at "
        "a time the emulator clock was set to)", choices=("real", "emulator"))
    rate_limit: int = setting(
        INGO_REQUESTS_PER_SECOND, "requests per second per credential (0 turns rate limiting off)",
        WHOLE_NUMBER, metavar="N", check=NOT_NEGATIVE_RATE)
    seed: int | None = setting(None, "seed for generated data (tokens, names, transaction ids)", WHOLE_NUMBER)
    log_format: str = setting("text", "request log format", choices=("text", "json"))
    algorithms: tuple[str, ...] = setting(
        ("hmac-sha512",), "HMAC algorithms accepted (comma separated); Ingo accepts hmac-sha256 from legacy "
        "integrations only: add it with --algorithms hmac-sha512,hmac-sha256",
        WORDS, metavar="LIST", check=SOME_ALGORITHM)
    enforce_headers: tuple[str, ...] = setting(
        DEFAULT_ENFORCED_HEADERS, "headers every request must sign", WORDS, metavar="LIST")
    enforce_body_headers: tuple[str, ...] = setting(
        DEFAULT_ENFORCED_BODY_HEADERS, "headers a request with a body must also sign", WORDS, metavar="LIST")
    diagnosis: bool = setting(
        True, "leave out the emulator's explanations (the 401 and 429 diagnoses, validation details): Kong's and "
        "Ingo's bare bodies", BOOLEAN, flag="--no-diagnosis")
    error_http_status: str = setting(
        "200", "HTTP status of business errors: 200 (Ingo status in the body only) or mapped (4xx/5xx by family)",
        choices=("200", "mapped"))
    body_timestamp_check: bool = setting(
        True, "do not check the body 'timestamp' against the clock skew (Ingo status 402)",
        BOOLEAN, flag="--no-body-timestamp-check")
    process_delay: float = setting(
        0.0, "seconds a push takes before it answers (makes 104 observable)",
        SECONDS, metavar="SECONDS", check=NOT_NEGATIVE)
    max_body_size: int = setting(
        1024 * 1024, "largest request body accepted, in bytes (413 above)",
        WHOLE_NUMBER, metavar="BYTES", check=AT_LEAST_A_KILOBYTE)
    header_timeout: float = setting(
        10.0, "seconds a client has to send its request line and headers (and that an idle keep-alive connection "
        "stays open); a stalled connection is closed", SECONDS, metavar="SECONDS", check=POSITIVE_SECONDS)
    body_timeout: float = setting(
        30.0, "seconds a client has to send its request body once the headers are in (408 and closed after)",
        SECONDS, metavar="SECONDS", check=POSITIVE_SECONDS)
    journal_size: int = setting(1000, "requests kept in the journal", WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    memory_transactions: int = setting(
        10_000, "payments (with their idempotency records) kept per participant when state is in memory; the oldest "
        "are forgotten beyond it (--data-dir keeps all)", WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    memory_tokens: int = setting(
        10_000, "tokens (with the accounts they stand for, risk sessions and risk assessments) kept per participant "
        "when state is in memory; the least recently used are forgotten beyond it, and a forgotten token is answered "
        "as one never issued (--data-dir keeps all)", WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    memory_sessions: int = setting(
        10_000, "iFrame sessions (with their Idempotency-Keys) kept per participant when state is in memory; the "
        "oldest finished or abandoned are forgotten beyond it, never one in progress (--data-dir keeps all)",
        WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    memory_deliveries: int = setting(
        10_000, "webhook deliveries (with their attempts) kept per participant when state is in memory; the oldest "
        "finished are forgotten beyond it, never a pending one (--data-dir keeps all)",
        WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    events_kept: int = setting(
        10_000, "webhook events GET /_emulator/events lists (all participants); the oldest leave the list beyond it, "
        "their deliveries stay", WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    public_url: str | None = setting(
        None, "base URL for links the emulator hands out (default: the request's own origin)",
        HTTP_URL_OR_NONE, metavar="URL")
    quiet: bool = setting(False, "do not log one line per request", BOOLEAN, flag="--quiet")
    data_dir: Path | None = setting(
        None, "folder for durable state (SQLite); without it, state is kept in memory only", PATH, metavar="PATH")
    scenarios: tuple[Path, ...] = setting(
        (), f"scenario file or folder to load (repeatable; the variable takes a list separated by '{os.pathsep}')",
        PATH, metavar="PATH", repeatable=True)
    default_scenarios: bool = setting(
        True, "do not load the bundled default scenarios (magic values)", BOOLEAN, flag="--no-default-scenarios")
    webhook_url: tuple[str, ...] = setting(
        (), "deliver webhooks to this URL (repeatable; the variable takes a list separated by spaces or commas)",
        HTTP_URL, metavar="URL", repeatable=True, separator=None)
    webhook_secret: str = setting(
        DEFAULT_WEBHOOK_SECRET, "secret that signs X-Ingo-Signature for endpoints without their own", metavar="SECRET")
    webhooks_config: Path | None = setting(
        None, "YAML list of webhook endpoints {url, secret, topics, participant_id}",
        PATH, metavar="FILE", check=A_FILE)
    webhook_timeout: float = setting(
        10.0, "seconds a receiver has to answer 2xx", SECONDS, metavar="SECONDS", check=POSITIVE_SECONDS)
    webhook_retry_schedule: tuple[float, ...] = setting(
        (30, 60, 120, 240, 480, 960, 1920, 3600, 7200, 14400, 28800, 57600), "waits between delivery attempts, e.g. "
        "30s,1m,2m (the last attempt follows the last wait)", DURATIONS, metavar="LIST", check=WAITS_WITHIN_A_YEAR)
    webhook_concurrency: int = setting(
        32, "deliveries under way at once", WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    webhook_endpoint_concurrency: int = setting(
        4, "deliveries under way at once to one endpoint (of --webhook-concurrency): a receiver that hangs holds no "
        "more", WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    tls: bool = setting(
        False, "serve HTTPS with a certificate made at start (the ready line names its CA file; see --tls-dir)",
        BOOLEAN, flag="--tls")
    tls_dir: Path | None = setting(
        None, "folder --tls writes its certificate and CA (ca.pem) to (default: DATA_DIR/tls with --data-dir, else a "
        "temporary folder removed at exit)", PATH, metavar="PATH")
    tls_cert: Path | None = setting(
        None, "serve HTTPS with this certificate (PEM; with --tls-key)",
        PATH, metavar="FILE", check=(WITH_TLS_KEY, A_FILE))
    tls_key: Path | None = setting(None, "private key of --tls-cert (PEM)", PATH, metavar="FILE", check=A_FILE)
    webhook_ca_bundle: Path | None = setting(
        None, "extra CA certificates (PEM) to trust for HTTPS webhook receivers", PATH, metavar="FILE", check=A_FILE)
    admin_token: str | None = setting(
        None, "require this token (Authorization: Bearer TOKEN or X-Emulator-Admin-Token) on the admin API except "
        "/_emulator/health and the inspector's own files; set it when binding beyond loopback", metavar="TOKEN")
    allowed_hosts: tuple[str, ...] = setting(
        (), "host names the admin API and the inspector answer to, besides localhost, IP addresses, the listen "
        "address and --public-url's host (comma separated; * allows any): a guard against DNS rebinding",
        WORDS, metavar="LIST")
    plugin_rvdm: str = setting(
        "", "iFrame recipient data matching per field: FIELD=hard|soft|bypass, comma separated (fields: FirstName, "
        "LastName, BusinessName, AddressLine1, City, State, ZipCode); a field not named keeps the emulator's default "
        "(docs/plugin.md)", PAIRS, metavar="RULES")
    plugin_max_attempts: int = setting(
        3, "iFrame verification attempts before the session is terminated (1-10)",
        WHOLE_NUMBER, metavar="N", check=ONE_TO_TEN_ATTEMPTS)
    scenario_max_bytes: int = setting(
        DEFAULT_LIMITS.max_bytes, "largest scenario file or upload, in bytes",
        WHOLE_NUMBER, metavar="BYTES", check=AT_LEAST_ONE)
    scenario_max_nodes: int = setting(
        DEFAULT_LIMITS.max_nodes, "most YAML nodes a scenario file may expand to (aliases counted as expanded)",
        WHOLE_NUMBER, metavar="N", check=AT_LEAST_ONE)
    scenario_max_aliases: int = setting(
        DEFAULT_LIMITS.max_aliases, "most YAML aliases (*name) a scenario file may use",
        WHOLE_NUMBER, metavar="N", check=NOT_NEGATIVE_ALIASES)
    scenario_max_depth: int = setting(
        DEFAULT_LIMITS.max_depth, "deepest nesting of mappings and sequences in a scenario file, refused as it is "
        f"parsed (1-{MAX_DEPTH_CEILING})", WHOLE_NUMBER, metavar="N", check=A_DEPTH_PYTHON_CAN_BUILD)
    restore: Path | None = setting(
        None, "start from a snapshot archive (what GET /_emulator/snapshot answered; docs/snapshots.md): its state, "
        "clock, scenarios, journal, events and findings, restored before the emulator reports ready",
        PATH, metavar="FILE", check=A_FILE)
    snapshot_max_bytes: int = setting(
        64 * 1024 * 1024, "largest snapshot archive POST /_emulator/snapshot (413 above) and --restore accept, in "
        "bytes, whatever --max-body-size says; send it with a Content-Length, as curl --data-binary @FILE does (a "
        "chunked body may be held to --max-body-size)", WHOLE_NUMBER, metavar="BYTES", check=AT_LEAST_A_KILOBYTE)
    biller_limits: str = setting(
        "omit", "how biller search shows a biller whose min/max leaves out the amount sent: omit (left out; 700 when "
        "none is left) or flag (listed with credit_enabled and debit_enabled 0)", choices=("omit", "flag"))
    x_date_format: str = setting(
        "rfc1123", "dates X-Date and Date may carry: rfc1123 (only Ingo's documented form, RFC 1123 in GMT with the "
        "date's weekday) or kong (what Kong's hmac-auth reads: RFC 1123, RFC 850 or asctime, always GMT, a zone after "
        "the seconds unread, so a date without a zone passes)", choices=("rfc1123", "kong"))
    payment_webhooks: str = setting(
        "on", "the final-outcome webhook of every push and pull, as Ingo's quick-start describes: on "
        "(payment.status.success when paid, .terminated when declined) or off (only OFAC, returns, checks and "
        "scenario events)", choices=("on", "off"))
    readiness_plan: Path | None = setting(
        None, "the readiness plan rehearsals judge (YAML, docs/readiness.md; checked like scenario files, within their "
        "limits) instead of the bundled one", PATH, metavar="FILE")

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some settings changed (handy in tests)."""
        return dataclasses.replace(self, **changes)


#: Every setting as the command line and the environment see it, in the order of the fields of Settings.
OPTIONS: tuple[Option, ...] = tuple(dataclasses.replace(field.metadata[_OPTION], name=field.name, default=field.default)
                                    for field in dataclasses.fields(Settings))
OPTION_BY_NAME = {option.name: option for option in OPTIONS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every option to ``parser``; each help line names its environment variable and any default."""
    for option in OPTIONS:
        if option.flag:
            parser.add_argument(option.cli, dest=option.name, action="store_const", const=not option.default,
                                default=None, help=f"{option.help} [env {option.env}=true]")
            continue
        if option.repeatable:
            parser.add_argument(option.cli, dest=option.name, default=None, metavar=option.metavar,
                                action="append", type=option.parse, help=f"{option.help} [env {option.env}]")
            continue
        shown = _shown_default(option.default)
        parser.add_argument(option.cli, dest=option.name, default=None, metavar=option.metavar,
                            choices=option.choices, type=str if option.choices else option.parse,
                            help=f"{option.help}{f' (default {shown})' if shown != '-' else ''} [env {option.env}]")


def _shown_default(default: Any) -> str:
    """A default as the help and docs/configuration.md show it ("-" for none)."""
    if isinstance(default, tuple):
        return ",".join(f"{d:g}" if isinstance(d, float) else str(d) for d in default) or "-"
    return "-" if default is None or default == "" else str(default)


def from_sources(args: argparse.Namespace | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings: flags win over INGOPAY_EMULATOR_* variables, which win over defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in OPTIONS:
        given = getattr(args, option.name, None) if args is not None else None
        if given is not None:
            values[option.name] = tuple(given) if option.repeatable else given
            continue
        raw = environ.get(option.env)
        if raw is not None:
            values[option.name] = _from_variable(option, raw)
    settings = Settings(**values)
    validate(settings)
    return settings


def _from_variable(option: Option, raw: str) -> Any:
    """The value of ``option`` from its variable's text; a SettingsError that names the variable otherwise."""
    try:
        if option.repeatable:
            parts = raw.split(option.separator) if option.separator else raw.replace(",", " ").split()
            return tuple(option.parse(part.strip()) for part in parts if part.strip())
        if option.choices:
            if raw.strip() not in option.choices:
                raise argparse.ArgumentTypeError(f"expected one of {', '.join(option.choices)}, got {raw!r}")
            return raw.strip()
        value = option.parse(raw)
    except argparse.ArgumentTypeError as exc:
        raise SettingsError(f"{option.env}={raw!r} is not valid: {exc}") from None
    if option.flag:
        # The variable is named after the flag, so INGOPAY_EMULATOR_NO_DIAGNOSIS=1 means "flag given".
        return (not option.default) if value else option.default
    return value


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each INGOPAY_EMULATOR_* variable no setting reads (a typo), naming the closest real one."""
    environ = os.environ if environ is None else environ
    known = [option.env.removeprefix(ENV_PREFIX) for option in OPTIONS]
    warnings = []
    for name in sorted(n for n in environ if n.startswith(ENV_PREFIX) and n.removeprefix(ENV_PREFIX) not in known):
        close = closest(name.removeprefix(ENV_PREFIX), known)
        hint = f"; did you mean {ENV_PREFIX}{close}?" if close else "; `ingopay-emulator --help` lists them"
        warnings.append(f"{name} is not a setting of ingopay-emulator and is ignored{hint}")
    return warnings


class SettingsError(ConfigurationError, ValueError):
    """A setting has a value the emulator cannot use."""


def named(name: str) -> str:
    """A setting as the user sets it: its flag and its variable, e.g. ``--clock-skew (INGOPAY_EMULATOR_CLOCK_SKEW)``."""
    option = OPTION_BY_NAME[name]
    return f"{option.cli} ({option.env})"


def validate(settings: Settings) -> None:
    """Refuse settings that cannot work, with a sentence that names the setting (the first broken check, in the
    order the settings are declared)."""
    for option in OPTIONS:
        value = getattr(settings, option.name)
        for check in option.checks:
            if not check.holds(value, settings):
                other = named(check.other) if check.other else ""
                raise SettingsError(check.problem.format(setting=named(option.name), value=value, other=other))


__all__ = ["OPTIONS", "Settings", "SettingsError", "add_arguments", "from_sources", "unknown_variables"]


def markdown_table() -> str:
    """docs/configuration.md's table: flag, environment variable, default, meaning."""
    lines = ["| flag | environment variable | default | what it does |", "|---|---|---|---|"]
    for option in OPTIONS:
        shown = "-" if option.flag else _shown_default(option.default)
        if option.flag:
            flag = option.cli
        elif option.choices:
            flag = f"{option.cli} {{{','.join(option.choices)}}}"
        else:
            flag = f"{option.cli} {option.metavar or option.name.upper()}"
        env = f"`{option.env}=true`" if option.flag else f"`{option.env}`"
        lines.append(f"| `{flag}` | {env} | {shown} | {option.help.replace('|', '/')} |")
    return "\n".join(lines)
