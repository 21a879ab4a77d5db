"""Where things are: the repository's root and the tests' data files."""

from __future__ import annotations

from pathlib import Path

#: The repository's root (README.md, docs/, scenarios/, emulator/).
ROOT = Path(__file__).resolve().parents[2]
#: Copies of what Ingo's pages show (tests/data/).
DATA = ROOT / "tests" / "data"
