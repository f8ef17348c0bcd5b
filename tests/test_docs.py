"""The docs are self-contained: no internal notes cited, no broken relative links."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Internal notes users do not have (spelled in pieces so this file does not match).
FORBIDDEN = ("METHODS" + ".md", "SOURCES" + ".md")

_LINK = re.compile(
    r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)"
)
_FENCE = re.compile(r"^\s*(```|~~~)")


def tracked_files() -> list[Path]:
    """Files tracked by git (plus untracked, not ignored ones), outside .git."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def github_slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading (before de-duplication suffixes).

    Lower-case; markup and punctuation other than ``-`` and ``_`` dropped; spaces
    become ``-``.
    """
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "-_ " or cat[0] in "LN":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub generates for the headings of a Markdown file."""
    seen: dict[str, int] = {}
    result: set[str] = set()
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if in_fence or not match:
            continue
        slug = github_slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def markdown_links(path: Path) -> list[tuple[int, str]]:
    """``(line number, target)`` of every inline link outside code fences."""
    links: list[tuple[int, str]] = []
    in_fence = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for match in _LINK.finditer(line):
            links.append((number, match.group(1) or match.group(2)))
    return links


def doc_pages() -> list[Path]:
    return sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])


def test_slug_rule() -> None:
    assert github_slug("NAS-Bench-201") == "nas-bench-201"
    assert github_slug("Once-for-All MobileNetV3") == "once-for-all-mobilenetv3"
    assert github_slug("`nasgym leaderboard run`") == "nasgym-leaderboard-run"
    assert github_slug("MDP and reward shaping") == "mdp-and-reward-shaping"
    assert github_slug("Agents (the `env_mode`), 2.0!") == "agents-the-env_mode-20"


def test_no_file_cites_internal_notes() -> None:
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if any(name in line for name in FORBIDDEN):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, (
        "these lines cite internal notes users do not have; cite the docs/methods/ "
        "page or docs/data.md section instead:\n" + "\n".join(offenders)
    )


def test_data_page_has_the_anchors_error_messages_print() -> None:
    have = anchors(ROOT / "docs" / "data.md")
    wanted = {
        "nas-bench-graph",
        "nas-bench-201",
        "nas-bench-101",
        "ec-nas-bench",
        "hw-nas-bench-360",
        "nas-bench-301",
        "once-for-all-mobilenetv3",
        "zero-cost-proxy-scores",
    }
    assert wanted <= have, sorted(wanted - have)


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for number, target in markdown_links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        dest = page if not file_part else (page.parent / unquote(file_part)).resolve()
        if not dest.exists():
            broken.append(f"line {number}: {target} ({dest} does not exist)")
            continue
        if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"line {number}: {target} (no heading #{anchor} in {dest})")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)
