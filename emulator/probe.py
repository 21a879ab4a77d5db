"""The health probe behind ``ingopay-emulator healthcheck``: where the emulator listens and which certificate to trust.

It follows the serve command's own variables, so that a probe with no flags finds the emulator the same environment
configured (Docker's HEALTHCHECK runs it every few seconds: it imports nothing heavy).
"""

from __future__ import annotations

import argparse
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.core.logs import HEALTH_PATH
from emulator.settings import OPTION_BY_NAME, OPTIONS, _boolean, named

ENV = {option.name: option.env for option in OPTIONS}
ANY_ADDRESS = ("0.0.0.0", "::", "")
HINT = "give --cafile FILE (the CA the emulator printed) or --insecure"


class ProbeError(Exception):
    """The probe cannot be set up (a variable with a bad value, a CA file it cannot read)."""


@dataclass(frozen=True)
class Trust:
    """The TLS client context of the probe and, for messages, what it trusts."""

    context: ssl.SSLContext | None
    source: str


def scheme(given: str | None, environ: Mapping[str, str]) -> str:
    """--scheme when given; else https when the emulator serves TLS (--tls or --tls-cert), http otherwise."""
    if given:
        return given
    raw = environ.get(ENV["tls"], "")
    try:
        tls = _boolean(raw)
    except ValueError as exc:
        raise ProbeError(f"{ENV['tls']}={raw!r}: {exc}") from None
    return "https" if tls or environ.get(ENV["tls_cert"]) else "http"


def url(host: str | None, port: int | None, chosen_scheme: str, environ: Mapping[str, str]) -> str:
    """The health URL of the emulator, where serve listens by the same setting (--port, else INGOPAY_EMULATOR_PORT
    read as serve reads it, else its default): a wildcard listen address is probed on 127.0.0.1."""
    host = host or environ.get(ENV["host"], OPTION_BY_NAME["host"].default)
    if host in ANY_ADDRESS:
        host = "127.0.0.1"
    if port is None:
        port = _setting("port", environ)
    if port == 0:
        raise ProbeError(f"{named('port')} is 0 (any free port): give healthcheck --port with the port the "
                         "emulator's ready line names")
    shown = f"[{host}]" if ":" in host else host
    return f"{chosen_scheme}://{shown}:{port}{HEALTH_PATH}"


def _setting(name: str, environ: Mapping[str, str]) -> Any:
    """A setting from its variable, read and checked as serve reads it; its default without the variable."""
    option = OPTION_BY_NAME[name]
    raw = environ.get(option.env)
    if raw is None:
        return option.default
    try:
        return option.parse(raw)
    except argparse.ArgumentTypeError as exc:
        raise ProbeError(f"{option.env}={raw!r} is not valid: {exc}") from None


def generated_ca(environ: Mapping[str, str]) -> Path | None:
    """The CA file serve --tls makes where serve makes it (--tls-dir, else the data folder's tls), when one of them
    is set and the file is there."""
    from emulator.core.tls import certificate_directory, certificate_files

    folder = certificate_directory(_setting("tls_dir", environ), _setting("data_dir", environ))
    if folder is None:
        return None
    ca = certificate_files(folder).ca
    return ca if ca.is_file() else None


def trust(cafile: Path | None, insecure: bool, environ: Mapping[str, str]) -> Trust:
    """Whom the probe trusts, first found: --insecure, --cafile, the emulator's own --tls-cert, its generated CA,
    the system's CAs. A given file is the only trust anchor and the certificate's names are not checked (the probe
    connects to 127.0.0.1, which a certificate need not name); with the system's CAs the name is checked too."""
    if insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return Trust(context, "nothing (--insecure)")
    own_cert = environ.get(ENV["tls_cert"])
    if cafile is not None:
        return Trust(anchored(cafile), f"--cafile {cafile}")
    if own_cert:
        return Trust(anchored(Path(own_cert), pinned=True), f"the emulator's own certificate {own_cert}")
    ca = generated_ca(environ)
    if ca is not None:
        return Trust(anchored(ca), f"the emulator's CA {ca}")
    return Trust(ssl.create_default_context(), "the system's CAs")


def anchored(path: Path, *, pinned: bool = False) -> ssl.SSLContext:
    """A client context whose only trust anchor is ``path``; ``pinned``: the server's certificate itself."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    if pinned:
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a leaf certificate may be its own anchor
    try:
        context.load_verify_locations(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(f"cannot read the certificate {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return context


def probe(health_url: str, timeout: float, trusted: Trust) -> tuple[bool, str]:
    """(healthy, a line saying so): healthy is a 200 answer."""
    try:
        with urllib.request.urlopen(health_url, timeout=timeout, context=trusted.context) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        return False, f"unhealthy: {health_url}: HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        line = f"unhealthy: {health_url}: {reason}"
        if isinstance(reason, ssl.SSLCertVerificationError):
            line += f" (trusting {trusted.source}"
            line += f"; {HINT})" if trusted.source == "the system's CAs" else ")"
        return False, line
    return status == 200, f"{'healthy' if status == 200 else 'unhealthy'}: {health_url}"
