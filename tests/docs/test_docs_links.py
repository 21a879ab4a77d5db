"""The README fits on a few screens, and every relative link in it and in docs/ leads somewhere: an existing file
and, where the link names one, an existing heading or anchor of that file (as GitHub renders them)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support.paths import ROOT

#: The pages whose links are checked: the README and every Markdown page under docs/.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: The README's budget: the manual lives in docs/ (WireMock's, moto's and stripe-mock's READMEs are 3-14 KB).
README_MAX_BYTES = 12 * 1024

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
#: An inline link or image: [text](target) or ![alt](target "title").
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.I)


def prose(text: str) -> str:
    """The Markdown ``text`` without its fenced blocks and code spans, where nothing is a link."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text (links and code marks dropped), lower case, punctuation
    removed, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a page has: its headings' (the second of a name gets ``-1``, and so on) and its ``<a id>``s."""
    text = path.read_text(encoding="utf-8")
    found: set[str] = set(HTML_ANCHOR.findall(text))
    seen: Counter[str] = Counter()
    for heading in HEADING.findall(FENCE.sub("", text)):
        name = slug(heading)
        found.add(name if not seen[name] else f"{name}-{seen[name]}")
        seen[name] += 1
    return found


def relative_links(path: Path) -> list[str]:
    """The targets of a page's links that point into this repository (no scheme, no mail)."""
    targets = LINK.findall(prose(path.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t, re.I)]


def broken(path: Path) -> list[str]:
    """Each relative link of ``path`` that leads nowhere, with why."""
    problems = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not destination.exists():
            problems.append(f"{target}: no such file {destination}")
        elif anchor and destination.suffix == ".md" and unquote(anchor) not in anchors(destination):
            problems.append(f"{target}: {destination.name} has no heading or anchor #{anchor}")
    return problems


def test_the_readme_fits_in_twelve_kilobytes() -> None:
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move the detail to a page of docs/ and link it"


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_leads_to_a_file_and_anchor_that_exist(path: Path) -> None:
    assert broken(path) == []


def test_the_checker_sees_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    """The link check itself: a link to a missing file or heading is found, code is not read as a link."""
    (tmp_path / "other.md").write_text("# Two clocks\n\n## Two clocks\n\n<a id=\"kept\"></a>\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[a](other.md#two-clocks) [b](other.md#two-clocks-1) [c](other.md#kept) [d](#own-heading)\n"
                    "[e](missing.md) [f](other.md#three-clocks) `[g](nowhere.md)`\n\n"
                    "```md\n[h](nowhere.md)\n```\n\n## Own heading\n", encoding="utf-8")
    assert [problem.split(":")[0] for problem in broken(page)] == ["missing.md", "other.md#three-clocks"]


def test_the_docs_index_lists_every_page_of_docs() -> None:
    """docs/README.md is the way in: every page of docs/ is reachable from it."""
    index = set(relative_links(ROOT / "docs" / "README.md"))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert sorted(pages - {target.partition("#")[0] for target in index}) == []
    assert "docs/README.md" in relative_links(ROOT / "README.md")
