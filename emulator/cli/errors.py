"""The command line's one way of refusing: a bad setting, invalid scenario files or an input a command cannot use is
said on stderr in one line (or one JSON object) with exit status 2, never with a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from emulator.cli.command import Command
from emulator.core.configuration import ConfigurationError

#: The exit status of a refusal.
REFUSED = 2


class CommandError(Exception):
    """A command cannot use its input: ``<prefix>: <message>`` on stderr, exit status 2."""

    def __init__(self, message: str, *, prefix: str = "ingopay-emulator") -> None:
        super().__init__(message)
        self.prefix = prefix


def run_command(command: Command, args: argparse.Namespace) -> int:
    """Run ``command`` on ``args``; a CommandError, a ConfigurationError (a setting, an option, a recording or a
    report that cannot be used) or invalid scenario files end it with one line on stderr and exit status 2."""
    try:
        return command.run(args)
    except CommandError as exc:
        print(f"{exc.prefix}: {exc}", file=sys.stderr)
        return REFUSED
    except ConfigurationError as exc:  # a readiness plan's carries its problems, one a line
        return refuse_to_start(str(exc), requested_log_format(command, args), getattr(exc, "problems", None))
    except Exception as exc:
        problems = scenario_problems(exc)
        if problems is None:
            raise
        return refuse_to_start("invalid scenario files, not starting:", requested_log_format(command, args),
                               problems)


def scenario_problems(exc: Exception) -> list[str] | None:
    """Each problem of invalid scenario files, when that is what ``exc`` reports (the loader is imported here, once
    a command has failed, so that the commands that read no scenario file start without it)."""
    from emulator.scenarios.loader import ScenarioError

    return [str(problem) for problem in exc.problems] if isinstance(exc, ScenarioError) else None


def requested_log_format(command: Command, args: argparse.Namespace) -> str:
    """The log format asked for, even when other settings are wrong (so a refusal is written in it)."""
    given = getattr(args, "log_format", None)
    if not given and command.reads_settings:
        given = os.environ.get("INGOPAY_EMULATOR_LOG_FORMAT")
    return "json" if (given or "text").strip() == "json" else "text"


def refuse_to_start(message: str, log_format: str, problems: list[str] | None = None) -> int:
    """Say on stderr why the emulator does not start (one line, or one JSON object) and exit 2."""
    if log_format == "json":
        document: dict[str, Any] = {"level": "error", "logger": "ingopay_emulator", "message": message}
        if problems:
            document["problems"] = problems
        print(json.dumps(document), file=sys.stderr)
    else:
        print(f"ingopay-emulator: {message}" + "".join(f"\n{p}" for p in problems or ()), file=sys.stderr)
    return REFUSED
