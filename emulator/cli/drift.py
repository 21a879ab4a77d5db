"""``ingopay-emulator drift``: summarise a drift report of ``proxy --compare``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emulator.cli.command import Command


def arguments(parser: argparse.ArgumentParser) -> None:
    """The report, and how to print it."""
    parser.add_argument("report", type=Path, metavar="REPORT", help="the report's JSON file")
    parser.add_argument("--json", action="store_true", help="print every difference as JSON")


def run(args: argparse.Namespace) -> int:
    """Summarise a drift report: 0 without differences, 1 with; a file that is no report is refused in one line."""
    from emulator.proxy.drift import differences, read_report, summary

    document = read_report(args.report)
    found = differences(document)
    print(json.dumps(found, indent=2, ensure_ascii=False) if args.json else summary(document))
    return 1 if found else 0


COMMAND = Command("drift", "summarise a drift report of proxy --compare", arguments, run,
                  description="Summarise a drift report (the JSON file proxy --compare wrote): exit 0 when it lists "
                              "no difference, 1 when it does.")
