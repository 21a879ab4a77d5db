"""Where scenarios come from: the bundled magic values and the user's files, loaded in consultation order."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from emulator.scenarios.loader import Loaded, load_paths
from emulator.core.yamlpos import Limits
from emulator.settings import Settings


def bundled_dir() -> Path:
    """The bundled scenarios: inside the installed package, or the top-level folder of a checkout."""
    packaged = Path(str(resources.files("emulator").joinpath("bundled_scenarios")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "scenarios"


def limits_of(settings: Settings) -> Limits:
    """How much YAML a scenario file or upload may hold, from the settings."""
    return Limits(max_bytes=settings.scenario_max_bytes, max_nodes=settings.scenario_max_nodes,
                  max_aliases=settings.scenario_max_aliases)


def load_configured(settings: Settings) -> list[Loaded]:
    """User files first (their rules win), then the bundled defaults unless turned off."""
    paths = list(settings.scenarios)
    if settings.default_scenarios:
        paths.append(bundled_dir())
    return load_paths(paths, limits_of(settings))
