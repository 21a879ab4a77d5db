"""Settings: one declarative table of options, read from flags and INGOPAY_EMULATOR_* variables.

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
import difflib
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.core.configuration import ConfigurationError
from emulator.core.credentials import DEFAULT_WEBHOOK_SECRET
from emulator.core.durations import EXPECTED as DURATION_FORM
from emulator.core.durations import parse_duration
from emulator.core.limits import DEFAULT_LIMITS, INGO_REQUESTS_PER_SECOND, MAX_DEPTH_CEILING

ENV_PREFIX = "INGOPAY_EMULATOR_"

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
PAIRS = Parser("NAME=VALUE pairs separated by commas (such as LastName=hard,City=bypass)", _pairs)


@dataclass(frozen=True)
class Settings:
    """Everything that configures one emulator instance."""

    host: str = "127.0.0.1"
    port: int = 8080
    credentials: Path | None = None
    clock_skew: int = 300
    signature_clock: str = "real"
    rate_limit: int = INGO_REQUESTS_PER_SECOND
    seed: int | None = None
    log_format: str = "text"
    algorithms: tuple[str, ...] = ("hmac-sha512",)
    enforce_headers: tuple[str, ...] = DEFAULT_ENFORCED_HEADERS
    enforce_body_headers: tuple[str, ...] = DEFAULT_ENFORCED_BODY_HEADERS
    diagnosis: bool = True
    error_http_status: str = "200"
    body_timestamp_check: bool = True
    process_delay: float = 0.0
    max_body_size: int = 1024 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    journal_size: int = 1000
    memory_transactions: int = 10_000
    memory_tokens: int = 10_000
    memory_sessions: int = 10_000
    memory_deliveries: int = 10_000
    events_kept: int = 10_000
    public_url: str | None = None
    quiet: bool = False
    data_dir: Path | None = None
    scenarios: tuple[Path, ...] = ()
    default_scenarios: bool = True
    webhook_url: tuple[str, ...] = ()
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    webhooks_config: Path | None = None
    webhook_timeout: float = 10.0
    webhook_retry_schedule: tuple[float, ...] = (30, 60, 120, 240, 480, 960, 1920, 3600, 7200, 14400, 28800, 57600)
    webhook_concurrency: int = 32
    webhook_endpoint_concurrency: int = 4
    admin_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    webhook_ca_bundle: Path | None = None
    plugin_rvdm: str = ""
    plugin_max_attempts: int = 3
    scenario_max_bytes: int = DEFAULT_LIMITS.max_bytes
    scenario_max_nodes: int = DEFAULT_LIMITS.max_nodes
    scenario_max_aliases: int = DEFAULT_LIMITS.max_aliases
    scenario_max_depth: int = DEFAULT_LIMITS.max_depth
    restore: Path | None = None
    snapshot_max_bytes: int = 64 * 1024 * 1024
    biller_limits: str = "omit"
    x_date_format: str = "rfc1123"
    payment_webhooks: str = "on"
    readiness_plan: Path | None = None

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some settings changed (handy in tests)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Option:
    """One setting as the command line and the environment see it."""

    name: str
    help: str
    parse: Parser = TEXT
    flag: str | None = None  # for boolean options: the flag that sets the non-default value
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    repeatable: bool = False  # the flag may be given several times; the variable holds a list
    separator: str | None = os.pathsep  # how the variable separates a list (None: whitespace or commas)

    @property
    def env(self) -> str:
        return ENV_PREFIX + (self.flag or self.name).lstrip("-").replace("-", "_").upper()

    @property
    def cli(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("host", "address to listen on"),
    Option("port", "port to listen on", WHOLE_NUMBER),
    Option("credentials", "YAML list of {username, secret, participant_id}", PATH, metavar="FILE"),
    Option("clock_skew", "seconds X-Date and the body timestamp may differ from the signature clock, either way",
           WHOLE_NUMBER,
           metavar="SECONDS"),
    Option("signature_clock", "the clock X-Date and the body timestamp are checked against, and webhook "
           "signatures are dated with: real (the time clients live in, whatever the emulator clock shows) or "
           "emulator (to replay requests dated at a time the emulator clock was set to)", choices=("real", "emulator")),
    Option("rate_limit", "requests per second per credential (0 turns rate limiting off)", WHOLE_NUMBER,
           metavar="N"),
    Option("seed", "seed for generated data (tokens, names, transaction ids)", WHOLE_NUMBER),
    Option("log_format", "request log format", choices=("text", "json")),
    Option("algorithms", "HMAC algorithms accepted (comma separated); Ingo accepts hmac-sha256 from legacy "
           "integrations only: add it with --algorithms hmac-sha512,hmac-sha256", WORDS, metavar="LIST"),
    Option("enforce_headers", "headers every request must sign", WORDS, metavar="LIST"),
    Option("enforce_body_headers", "headers a request with a body must also sign", WORDS, metavar="LIST"),
    Option("diagnosis", "leave out the emulator's explanations (the 401 diagnosis, validation details): "
           "Kong's and Ingo's bare bodies",
           BOOLEAN, flag="--no-diagnosis"),
    Option("error_http_status", "HTTP status of business errors: 200 (Ingo status in the body only) "
           "or mapped (4xx/5xx by family)", choices=("200", "mapped")),
    Option("body_timestamp_check", "do not check the body 'timestamp' against the clock skew (Ingo status 402)",
           BOOLEAN, flag="--no-body-timestamp-check"),
    Option("process_delay", "seconds a push takes before it answers (makes 104 observable)", SECONDS,
           metavar="SECONDS"),
    Option("max_body_size", "largest request body accepted, in bytes (413 above)", WHOLE_NUMBER, metavar="BYTES"),
    Option("header_timeout", "seconds a client has to send its request line and headers (and that an idle "
           "keep-alive connection stays open); a stalled connection is closed", SECONDS, metavar="SECONDS"),
    Option("body_timeout", "seconds a client has to send its request body once the headers are in (408 and "
           "closed after)", SECONDS, metavar="SECONDS"),
    Option("journal_size", "requests kept in the journal", WHOLE_NUMBER, metavar="N"),
    Option("memory_transactions", "payments (with their idempotency records) kept per participant when state is "
           "in memory; the oldest are forgotten beyond it (--data-dir keeps all)", WHOLE_NUMBER, metavar="N"),
    Option("memory_tokens", "tokens (with the accounts they stand for, risk sessions and risk assessments) kept per "
           "participant when state is in memory; the least recently used are forgotten beyond it, and a forgotten "
           "token is answered as one never issued (--data-dir keeps all)", WHOLE_NUMBER, metavar="N"),
    Option("memory_sessions", "iFrame sessions (with their Idempotency-Keys) kept per participant when state is in "
           "memory; the oldest finished or abandoned are forgotten beyond it, never one in progress (--data-dir keeps "
           "all)", WHOLE_NUMBER, metavar="N"),
    Option("memory_deliveries", "webhook deliveries (with their attempts) kept per participant when state is in "
           "memory; the oldest finished are forgotten beyond it, never a pending one (--data-dir keeps all)",
           WHOLE_NUMBER, metavar="N"),
    Option("events_kept", "webhook events GET /_emulator/events lists (all participants); the oldest leave the list "
           "beyond it, their deliveries stay", WHOLE_NUMBER, metavar="N"),
    Option("public_url", "base URL for links the emulator hands out (default: the request's own origin)",
           metavar="URL"),
    Option("quiet", "do not log one line per request", BOOLEAN, flag="--quiet"),
    Option("data_dir", "folder for durable state (SQLite); without it, state is kept in memory only", PATH,
           metavar="PATH"),
    Option("scenarios", "scenario file or folder to load (repeatable; the variable takes a list separated by "
           f"'{os.pathsep}')", PATH, metavar="PATH", repeatable=True),
    Option("default_scenarios", "do not load the bundled default scenarios (magic values)", BOOLEAN,
           flag="--no-default-scenarios"),
    Option("webhook_url", "deliver webhooks to this URL (repeatable; the variable takes a list separated by "
           "spaces or commas)", metavar="URL", repeatable=True, separator=None),
    Option("webhook_secret", "secret that signs X-Ingo-Signature for endpoints without their own", metavar="SECRET"),
    Option("webhooks_config", "YAML list of webhook endpoints {url, secret, topics, participant_id}", PATH,
           metavar="FILE"),
    Option("webhook_timeout", "seconds a receiver has to answer 2xx", SECONDS, metavar="SECONDS"),
    Option("webhook_retry_schedule", "waits between delivery attempts, e.g. 30s,1m,2m (the last attempt follows "
           "the last wait)", DURATIONS, metavar="LIST"),
    Option("webhook_concurrency", "deliveries under way at once", WHOLE_NUMBER, metavar="N"),
    Option("webhook_endpoint_concurrency", "deliveries under way at once to one endpoint (of --webhook-concurrency): "
           "a receiver that hangs holds no more", WHOLE_NUMBER, metavar="N"),
    Option("tls", "serve HTTPS with a certificate made at start (its CA file is printed)", BOOLEAN, flag="--tls"),
    Option("tls_cert", "serve HTTPS with this certificate (PEM; with --tls-key)", PATH, metavar="FILE"),
    Option("tls_key", "private key of --tls-cert (PEM)", PATH, metavar="FILE"),
    Option("webhook_ca_bundle", "extra CA certificates (PEM) to trust for HTTPS webhook receivers", PATH,
           metavar="FILE"),
    Option("admin_token", "require this token (Authorization: Bearer TOKEN or X-Emulator-Admin-Token) on the "
           "admin API except /_emulator/health and the inspector's own files; set it when binding beyond loopback",
           metavar="TOKEN"),
    Option("allowed_hosts", "host names the admin API and the inspector answer to, besides localhost, IP addresses, "
           "the listen address and --public-url's host (comma separated; * allows any): a guard against DNS "
           "rebinding", WORDS, metavar="LIST"),
    Option("plugin_rvdm", "iFrame recipient data matching per field: FIELD=hard|soft|bypass, comma separated "
           "(fields: FirstName, LastName, BusinessName, AddressLine1, City, State, ZipCode); a field not named keeps "
           "the emulator's default (docs/plugin.md)", PAIRS, metavar="RULES"),
    Option("plugin_max_attempts", "iFrame verification attempts before the session is terminated (1-10)", WHOLE_NUMBER,
           metavar="N"),
    Option("scenario_max_bytes", "largest scenario file or upload, in bytes", WHOLE_NUMBER, metavar="BYTES"),
    Option("scenario_max_nodes", "most YAML nodes a scenario file may expand to (aliases counted as expanded)",
           WHOLE_NUMBER, metavar="N"),
    Option("scenario_max_aliases", "most YAML aliases (*name) a scenario file may use", WHOLE_NUMBER, metavar="N"),
    Option("scenario_max_depth", "deepest nesting of mappings and sequences in a scenario file, refused as it is "
           f"parsed (1-{MAX_DEPTH_CEILING})", WHOLE_NUMBER, metavar="N"),
    Option("restore", "start from a snapshot archive (what GET /_emulator/snapshot answered; docs/snapshots.md): "
           "its state, clock, scenarios, journal, events and findings, restored before the emulator reports ready",
           PATH, metavar="FILE"),
    Option("snapshot_max_bytes", "largest snapshot archive POST /_emulator/snapshot (413 above) and --restore accept, "
           "in bytes, "
           "whatever --max-body-size says; send it with a Content-Length, as curl --data-binary @FILE does (a chunked "
           "body may be held to --max-body-size)", WHOLE_NUMBER, metavar="BYTES"),
    Option("biller_limits", "how biller search shows a biller whose min/max leaves out the amount sent: omit (left "
           "out; 700 when none is left) or flag (listed with credit_enabled and debit_enabled 0)",
           choices=("omit", "flag")),
    Option("x_date_format", "dates X-Date and Date may carry: rfc1123 (only Ingo's documented form, RFC 1123 in GMT "
           "with the date's weekday) or kong (what Kong's hmac-auth reads: RFC 1123, RFC 850 or asctime, always GMT, "
           "a zone after the seconds unread, so a date without a zone passes)", choices=("rfc1123", "kong")),
    Option("payment_webhooks", "the final-outcome webhook of every push and pull, as Ingo's quick-start describes: "
           "on (payment.status.success when paid, .terminated when declined) or off (only OFAC, returns, checks and "
           "scenario events)", choices=("on", "off")),
    Option("readiness_plan", "the readiness plan rehearsals judge (YAML, docs/readiness.md; checked like scenario "
           "files, within their limits) instead of the bundled one", PATH, metavar="FILE"),
)


OPTION_BY_NAME = {option.name: option for option in OPTIONS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every option to ``parser``; each help line names its environment variable and any default."""
    for option in OPTIONS:
        default = getattr(Settings, option.name)
        if option.flag:
            parser.add_argument(option.cli, dest=option.name, action="store_const", const=not default,
                                default=None, help=f"{option.help} [env {option.env}=true]")
            continue
        if option.repeatable:
            parser.add_argument(option.cli, dest=option.name, default=None, metavar=option.metavar,
                                action="append", type=option.parse, help=f"{option.help} [env {option.env}]")
            continue
        shown = _shown_default(default)
        parser.add_argument(option.cli, dest=option.name, default=None, metavar=option.metavar,
                            choices=option.choices, type=str if option.choices else option.parse,
                            help=f"{option.help}{f' (default {shown})' if shown != '-' else ''} [env {option.env}]")


def _shown_default(default: Any) -> str:
    """A default as the help and the README show it ("-" for none)."""
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
        default = getattr(Settings, option.name)
        return (not default) if value else default
    return value


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each INGOPAY_EMULATOR_* variable no setting reads (a typo), naming the closest real one."""
    environ = os.environ if environ is None else environ
    known = [option.env.removeprefix(ENV_PREFIX) for option in OPTIONS]
    warnings = []
    for name in sorted(n for n in environ if n.startswith(ENV_PREFIX) and n.removeprefix(ENV_PREFIX) not in known):
        close = difflib.get_close_matches(name.removeprefix(ENV_PREFIX), known, n=1, cutoff=0.6)
        hint = f"; did you mean {ENV_PREFIX}{close[0]}?" if close else "; `ingopay-emulator --help` lists them"
        warnings.append(f"{name} is not a setting of ingopay-emulator and is ignored{hint}")
    return warnings


class SettingsError(ConfigurationError, ValueError):
    """A setting has a value the emulator cannot use."""


def named(name: str) -> str:
    """A setting as the user sets it: its flag and its variable, e.g. ``--clock-skew (INGOPAY_EMULATOR_CLOCK_SKEW)``."""
    option = OPTION_BY_NAME[name]
    return f"{option.cli} ({option.env})"


def validate(settings: Settings) -> None:
    """Refuse settings that cannot work, with a sentence that names the setting."""
    if settings.clock_skew <= 0:
        raise SettingsError(f"{named('clock_skew')} must be greater than 0 seconds")
    if settings.rate_limit < 0:
        raise SettingsError(f"{named('rate_limit')} must be 0 (off) or a positive number of requests per second")
    if not settings.algorithms:
        raise SettingsError(f"{named('algorithms')} must name at least one HMAC algorithm")
    if not 1 <= settings.port <= 65535 and settings.port != 0:
        raise SettingsError(f"{named('port')} must be between 1 and 65535 (or 0 for any free port)")
    for name in ("memory_transactions", "memory_tokens", "memory_sessions", "memory_deliveries", "events_kept"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"{named(name)} must be at least 1")
    if settings.journal_size < 1:
        raise SettingsError(f"{named('journal_size')} must be at least 1")
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise SettingsError(f"{named('tls_cert')} and {named('tls_key')} go together: give both or neither")
    for name in ("tls_cert", "tls_key", "webhook_ca_bundle", "credentials", "webhooks_config", "restore"):
        path = getattr(settings, name)
        if path is not None and not Path(path).is_file():
            raise SettingsError(f"{named(name)}: no such file: {path}")
    if settings.webhook_timeout <= 0:
        raise SettingsError(f"{named('webhook_timeout')} must be greater than 0 seconds")
    if settings.webhook_concurrency < 1:
        raise SettingsError(f"{named('webhook_concurrency')} must be at least 1")
    if settings.webhook_endpoint_concurrency < 1:
        raise SettingsError(f"{named('webhook_endpoint_concurrency')} must be at least 1")
    if any(not 0 <= wait <= 366 * 86400 for wait in settings.webhook_retry_schedule):
        raise SettingsError(f"{named('webhook_retry_schedule')}: each wait must be between 0 and 366 days")
    if not 1 <= settings.plugin_max_attempts <= 10:
        raise SettingsError(f"{named('plugin_max_attempts')} must be between 1 and 10")
    if settings.max_body_size < 1024:
        raise SettingsError(f"{named('max_body_size')} must be at least 1024 bytes")
    if settings.process_delay < 0:
        raise SettingsError(f"{named('process_delay')} must not be negative")
    for name in ("header_timeout", "body_timeout"):
        if getattr(settings, name) <= 0:
            raise SettingsError(f"{named(name)} must be greater than 0 seconds")
    for name in ("scenario_max_bytes", "scenario_max_nodes"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"{named(name)} must be at least 1")
    if settings.scenario_max_aliases < 0:
        raise SettingsError(f"{named('scenario_max_aliases')} must be 0 (no aliases) or more")
    if not 1 <= settings.scenario_max_depth <= MAX_DEPTH_CEILING:
        raise SettingsError(f"{named('scenario_max_depth')} must be from 1 to {MAX_DEPTH_CEILING} (building the "
                            "nodes of a deeper file could exhaust Python's stack)")
    if settings.snapshot_max_bytes < 1024:
        raise SettingsError(f"{named('snapshot_max_bytes')} must be at least 1024 bytes")


__all__ = ["OPTIONS", "Settings", "SettingsError", "add_arguments", "from_sources", "unknown_variables"]


def markdown_table() -> str:
    """The README's configuration table: flag, environment variable, default, meaning."""
    lines = ["| flag | environment variable | default | what it does |", "|---|---|---|---|"]
    for option in OPTIONS:
        default = getattr(Settings, option.name)
        shown = "-" if option.flag else _shown_default(default)
        if option.flag:
            flag = option.cli
        elif option.choices:
            flag = f"{option.cli} {{{','.join(option.choices)}}}"
        else:
            flag = f"{option.cli} {option.metavar or option.name.upper()}"
        env = f"`{option.env}=true`" if option.flag else f"`{option.env}`"
        lines.append(f"| `{flag}` | {env} | {shown} | {option.help.replace('|', '/')} |")
    return "\n".join(lines)
