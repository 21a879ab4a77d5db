"""Settings: one declarative table of options, read from flags and INGOPAY_EMULATOR_* variables."""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from emulator.plugin.rvdm import DEFAULT_RULES as DEFAULT_RVDM_RULES, rules_setting as rvdm_rules_setting

ENV_PREFIX = "INGOPAY_EMULATOR_"

#: Headers every signed request must list in ``headers="..."`` (a setting: --enforce-headers).
DEFAULT_ENFORCED_HEADERS = ("request-line", "x-date")
#: Headers that a request with a body must also sign (a setting: --enforce-body-headers).
DEFAULT_ENFORCED_BODY_HEADERS = ("content-type", "content-length", "content-sha512")


def _words(value: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.replace(",", " ").split() if part.strip())


def _duration(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    text = value.strip().lower()
    for unit in ("ms", "s", "m", "h", "d"):
        if text.endswith(unit) and text[: -len(unit)].replace(".", "", 1).isdigit():
            return float(text[: -len(unit)]) * units[unit]
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a duration such as 30s, 5m, 2h, 1d") from None


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """Everything that configures one emulator instance."""

    host: str = "127.0.0.1"
    port: int = 8080
    credentials: Path | None = None
    clock_skew: int = 300
    rate_limit: int = 5
    seed: int | None = None
    log_format: str = "text"
    algorithms: tuple[str, ...] = ("hmac-sha512", "hmac-sha256")
    enforce_headers: tuple[str, ...] = DEFAULT_ENFORCED_HEADERS
    enforce_body_headers: tuple[str, ...] = DEFAULT_ENFORCED_BODY_HEADERS
    diagnosis: bool = True
    error_http_status: str = "200"
    body_timestamp_check: bool = True
    process_delay: float = 0.0
    max_body_size: int = 1024 * 1024
    journal_size: int = 1000
    memory_transactions: int = 10_000
    public_url: str | None = None
    quiet: bool = False
    data_dir: Path | None = None
    scenarios: tuple[Path, ...] = ()
    default_scenarios: bool = True
    webhook_url: tuple[str, ...] = ()
    webhook_secret: str = "ingopay-emulator-webhook-secret"
    webhooks_config: Path | None = None
    webhook_timeout: float = 10.0
    webhook_retry_schedule: tuple[float, ...] = (30, 60, 120, 240, 480, 960, 1920, 3600, 7200, 14400, 28800, 57600)
    webhook_concurrency: int = 8
    admin_token: str | None = None
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    webhook_ca_bundle: Path | None = None
    plugin_rvdm: str = DEFAULT_RVDM_RULES
    plugin_max_attempts: int = 3

    def replace(self, **changes: Any) -> "Settings":
        """Return a copy with some settings changed (handy in tests)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Option:
    """One setting as the command line and the environment see it."""

    name: str
    help: str
    parse: Callable[[str], Any] = str
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
    Option("port", "port to listen on", int),
    Option("credentials", "YAML list of {username, secret, participant_id}", Path, metavar="FILE"),
    Option("clock_skew", "seconds X-Date may differ from the emulator clock, either way", int, metavar="SECONDS"),
    Option("rate_limit", "requests per second per credential (0 turns rate limiting off)", int, metavar="N"),
    Option("seed", "seed for generated data (tokens, names, transaction ids)", int),
    Option("log_format", "request log format", choices=("text", "json")),
    Option("algorithms", "HMAC algorithms accepted (comma separated)", _words, metavar="LIST"),
    Option("enforce_headers", "headers every request must sign", _words, metavar="LIST"),
    Option("enforce_body_headers", "headers a request with a body must also sign", _words, metavar="LIST"),
    Option("diagnosis", "leave out the emulator's explanations (the 401 diagnosis, validation details): "
           "Kong's and Ingo's bare bodies",
           _boolean, flag="--no-diagnosis"),
    Option("error_http_status", "HTTP status of business errors: 200 (Ingo status in the body only) "
           "or mapped (4xx/5xx by family)", choices=("200", "mapped")),
    Option("body_timestamp_check", "do not check the body 'timestamp' against the clock skew (Ingo status 402)",
           _boolean, flag="--no-body-timestamp-check"),
    Option("process_delay", "seconds a push takes before it answers (makes 104 observable)", float,
           metavar="SECONDS"),
    Option("max_body_size", "largest request body accepted, in bytes (413 above)", int, metavar="BYTES"),
    Option("journal_size", "requests kept in the journal", int, metavar="N"),
    Option("memory_transactions", "payments (with their idempotency records) kept per participant when state is "
           "in memory; the oldest are forgotten beyond it (--data-dir keeps all)", int, metavar="N"),
    Option("public_url", "base URL for links the emulator hands out (default: the request's own origin)",
           metavar="URL"),
    Option("quiet", "do not log one line per request", _boolean, flag="--quiet"),
    Option("data_dir", "folder for durable state (SQLite); without it, state is kept in memory only", Path,
           metavar="PATH"),
    Option("scenarios", "scenario file or folder to load (repeatable; the variable takes a list separated by "
           f"'{os.pathsep}')", Path, metavar="PATH", repeatable=True),
    Option("default_scenarios", "do not load the bundled default scenarios (magic values)", _boolean,
           flag="--no-default-scenarios"),
    Option("webhook_url", "deliver webhooks to this URL (repeatable; the variable takes a list separated by "
           "spaces or commas)", metavar="URL", repeatable=True, separator=None),
    Option("webhook_secret", "secret that signs X-Ingo-Signature for endpoints without their own", metavar="SECRET"),
    Option("webhooks_config", "YAML list of webhook endpoints {url, secret, topics, participant_id}", Path,
           metavar="FILE"),
    Option("webhook_timeout", "seconds a receiver has to answer 2xx", float, metavar="SECONDS"),
    Option("webhook_retry_schedule", "waits between delivery attempts, e.g. 30s,1m,2m (the last attempt follows "
           "the last wait)", lambda v: tuple(_duration(p) for p in _words(v)), metavar="LIST"),
    Option("webhook_concurrency", "deliveries under way at once", int, metavar="N"),
    Option("tls", "serve HTTPS with a certificate made at start (its CA file is printed)", _boolean, flag="--tls"),
    Option("tls_cert", "serve HTTPS with this certificate (PEM; with --tls-key)", Path, metavar="FILE"),
    Option("tls_key", "private key of --tls-cert (PEM)", Path, metavar="FILE"),
    Option("webhook_ca_bundle", "extra CA certificates (PEM) to trust for HTTPS webhook receivers", Path,
           metavar="FILE"),
    Option("admin_token", "require this token (Authorization: Bearer TOKEN or X-Emulator-Admin-Token) on the "
           "admin API except /_emulator/health and the inspector's own files; set it when binding beyond loopback", metavar="TOKEN"),
    Option("plugin_rvdm", "iFrame recipient data matching per field: FIELD=hard|soft|bypass, comma separated "
           "(fields: FirstName, LastName, BusinessName, AddressLine1, City, State, ZipCode)", rvdm_rules_setting,
           metavar="RULES"),
    Option("plugin_max_attempts", "iFrame verification attempts before the session is terminated (1-10)", int,
           metavar="N"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every option to ``parser``; each help line names its environment variable."""
    for option in OPTIONS:
        default = getattr(Settings, option.name)
        if option.flag:
            parser.add_argument(option.cli, dest=option.name, action="store_const", const=not default,
                                default=None, help=f"{option.help} [env {option.env}]")
            continue
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        if option.repeatable:
            parser.add_argument(option.cli, dest=option.name, default=None, metavar=option.metavar,
                                action="append", type=option.parse, help=f"{option.help} [env {option.env}]")
            continue
        parser.add_argument(option.cli, dest=option.name, default=None, metavar=option.metavar,
                            choices=option.choices, type=option.parse,
                            help=f"{option.help} (default {shown}) [env {option.env}]")


def from_sources(args: argparse.Namespace | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build settings: flags win over INGOPAY_EMULATOR_* variables, which win over defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in OPTIONS:
        given = getattr(args, option.name, None) if args is not None else None
        if given is not None:
            values[option.name] = tuple(given) if option.repeatable else given
            continue
        raw = environ.get(option.env)
        if raw is None:
            continue
        if option.repeatable:
            parts = raw.split(option.separator) if option.separator else raw.replace(",", " ").split()
            values[option.name] = tuple(option.parse(part.strip()) for part in parts if part.strip())
            continue
        try:
            value = option.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{option.env}={raw!r}: {exc}") from None
        if option.flag and isinstance(value, bool):
            # The variable is named after the flag, so INGOPAY_EMULATOR_NO_DIAGNOSIS=1 means "flag given".
            value = (not getattr(Settings, option.name)) if value else getattr(Settings, option.name)
        if option.choices and value not in option.choices:
            raise SettingsError(f"{option.env}={raw!r}: expected one of {', '.join(option.choices)}")
        values[option.name] = value
    settings = Settings(**values)
    validate(settings)
    return settings


class SettingsError(ValueError):
    """A setting has a value the emulator cannot use."""


def validate(settings: Settings) -> None:
    """Refuse settings that cannot work, with a sentence that names the setting."""
    if settings.clock_skew <= 0:
        raise SettingsError("clock-skew must be greater than 0 seconds")
    if settings.rate_limit < 0:
        raise SettingsError("rate-limit must be 0 (off) or a positive number of requests per second")
    unknown = set(settings.algorithms) - {"hmac-sha1", "hmac-sha256", "hmac-sha384", "hmac-sha512"}
    if unknown:
        raise SettingsError(f"unknown HMAC algorithm(s): {', '.join(sorted(unknown))}")
    if not settings.algorithms:
        raise SettingsError("algorithms must name at least one HMAC algorithm")
    if not 1 <= settings.port <= 65535 and settings.port != 0:
        raise SettingsError("port must be between 1 and 65535 (or 0 for any free port)")
    if settings.memory_transactions < 1:
        raise SettingsError("memory-transactions must be at least 1")
    if settings.journal_size < 1:
        raise SettingsError("journal-size must be at least 1")
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise SettingsError("tls-cert and tls-key go together: give both or neither")
    for name in ("tls_cert", "tls_key", "webhook_ca_bundle", "credentials", "webhooks_config"):
        path = getattr(settings, name)
        if path is not None and not Path(path).is_file():
            raise SettingsError(f"{name.replace('_', '-')}: no such file: {path}")
    if settings.webhook_timeout <= 0:
        raise SettingsError("webhook-timeout must be greater than 0 seconds")
    if settings.webhook_concurrency < 1:
        raise SettingsError("webhook-concurrency must be at least 1")
    if any(wait < 0 for wait in settings.webhook_retry_schedule):
        raise SettingsError("webhook-retry-schedule waits must not be negative")
    if not 1 <= settings.plugin_max_attempts <= 10:
        raise SettingsError("plugin-max-attempts must be between 1 and 10")
    if settings.max_body_size < 1024:
        raise SettingsError("max-body-size must be at least 1024 bytes")


__all__ = ["Settings", "SettingsError", "OPTIONS", "add_arguments", "from_sources"]


def markdown_table() -> str:
    """The README's configuration table: flag, environment variable, default, meaning."""
    lines = ["| flag | environment variable | default | what it does |", "|---|---|---|---|"]
    for option in OPTIONS:
        default = getattr(Settings, option.name)
        if option.flag:
            flag, shown = option.cli, "-"
        elif isinstance(default, tuple):
            shown = ",".join(f"{d:g}" if isinstance(d, float) else str(d) for d in default) or "-"
            flag = f"{option.cli} {option.metavar or 'VALUE'}"
        else:
            shown = "-" if default is None else str(default)
            flag = f"{option.cli} {'{' + ','.join(option.choices) + '}' if option.choices else option.metavar or option.name.upper()}"
        env = f"`{option.env}=true`" if option.flag else f"`{option.env}`"
        lines.append(f"| `{flag}` | {env} | {shown} | {option.help.replace('|', '/')} |")
    return "\n".join(lines)
