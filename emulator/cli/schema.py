"""``ingopay-emulator schema``: the JSON Schema of the scenario format."""

from __future__ import annotations

import argparse
import json

from emulator.cli.command import Command, no_arguments


def run(args: argparse.Namespace) -> int:
    """Print the JSON Schema of the scenario format."""
    from emulator.scenarios.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


COMMAND = Command("schema", "print the JSON Schema of the scenario format", no_arguments, run)
