"""``ingopay-emulator check``: validate scenario files and readiness plans, with file:line:column for each problem."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emulator.cli.command import Command


def arguments(parser: argparse.ArgumentParser) -> None:
    """The scenario files, readiness plans or folders to validate."""
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="scenario files, readiness plans (a file with a top-level plan key) or folders")


def run(args: argparse.Namespace) -> int:
    """Validate scenario files and readiness plans: exit 0 and say so, or print every problem and exit 1."""
    from emulator.readiness.plan import PlanError, load_plan
    from emulator.scenarios.loader import ScenarioError, load_paths, scenario_files

    files = scenario_files(args.paths)
    plans = [path for path in files if _is_plan_file(path)]
    problems: list[str] = []
    checked: list[str] = []
    for path in plans:
        try:
            plan = load_plan(path)
        except PlanError as exc:
            problems += exc.problems
            continue
        count = len(plan.scenarios)
        checked.append(f"plan {plan.info.name!r} version {plan.info.version}, "
                       f"{count} scenario{'s' if count != 1 else ''}")
    scenario_paths = [path for path in files if path not in plans]
    if scenario_paths or not plans:
        try:
            loaded = load_paths(scenario_paths)
        except ScenarioError as exc:
            problems += [str(problem) for problem in exc.problems]
        else:
            rules = sum(len(item.scenario.rules) for item in loaded)
            checked.insert(0, f"{len(loaded)} scenario{'s' if len(loaded) != 1 else ''}, "
                              f"{rules} rule{'s' if rules != 1 else ''}")
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found", file=sys.stderr)
        return 1
    print(f"ok: {'; '.join(checked)}")
    return 0


def _is_plan_file(path: Path) -> bool:
    """Whether a file to check is a readiness plan (unreadable or too large: left to the scenario loader to say)."""
    from emulator.core.limits import DEFAULT_LIMITS
    from emulator.readiness.plan import is_plan

    try:
        if path.stat().st_size > DEFAULT_LIMITS.max_bytes:
            return False
        return is_plan(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False


COMMAND = Command("check", "validate scenario files and readiness plans; print file:line:column for each problem",
                  arguments, run)
