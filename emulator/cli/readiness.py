"""``ingopay-emulator readiness``: a running emulator's evidence pack for one participant."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emulator.cli.command import Command


def arguments(parser: argparse.ArgumentParser) -> None:
    """Where the emulator is, whose rehearsal, and how and where to write its report."""
    parser.add_argument("--url", required=True, metavar="URL", help="the emulator, e.g. http://127.0.0.1:8080")
    parser.add_argument("--participant-id", required=True, type=int, metavar="N", help="the participant rehearsed")
    parser.add_argument("--format", default="md", choices=("md", "html", "json"),
                        help="Markdown, a self-contained HTML page, or JSON")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the report here (default stdout)")
    parser.add_argument("--admin-token", default=None, metavar="TOKEN",
                        help="the emulator's admin token, if it has one (default: $INGOPAY_EMULATOR_ADMIN_TOKEN)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                        help="seconds to wait for the report")


def run(args: argparse.Namespace) -> int:
    """Write a participant's evidence pack from a running emulator: 0 written, 1 refused, 2 unreachable."""
    import os
    import urllib.error
    import urllib.parse
    import urllib.request

    from emulator.core import http_url

    base = args.url.rstrip("/")
    try:
        http_url.checked(base)
    except ValueError as exc:
        print(f"ingopay-emulator readiness: --url {exc}", file=sys.stderr)
        return 2
    query = urllib.parse.urlencode({"participant_id": args.participant_id, "format": args.format})
    token = args.admin_token or os.environ.get("INGOPAY_EMULATOR_ADMIN_TOKEN")
    request = urllib.request.Request(f"{base}/_emulator/readiness/report?{query}",
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as answer:
            document = answer.read()
    except urllib.error.HTTPError as refused:
        print(f"ingopay-emulator readiness: the emulator answered {refused.code}: {_message_of(refused.read())}",
              file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"ingopay-emulator readiness: cannot reach {base}: {reason}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(document.decode("utf-8"))
        return 0
    try:
        args.output.write_bytes(document)
    except OSError as exc:
        print(f"ingopay-emulator readiness: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _message_of(raw: bytes) -> str:
    """The ``message`` of an admin API refusal, else its first characters."""
    try:
        document = json.loads(raw)
    except ValueError:
        return raw[:200].decode("utf-8", "replace")
    return str(document.get("message")) if isinstance(document, dict) else str(document)[:200]


COMMAND = Command(
    "readiness", "write a participant's readiness report (the evidence pack) from a running emulator", arguments, run,
    usage="ingopay-emulator readiness --url URL --participant-id N [--format md|html|json] [--output FILE]",
    description="Fetch the report of the participant's readiness rehearsal (started with POST /_emulator/readiness, "
                "the pytest plugin's --ingopay-readiness, or the inspector) from a running emulator and write it: "
                "each scenario of the plan with its evidence, the outcome coverage and the findings, card numbers "
                "masked (docs/readiness.md). Exit 0 when written, 1 when the emulator refused (no rehearsal for that "
                "participant), 2 when it cannot be reached or the file written.",
    defaults_in_help=True)
