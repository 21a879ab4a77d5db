"""Where scenarios come from: the user's files and the bundled magic values, loaded in consultation order."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from emulator.core.limits import DEFAULT_LIMITS, Limits
from emulator.scenarios.loader import Loaded, load_paths, load_text


def bundled_dir() -> Path:
    """The bundled scenarios: inside the installed package, or the top-level folder of a checkout."""
    packaged = Path(str(resources.files("emulator").joinpath("bundled_scenarios")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "scenarios"


@dataclass(frozen=True)
class Sources:
    """The scenario files an emulator loads (and reloads), and how much YAML a user's file or upload may hold (the
    bundled ones are read under the default limits)."""

    paths: tuple[Path, ...] = ()
    bundled: bool = True
    limits: Limits = DEFAULT_LIMITS

    def load(self) -> list[Loaded]:
        """User files first (their rules win), then the bundled defaults unless turned off; ScenarioError lists
        every problem."""
        return load_paths(self.paths, self.limits, own=[bundled_dir()] if self.bundled else [])

    def parse(self, text: str, source: str) -> list[Loaded]:
        """Scenarios from an uploaded YAML document, under the same limits."""
        return load_text(text, source, self.limits)
