"""What each command declares: its name, its help, the arguments of its parser and the function that runs it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One command of ``ingopay-emulator``; ``emulator.cli.commands`` lists them all."""

    name: str
    help: str  # its line in ``ingopay-emulator --help``
    arguments: Callable[[argparse.ArgumentParser], None]  # adds the command's arguments to its parser
    run: Callable[[argparse.Namespace], int]  # runs it on the parsed arguments; the exit status
    description: str | None = None
    usage: str | None = None
    defaults_in_help: bool = False  # each help line ends with its default (DefaultsFormatter)
    #: It reads the emulator's settings (flags and INGOPAY_EMULATOR_* variables): a refusal is written in the log
    #: format they ask for. Other commands refuse in one line of text.
    reads_settings: bool = False


class DefaultsFormatter(argparse.HelpFormatter):
    """Help lines that end with the default, when there is one worth saying (never "(default None)")."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and action.option_strings \
                and "%(default)" not in text:
            text += " (default %(default)s)"
        return text


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of a command that takes none."""
