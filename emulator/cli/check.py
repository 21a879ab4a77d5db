"""``ingopay-emulator check``: validate scenario files, with file:line:column for each problem."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emulator.cli.command import Command


def arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario files or folders to validate."""
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="scenario files or folders")


def run(args: argparse.Namespace) -> int:
    """Validate scenario files: exit 0 and say so, or print every problem and exit 1."""
    from emulator.scenarios.loader import ScenarioError, load_paths

    try:
        loaded = load_paths(args.paths)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    rules = sum(len(item.scenario.rules) for item in loaded)
    print(f"ok: {len(loaded)} scenario{'s' if len(loaded) != 1 else ''}, {rules} rule{'s' if rules != 1 else ''}")
    return 0


COMMAND = Command("check", "validate scenario files; print file:line:column for each problem", arguments, run)
