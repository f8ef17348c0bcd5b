"""docs/results/oneshot is what docs/oneshot_evidence.py generates from its results.

The README and the Evidence block of docs/methods/README.md are rendered from the
committed results file only (no benchmark data needed). A tiny ``--quick`` run, its
resume and its refusals need the NB201 and HW-NAS-Bench-360 tables.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import missing_data  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "oneshot"


def _evidence() -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    path = ROOT / "docs" / "oneshot_evidence.py"
    spec = importlib.util.spec_from_file_location("oneshot_evidence", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _committed() -> dict:
    return json.loads((RESULTS / "results.json").read_text())


def test_readme_and_doc_section_match_the_committed_results() -> None:
    ev, results = _evidence(), _committed()
    hint = "run python docs/oneshot_evidence.py --render"
    assert (RESULTS / "README.md").read_text() == ev.render(results), hint
    page = ev.DOC.read_text()
    block = page[page.index(ev.START) : page.index(ev.END) + len(ev.END)]
    assert block == ev.render_section(results), hint


def test_committed_run_is_complete_with_equal_budgets() -> None:
    results = _committed()
    cfg = results["config"]
    assert cfg["dataset"] == "mnist5k" and cfg["clock"] == "cpu"
    assert cfg["seeds"] == 10 and not cfg["quick"]
    ev = _evidence()
    pairs = {(r["method"], r["seed"]) for r in results["runs"]}
    assert pairs == {(m, s) for m in ev.METHODS for s in range(10)}
    per_step = results["calibration"]
    for row in results["runs"]:
        if row["method"] == "random":
            assert row["steps"] == 0 and row["search_s"] == 0
            continue
        # no search overran the budget by more than a few of its own steps
        slack = 5 * per_step.get(row["method"], per_step["darts"])
        assert row["search_s"] <= cfg["budget_s"] + slack, row
        assert row["parameter_free"] == row["skip"] + row["pool"] + row["none"]
    assert len(results["pruning"]) == cfg["pruning_seeds"] >= 3
    for seed in results["pruning"]:
        assert [r["lambda"] for r in seed["rows"]] == cfg["lambdas"]


def test_statistics() -> None:
    ev = _evidence()
    assert ev.iqm([1, 2, 3, 4, 100, 6, 7, 8]) == pytest.approx(5.0)  # 3, 4, 6, 7
    low, high = ev.bootstrap_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert 1.0 <= low <= 3.0 <= high <= 5.0
    mid, low, high = ev.median_diff_ci([10.0] * 5, [1.0, 2.0, 3.0, 2.0, 1.0])
    assert mid == 8.0 and low > 0
    assert "above random" in ev._verdict((8.0, 7.0, 9.0))
    assert "not distinguishable" in ev._verdict((1.0, -1.0, 3.0))


def test_cifar_without_a_directory_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ev = _evidence()
    with pytest.raises(SystemExit):
        ev.parse(["--dataset", "cifar10", "--device", "cuda"])
    assert "--data-dir DIR" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ev.parse(["--methods", "darts,enas"])
    assert "enas" in capsys.readouterr().err


@pytest.fixture
def tables(data_root: Path, nb201_table: Path) -> None:
    from nasgym.benchmarks import hw360
    from nasgym.datastore import import_data

    source = data_root / "hw-nas-bench-360"
    if not (source / hw360.SOURCE_FILE).is_file():
        missing_data(f"{source / hw360.SOURCE_FILE} is not a file")
    import_data("hw-nas-bench-360", source)


@pytest.mark.data
@pytest.mark.usefixtures("tables", "one_torch_thread")
def test_quick_run_resumes_and_refuses_other_settings(tmp_path: Path) -> None:
    ev = _evidence()
    base = ["--quick", "--out-dir", str(tmp_path), "--pruning-seeds", "1"]
    methods = ["--methods", "gdas,random"]
    assert ev.main([*base, *methods, "--seeds", "1"]) == 0
    first = json.loads((tmp_path / "results.json").read_text())
    assert {(r["method"], r["seed"]) for r in first["runs"]} == {
        ("gdas", 0),
        ("random", 0),
    }
    assert set(first["calibration"]) == {"gdas"}
    readme = (tmp_path / "README.md").read_text()
    assert readme == ev.render(first) and "GDAS" in readme
    # a second call with one more seed keeps the finished runs and adds seed 1
    assert ev.main([*base, *methods, "--seeds", "2"]) == 0
    second = json.loads((tmp_path / "results.json").read_text())
    assert second["runs"][:2] == first["runs"]
    assert [(r["method"], r["seed"]) for r in second["runs"][2:]] == [
        ("gdas", 1),
        ("random", 1),
    ]
    assert second["pruning"] == first["pruning"]
    row = second["runs"][2]
    assert 0 < row["search_s"] and row["steps"] > 0
    assert set(row["nb201_test"]) == {"cifar10", "cifar100", "ImageNet16-120"}
    with pytest.raises(SystemExit, match="epochs"):
        ev.main([*base, *methods, "--epochs", "2"])
