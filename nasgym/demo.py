"""``nasgym demo``: random search against MaskablePPO on NAS-Bench-Graph, offline.

Both searchers spend the same query budget on the same env family (the data ships in
the ``nas-bench-graph`` wheel, so nothing is downloaded). The demo prints what each
found against the benchmark optimum and writes a regret-vs-queries plot.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from nasgym.error import UnknownOptionError, require
from nasgym.wrappers import QueryLog, QueryRecord


@dataclass
class SearchRun:
    """One searcher's run: its per-query log and wall time."""

    method: str
    seed: int
    records: list[QueryRecord]
    wall_s: float
    env_steps: int

    def regret_curve(self, budget: int) -> np.ndarray:
        """Regret after each query 1..budget (padded with the last value)."""
        curve = np.full(budget, np.nan)
        for record in self.records:
            if 1 <= record.query <= budget:
                curve[record.query - 1] = record.regret
        last = np.nan
        for i in range(budget):
            if np.isnan(curve[i]):
                curve[i] = last
            last = curve[i]
        return curve


@dataclass
class DemoResult:
    """Everything the demo measured."""

    dataset: str
    budget: int
    optimum: float
    runs: list[SearchRun] = field(default_factory=list)
    plot: Path | None = None


def random_search(dataset: str, budget: int, seed: int) -> SearchRun:
    """Uniform random search through the Query env until the budget is spent."""
    env = QueryLog(
        gym.make("nasgym/NBGraphQuery-v0", dataset=dataset, max_queries=budget)
    )
    start = time.perf_counter()
    env.reset(seed=seed)
    env.action_space.seed(seed)
    steps = 0
    while not env.records or env.records[-1].query < budget:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        steps += 1
        if (terminated or truncated) and env.records[-1].query < budget:
            env.reset()
    return SearchRun(
        "random search", seed, env.records, time.perf_counter() - start, steps
    )


def maskable_ppo_search(
    dataset: str, budget: int, seed: int, on_query: Callable[[], None] | None = None
) -> SearchRun:
    """sb3-contrib MaskablePPO on the Edit env, trained until the budget is spent."""
    require("sb3_contrib", extra="demo", purpose="nasgym demo (MaskablePPO)")
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    env = QueryLog(
        gym.make("nasgym/NBGraphEdit-v0", dataset=dataset, max_queries=budget)
    )

    class StopAtBudget(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.seen = 0

        def _on_step(self) -> bool:
            if on_query is not None:
                while self.seen < len(env.records):
                    self.seen += 1
                    on_query()
            return not any(
                info.get("budget_exhausted") for info in self.locals["infos"]
            )

    model = MaskablePPO(
        "MultiInputPolicy",
        env,
        n_steps=128,
        batch_size=64,
        n_epochs=4,
        learning_rate=3e-4,
        ent_coef=0.01,
        policy_kwargs={"net_arch": [64, 64]},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=50 * budget, callback=StopAtBudget())
    return SearchRun(
        "MaskablePPO (edit env)",
        seed,
        env.records,
        time.perf_counter() - start,
        int(model.num_timesteps),
    )


def run_demo(
    *,
    dataset: str = "cora",
    budget: int = 300,
    seeds: int = 5,
    out: Path | None = Path("nasgym-demo"),
    progress: bool = True,
) -> DemoResult:
    """Run the demo and return its results (and write the plot under ``out``).

    Raises:
        UnknownOptionError: ``budget`` or ``seeds`` out of range, or unknown dataset.
    """
    from nasgym.benchmarks.nbgraph import NBGraphBenchmark

    if budget < 2 or budget > 20000:
        raise UnknownOptionError(f"--budget must be in 2..20000, got {budget}")
    if seeds < 1 or seeds > 100:
        raise UnknownOptionError(f"--seeds must be in 1..100, got {seeds}")
    bench = NBGraphBenchmark(dataset)
    result = DemoResult(dataset, budget, bench.optimum("test"))
    from tqdm.auto import tqdm

    with tqdm(
        total=2 * seeds * budget, desc="queries", unit="q", disable=not progress
    ) as bar:
        for seed in range(seeds):
            run = random_search(dataset, budget, seed)
            bar.update(len(run.records))
            result.runs.append(run)
            result.runs.append(
                maskable_ppo_search(dataset, budget, seed, lambda: bar.update(1))
            )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        result.plot = plot_regret(result, out / "regret.png")
        payload = {
            "dataset": dataset,
            "budget": budget,
            "optimum_test_accuracy": result.optimum,
            "runs": [
                {
                    "method": r.method,
                    "seed": r.seed,
                    "wall_s": r.wall_s,
                    "env_steps": r.env_steps,
                    "records": [x.to_dict() for x in r.records],
                }
                for r in result.runs
            ],
        }
        (out / "results.json").write_text(json.dumps(payload, indent=1))
    return result


def _methods(result: DemoResult) -> dict[str, list[SearchRun]]:
    groups: dict[str, list[SearchRun]] = {}
    for run in result.runs:
        groups.setdefault(run.method, []).append(run)
    return groups


def plot_regret(result: DemoResult, path: Path) -> Path:
    """Plot mean regret (with a standard-error band) against queries, log-scaled."""
    require("matplotlib", extra="demo", purpose="nasgym demo's regret plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    x = np.arange(1, result.budget + 1)
    for method, runs in _methods(result).items():
        curves = np.stack([r.regret_curve(result.budget) for r in runs])
        mean = np.nanmean(curves, axis=0)
        se = (
            np.nanstd(curves, axis=0, ddof=1) / np.sqrt(len(runs))
            if len(runs) > 1
            else np.zeros_like(mean)
        )
        ax.plot(x, mean, label=f"{method} (n={len(runs)})")
        ax.fill_between(x, mean - se, mean + se, alpha=0.25)
    ax.set_xscale("log")
    ax.set_xlabel("queries (distinct architectures evaluated)")
    ax.set_ylabel("test regret (percentage points)")
    ax.set_title(f"NAS-Bench-Graph / {result.dataset}: regret of the incumbent")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def format_demo(result: DemoResult) -> str:
    """Plain-text summary table of the demo."""
    lines = [
        f"NAS-Bench-Graph / {result.dataset}: {result.budget} queries per run, "
        f"optimum test accuracy {result.optimum:.2f}%",
        "",
        f"{'method':<24} {'runs':>4} {'best valid %':>13} {'best test %':>14} "
        f"{'regret':>13} {'wall s':>7}",
    ]
    for method, runs in _methods(result).items():
        last = [r.records[-1] for r in runs if r.records]

        def stat(values: list[float]) -> str:
            arr = np.asarray(values, dtype=float)
            se = arr.std(ddof=1) / np.sqrt(arr.size) if arr.size > 1 else 0.0
            return f"{arr.mean():.2f}±{se:.2f}"

        lines.append(
            f"{method:<24} {len(runs):>4} {stat([x.best_valid for x in last]):>13} "
            f"{stat([x.best_test for x in last]):>14} "
            f"{stat([x.regret for x in last]):>13} "
            f"{sum(r.wall_s for r in runs) / len(runs):>7.1f}"
        )
    lines.append("")
    lines.append(
        "mean ± standard error over seeds; the incumbent is chosen by validation"
    )
    lines.append("accuracy, and its test accuracy is reported (never used for search).")
    if result.plot is not None:
        lines.append(f"plot: {result.plot}")
    return "\n".join(lines)


def demo_summary(result: DemoResult) -> dict[str, Any]:
    """Mean final regret per method (for tests and scripts)."""
    return {
        method: float(np.mean([r.records[-1].regret for r in runs]))
        for method, runs in _methods(result).items()
    }
