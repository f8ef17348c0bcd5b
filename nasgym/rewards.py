"""Reward shaping: small functions of validation accuracy.

Every shaping function maps the validation accuracy of the architecture just reached
(a fraction in ``[0, 1]``) and the best validation accuracy seen before this step to a
reward in ``[0, 1]``. Test accuracy never enters a reward.

A :class:`RewardSignal` can stand in for validation accuracy: the shaping functions
then receive its value in ``[0, 1]`` (e.g. a normalised zero-cost proxy score, see
:mod:`nasgym.oneshot.zc_reward`) in place of ``acc``, and the incumbent is the
architecture with the best signal.

=============== ============================================ =========================
name            formula                                      notes
=============== ============================================ =========================
``valid``       ``acc``                                      raw validation accuracy
``power``       ``acc ** alpha``                             Cassimon et al. (1.5)
``exp``         ``exp(alpha * (acc - 1))``                   the alternative form of 1.5
``improvement`` ``max(0, acc - best_before)``                gain over best-so-far
=============== ============================================ =========================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from nasgym.error import UnknownOptionError, unknown_option

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

REWARDS: tuple[str, ...] = ("valid", "power", "exp", "improvement")


def _valid(acc: FloatArray, best: FloatArray, alpha: float) -> FloatArray:
    return acc


def _power(acc: FloatArray, best: FloatArray, alpha: float) -> FloatArray:
    return np.power(acc, alpha)


def _exp(acc: FloatArray, best: FloatArray, alpha: float) -> FloatArray:
    return np.exp(alpha * (acc - 1.0))


def _improvement(acc: FloatArray, best: FloatArray, alpha: float) -> FloatArray:
    return np.maximum(acc - np.where(np.isfinite(best), best, 0.0), 0.0)


_FUNCTIONS: dict[str, Callable[[FloatArray, FloatArray, float], FloatArray]] = {
    "valid": _valid,
    "power": _power,
    "exp": _exp,
    "improvement": _improvement,
}


@dataclass(frozen=True)
class RewardShaping:
    """A named shaping function with its exponent.

    Example:
        >>> shaping = RewardShaping("power", alpha=6.0)
        >>> float(shaping(np.array([0.9]), np.array([0.5]))[0])  # 0.9 ** 6
        0.531441
    """

    name: str = "valid"
    alpha: float = 6.0

    def __post_init__(self) -> None:
        if self.name not in _FUNCTIONS:
            raise unknown_option("reward", self.name, REWARDS)
        if not np.isfinite(self.alpha) or self.alpha <= 0:
            raise UnknownOptionError(
                f"reward alpha must be a positive number, got {self.alpha}"
            )

    def __call__(self, acc: FloatArray, best_before: FloatArray) -> FloatArray:
        """Shape validation accuracies (fractions) into rewards."""
        return _FUNCTIONS[self.name](acc, best_before, float(self.alpha))


@runtime_checkable
class RewardSignal(Protocol):
    """A reward source that replaces validation accuracy in the shaped reward.

    Envs built with a signal shape ``values(codes)`` instead of validation accuracy,
    pick the incumbent by it, and report ``scores(codes)`` in ``info[info_key]``;
    the benchmark's validation and test accuracies stay in ``info`` for evaluation.
    Values must be deterministic functions of the code.
    """

    #: Name of the signal, e.g. ``"zc:synflow"``.
    name: str
    #: The ``info`` key reporting the raw score, e.g. ``"zc_score"``.
    info_key: str
    #: The ``info`` key reporting the value in ``[0, 1]``, e.g. ``"zc_value"``.
    value_key: str

    def values(self, codes: IntArray) -> FloatArray:
        """Signal of each code in ``[0, 1]`` (higher is better)."""
        ...

    def scores(self, codes: IntArray) -> FloatArray:
        """The raw score behind :meth:`values` of each code."""
        ...

    def value(self, code: int) -> float:
        """:meth:`values` of one code, as a Python float."""
        ...

    def score(self, code: int) -> float:
        """:meth:`scores` of one code, as a Python float."""
        ...
