"""Multi-fidelity search on NB101's four budgets (4/12/36/108), data-free.

The real NB101 data here is EC-NAS (one budget), so the four-budget path is checked
on a record file in the official layout written by
``test_fidelity._official_tfrecord``: the rungs, the charges in seconds and the
budget of Hyperband under :func:`nasgym.mf.simulate.simulate`, and one run of the
evidence script's runner (docs/mf_evidence.py) on it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from test_fidelity import EPOCHS, _official_tfrecord  # type: ignore[import-not-found]

from nasgym.benchmarks.nb101 import import_nb101_tfrecord
from nasgym.mf.fidelity import Ledger, NB101Fidelity
from nasgym.mf.simulate import simulate
from nasgym_agents.mf import ASHA, Hyperband

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def four_budgets(tmp_path: Path) -> tuple[NB101Fidelity, dict[tuple[str, int], float]]:
    times = _official_tfrecord(tmp_path / "nasbench_only108.tfrecord", n=12)
    table = import_nb101_tfrecord(tmp_path, dest=tmp_path / "nb101.npz")
    return NB101Fidelity("full", path=table), times


def test_hyperband_runs_all_four_rungs_charged_in_seconds(
    four_budgets: tuple[NB101Fidelity, dict[tuple[str, int], float]],
) -> None:
    bench, times = four_budgets
    hb = Hyperband(nvec=bench.nvec, fidelities=bench.fidelities, seed=0)
    assert hb.rungs == EPOCHS and hb.s_max == 3
    # bracket s = 3 starts ceil(4 / 4 * 27) = 27 configurations at 4 epochs
    assert hb.bracket_shape(0) == (3, 27)
    budget = 20 * sum(times.values()) / len(bench.nvec)
    ledger = Ledger(bench, budget=budget, unit="seconds")
    trace = simulate(hb, bench, ledger)
    assert trace.time_unit == "s" and trace.stop_reason == "budget"
    hashes = bench.bench.hashes()
    for row in trace.rows:
        # not resumable: every job pays its budget's whole training time
        assert row.charge == pytest.approx(
            times[(hashes[row.job.vector[0]], row.job.fidelity)], rel=1e-6
        )
    assert {r.job.fidelity for r in trace.rows} == set(EPOCHS)
    assert sum(r.charge for r in trace.rows) == pytest.approx(ledger.cost)
    assert ledger.cost <= budget
    # the unstarted job is what did not fit
    assert trace.unstarted is not None
    pending = bench.evaluate(trace.unstarted.vector, trace.unstarted.fidelity).cost
    assert ledger.cost + pending > budget
    # an epochs budget counts epochs, whatever the seconds
    ledger = Ledger(bench, budget=500, unit="epochs")
    trace = simulate(ASHA(nvec=bench.nvec, fidelities=EPOCHS, seed=1), bench, ledger)
    assert ledger.epochs == sum(r.job.fidelity for r in trace.rows) <= 500
    assert ledger.epochs + trace.unstarted.fidelity > 500  # type: ignore[union-attr]


def test_evidence_runner_on_four_budgets(
    four_budgets: tuple[NB101Fidelity, dict[tuple[str, int], float]],
) -> None:
    bench, _ = four_budgets
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location(
        "mf_evidence", ROOT / "docs" / "mf_evidence.py"
    )
    assert spec is not None and spec.loader is not None
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)
    info = ev.describe("nb101-full", bench, 8)
    assert info["unit"] == "seconds" and info["n_fidelities"] == 4
    assert info["fidelity_text"] == "4, 12, 36, 108"
    config = {
        "budgets": {"small": 5.0, "large": 20.0},
        "grid_points": 5,
        "grid_low": 1.0,
    }
    row = ev.run_one(bench, info, config, "large", 1, "hyperband", 0)
    assert set(row["jobs_by_fidelity"]) == {"4", "12", "36", "108"}
    assert row["used"] <= 20.0 * info["full_cost"]
    assert row["top_jobs"] == row["jobs_by_fidelity"]["108"]
    assert len(row["curve"]) == 5 and row["curve"][-1] == row["final"]
    rs = ev.run_one(bench, info, config, "large", 1, "rs-time", 0)
    assert set(rs["jobs_by_fidelity"]) == {"108"}
