"""``ingopay-emulator scenarios from-recording``: a scenario file that replays what ``proxy --record`` wrote."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emulator.cli.command import Command, DefaultsFormatter
from emulator.cli.errors import CommandError


def arguments(parser: argparse.ArgumentParser) -> None:
    """``scenarios from-recording DIR``: the recording, and where the scenario file goes."""
    making = parser.add_subparsers(dest="scenarios_command", metavar="COMMAND", required=True)
    recording = making.add_parser(
        "from-recording", help="a scenario file that replays a recording offline", formatter_class=DefaultsFormatter,
        description="Turn a folder that proxy --record wrote into a scenario file whose rules answer each endpoint "
                    "as the upstream did, matching on what the requests with the same answer had in common.")
    recording.add_argument("directory", type=Path, metavar="DIR", help="the folder proxy --record wrote")
    recording.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the file here (default stdout)")
    recording.add_argument("--name", default="recorded", help="the scenario's name")


def run(args: argparse.Namespace) -> int:
    """Write the scenario file that replays a recording; a damaged recording is refused in one line."""
    from emulator.app import ROUTES
    from emulator.proxy.recorded_scenarios import from_recording
    from emulator.proxy.recording import read_recording
    from emulator.scenarios.loader import ScenarioError, load_text

    recorded = read_recording(args.directory)
    endpoints = {route.path: route.spec.endpoint for route in ROUTES if route.spec.endpoint}
    generated = from_recording(recorded, endpoints, name=args.name)
    try:
        load_text(generated.text, str(args.output or "<generated>"))
    except ScenarioError as exc:  # the generator's own mistake: say so rather than write a file check refuses
        raise CommandError(f"the generated scenario is not valid: {exc.problems[0]}") from None
    if args.output is None:
        sys.stdout.write(generated.text)
    else:
        try:
            args.output.write_text(generated.text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"{generated.rules} rule{'s' if generated.rules != 1 else ''} from {len(recorded)} recorded files"
          + (f"; {len(generated.skipped)} not replayed (listed in the file)" if generated.skipped else ""),
          file=sys.stderr)
    return 0


COMMAND = Command("scenarios", "make scenario files (from-recording)", arguments, run,
                  description="Make scenario files.")
