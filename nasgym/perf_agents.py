"""Training speed of search agents (``nasgym perf --agents``).

Each agent makes one leaderboard run (:func:`nasgym.leaderboard.execute.execute_run`,
so exactly what the harness does: one thread, the agent's own env mode, the same
seeds) with a query budget, and the run's env steps are divided by its wall-clock:
*env steps per second during training*, learner updates included. Gymnasium's
``CartPole-v1`` stepped with random actions is timed in the same process right
before and after every agent, so the ratio to it survives a noisy machine.

Example:
    >>> from nasgym.perf_agents import format_agent_report, run_agent_perf
    >>> result = run_agent_perf(["random"], budget=50)  # doctest: +SKIP
    >>> print(format_agent_report(result))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from nasgym.error import Error

#: The env measured on when none is given: NB201 CIFAR-10 (NAS-Bench-Graph Cora
#: without the NB201 table).
DEFAULT_ENV = ("nasgym/NB201Query-v0", {"dataset": "cifar10"})
FALLBACK_ENV = ("nasgym/NBGraphQuery-v0", {"dataset": "cora"})
_CARTPOLE_STEPS = 20_000


def cartpole_steps_per_s(steps: int = _CARTPOLE_STEPS, seed: int = 0) -> float:
    """Steps/s of ``CartPole-v1`` with random actions (reset on episode end)."""
    env = gym.make("CartPole-v1")
    env.action_space.seed(seed)
    env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    wall = time.perf_counter() - start
    env.close()
    return steps / wall


def _default_env() -> tuple[str, dict[str, Any]]:
    from nasgym.leaderboard.config import EnvConfig
    from nasgym.leaderboard.execute import make_env

    env_id, kwargs = DEFAULT_ENV
    try:
        make_env(EnvConfig(env_id, kwargs), 1).close()
    except Error:
        return FALLBACK_ENV[0], dict(FALLBACK_ENV[1])
    return env_id, dict(kwargs)


def run_agent_perf(
    agents: Sequence[str],
    *,
    env_id: str | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    budget: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """Time one leaderboard run of every agent; see the module docstring.

    Args:
        agents: Agent names (``nasgym.agents`` entry points).
        env_id: The leaderboard env (agents with an ``env_mode`` run on its space's
            env in that mode); default NB201Query CIFAR-10, or NBGraphQuery Cora
            without the NB201 table.
        env_kwargs: Its keyword arguments.
        budget: Queries per run.
        seed: The run's seed.

    Returns:
        ``{"env": ..., "budget": ..., "rows": [...]}``; a row has the agent, the env
        it ran on, queries, env steps, wall-clock, steps/s, queries/s, CartPole's
        steps/s and the ratio, or an ``error``.

    Raises:
        UnknownOptionError: An agent is not registered.
        LeaderboardError: Bad env settings or budget.
    """
    from nasgym.leaderboard.agents import check_agent_names, load_agent
    from nasgym.leaderboard.config import EnvConfig
    from nasgym.leaderboard.execute import RunTask, agent_env, execute_run
    from nasgym.leaderboard.runner import agent_specs, validate_envs

    specs = agent_specs(list(agents))
    check_agent_names(specs)
    if env_id is None:
        env_id, kwargs = _default_env()
    else:
        kwargs = dict(env_kwargs or {})
    env = EnvConfig(env_id, kwargs)
    validate_envs([env], budget, specs)
    rows: list[dict[str, Any]] = []
    for spec in specs:
        before = cartpole_steps_per_s()
        task = RunTask(
            env,
            spec.name,
            seed,
            budget,
            agent_config=dict(spec.kwargs),
            agent_entry="" if spec.agent == spec.name else spec.agent,
        )
        outcome = execute_run(task)
        after = cartpole_steps_per_s()
        cartpole = statistics.fmean([before, after])
        run_env = agent_env(env, load_agent(spec.agent), spec.name).id
        row: dict[str, Any] = {"agent": spec.name, "env": run_env}
        if outcome.data is None:
            row["error"] = outcome.error
        else:
            summary = json.loads(outcome.data.decode().splitlines()[-1])
            wall = float(summary["wall_time_s"])
            steps = int(summary["steps"])
            row.update(
                queries=int(summary["queries"]),
                steps=steps,
                wall_s=wall,
                steps_per_s=steps / wall if wall > 0 else None,
                queries_per_s=int(summary["queries"]) / wall if wall > 0 else None,
                best_test=summary.get("best_test"),
            )
        row["cartpole_steps_per_s"] = cartpole
        if row.get("steps_per_s") is not None:
            row["ratio_to_cartpole"] = row["steps_per_s"] / cartpole
        rows.append(row)
    return {"env": env.to_json(), "budget": budget, "seed": seed, "rows": rows}


def format_agent_report(result: Mapping[str, Any]) -> str:
    """The rows of :func:`run_agent_perf` as an aligned text table."""
    head = (
        "agent",
        "env",
        "queries",
        "steps",
        "wall s",
        "steps/s",
        "queries/s",
        "÷ CartPole",
    )
    lines = [head]
    for row in result["rows"]:
        if "error" in row:
            lines.append(
                (
                    row["agent"],
                    row["env"],
                    "error: " + str(row["error"]),
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
            continue
        lines.append(
            (
                row["agent"],
                row["env"].removeprefix("nasgym/"),
                str(row["queries"]),
                str(row["steps"]),
                f"{row['wall_s']:.1f}",
                f"{row['steps_per_s']:,.0f}",
                f"{row['queries_per_s']:,.0f}",
                f"{row['ratio_to_cartpole']:.5f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    env = result["env"]
    kwargs = " ".join(f"{k}={v}" for k, v in env.get("kwargs", {}).items())
    title = (
        f"agent training speed: one leaderboard run each on {env['id']} {kwargs}, "
        f"budget {result['budget']}, seed {result['seed']}, one thread; CartPole-v1 "
        "(random actions) timed before and after each"
    )
    body = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
        for line in lines
    ]
    return "\n".join([title, *body])
