"""``ingopay-emulator triggers``: what each loaded scenario rule answers and what triggers it (magic values)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emulator.cli.command import Command
from emulator.settings import from_sources


def arguments(parser: argparse.ArgumentParser) -> None:
    """Which scenarios to list, and as what."""
    parser.add_argument("--scenarios", action="append", type=Path, default=None, metavar="PATH",
                        help="also load these files or folders [env INGOPAY_EMULATOR_SCENARIOS]")
    parser.add_argument("--no-default-scenarios", dest="default_scenarios", action="store_const", const=False,
                        default=None, help="leave out the bundled magic values")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--markdown", action="store_true", help="print the magic-values table of docs/magic-values.md")


def run(args: argparse.Namespace) -> int:
    """Print each loaded rule with what triggers it (a table, JSON, or docs/magic-values.md's table)."""
    from emulator.app import scenario_sources
    from emulator.scenarios import magic, triggers
    from emulator.scenarios.engine import Engine

    if args.markdown:
        print(magic.markdown_table())
        return 0
    engine = Engine(scenario_sources(from_sources(args)).load())
    rows = triggers.rows(engine)
    print(json.dumps(rows, indent=2) if args.json else triggers.text_table(rows))
    return 0


COMMAND = Command(
    "triggers", "list the triggers of the loaded scenarios (magic values)", arguments, run, defaults_in_help=True,
    description="List what each loaded scenario rule answers and what triggers it (the bundled magic values and your "
                "files).", reads_settings=True)
