"""The simulated-time part of a leaderboard report.

Runs whose query records carry ``sim_time_s`` (multi-fidelity envs always; tabular
envs whose data has training times) get a curve of IQM regret against simulated
time (log x, 95% stratified-bootstrap bands) and, under an epochs or seconds
budget (``--budget-unit``), a table of the incumbent at the end of the budget: the
time-budget comparison of the NB201 paper. Runs without simulated time get a line
saying so, never a silent gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nasgym.leaderboard.report import EnvRuns
    from nasgym.leaderboard.store import RunFile

#: Points of a curve against simulated time.
TIME_CURVE_POINTS = 40

TIME_TABLE_HEADER = (
    "agent",
    "n",
    "test acc. mean ± s.e.",
    "test acc. IQM [95% CI]",
    "regret IQM [95% CI]",
    "jobs (median)",
    "makespan (median)",
)


def run_times(run: RunFile) -> np.ndarray | None:
    """The simulated clock of each query record, or ``None`` if any is missing."""
    times = [record.get("sim_time_s") for record in run.records]
    if not times or any(t is None for t in times):
        return None
    return np.asarray(times, dtype=float)


def time_unit(env_runs: EnvRuns) -> str:
    """``"s"`` or ``"epochs"``: the cost unit the runs' headers record."""
    for runs in env_runs.runs.values():
        for run in runs:
            fidelity = run.header.get("fidelity") or {}
            if fidelity.get("cost_unit"):
                return str(fidelity["cost_unit"])
    return "s"


def _unit_words(unit: str) -> str:
    return (
        "simulated epochs (the epochs proxy: the data has no training times)"
        if unit == "epochs"
        else "simulated seconds"
    )


def _value_at(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The last value recorded at or before each grid time (NaN before any)."""
    index = np.searchsorted(times, grid, side="right") - 1
    out = np.where(index >= 0, values[np.clip(index, 0, None)], np.nan)
    return out.astype(float)


def time_curve(env_runs: EnvRuns, reps: int) -> bytes | None:
    """PNG of IQM regret against simulated time (log x), or ``None`` without times."""
    from nasgym.leaderboard.report import band_plot

    series: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    starts, ends = [], []
    for agent, runs in env_runs.runs.items():
        for run in runs:
            times = run_times(run)
            if times is None:
                return None
            regret = np.array(
                [math.nan if r["regret"] is None else r["regret"] for r in run.records]
            )
            finite = np.flatnonzero(np.isfinite(regret) & (times > 0))
            if finite.size == 0:
                continue
            starts.append(times[finite[0]])
            ends.append(times[-1])
            series.setdefault(agent, []).append((times, regret))
    if not series:
        return None
    low, high = max(starts), max(ends)
    grid = np.geomspace(low, max(high, low * (1 + 1e-9)), TIME_CURVE_POINTS)
    curves = {
        agent: np.array([_value_at(t, v, grid) for t, v in pairs])
        for agent, pairs in series.items()
    }
    return band_plot(
        env_runs,
        grid,
        curves,
        reps,
        _unit_words(time_unit(env_runs)),
        "regret (optimum - test accuracy of incumbent)",
        f"{env_runs.env.label}: IQM regret against simulated time, 95% CI",
    )


def final_table(env_runs: EnvRuns, reps: int) -> list[list[str]]:
    """One row per agent: the incumbent when the budget ran out."""
    from nasgym.leaderboard.report import _iqm, _mean_se, agent_label, estimate

    rows = []
    for agent, runs in env_runs.runs.items():
        test = np.array([_num(run.summary.get("best_test")) for run in runs])
        regret = np.array([_num(run.summary.get("regret")) for run in runs])
        jobs = np.median([len(run.records) for run in runs])
        spans = [_makespan(run) for run in runs]
        spans = [t for t in spans if math.isfinite(t)]
        span = f"{np.median(spans):.4g}" if spans else "n/a"
        test_est, regret_est = estimate(test, reps), estimate(regret, reps)
        rows.append(
            [
                agent_label(env_runs, agent),
                str(test_est.n),
                _mean_se(test_est),
                _iqm(test_est),
                _iqm(regret_est),
                f"{jobs:g}",
                span,
            ]
        )
    return rows


def _makespan(run: RunFile) -> float:
    """The clock when the last job finished, else at the last query."""
    if run.summary.get("sim_time_s") is not None:
        return float(run.summary["sim_time_s"])
    times = run_times(run)
    return math.nan if times is None else float(times[-1])


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def time_section(
    env_runs: EnvRuns,
    unit: str,
    budget: int,
    reps: int,
) -> tuple[list[str], dict[str, bytes]]:
    """Markdown lines and PNGs of one env's simulated-time results.

    Args:
        env_runs: The env's runs.
        unit: What the leaderboard's budget counted (``queries``, ``epochs``,
            ``seconds``).
        budget: The budget, in ``unit``.
        reps: Bootstrap samples.
    """
    from nasgym.leaderboard.report import markdown_table

    timed = all(
        run_times(run) is not None for runs in env_runs.runs.values() for run in runs
    )
    if not timed:
        return (
            [
                f"Simulated time: not recorded. {env_runs.env.label} reports no "
                "`sim_time_s` (its data has no training times; for NB201, import "
                "the official NATS-Bench archive, or use a multi-fidelity env, whose "
                "clock falls back to epochs), so there is no curve against "
                "simulated time.",
                "",
            ],
            {},
        )
    lines: list[str] = []
    words = _unit_words(time_unit(env_runs))
    if unit != "queries":
        lines += [
            f"### {env_runs.env.label}, end of the budget",
            "",
            f"The incumbent when the budget of {budget} {unit} ran out (every job "
            "paid for has finished); jobs: queries run; makespan: the simulated "
            f"clock when the last job finished, in {words}.",
            "",
            markdown_table(TIME_TABLE_HEADER, final_table(env_runs, reps), "lrrrrrr"),
            "",
        ]
    png = time_curve(env_runs, reps)
    images = {} if png is None else {f"time-{env_runs.env.key}.png": png}
    return lines, images


def query_plot_budget(env_runs: Sequence[EnvRuns], budget: int, unit: str) -> int:
    """Queries the regret-vs-queries curve spans: every run reached them."""
    if unit == "queries":
        return budget
    counts = [
        len(r.records) for e in env_runs for runs in e.runs.values() for r in runs
    ]
    return max(1, min(counts, default=1))
