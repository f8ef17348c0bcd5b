"""Multi-objective rewards: objective names, cost normalisation and MONAS forms.

Every env takes ``objectives=[...]``: ``"valid_accuracy"`` (maximised; the rewarded
validation accuracy, in percent) plus cost names, ``"<metric>"`` or
``"<metric>:<device>"`` (``"params"``, ``"latency:pi5-litert"``, ...), which are
minimised. Each backend lists its costs and their units (``nasgym data status``,
:meth:`nasgym.benchmarks.base.TabularBenchmark.costs`).

Costs are normalised with the benchmark's own range, ``c_norm = (c - min) / (max -
min)`` where ``min`` and ``max`` run over every architecture the env can query (for a
surrogate backend without a table, over a documented fixed sample). The accuracy term
is the env's shaped reward (``reward=...``, ``valid/100`` by default). Three reward
forms (``mo_reward=``):

=============== ========================================================================
``vector``      (default with costs) MO-Gymnasium's convention: a float32 vector, one
                entry per objective in ``objectives`` order; accuracy enters as the
                shaped reward, each cost as ``-c_norm`` (so every entry is maximised),
                with ``env.unwrapped.reward_space`` a ``Box``
``weighted``    MONAS's mixed reward ``R = a * acc - (1 - a) * sum_i w_i c_norm_i``
                with ``a = mo_alpha`` and weights ``cost_weights`` (default equal,
                summing to 1)
``constrained`` MONAS's hard constraint: ``R = acc`` when every cost is at most its
                ``cost_threshold`` (raw units), else ``constraint_penalty``
=============== ========================================================================

Nothing here reads data: the envs pass the raw objective values in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from nasgym.error import UnknownOptionError, unknown_option

FloatArray = NDArray[np.float64]

#: The accuracy objective (maximised), in percent.
ACCURACY = "valid_accuracy"
#: Reward forms with cost objectives.
MO_REWARDS: tuple[str, ...] = ("vector", "weighted", "constrained")


@dataclass(frozen=True)
class CostSpec:
    """One cost a backend provides.

    Attributes:
        name: Objective name, e.g. ``"latency:pi5-litert"``.
        unit: Unit of the raw values, e.g. ``"ms"``.
        description: What it measures and where it comes from.
    """

    name: str
    unit: str
    description: str


def unknown_cost(
    backend: str,
    name: str,
    costs: Sequence[str],
    see: str = "`nasgym data status`",
) -> UnknownOptionError:
    """The error for a cost ``backend`` lacks; it lists the ones it has."""
    have = ", ".join(repr(c) for c in costs) or "none"
    return UnknownOptionError(
        f"{backend} has no cost objective {name!r}; its objectives are "
        f"{ACCURACY!r} and the costs {have} (see {see})"
    )


def _number(value: object) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def check_names(objectives: object) -> tuple[str, ...]:
    """Check an ``objectives`` option: distinct strings including the accuracy.

    Raises:
        UnknownOptionError: Not a sequence of distinct strings, or no
            ``"valid_accuracy"``.
    """
    if isinstance(objectives, str) or not isinstance(objectives, Sequence):
        raise UnknownOptionError(
            f"objectives must be a list of objective names such as "
            f"[{ACCURACY!r}, 'latency'], got {objectives!r}"
        )
    names = tuple(objectives)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise UnknownOptionError(
            f"objectives must be a non-empty list of names, got {objectives!r}"
        )
    if len(set(names)) != len(names):
        raise UnknownOptionError(f"objectives repeat a name: {list(names)!r}")
    if ACCURACY not in names:
        raise UnknownOptionError(
            f"objectives must include {ACCURACY!r} (the rewarded accuracy), got "
            f"{list(names)!r}"
        )
    return names


def table_names(
    names: Sequence[str] | None, objectives: Sequence[str] | None
) -> tuple[str, ...]:
    """The checked columns of an ``objective_table(names)`` call.

    Args:
        names: The names asked for (``None``: the env's ``objectives``).
        objectives: The env's ``objectives`` option (``None``: made without).

    Raises:
        UnknownOptionError: Neither is given, or the names fail :func:`check_names`.
    """
    if names is None:
        if objectives is None:
            raise UnknownOptionError(
                "objective_table() needs names=[...] (this env was made without "
                "objectives=...)"
            )
        names = objectives
    return check_names(names)


def _per_cost(
    option: str, value: object, count: int, *, positive: bool
) -> tuple[float, ...]:
    items: list[object] | None = (
        [value] * count
        if _number(value)
        else list(value)
        if isinstance(value, Sequence) and not isinstance(value, str)
        else None
    )
    values = (
        [float(v) for v in items if isinstance(v, (int, float, np.number))]
        if items is not None and all(_number(v) for v in items)
        else None
    )
    if (
        values is None
        or len(values) != count
        or (positive and any(v < 0 for v in values))
    ):
        what = "non-negative numbers" if positive else "finite numbers"
        raise UnknownOptionError(
            f"{option} must be one number or a list of {count} {what} (one per cost "
            f"objective), got {value!r}"
        )
    return tuple(values)


class Objectives:
    """Turns the raw objective values of an architecture into rewards and ``info``.

    Args:
        names: Objective names (checked by :func:`check_names`).
        low: Per-objective minimum over the benchmark (raw units).
        high: Per-objective maximum over the benchmark (raw units).
        units: Unit of each objective.
        mo_reward: ``"vector"``, ``"weighted"`` or ``"constrained"``; default
            ``"vector"`` with costs (ignored without costs).
        mo_alpha: Accuracy weight ``a`` of the weighted form, in ``[0, 1]``.
        cost_weights: Weights of the costs in the weighted form (one number for
            all, or one per cost); default ``1 / number of costs`` each.
        cost_threshold: Constrained form: the largest allowed raw value of each cost
            (one number for all, or one per cost).
        constraint_penalty: Constrained form: the reward of a violating architecture.
        invalid_reward: The env's reward of a rejected action (a vector of it in the
            vector form).
        clip: Clip normalised costs to ``[0, 1]`` (for bounds estimated from a
            sample, as for a surrogate; exact table bounds need no clipping).

    Raises:
        UnknownOptionError: A bad option (the message names it).

    Example:
        >>> obj = Objectives(
        ...     ("valid_accuracy", "latency"), np.array([0.0, 1.0]),
        ...     np.array([100.0, 3.0]), ("%", "ms"), mo_reward="weighted", mo_alpha=0.5,
        ... )
        >>> obj.reward(0.9, np.array([90.0, 2.0]))  # 0.5 * 0.9 - 0.5 * 0.5
        0.2
    """

    def __init__(
        self,
        names: Sequence[str],
        low: FloatArray,
        high: FloatArray,
        units: Sequence[str],
        *,
        mo_reward: str | None = None,
        mo_alpha: float = 0.5,
        cost_weights: float | Sequence[float] | None = None,
        cost_threshold: float | Sequence[float] | None = None,
        constraint_penalty: float = 0.0,
        invalid_reward: float = 0.0,
        clip: bool = False,
    ) -> None:
        self.names = check_names(names)
        self.clip = bool(clip)
        self.k = len(self.names)
        self.units = tuple(units)
        self.accuracy_index = self.names.index(ACCURACY)
        self.cost_index = np.array(
            [i for i, n in enumerate(self.names) if n != ACCURACY], dtype=np.int64
        )
        self.cost_names = tuple(self.names[int(i)] for i in self.cost_index)
        m = len(self.cost_names)
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        span = self.high - self.low
        self.span = np.where(span > 0, span, 1.0)
        if mo_reward is None:
            mo_reward = "vector"
        if mo_reward not in MO_REWARDS:
            raise unknown_option("mo_reward", mo_reward, MO_REWARDS)
        if m == 0 and mo_reward != "vector":
            raise UnknownOptionError(
                f"mo_reward={mo_reward!r} needs at least one cost objective besides "
                f"{ACCURACY!r}, got objectives={list(self.names)!r}"
            )
        self.mo_reward = mo_reward
        if not _number(mo_alpha) or not 0.0 <= float(mo_alpha) <= 1.0:
            raise UnknownOptionError(
                f"mo_alpha must be a number in [0, 1], got {mo_alpha!r}"
            )
        self.mo_alpha = float(mo_alpha)
        self.cost_weights = (
            tuple([1.0 / m] * m)
            if cost_weights is None and m
            else _per_cost("cost_weights", cost_weights, m, positive=True)
            if m
            else ()
        )
        self.cost_threshold: tuple[float, ...] | None = None
        if mo_reward == "constrained":
            if cost_threshold is None:
                raise UnknownOptionError(
                    "mo_reward='constrained' needs cost_threshold: the largest allowed "
                    f"value of each cost ({', '.join(self.cost_names)}), in raw units"
                )
            self.cost_threshold = _per_cost(
                "cost_threshold", cost_threshold, m, positive=False
            )
        elif cost_threshold is not None:
            raise UnknownOptionError(
                f"cost_threshold is only used with mo_reward='constrained', got "
                f"mo_reward={mo_reward!r}"
            )
        if not _number(constraint_penalty):
            raise UnknownOptionError(
                f"constraint_penalty must be a finite number, got "
                f"{constraint_penalty!r}"
            )
        self.constraint_penalty = float(constraint_penalty)
        self.invalid_reward = float(invalid_reward)
        self._weights = np.array(self.cost_weights, dtype=np.float64)
        self._thresholds = (
            np.array(self.cost_threshold, dtype=np.float64)
            if self.cost_threshold is not None
            else None
        )

    # ------------------------------------------------------------- properties
    @property
    def vector(self) -> bool:
        """Whether the reward is a vector (vector form with at least one cost)."""
        return self.mo_reward == "vector" and self.k > 1

    @property
    def constrained(self) -> bool:
        """Whether the constrained form is in use."""
        return self.mo_reward == "constrained"

    def reward_space(self, accuracy_low: float = 0.0) -> spaces.Box:
        """The vector reward's ``Box``: accuracy in ``[0, 1]``, costs in ``[-1, 0]``.

        Bounds widen to include :attr:`invalid_reward` (the reward of a rejected
        action).
        """
        low = np.full(self.k, -1.0)
        high = np.zeros(self.k)
        low[self.accuracy_index] = accuracy_low
        high[self.accuracy_index] = 1.0
        low = np.minimum(low, self.invalid_reward)
        high = np.maximum(high, self.invalid_reward)
        return spaces.Box(low.astype(np.float32), high.astype(np.float32), (self.k,))

    # ----------------------------------------------------------------- values
    def normalised_costs(self, raw: FloatArray) -> FloatArray:
        """``(c - min) / (max - min)`` of the costs in ``raw`` (last axis)."""
        idx = self.cost_index
        out: FloatArray = (raw[..., idx] - self.low[idx]) / self.span[idx]
        if self.clip:
            out = np.clip(out, 0.0, 1.0)
        return out

    def violated(self, raw: FloatArray) -> NDArray[np.bool_]:
        """Whether each architecture breaks a cost threshold (constrained form)."""
        if self._thresholds is None:
            return np.zeros(raw.shape[:-1], dtype=bool)
        bad: NDArray[np.bool_] = np.any(
            raw[..., self.cost_index] > self._thresholds, axis=-1
        )
        return bad

    def rewards(self, shaped: FloatArray, raw: FloatArray) -> FloatArray:
        """Rewards of a batch: ``shaped`` (n,) accuracy rewards, ``raw`` (n, k).

        Returns ``(n, k)`` in the vector form, else ``(n,)``.
        """
        shaped = np.asarray(shaped, dtype=np.float64)
        if self.k == 1:
            return shaped
        if self.mo_reward == "vector":
            out = np.zeros_like(raw)
            out[:, self.accuracy_index] = shaped
            out[:, self.cost_index] = -self.normalised_costs(raw)
            return out
        if self.mo_reward == "weighted":
            penalty = self.normalised_costs(raw) @ self._weights
            mixed: FloatArray = self.mo_alpha * shaped - (1.0 - self.mo_alpha) * penalty
            return mixed
        kept: FloatArray = np.where(self.violated(raw), self.constraint_penalty, shaped)
        return kept

    def reward(self, shaped: float, raw: FloatArray) -> float | NDArray[np.float32]:
        """The reward of one architecture (a float32 vector in the vector form)."""
        out = self.rewards(np.array([shaped]), np.asarray(raw, dtype=np.float64)[None])
        if self.vector:
            vector: NDArray[np.float32] = out[0].astype(np.float32)
            return vector
        return float(out[0])

    def rejected(self) -> float | NDArray[np.float32]:
        """The reward of a rejected action (:attr:`invalid_reward`)."""
        if self.vector:
            return np.full(self.k, self.invalid_reward, dtype=np.float32)
        return self.invalid_reward

    def as_dict(self, raw: FloatArray | None) -> dict[str, float]:
        """``name -> raw value`` (NaN everywhere when ``raw`` is ``None``)."""
        if raw is None:
            return dict.fromkeys(self.names, math.nan)
        return {n: float(v) for n, v in zip(self.names, raw, strict=True)}

    def describe(self) -> str:
        """A one-line summary of the reward form, for ``repr`` and logs."""
        if self.mo_reward == "weighted":
            return (
                f"weighted(mo_alpha={self.mo_alpha}, cost_weights={self.cost_weights})"
            )
        if self.mo_reward == "constrained":
            return (
                f"constrained(cost_threshold={self.cost_threshold}, "
                f"constraint_penalty={self.constraint_penalty})"
            )
        return "vector"


#: Keyword options of the multi-objective envs, with their defaults.
MO_DEFAULTS: dict[str, object] = {
    "mo_reward": None,
    "mo_alpha": 0.5,
    "cost_weights": None,
    "cost_threshold": None,
    "constraint_penalty": 0.0,
}


def check_unused(options: dict[str, object]) -> None:
    """Refuse multi-objective options given without ``objectives``.

    Raises:
        UnknownOptionError: Names the option that needs ``objectives=[...]``.
    """
    for key, default in MO_DEFAULTS.items():
        value = options.get(key, default)
        if value is not default and value != default:
            raise UnknownOptionError(
                f"{key}={value!r} needs objectives=[{ACCURACY!r}, <cost>, ...]; "
                f"without objectives the env rewards accuracy only"
            )


class TableObjectives:
    """:class:`Objectives` over a benchmark whose every architecture is tabulated.

    Args:
        names: Objective names.
        columns: ``name -> values over codes`` (raw units; NaN at invalid codes).
        units: ``name -> unit``.
        rows: The codes of the distinct architectures the env can query (the
            normalisation range and :meth:`table` run over these).
        **options: The reward options of :class:`Objectives`.

    Attributes:
        matrix: ``(space size + 1, k)`` raw values by code; the extra last row
            (code ``-1``, no architecture yet) is NaN.
    """

    def __init__(
        self,
        names: Sequence[str],
        columns: dict[str, FloatArray],
        units: dict[str, str],
        rows: NDArray[np.int64],
        **options: object,
    ) -> None:
        names = check_names(names)
        size = len(next(iter(columns.values())))
        matrix = np.full((size + 1, len(names)), np.nan)
        for j, name in enumerate(names):
            matrix[:size, j] = columns[name]
        matrix.setflags(write=False)
        self.matrix = matrix
        self.rows = rows
        picked = matrix[rows]
        self.objectives = Objectives(
            names,
            picked.min(axis=0),
            picked.max(axis=0),
            tuple(units[n] for n in names),
            **options,  # type: ignore[arg-type]
        )

        # Per-code lookups for the single-env step (a few NumPy calls per step would
        # cost more than the table lookup itself).
        obj = self.objectives
        self._names = obj.names
        if obj.vector:
            vec = np.zeros(matrix.shape, dtype=np.float32)
            vec[:, obj.cost_index] = -obj.normalised_costs(matrix)
            self._vector_rows: NDArray[np.float32] | None = vec
        else:
            self._vector_rows = None
        self._penalty: list[float] = (
            (
                (1.0 - obj.mo_alpha) * (obj.normalised_costs(matrix) @ obj._weights)
            ).tolist()
            if obj.mo_reward == "weighted" and obj.k > 1
            else []
        )
        self._violated: list[bool] = (
            obj.violated(matrix).tolist() if obj.constrained else []
        )

    def reward(self, shaped: float, code: int) -> float | NDArray[np.float32]:
        """:meth:`Objectives.reward` of the architecture ``code`` (fast path)."""
        obj = self.objectives
        if self._vector_rows is not None:
            out: NDArray[np.float32] = self._vector_rows[code].copy()
            out[obj.accuracy_index] = shaped
            return out
        if self._penalty:
            return obj.mo_alpha * shaped - self._penalty[code]
        if self._violated:
            return obj.constraint_penalty if self._violated[code] else shaped
        return shaped

    def values(self, code: int) -> dict[str, float]:
        """``name -> raw value`` of ``code`` (NaN everywhere for ``-1``)."""
        return dict(zip(self._names, self.matrix[code].tolist(), strict=True))

    def violated(self, code: int) -> bool:
        """Whether ``code`` breaks a cost threshold (constrained form; else False)."""
        return bool(self._violated[code]) if self._violated else False

    def table(self) -> FloatArray:
        """``(len(rows), k)`` raw values of every distinct architecture."""
        out: FloatArray = self.matrix[self.rows].copy()
        return out


__all__ = [
    "ACCURACY",
    "MO_DEFAULTS",
    "MO_REWARDS",
    "CostSpec",
    "Objectives",
    "TableObjectives",
    "check_names",
    "check_unused",
    "table_names",
    "unknown_cost",
]
