"""The README's "Install into your own project", done as a user does it: a wheel built from a clone with the README's
commands, installed into a fresh virtual environment outside the repository, and a one-test pytest file (the
README's own example) passing there through the plugin."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

#: The README's stand-in for where the user cloned the emulator.
CLONE = "/path/to/ingopay-emulator"
#: What a clone holds that a build reads; the rest of this checkout (its venv, caches, tests) stays behind.
LEFT_BEHIND = shutil.ignore_patterns(".git", ".venv", "venv", "node_modules", "build", "dist", "*.egg-info",
                                     "__pycache__", ".*_cache", "tests", "bench", "docs")
#: Installing by the project's name, from an index where no release is published yet.
UNPUBLISHED = re.compile(r"pip install ['\"]?ingopay[-_]emulator\b")


def section(text: str, title: str) -> str:
    """The README section under ``## title``, up to the next section."""
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def clean_environment() -> dict[str, str]:
    """This process's environment without what ties a child to this checkout or this pytest run."""
    return {key: value for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"} and not key.startswith("PYTEST_")}


def run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=clean_environment(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done


def test_no_page_or_example_tells_a_user_to_install_the_unpublished_name() -> None:
    """Until a release is published, `pip install ingopay-emulator` fails: nothing a user reads may say it."""
    readable = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "docs" / "examples").rglob("*.*"),
                *(ROOT / "examples").rglob("*.*")]
    said = [str(path.relative_to(ROOT)) for path in readable
            if path.is_file() and UNPUBLISHED.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert said == []


@pytest.mark.slow
def test_a_wheel_built_as_the_readme_says_gives_a_fresh_project_a_working_plugin(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = section(readme, "Install into your own project")
    assert "not published" in install.lower() or "no release" in install.lower(), "say why pip install NAME fails"
    [commands] = shell_blocks(install)
    assert CLONE in commands and "wheel" in commands

    clone = tmp_path / "ingopay-emulator"
    shutil.copytree(ROOT, clone, ignore=LEFT_BEHIND)
    project = tmp_path / "my-project"
    project.mkdir()
    run([sys.executable, "-m", "venv", ".venv"], cwd=project)
    run(["bash", "-euo", "pipefail", "-c", commands.replace(CLONE, str(clone))], cwd=project, timeout=600)
    assert list((project / "wheels").glob("ingopay_emulator-*.whl")), "the README's commands built no wheel"

    python = str(project / ".venv" / "bin" / "python")
    where = run([python, "-c", "import emulator; print(emulator.__file__)"], cwd=project).stdout.strip()
    assert Path(where).is_relative_to(project / ".venv"), f"emulator imported from {where}, not the installed wheel"
    assert (project / ".venv" / "bin" / "ingopay-emulator").exists()

    example = re.findall(r"```python\n(.*?)```", section(readme, "Using it from tests"), flags=re.S)[0]
    (project / "test_payout.py").write_text(example, encoding="utf-8")
    done = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_payout.py"], cwd=project,
                          env=clean_environment(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and re.search(r"\b1 passed\b", done.stdout), done.stdout + done.stderr
