"""Every command of ``ingopay-emulator``, in the order ``--help`` lists them.

A new command: a module in this package that declares ``COMMAND = Command(name, help, arguments, run, ...)``
(its parser's arguments and the function that runs it, importing what is heavy inside ``run``), added here.
"""

from __future__ import annotations

from emulator.cli import check, drift, from_recording, healthcheck, proxy, readiness, schema, serve, sign, triggers
from emulator.cli.command import Command

COMMANDS: tuple[Command, ...] = (
    serve.COMMAND, healthcheck.COMMAND, sign.COMMAND, check.COMMAND, schema.COMMAND, triggers.COMMAND,
    proxy.COMMAND, from_recording.COMMAND, drift.COMMAND, readiness.COMMAND,
)
COMMAND_BY_NAME = {command.name: command for command in COMMANDS}
#: What runs without a command name (``ingopay-emulator --port 8080``).
DEFAULT = serve.COMMAND
#: The commands whose flags docs/commands.md lists, in its order (serve's are the settings: docs/configuration.md).
DOCUMENTED = ("sign", "healthcheck", "triggers", "proxy", "readiness")
