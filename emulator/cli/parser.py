"""The parser of every command, from the commands' declarations; docs/commands.md's tables of their flags."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from emulator import __version__
from emulator.cli.command import DefaultsFormatter
from emulator.cli.commands import COMMANDS, DEFAULT, DOCUMENTED
from emulator.core.names import closest
from emulator.settings import OPTIONS


class _HelpWithServe(argparse.Action):
    """``ingopay-emulator --help``: the commands, then the options of serve (the default command)."""

    def __init__(self, option_strings: Sequence[str], dest: str, serve: argparse.ArgumentParser | None = None,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)
        self.serve = serve

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        text = parser.format_help()
        if self.serve is not None:
            text += f"\nserve (the default command):\n{self.serve.format_help()}"
        parser._print_message(text, sys.stdout)  # as argparse prints help: a closed stdout is no error
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``ingopay-emulator``: one subparser per command of ``COMMANDS``, each made by its module."""
    parser = argparse.ArgumentParser(
        prog="ingopay-emulator", add_help=False,
        description="A local, offline emulator of Ingo Payments' IngoPay API. Without a command it serves "
                    "(ingopay-emulator [serve] [OPTIONS]); each command has its own --help.")
    help_action = parser.add_argument("-h", "--help", action=_HelpWithServe,
                                      help="show this help, with the options of serve, and exit")
    parser.add_argument("--version", action="version", version=f"ingopay-emulator {__version__}",
                        help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        formatter = DefaultsFormatter if command.defaults_in_help else argparse.HelpFormatter
        made = subparsers.add_parser(command.name, help=command.help, usage=command.usage,
                                     description=command.description, formatter_class=formatter)
        command.arguments(made)
        if command is DEFAULT:
            help_action.serve = made  # type: ignore[attr-defined]
    return parser


def parse_arguments(args_list: Sequence[str]) -> argparse.Namespace:
    """The parsed command line; an unknown argument is refused (exit 2) naming the flag or command it most likely
    meant (``--rate-limt 0``: did you mean --rate-limit?)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(args_list)
    if unknown:
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        command = subparsers.choices[args.command]
        command.error(unrecognized(unknown, command))
    return args


def unrecognized(unknown: Sequence[str], command: argparse.ArgumentParser) -> str:
    """``unrecognized arguments: --rate-limt 0; did you mean --rate-limit?``: each unknown flag with the closest
    flag of ``command`` (and a word that is not a flag with the closest command), or where the flags are listed."""
    flags = [flag for action in command._actions for flag in action.option_strings if flag.startswith("--")]
    guesses: dict[str, str] = {}  # an unknown name: what it most likely meant
    for given in unknown:
        name = given.split("=", 1)[0]
        if name.startswith("--") and (guess := closest(name, flags)):
            guesses[name] = guess
        elif not name.startswith("-") and (near := closest(name, COMMAND_NAMES)):
            guesses[name] = f"the command {near}"
    message = f"unrecognized arguments: {' '.join(unknown)}"
    if len(guesses) == 1:
        return f"{message}; did you mean {next(iter(guesses.values()))}?"
    if guesses:
        return f"{message}; did you mean {', '.join(f'{g} (for {n})' for n, g in guesses.items())}?"
    return f"{message} (`{command.prog} --help` lists the options)"


def commands_markdown() -> str:
    """docs/commands.md's tables of the flags of sign, healthcheck, triggers, proxy and readiness (each its own
    flags; the settings it shares with serve are in the configuration table), from their parsers."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sections = []
    for name in DOCUMENTED:
        command = subparsers.choices[name]
        lines = [f"`ingopay-emulator {name}`: {command.description or ''}".rstrip(), "",
                 "| flag | default | what it does |", "|---|---|---|"]
        for action in command._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS \
                    or action.dest in OPTION_NAMES:
                continue  # a setting: the configuration table lists it
            flag = ", ".join(action.option_strings) or (action.metavar or action.dest.upper())
            if action.nargs != 0 and action.option_strings:
                flag += " " + (action.metavar or (f"{{{','.join(action.choices)}}}" if action.choices
                                                  else action.dest.upper()))
            shown = "-" if action.default in (None, False, argparse.SUPPRESS) else str(action.default)
            lines.append(f"| `{flag}` | {shown} | {(action.help or '').replace('|', '/')} |")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


#: The commands' names, for a mistyped one.
COMMAND_NAMES = tuple(command.name for command in COMMANDS)
#: The settings' names: a command that takes them (proxy) documents only its own flags.
OPTION_NAMES = frozenset(option.name for option in OPTIONS)
