"""docs/speed.md is exactly what docs/results/perf/make_page.py writes from the JSON."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIR = ROOT / "docs" / "results" / "perf"


def _script():
    spec = importlib.util.spec_from_file_location("make_page", DIR / "make_page.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_speed_page_matches_the_stored_runs() -> None:
    page = _script()
    text = page.render(page.load(DIR / "before.json"), page.load(DIR / "after.json"))
    assert (ROOT / "docs" / "speed.md").read_text(encoding="utf-8") == text


def test_every_after_row_is_on_the_page() -> None:
    after = json.loads((DIR / "after.json").read_text(encoding="utf-8"))
    text = (ROOT / "docs" / "speed.md").read_text(encoding="utf-8")
    for row in after["rows"]:
        assert f"| {row['name']} | {row['unit']} |" in text, row["name"]


def test_speed_page_is_linked_from_the_docs_index() -> None:
    assert "(speed.md)" in (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
