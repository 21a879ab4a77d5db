"""The command line: serve (the default), healthcheck, sign, check, schema, triggers, proxy, scenarios, drift.

One module per command, each declaring its :class:`~emulator.cli.command.Command` (its parser and its run
function); ``commands.py`` lists them. A command imports the heavy modules (aiohttp, pydantic, the app) only when it
runs, so that ``healthcheck`` (run every few seconds by Docker) and ``sign`` start fast.
"""

from emulator.cli.dispatch import main
from emulator.cli.parser import build_parser, commands_markdown
from emulator.cli.running import run_loop

__all__ = ["main", "build_parser", "commands_markdown", "run_loop"]
