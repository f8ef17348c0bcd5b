"""Recording the objectives of multi-objective runs (``objectives=[...]`` envs).

An env made with ``objectives=[...]`` reports the raw value of every objective of the
architecture a step reached in ``info["objectives"]`` (and, with
``mo_reward="constrained"``, ``info["constraint_violated"]``). The harness logs the
env's queries with :class:`ObjectiveRecorder`, which keeps those values too; the
run file then holds, per query record, the optional keys

* ``objectives``: ``{name: raw value}`` (accuracy in percent, costs in their units),
* ``constraint_violated``: ``true``/``false`` (constrained runs only),

and, in its header, ``objectives`` (the names, in the env's order),
``objective_units`` (the costs' units, where the benchmark lists them) and
``true_front``: the exact Pareto front of the benchmark for those objectives, with the
accuracy objective in *test* accuracy (:func:`nasgym.pareto.true_front`), or ``null``
with ``true_front_error`` saying why (e.g. a surrogate benchmark has no table). Runs
of envs without objectives have none of these keys, so their files are as before.

On the leaderboard command line, ``--env-kwargs objectives=valid_accuracy,latency``
(comma-separated names) is passed to the env as a list (:func:`env_kwargs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from nasgym.wrappers import QueryLog

#: Env keyword arguments that take a list of names, given comma-separated.
LIST_KWARGS = ("objectives",)


def env_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``kwargs`` with comma-separated :data:`LIST_KWARGS` split into lists.

    Example:
        >>> env_kwargs({"objectives": "valid_accuracy, latency", "dataset": "cora"})
        {'objectives': ['valid_accuracy', 'latency'], 'dataset': 'cora'}
    """
    out = dict(kwargs)
    for key in LIST_KWARGS:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = [part.strip() for part in value.split(",") if part.strip()]
    return out


def _value(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _units(env: gym.Env[Any, Any], names: list[str]) -> dict[str, str]:
    """Units of the cost objectives: the env's own, else its benchmark's ``costs()``."""
    from nasgym.error import Error

    own = getattr(env.unwrapped, "objective_units", None)
    if isinstance(own, dict) and own:
        return {n: str(own[n]) for n in names if n in own and n != "valid_accuracy"}
    costs = getattr(getattr(env.unwrapped, "benchmark", None), "costs", None)
    if not callable(costs):
        return {}
    try:
        specs = costs()
    except (Error, ValueError):
        return {}
    return {n: str(specs[n].unit) for n in names if n in specs}


class ObjectiveRecorder(QueryLog):
    """A :class:`~nasgym.wrappers.QueryLog` that also keeps every query's objectives.

    Besides :attr:`records`, it keeps ``info["objectives"]`` (and
    ``constraint_violated``) of every new query.

    Attributes:
        names: The objective names, in the order of the first ``info["objectives"]``
            seen (``None`` until one is seen, and for envs without objectives).
        values: ``query index -> {"objectives": ..., "constraint_violated": ...}``.
    """

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.names: list[str] | None = None
        self.values: dict[int, dict[str, Any]] = {}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset; a seeded reset starts a new search and clears the log."""
        if kwargs.get("seed") is not None:
            self.values = {}
        return super().reset(**kwargs)

    @property
    def action_masks(self) -> Any:
        """The wrapped env's ``action_masks`` (for agents that call it here).

        Absent (``AttributeError``) where the env has no masks, so ``hasattr``
        tests (sb3-contrib's ``is_masking_supported``) see the truth.
        """
        return self.env.get_wrapper_attr("action_masks")

    def _record(self, info: dict[str, Any]) -> None:
        super()._record(info)
        objectives = info.get("objectives")
        if not info.get("new_query") or not isinstance(objectives, Mapping):
            return
        if self.names is None:
            self.names = [str(name) for name in objectives]
        entry: dict[str, Any] = {
            "objectives": {str(k): _value(v) for k, v in objectives.items()}
        }
        if "constraint_violated" in info:
            entry["constraint_violated"] = bool(info["constraint_violated"])
        self.values[int(info["queries"])] = entry

    def record_fields(self, query: int) -> dict[str, Any]:
        """The optional record keys of query ``query`` (empty without objectives)."""
        return dict(self.values.get(query, {}))

    def header(self, env: gym.Env[Any, Any]) -> dict[str, Any]:
        """Header keys of a multi-objective run (empty without objectives).

        ``true_front`` is computed from ``env``'s objective table.
        """
        if self.names is None:
            return {}
        from nasgym.error import Error, require
        from nasgym.pareto import true_front

        require("moocore", extra="mo", purpose="multi-objective leaderboard runs")

        head: dict[str, Any] = {
            "objectives": list(self.names),
            "objective_units": _units(env, self.names),
        }
        try:
            head["true_front"] = true_front(env, self.names, accuracy="test").to_json()
        except (Error, ValueError) as exc:
            head["true_front"] = None
            head["true_front_error"] = str(exc)
        return head
