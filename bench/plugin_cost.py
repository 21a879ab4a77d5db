"""What the pytest plugin adds to a pytest start that never uses it: pytest loads an installed plugin in every run
of that environment, so its import must cost (next to) nothing (issue 26: under 50 ms).

    python bench/plugin_cost.py [--runs 11]

Prints one JSON object. A one-test suite that uses no fixture of the plugin is run with ``python -m pytest``, in
turn with the plugin (``-p emulator.pytest_plugin``) and without it, other installed plugins not loaded
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``: pytest-aiohttp alone imports aiohttp, which would hide the plugin's cost);
bytecode compiled first and one warm-up run of each; the wall time of each run, and the difference of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: What a pytest start with the plugin installed may cost more than one without it (issue 26).
TARGET_MS = 50.0
RUNS = 11


def _start(folder: Path, *options: str) -> float:
    """Seconds of one pytest run of the suite in ``folder``, from spawn to exit."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, str(folder)],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the one-test suite failed: {done.stdout[-600:]} {done.stderr[-400:]}")
    return elapsed


def measure(runs: int = RUNS) -> dict[str, Any]:
    """The start of a one-test suite with and without the plugin, ``runs`` of each in turn; the medians' difference."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "emulator")], check=False)
    with tempfile.TemporaryDirectory(prefix="ingopay-plugin-cost-") as work:
        folder = Path(work)
        (folder / "pytest.ini").write_text("[pytest]\n")
        (folder / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        plugin = ("-p", "emulator.pytest_plugin")
        _start(folder), _start(folder, *plugin)  # warm-up: the test's rewritten bytecode, the disk cache
        without, with_plugin = [], []
        for _ in range(runs):
            without.append(_start(folder))
            with_plugin.append(_start(folder, *plugin))
    added = (statistics.median(with_plugin) - statistics.median(without)) * 1000
    return {"runs": runs, "without_s": [round(x, 4) for x in without], "with_s": [round(x, 4) for x in with_plugin],
            "added_ms": round(added, 1), "target_ms": TARGET_MS}


def row(found: dict[str, Any] | None, verdict: Callable[..., str]) -> str:
    """The report's table row (bench/run.py): the added time against the target, judged by ``verdict``."""
    if not found:
        return (f"| plugin import cost: a pytest start with the plugin < {TARGET_MS:g} ms more | not measured | "
                "not measured |")
    without, with_plugin = statistics.median(found["without_s"]), statistics.median(found["with_s"])
    return (f"| plugin import cost: a one-test pytest start with the plugin (not used) < {TARGET_MS:g} ms more than "
            f"without (bytecode cached, other plugins off) | {found['added_ms']:+.0f} ms ({with_plugin:.3f} s "
            f"against {without:.3f} s, medians of {found['runs']} runs each) | "
            f"{verdict(found['added_ms'], TARGET_MS, False, ' ms', '{:.0f}')} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs with and without the plugin (default {RUNS})")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
