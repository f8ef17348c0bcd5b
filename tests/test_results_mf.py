"""docs/results/mf is what docs/mf_evidence.py generates from its results.

The README and the Evidence block of docs/multifidelity.md are rendered from the
committed results file only (no benchmark data needed). The smoke run and its
resume use the data-free TinyBenchmark; replaying committed runs needs the tables.
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results" / "mf"


def _evidence() -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    path = ROOT / "docs" / "mf_evidence.py"
    spec = importlib.util.spec_from_file_location("mf_evidence", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ev() -> ModuleType:
    return _evidence()


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RESULTS / "results.json").read_text())
    return loaded


def test_readme_and_doc_section_match_the_committed_results(
    ev: ModuleType, committed: dict[str, Any]
) -> None:
    summary = ev.summarise(committed)
    hint = "run python docs/mf_evidence.py --render"
    assert (RESULTS / "README.md").read_text() == ev.render(committed, summary), hint
    page = ev.DOC.read_text()
    block = page[page.index(ev.START) : page.index(ev.END) + len(ev.END) + 1]
    assert block == ev.render_section(committed, summary), hint
    for bench in ev.REAL:
        for workers in (1, *([4] if bench in ev.PARALLEL else [])):
            assert (RESULTS / ev.curve_name(bench, workers)).is_file()


def test_committed_results_cover_every_cell(
    ev: ModuleType, committed: dict[str, Any]
) -> None:
    cfg = committed["config"]
    assert cfg["seeds"] == 30 and cfg["budgets"] == ev.BUDGETS
    assert set(committed["benchmarks"]) == set(ev.REAL)
    seeds: dict[tuple[str, str, int, str], list[int]] = {}
    for r in committed["runs"]:
        key = (r["bench"], r["budget"], r["workers"], r["optimizer"])
        seeds.setdefault(key, []).append(r["seed"])
    expected = {
        (b, budget, k, opt)
        for b in ev.REAL
        for budget in ev.BUDGETS
        for k in (1, *([4] if b in ev.PARALLEL else []))
        for opt in ev.OPTIMIZERS
    }
    assert set(seeds) == expected
    for key, have in seeds.items():
        assert sorted(have) == list(range(cfg["seeds"])), key


def test_committed_runs_respect_their_budgets(
    ev: ModuleType, committed: dict[str, Any]
) -> None:
    cfg = committed["config"]
    for r in committed["runs"]:
        info = committed["benchmarks"][r["bench"]]
        budget = cfg["budgets"][r["budget"]] * info["full_cost"]
        assert r["used"] <= budget * (1 + 1e-9), r
        # nothing stops an optimizer but the budget
        assert r["stop_reason"] == "budget", r
        assert sum(r["jobs_by_fidelity"].values()) == r["jobs"]
        assert r["top_jobs"] == r["jobs_by_fidelity"].get(
            str(info["fidelities"][-1]), 0
        )
        times = ev.grid(cfg, info["full_cost"])
        assert len(r["curve"]) == sum(t <= budget * (1 + 1e-9) for t in times)
        if r["workers"] == 1:
            assert r["makespan"] == pytest.approx(r["used"], rel=1e-9)
        if r["budget"] == "large" and r["workers"] == 1:
            # the last grid point is the budget: the incumbent there is the final one
            assert r["curve"][-1] == r["final"], r
        assert 0 < r["final"] <= 100
    single = [r for r in committed["runs"] if r["optimizer"] in ev.CONTROLS]
    for r in single:  # the controls train at the largest fidelity only
        assert r["jobs"] == r["top_jobs"]


def test_small_budget_runs_are_prefixes_of_the_large_ones(
    ev: ModuleType, committed: dict[str, Any]
) -> None:
    """With one worker no optimizer knows the budget: the small run is a prefix.

    The grid passes through the small budget, so the small run's final incumbent
    must be the large run's incumbent at that time (a check of the budget stop
    against the anytime incumbent of the same search).
    """
    cfg = committed["config"]
    runs = {
        (r["bench"], r["budget"], r["workers"], r["optimizer"], r["seed"]): r
        for r in committed["runs"]
    }
    checked = 0
    for (bench, budget, workers, opt, seed), small in runs.items():
        if budget != "small" or workers != 1:
            continue
        info = committed["benchmarks"][bench]
        times = ev.grid(cfg, info["full_cost"])
        at = len(small["curve"]) - 1
        assert times[at] == pytest.approx(cfg["budgets"]["small"] * info["full_cost"])
        large = runs[bench, "large", 1, opt, seed]
        assert small["curve"][-1] == small["final"] == large["curve"][at], small
        checked += 1
    assert checked == len(ev.REAL) * len(ev.OPTIMIZERS) * cfg["seeds"]


def test_statistics(ev: ModuleType) -> None:
    point, low, high = ev.iqm_ci([1.0, 2.0, 3.0, 4.0, 100.0, 6.0, 7.0, 8.0])
    assert point == pytest.approx(5.0)  # the middle half: 3, 4, 6, 7
    assert low <= point <= high
    rng = np.random.default_rng(0)
    a, b = rng.normal(10, 1, 30), rng.normal(0, 1, 30)
    above = ev.iqm_diff_ci(a, b)
    assert above[1] > 0 and ev.verdict(above) == "above"
    assert ev.verdict(ev.iqm_diff_ci(b, a)) == "below"
    assert ev.verdict(ev.iqm_diff_ci(a, a + rng.normal(0, 0.01, 30))) == "tie"
    # the same call twice gives the same interval (a fixed bootstrap seed)
    state = np.random.get_state()
    assert ev.iqm_ci(list(a)) == ev.iqm_ci(list(a))
    assert ev.iqm_diff_ci(a, b) == above
    # and leaves the global generator as it found it
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_findings_follow_the_intervals(ev: ModuleType) -> None:
    """The generated claims count exactly the CIs that exclude 0."""
    results = _fake_results(ev)
    summary = ev.summarise(results)
    text = "\n".join(ev.findings(results, summary))
    # hyperband is far above both controls at the small budget, equal at the large
    assert (
        "of 2 (multi-fidelity optimizer, control, benchmark) comparisons, 2 are "
        in (text)
    )
    assert "fixture), small budget: above both RS and REA: Hyperband;" in text
    assert (
        "fixture), large budget: above both RS and REA: none; below RS or REA: none"
        in (text)
    )
    assert (
        "at the small budget (100%) than at the large budget (0%), the direction"
        in (text)
    )


def _fake_results(ev: ModuleType) -> dict[str, Any]:
    runs = []
    for budget in ev.BUDGETS:
        for opt in ("hyperband", "rs-time", "rea-time"):
            for seed in range(10):
                good = budget == "small" and opt == "hyperband"
                runs.append(
                    {
                        "bench": "tiny",
                        "budget": budget,
                        "workers": 1,
                        "optimizer": opt,
                        "seed": seed,
                        "final": 80.0 + seed % 3 + (5.0 if good else 0.0),
                        "jobs": 3,
                        "top_jobs": 1,
                        "final_fidelity": 9,
                    }
                )
    bench = {"n_fidelities": 3, "fidelity_text": "1, 3, 9"}
    return {
        "config": {"budgets": dict(ev.BUDGETS)},
        "benchmarks": {"tiny": bench},
        "runs": runs,
    }


OPTS = "hyperband,bohb,asha,rs-time,rea-time"


def test_tiny_smoke_run_resumes_to_the_same_results(
    ev: ModuleType, tmp_path: Path
) -> None:
    base = ["--tiny", "--seeds", "2", "--optimizers", OPTS]
    fresh, resumed = tmp_path / "fresh", tmp_path / "resumed"
    assert ev.main([*base, "--out", str(fresh)]) == 0
    # interrupted after 7 runs, then started again
    assert ev.main([*base, "--out", str(resumed), "--stop-after", "7"]) == 3
    partial = json.loads((resumed / "results.json").read_text())
    assert len(partial["runs"]) == 7 and not (resumed / "README.md").exists()
    assert ev.main([*base, "--out", str(resumed)]) == 0
    a = json.loads((fresh / "results.json").read_text())
    b = json.loads((resumed / "results.json").read_text())
    assert a["runs"] == b["runs"] and a["benchmarks"] == b["benchmarks"]
    # 2 budgets x (1 + 4 workers) x 5 optimizers x 2 seeds
    assert len(a["runs"]) == 2 * 2 * 5 * 2
    readme = (fresh / "README.md").read_text()
    assert readme == ev.render(a, ev.summarise(a))
    assert "TinyBenchmark" in readme and "Hyperband" in readme
    assert (fresh / ev.curve_name("tiny", 1)).is_file()
    assert (fresh / ev.curve_name("tiny", 4)).is_file()
    for r in a["runs"]:
        assert (
            r["used"] <= ev.BUDGETS[r["budget"]] * a["benchmarks"]["tiny"]["full_cost"]
        )
        assert not math.isnan(r["final"])
    # more seeds later keep the finished runs
    assert ev.main([*base, "--out", str(fresh), "--seeds", "3"]) == 0
    c = json.loads((fresh / "results.json").read_text())
    assert [r for r in c["runs"] if r["seed"] < 2] == a["runs"]
    assert c["config"]["seeds"] == 3


def test_other_settings_and_bad_names_are_refused(
    ev: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--tiny", "--seeds", "1", "--optimizers", "rs-time", "--out", str(tmp_path)]
    assert ev.main(args) == 0
    path = tmp_path / "results.json"
    results = json.loads(path.read_text())
    results["config"]["budgets"] = {"small": 1.0, "large": 2.0}
    path.write_text(json.dumps(results))
    with pytest.raises(SystemExit, match="other settings"):
        ev.main(args)
    with pytest.raises(SystemExit):
        ev.parse(["--optimizers", "hyperband,tpe"])
    assert "tpe" in capsys.readouterr().err


@pytest.mark.data
def test_committed_runs_replay_from_the_tables(
    ev: ModuleType,
    committed: dict[str, Any],
    nb201_table: Path,
    ecnas_bench: Any,
    nb301_surrogate: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seed 0 of every committed cell (K=1, small budget) replays exactly."""
    from nasgym.mf.fidelity import NB101Fidelity, NB301Fidelity

    made = {
        "nb101-ecnas": NB101Fidelity("ecnas", path=ecnas_bench.data.path),
        "nb301": NB301Fidelity(path=nb301_surrogate.path),
    }
    original = ev.make_bench
    monkeypatch.setattr(ev, "make_bench", lambda key: made.get(key) or original(key))
    for key in ev.REAL:
        bench = ev.make_bench(key)
        info = ev.describe(key, bench, committed["config"]["cost_sample"])
        assert info == committed["benchmarks"][key]
        for r in committed["runs"]:
            if (r["bench"], r["budget"], r["workers"], r["seed"]) != (
                key,
                "small",
                1,
                0,
            ):
                continue
            row = ev.run_one(
                bench, info, committed["config"], "small", 1, r["optimizer"], 0
            )
            assert row == r
