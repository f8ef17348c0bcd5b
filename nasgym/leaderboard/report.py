"""``nasgym leaderboard report``: tables, CSV and plots of a results directory.

For every env and checkpoint (a number of queries) the report compares the agents on
the incumbent's test accuracy (the test accuracy of the best-validation architecture
found so far) and on regret (benchmark optimum minus that test accuracy):

* mean ± standard error over runs (seeds),
* the interquartile mean (IQM) with a 95% stratified-bootstrap confidence interval,
  computed with rliable (``get_interval_estimates`` with ``aggregate_iqm``; a fixed
  seed per agent, so a report is reproducible and an agent's interval does not
  depend on which other agents are present).

Files written to ``REPORTDIR`` (default ``DIR/report``): ``report.md`` (also printed),
``leaderboard.csv``, ``regret-<env key>.png`` per env (IQM regret against queries on a
log axis, with pointwise 95% bootstrap bands) and, for two or more envs,
``performance-profile.png``: rliable performance profiles at the full budget of the
normalized score ``test accuracy / optimum`` (``= 1 - regret / optimum``; 1 means the
optimum was found), pooled over envs.

Envs made with ``objectives=[...]`` also get hypervolume, hypervolume regret against
the benchmark's true Pareto front, constrained-run statistics, ``pareto-<env key>.png``,
``hv-regret-<env key>.png`` and ``multi-objective.csv`` (see
:mod:`nasgym.leaderboard.mo_report`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from nasgym import __version__
from nasgym.error import require
from nasgym.leaderboard.config import EnvConfig, LeaderboardConfig
from nasgym.leaderboard.errors import (
    ConfigMismatchError,
    CorruptRunFileError,
    LeaderboardError,
)
from nasgym.leaderboard.execute import now_iso
from nasgym.leaderboard.store import (
    RunFile,
    atomic_write,
    check_header,
    find_run_files,
    read_manifest,
    read_run,
)

#: Seed of every bootstrap (per agent and statistic).
BOOTSTRAP_SEED = 0
#: Points of the regret curves' query grid (log-spaced).
CURVE_POINTS = 40
#: The multi-objective statistics (see :mod:`nasgym.leaderboard.mo_report`).
MO_CSV_NAME = "multi-objective.csv"

Logger = Callable[[str], None]

CSV_COLUMNS = (
    "env_key",
    "env_id",
    "env_kwargs",
    "optimum",
    "checkpoint",
    "agent",
    "n",
    "test_mean",
    "test_se",
    "regret_mean",
    "regret_se",
    "test_iqm",
    "test_iqm_ci_low",
    "test_iqm_ci_high",
    "regret_iqm",
    "regret_iqm_ci_low",
    "regret_iqm_ci_high",
)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class Estimate:
    """Summary statistics of one sample of runs."""

    n: int
    mean: float
    se: float
    iqm: float
    ci_low: float
    ci_high: float


@dataclass
class Row:
    """One agent at one checkpoint of one env."""

    agent: str
    test: Estimate
    regret: Estimate
    short_seeds: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class ReportResult:
    """What ``leaderboard report`` produced."""

    markdown: str
    files: list[Path]
    warnings: list[str]


@dataclass
class EnvRuns:
    """The valid runs of one env, by agent."""

    env: EnvConfig
    optimum: float
    benchmark: dict[str, Any]
    runs: dict[str, list[RunFile]]


# ------------------------------------------------------------------ loading
def load_runs(
    root: Path, log: Logger = _stderr
) -> tuple[LeaderboardConfig, list[EnvRuns], list[str], dict[str, Any]]:
    """Read every run of a leaderboard directory; damaged files become warnings.

    Returns:
        The configuration, the runs per env (in manifest order), the warnings and the
        manifest.

    Raises:
        LeaderboardError: ``root`` is not a directory, not a leaderboard directory,
            or holds no finished run.
    """
    if not root.exists():
        raise LeaderboardError(f"no such directory: {root}")
    if not root.is_dir():
        raise LeaderboardError(f"{root} is not a directory")
    manifest = read_manifest(root)
    if manifest is None:
        raise LeaderboardError(
            f"{root} holds no leaderboard results (no leaderboard.json); create them "
            f"with: nasgym leaderboard run ... --out {root}"
        )
    try:
        config = LeaderboardConfig.from_json(manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise LeaderboardError(
            f"{root}/leaderboard.json is malformed ({exc!r})"
        ) from None
    notes: list[str] = []

    def warn(message: str) -> None:
        notes.append(message)
        log(f"nasgym: warning: {message}")

    envs = {env.key: env for env in config.envs}
    by_env: dict[str, dict[str, list[RunFile]]] = {key: {} for key in envs}
    for path in find_run_files(root):
        try:
            run = read_run(path)
            check_header(path, run.header, envs, config.budget)
        except CorruptRunFileError as exc:
            warn(f"skipping corrupted run file {exc}")
            continue
        except ConfigMismatchError as exc:
            warn(f"skipping {exc}")
            continue
        by_env[path.parent.parent.name].setdefault(path.parent.name, []).append(run)
    if not any(by_env.values()):
        raise LeaderboardError(
            f"{root} holds no finished runs yet; run (or resume) the "
            "'nasgym leaderboard run' command that writes to it"
        )
    order = [str(a) for a in manifest.get("agents", [])]
    result = []
    for key, env in envs.items():
        agents = by_env[key]
        if not agents:
            warn(f"{env.label}: no finished runs")
            continue
        first = next(iter(agents.values()))[0].header
        benchmark = dict(first.get("benchmark") or {})
        optimum = benchmark.get("optimum")
        if optimum is None:
            record = first_record(next(iter(agents.values()))[0])
            optimum = record["best_test"] + record["regret"] if record else math.nan
        ranked = sorted(
            agents,
            key=lambda a: (a not in order, order.index(a) if a in order else 0, a),
        )
        result.append(
            EnvRuns(env, float(optimum), benchmark, {a: agents[a] for a in ranked})
        )
    missing = _missing_runs(config, manifest, by_env)
    if missing:
        example = ", ".join(missing[:3])
        warn(
            f"{len(missing)} requested run(s) have no valid result (e.g. {example}): "
            "run the same 'nasgym leaderboard run' command again to (re)do them"
        )
    return config, result, notes, manifest


def first_record(run: RunFile) -> dict[str, Any] | None:
    """The first query record of a run (``None`` for an empty run)."""
    return run.records[0] if run.records else None


def _missing_runs(
    config: LeaderboardConfig,
    manifest: Mapping[str, Any],
    found: Mapping[str, Mapping[str, Sequence[RunFile]]],
) -> list[str]:
    """Runs the manifest says were asked for that have no valid run file."""
    requested = manifest.get("requested")
    if not isinstance(requested, Mapping):
        seeds = int(manifest.get("seeds", 0))
        requested = {str(agent): seeds for agent in manifest.get("agents", [])}
    missing: list[str] = []
    for env in config.envs:
        for agent, seeds in requested.items():
            have = {int(r.header["seed"]) for r in found[env.key].get(agent, [])}
            missing.extend(
                f"{env.key}/{agent}/seed-{seed}"
                for seed in range(int(seeds))
                if seed not in have
            )
    return missing


# ------------------------------------------------------------------ statistics
@contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


def _bootstrap(
    scores: np.ndarray, func: Callable[[np.ndarray], np.ndarray], reps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Point estimate (rliable) and 95% CI of ``func`` on a ``(runs, tasks)`` matrix."""
    from rliable import library

    # rliable 1.2 draws its resampling indices from NumPy's global generator (its
    # random_state argument does not reach them): seed it, and restore it after.
    state = np.random.get_state()
    np.random.seed(BOOTSTRAP_SEED)
    try:
        with _quiet():
            point, interval = library.get_interval_estimates(
                {"x": scores},
                func,
                reps=reps,
                random_state=np.random.RandomState(BOOTSTRAP_SEED),
            )
    finally:
        np.random.set_state(state)
    return np.asarray(point["x"], dtype=float), np.asarray(interval["x"], dtype=float)


def iqm_columns(scores: np.ndarray) -> np.ndarray:
    """IQM of every column: rliable's ``aggregate_iqm`` (a 25% trimmed mean) per column.

    Example:
        >>> iqm_columns(np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [100.0, 1.0]]))
        array([1.5, 1. ])
    """
    n = scores.shape[0]
    cut = int(0.25 * n)
    ordered = np.sort(scores, axis=0)
    result: np.ndarray = ordered[cut : n - cut].mean(axis=0)
    return result


def estimate(values: np.ndarray, reps: int) -> Estimate:
    """Mean, standard error, and rliable IQM with its 95% bootstrap CI."""
    from rliable import metrics

    values = np.asarray(values, dtype=float)
    n = int(values.size)
    if n == 0:
        return Estimate(0, *([math.nan] * 5))
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    point, interval = _bootstrap(
        values.reshape(-1, 1), lambda x: np.array([metrics.aggregate_iqm(x)]), reps
    )
    return Estimate(n, mean, se, float(point[0]), *map(float, interval[:, 0]))


def _column(runs: Sequence[RunFile], key: str, query: int) -> np.ndarray:
    return np.array(
        [run.records[query - 1][key] for run in runs if len(run.records) >= query],
        dtype=float,
    )


def checkpoint_rows(env_runs: EnvRuns, checkpoint: int, reps: int) -> list[Row]:
    """One :class:`Row` per agent at ``checkpoint`` queries."""
    rows = []
    for agent, runs in env_runs.runs.items():
        short = [
            (int(run.header["seed"]), len(run.records))
            for run in runs
            if len(run.records) < checkpoint
        ]
        rows.append(
            Row(
                agent,
                estimate(_column(runs, "best_test", checkpoint), reps),
                estimate(_column(runs, "regret", checkpoint), reps),
                short,
            )
        )
    return rows


# ------------------------------------------------------------------ Markdown
def _num(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}"


def _mean_se(est: Estimate) -> str:
    return "n/a" if est.n == 0 else f"{_num(est.mean)} ± {_num(est.se)}"


def _iqm(est: Estimate) -> str:
    if est.n == 0:
        return "n/a"
    return f"{_num(est.iqm)} [{_num(est.ci_low)}, {_num(est.ci_high)}]"


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], align: str
) -> str:
    """A pipe table whose columns line up in a terminal too.

    Args:
        header: Column titles.
        rows: Cells (strings).
        align: One letter per column: ``l`` (left) or ``r`` (right).

    Example:
        >>> print(markdown_table(["a", "n"], [["x", "10"], ["yy", "2"]], "lr"))
        | a   |   n |
        | :-- | --: |
        | x   |  10 |
        | yy  |   2 |
    """
    widths = [
        max(3, len(title), *(len(row[i]) for row in rows))
        for i, title in enumerate(header)
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if how == "r" else cell.ljust(width)
            for cell, width, how in zip(cells, widths, align, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        ":" + "-" * (w - 1) if how == "l" else "-" * (w - 1) + ":"
        for w, how in zip(widths, align, strict=True)
    ]
    return "\n".join([line(header), line(rule), *(line(row) for row in rows)])


TABLE_HEADER = (
    "agent",
    "n",
    "test acc. mean ± s.e.",
    "regret mean ± s.e.",
    "test acc. IQM [95% CI]",
    "regret IQM [95% CI]",
)


def _env_heading(env_runs: EnvRuns) -> list[str]:
    bench = env_runs.benchmark
    seeds = sorted(
        {int(r.header["seed"]) for runs in env_runs.runs.values() for r in runs}
    )
    details = [f"Optimum {_num(env_runs.optimum)}"]
    if bench.get("name"):
        details.append(f"benchmark {bench['name']}")
    if bench.get("reward_metric"):
        details.append(f"reward metric {bench['reward_metric']}")
    if bench.get("report_metric"):
        details.append(f"reported metric {bench['report_metric']}")
    if bench.get("reward_split") == "test":
        details.append(
            f"rewards use TEST-split numbers ({bench['reward_split_reason']})"
        )
    details.append(
        f"{sum(len(r) for r in env_runs.runs.values())} runs, seeds {_ranges(seeds)}"
    )
    return [f"## {env_runs.env.label}", "", "; ".join(details) + ".", ""]


def _ranges(values: Sequence[int]) -> str:
    parts, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(str(v) if v == start else f"{start}-{v}")
            start = None
    return ", ".join(parts)


# ------------------------------------------------------------------ plots
def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    return buffer.getvalue()


def curve_plot(
    env_runs: EnvRuns,
    budget: int,
    reps: int,
    curve: Callable[[RunFile, np.ndarray], Sequence[float]],
    ylabel: str,
    title: str,
) -> bytes:
    """PNG of the IQM of ``curve(run, grid)`` against queries (log x), 95% CI bands.

    ``grid`` holds :data:`CURVE_POINTS` log-spaced query counts from 1 to ``budget``;
    each agent's runs that reached ``budget`` make one line.
    """
    from matplotlib.figure import Figure

    grid = np.unique(np.round(np.geomspace(1, budget, CURVE_POINTS)).astype(int))
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for agent, runs in env_runs.runs.items():
        full = [run for run in runs if len(run.records) >= budget]
        if not full:
            continue
        curves = np.array([curve(run, grid) for run in full], dtype=float)
        point, interval = _bootstrap(curves, iqm_columns, reps)
        (line,) = ax.plot(grid, point, label=f"{agent} (n={len(full)})")
        ax.fill_between(
            grid, interval[0], interval[1], color=line.get_color(), alpha=0.2
        )
    ax.set_xscale("log")
    ax.set_xlabel("queries")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{env_runs.env.label}: {title}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _png(fig)


def regret_plot(env_runs: EnvRuns, budget: int, reps: int) -> bytes:
    """PNG of IQM regret against queries (log x), with pointwise 95% CI bands."""
    return curve_plot(
        env_runs,
        budget,
        reps,
        lambda run, grid: [run.records[q - 1]["regret"] for q in grid],
        "regret (optimum - test accuracy of incumbent)",
        "IQM regret, 95% bootstrap CI",
    )


def performance_profile(
    envs: Sequence[EnvRuns], budget: int, reps: int
) -> tuple[bytes | None, list[str]]:
    """PNG of rliable performance profiles of ``test / optimum`` at ``budget``.

    Each agent contributes the seeds it has finished in every env, as a
    ``(runs, envs)`` score matrix. Agents missing from some env are left out (the
    returned notes say so).
    """
    from matplotlib.figure import Figure
    from rliable import library

    notes = []
    scores: dict[str, np.ndarray] = {}
    agents = list(dict.fromkeys(a for env in envs for a in env.runs))
    for agent in agents:
        per_env = []
        for env in envs:
            runs = env.runs.get(agent, [])
            per_env.append(
                {
                    int(r.header["seed"]): r.records[budget - 1]["best_test"]
                    / env.optimum
                    for r in runs
                    if len(r.records) >= budget
                }
            )
        common = sorted(set.intersection(*(set(d) for d in per_env)))
        if not common:
            notes.append(
                f"performance profile: {agent} has no seed finished in every env"
            )
            continue
        scores[agent] = np.array([[d[s] for d in per_env] for s in common], dtype=float)
    if not scores:
        return None, notes
    low = min(float(v.min()) for v in scores.values())
    low = math.floor(min(low, 0.99) * 100) / 100
    taus = np.linspace(low, 1.0, 101)
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    for agent, matrix in scores.items():
        point, interval = _bootstrap(
            matrix, lambda x: library.score_distributions(x, taus), reps
        )
        (line,) = ax.plot(
            taus,
            point,
            label=f"{agent} ({matrix.shape[0]} seeds x {matrix.shape[1]} envs)",
        )
        ax.fill_between(
            taus, interval[0], interval[1], color=line.get_color(), alpha=0.2
        )
    ax.set_xlabel(r"normalized score $\tau$ (test accuracy / optimum)")
    ax.set_ylabel(r"fraction of runs with score $> \tau$")
    ax.set_title(
        f"Performance profiles after {budget} queries, {len(envs)} envs", fontsize=10
    )
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _png(fig), notes


# ------------------------------------------------------------------ the report
def _csv_row(env_runs: EnvRuns, checkpoint: int, row: Row) -> dict[str, Any]:
    return {
        "env_key": env_runs.env.key,
        "env_id": env_runs.env.id,
        "env_kwargs": json.dumps(dict(env_runs.env.kwargs), sort_keys=True),
        "optimum": env_runs.optimum,
        "checkpoint": checkpoint,
        "agent": row.agent,
        "n": row.test.n,
        "test_mean": row.test.mean,
        "test_se": row.test.se,
        "regret_mean": row.regret.mean,
        "regret_se": row.regret.se,
        "test_iqm": row.test.iqm,
        "test_iqm_ci_low": row.test.ci_low,
        "test_iqm_ci_high": row.test.ci_high,
        "regret_iqm": row.regret.iqm,
        "regret_iqm_ci_low": row.regret.ci_low,
        "regret_iqm_ci_high": row.regret.ci_high,
    }


def require_report() -> None:
    """Check that the ``report`` extra (rliable, pandas, matplotlib, moocore) is in.

    Raises:
        MissingExtraError: One of them is missing; the message names the extra.
    """
    for module in ("rliable", "pandas", "matplotlib", "moocore"):
        require(module, extra="report", purpose="nasgym leaderboard report")


def build_report(
    root: Path, reps: int = 2000, log: Logger = _stderr
) -> tuple[str, list[dict[str, Any]], dict[str, bytes], list[str]]:
    """Compute the report: Markdown, CSV rows, other files by name, warnings.

    The other files are the PNG plots and, when some env has objectives,
    :data:`MO_CSV_NAME`.

    Raises:
        MissingExtraError: rliable, matplotlib or moocore is missing (the
            ``report`` extra).
    """
    require_report()
    config, envs, notes, _ = load_runs(root, log)
    lines = [
        "# nasgym leaderboard",
        "",
        f"Results in `{root}`: budget {config.budget} queries per run; report "
        f"generated {now_iso()[:19].replace('T', ' ')} UTC by nasgym {__version__}.",
        "",
        "Test accuracy is that of the incumbent (the architecture with the best "
        "rewarded metric so far: validation accuracy, or the proxy on a zc: env) "
        "after the given number of queries; regret is the "
        "benchmark optimum minus it. n: runs (seeds). Mean ± standard error over "
        "runs; IQM: interquartile mean with a 95% stratified-bootstrap confidence "
        f"interval (rliable, {reps} samples).",
        "",
    ]
    from nasgym.leaderboard.mo_report import MO_CSV_COLUMNS, mo_section

    csv_rows: list[dict[str, Any]] = []
    mo_csv: list[dict[str, Any]] = []
    images: dict[str, bytes] = {}
    for env_runs in envs:
        lines.extend(_env_heading(env_runs))
        for checkpoint in config.checkpoints:
            rows = checkpoint_rows(env_runs, checkpoint, reps)
            lines.append(f"### {env_runs.env.label}, {checkpoint} queries")
            lines.append("")
            cells = [
                [
                    r.agent,
                    str(r.test.n),
                    _mean_se(r.test),
                    _mean_se(r.regret),
                    _iqm(r.test),
                    _iqm(r.regret),
                ]
                for r in rows
            ]
            lines.append(markdown_table(TABLE_HEADER, cells, "lrrrrr"))
            lines.append("")
            for row in rows:
                if row.short_seeds:
                    seeds = ", ".join(
                        f"seed {s} ({q} queries)" for s, q in row.short_seeds
                    )
                    message = (
                        f"{env_runs.env.label}, {checkpoint} queries: "
                        f"{len(row.short_seeds)} run(s) of {row.agent} stopped before "
                        f"{checkpoint} queries and are left out: {seeds}"
                    )
                    lines.extend([f"Note: {message}.", ""])
                    notes.append(message)
                    log(f"nasgym: warning: {message}")
                csv_rows.append(_csv_row(env_runs, checkpoint, row))
        images[f"regret-{env_runs.env.key}.png"] = regret_plot(
            env_runs, config.budget, reps
        )
        mo_lines, mo_rows, mo_images, mo_notes = mo_section(
            env_runs, config.checkpoints, config.budget, reps
        )
        lines.extend(mo_lines)
        mo_csv.extend(mo_rows)
        images.update(mo_images)
        for message in mo_notes:
            notes.append(message)
            log(f"nasgym: warning: {message}")
    if len(envs) >= 2:
        png, profile_notes = performance_profile(envs, config.budget, reps)
        for message in profile_notes:
            notes.append(message)
            log(f"nasgym: warning: {message}")
        if png is not None:
            images["performance-profile.png"] = png
    lines.append("## Plots")
    lines.append("")
    for name in images:
        lines.append(f"![{name}]({quote(name)})")
    lines.append("")
    if mo_csv:  # multi-objective envs: their statistics in a CSV of their own
        images[MO_CSV_NAME] = _csv_text(mo_csv, MO_CSV_COLUMNS).encode()
    if notes:
        lines.extend(["## Warnings", ""])
        lines.extend(f"* {message}" for message in notes)
        lines.append("")
    return "\n".join(lines), csv_rows, images, notes


def _csv_text(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = CSV_COLUMNS
) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: ("" if isinstance(v, float) and math.isnan(v) else v)
                for k, v in row.items()
            }
        )
    return buffer.getvalue()


def write_report(
    root: Path, out: Path | None = None, reps: int = 2000, log: Logger = _stderr
) -> ReportResult:
    """Write ``report.md``, ``leaderboard.csv`` and the PNG plots to ``out``.

    Args:
        root: The results directory of ``leaderboard run``.
        out: Report directory (default ``root/report``).
        reps: Bootstrap samples per confidence interval.
        log: Where warnings go (default stderr).

    Raises:
        LeaderboardError: ``root`` missing, not a leaderboard, or without results.
    """
    root = root.expanduser()
    markdown, rows, images, notes = build_report(root, reps, log)
    target = (out or root / "report").expanduser()
    files = [target / "report.md", target / "leaderboard.csv"]
    atomic_write(files[0], markdown.encode())
    atomic_write(files[1], _csv_text(rows).encode())
    for name, data in images.items():
        atomic_write(target / name, data)
        files.append(target / name)
    for stale in [
        *target.glob("regret-*.png"),
        *target.glob("pareto-*.png"),
        *target.glob("hv-regret-*.png"),
        target / "performance-profile.png",
        target / MO_CSV_NAME,
    ]:
        if stale.name not in images:  # from an earlier report of other envs
            stale.unlink(missing_ok=True)
    return ReportResult(markdown, files, notes)
