"""docs/ofa.md's Leaderboard section is what docs/results/ofa/summarize.py generates.

The section is built from the committed leaderboard reports only (no benchmark
data), so this runs everywhere.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
DIR = ROOT / "docs" / "results" / "ofa"


def _summarize() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ofa_summarize", DIR / "summarize.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_section_matches_the_committed_reports() -> None:
    gen = _summarize()
    page = (ROOT / "docs" / "ofa.md").read_text()
    assert gen.HEADING in page
    section = page[page.index("\n" + gen.HEADING + "\n") + 1 :]
    assert section == gen.render(), (
        "docs/ofa.md is out of date: run python docs/results/ofa/summarize.py --write"
    )


def test_splice_replaces_only_the_section() -> None:
    gen = _summarize()
    page = "# Title\n\ntext\n\n## Leaderboard\n\nold\n"
    assert gen.splice(page, "## Leaderboard\n\nnew\n") == (
        "# Title\n\ntext\n\n## Leaderboard\n\nnew\n"
    )
    assert gen.splice("# Title\n", "## Leaderboard\n") == "# Title\n\n## Leaderboard\n"


def test_every_report_is_committed_with_30_seed_baselines() -> None:
    for folder, name in [
        ("b100", "leaderboard.csv"),
        ("b300", "leaderboard.csv"),
        ("lat25", "multi-objective.csv"),
        ("mo", "multi-objective.csv"),
        ("transfer", "multi-objective.csv"),
    ]:
        path = DIR / folder / name
        assert path.is_file(), path
        assert (DIR / folder / "report.md").is_file()
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert rows, path
        for row in rows:
            if row["agent"] in {"random", "rea", "l2nas"}:
                assert int(row["n"]) == 30, (folder, row["agent"], row["n"])
