"""``ingopay-emulator [COMMAND] ...``: pick the command (serve when none is named) and run it."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from emulator.cli.commands import COMMAND_BY_NAME, DEFAULT
from emulator.cli.errors import run_command
from emulator.cli.parser import parse_arguments
from emulator.cli.running import discard_stdout

#: The exit status of a Unix tool whose reader went away (128 + SIGPIPE).
BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; a reader that stops early (``ingopay-emulator triggers | head``) ends it quietly."""
    try:
        code = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        discard_stdout()
        return BROKEN_PIPE
    return code


def _run(argv: Sequence[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in COMMAND_BY_NAME and args_list[0] not in ("-h", "--help", "--version")):
        args_list.insert(0, DEFAULT.name)
    args = parse_arguments(args_list)
    return run_command(COMMAND_BY_NAME[args.command], args)
