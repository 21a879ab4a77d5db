"""``ingopay-emulator healthcheck``: exit 0 when the configured emulator answers its health check (Docker's
HEALTHCHECK runs it every few seconds: it imports nothing heavy)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from emulator.cli.command import Command


def arguments(parser: argparse.ArgumentParser) -> None:
    """Where the emulator is and which certificate to trust; without flags, its INGOPAY_EMULATOR_* variables."""
    parser.add_argument("--host", default=None,
                        help="address of the emulator (default: INGOPAY_EMULATOR_HOST, else 127.0.0.1; "
                             "0.0.0.0 and :: are probed on 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help="port of the emulator (default: INGOPAY_EMULATOR_PORT, else 8080)")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                        help="seconds to wait for the answer (default 3)")
    parser.add_argument("--scheme", default=None, choices=("http", "https"),
                        help="http or https (default: https when INGOPAY_EMULATOR_TLS is true or "
                             "INGOPAY_EMULATOR_TLS_CERT is set, else http)")
    parser.add_argument("--cafile", type=Path, default=None, metavar="FILE",
                        help="verify the emulator's certificate against this CA certificate (PEM), e.g. the one "
                             "serve --tls printed")
    parser.add_argument("--insecure", action="store_true",
                        help="do not verify the emulator's certificate")


def run(args: argparse.Namespace) -> int:
    """Exit 0 when the configured server answers GET /_emulator/health with 200, 1 otherwise."""
    from emulator import probe

    try:
        scheme = probe.scheme(args.scheme, os.environ)
        url = probe.url(args.host, args.port, scheme, os.environ)
        trusted = probe.trust(args.cafile, args.insecure, os.environ) if scheme == "https" else probe.Trust(None, "")
    except probe.ProbeError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    healthy, line = probe.probe(url, args.timeout, trusted)
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


COMMAND = Command(
    "healthcheck", "exit 0 if the configured emulator answers its health check", arguments, run,
    description="Exit 0 when the emulator answers GET /_emulator/health with 200, 1 otherwise. With no flags it "
                "probes the emulator the same INGOPAY_EMULATOR_* variables configure: their host, port and TLS. Over "
                "https it verifies the certificate against --cafile, else the emulator's own --tls-cert "
                "(INGOPAY_EMULATOR_TLS_CERT), else the CA that --tls made in INGOPAY_EMULATOR_DATA_DIR/tls, else the "
                "system's CAs; so --tls without a data folder (its CA lies in a temporary folder) needs --cafile or "
                "--insecure. A given CA or certificate is checked as the issuer, not against the host name probed.")
