"""What the wheel ships, built offline from this tree as `pip install .` builds it."""

from __future__ import annotations

import email
import re
import subprocess
import sys
import zipfile

import pytest

from emulator import __version__
from tests.support.paths import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "--wheel-dir", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("ingopay_emulator-*.whl")
    return zipfile.ZipFile(built)


@pytest.mark.slow
def test_the_wheel_carries_types_scenarios_catalogue_and_pages(wheel: zipfile.ZipFile):
    names = set(wheel.namelist())
    for required in ("emulator/py.typed", "emulator/bundled_scenarios/magic-values.yaml",
                     "emulator/core/catalogue/status_codes.yaml", "emulator/admin/static/index.html",
                     "emulator/plugin/static/ingo-instant-payments.js", "emulator/readiness/plan.yaml"):
        assert required in names, required
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)


def test_the_wheel_metadata_names_the_version_license_and_project_urls(wheel: zipfile.ZipFile):
    (metadata_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = email.message_from_bytes(wheel.read(metadata_name))
    assert metadata["Version"] == __version__
    urls = dict(value.split(", ", 1) for value in metadata.get_all("Project-URL", []))
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    assert "Apache" in (metadata["License"] or "") + " ".join(metadata.get_all("Classifier", []))


def test_the_changelog_keeps_a_changelog_and_starts_at_the_first_release():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in text and "## [Unreleased]" in text
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, flags=re.M)
    assert releases and releases[-1] == "0.1.0"
    unreleased = text.split("## [Unreleased]", 1)[1].split("\n## [", 1)[0]
    assert re.search(r"^### (Added|Changed|Deprecated|Removed|Fixed|Security)$", unreleased, flags=re.M)
    assert re.search(r"^- \S", unreleased, flags=re.M)


def test_the_dockerfile_labels_the_image_with_the_package_version():
    """`docker build .` without build arguments labels the image with the version the wheel has."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (default,) = re.findall(r"^ARG VERSION=(\S+)$", dockerfile, flags=re.M)
    assert default == __version__
