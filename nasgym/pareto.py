"""Pareto fronts and hypervolume of multi-objective NAS results (over moocore).

Objectives follow nasgym's names (see ``docs/multi_objective.md``): accuracies
(:data:`ACCURACY_OBJECTIVES`) are maximised, every other objective (a cost such as
``"latency:pi5-litert"`` or ``"params"``) is minimised. Non-dominated filtering and
hypervolume are computed by `moocore <https://multi-objective.github.io/moocore/>`_;
this module only fixes the conventions:

* **Normalisation.** Hypervolume is measured after mapping every objective to
  ``[0, 1]`` with the benchmark's own range (its minimum and maximum over every
  architecture, :class:`Bounds`) and turning it into a minimisation: a cost ``c``
  becomes ``(c - min) / (max - min)``, an accuracy ``a`` becomes
  ``(max - a) / (max - min)``. 0 is the best value of the benchmark, 1 the worst.
* **Reference point.** :data:`REFERENCE_POINT` (1.1) in every normalised objective,
  i.e. 10% of the range beyond the benchmark's worst value, so that the extreme
  points of a front (the most accurate and the cheapest architecture) add volume.
  The largest possible hypervolume is ``1.1 ** k`` for ``k`` objectives.
* **True front.** For tabular envs :func:`true_front` takes the env's
  ``objective_table`` (one row per distinct architecture) and keeps its
  non-dominated rows: the exact Pareto front of the benchmark.

Example:
    >>> import numpy as np
    >>> points = np.array([[90.0, 3.0], [80.0, 1.0], [85.0, 4.0], [90.0, 3.0]])
    >>> maximise = maximised(["valid_accuracy", "latency:pi5-litert"])
    >>> maximise
    [True, False]
    >>> pareto_front(points, maximise)
    array([[80.,  1.],
           [90.,  3.]])
    >>> hypervolume([[2.0, 1.0], [1.0, 2.0]], reference=[3.0, 3.0])
    3.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nasgym.error import Error, require

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Objectives that are maximised; every other objective name is a cost (minimised).
ACCURACY_OBJECTIVES = frozenset({"valid_accuracy", "test_accuracy"})
#: Reference point of every normalised hypervolume, in each objective.
REFERENCE_POINT = 1.1


class ParetoInputError(Error, ValueError):
    """Points, bounds or objective names that Pareto computations cannot use."""


def maximised(names: Sequence[str]) -> list[bool]:
    """Which objectives are maximised (accuracies) rather than minimised (costs)."""
    if isinstance(names, str):
        raise ParetoInputError(
            f"objective names must be a sequence of names, got the string {names!r}; "
            f"write [{names!r}]"
        )
    return [name in ACCURACY_OBJECTIVES for name in names]


def as_points(points: ArrayLike, k: int | None = None) -> FloatArray:
    """``points`` as a float ``(n, k)`` array of finite values.

    Raises:
        ParetoInputError: Not two-dimensional, the wrong number of objectives, or a
            NaN/infinite value.
    """
    array = np.asarray(points, dtype=np.float64)
    if array.ndim == 1 and array.size == 0:
        array = array.reshape(0, k or 0)
    if array.ndim != 2:
        raise ParetoInputError(
            f"points must be a 2-D array (one row per point, one column per "
            f"objective); got shape {array.shape}"
        )
    if k is not None and array.shape[1] != k:
        raise ParetoInputError(
            f"points have {array.shape[1]} objective(s), expected {k}"
        )
    if not np.isfinite(array).all():
        raise ParetoInputError(
            "points contain NaN or infinite values; drop those rows first"
        )
    return array


def _flags(maximise: bool | Sequence[bool], k: int) -> list[bool]:
    if isinstance(maximise, (bool, np.bool_)):
        return [bool(maximise)] * k
    flags = [bool(m) for m in maximise]
    if len(flags) != k:
        raise ParetoInputError(
            f"maximise has {len(flags)} flag(s) for {k} objective(s); give one per "
            "objective"
        )
    return flags


def nondominated(
    points: ArrayLike, maximise: bool | Sequence[bool] = False
) -> BoolArray:
    """Mask of the rows no other row dominates (a duplicate counts once: its first).

    A row dominates another when it is at least as good in every objective and
    better in one (moocore's ``is_nondominated``).
    """
    moocore = require("moocore", extra="mo", purpose="Pareto fronts and hypervolume")

    array = as_points(points)
    if array.shape[0] == 0:
        return np.zeros(0, dtype=np.bool_)
    flags = _flags(maximise, array.shape[1])
    mask: BoolArray = np.asarray(
        moocore.is_nondominated(array, maximise=flags, keep_weakly=False),
        dtype=np.bool_,
    )
    return mask


def pareto_front(
    points: ArrayLike, maximise: bool | Sequence[bool] = False
) -> FloatArray:
    """The distinct non-dominated rows of ``points``, sorted by their columns."""
    array = as_points(points)
    front = array[nondominated(array, maximise)]
    order = np.lexsort(front.T[::-1]) if front.size else np.zeros(0, dtype=np.int64)
    result: FloatArray = front[order]
    return result


def hypervolume(
    points: ArrayLike,
    reference: ArrayLike,
    maximise: bool | Sequence[bool] = False,
) -> float:
    """Hypervolume of ``points`` against ``reference`` (moocore), in raw units.

    Points that do not dominate the reference point add nothing; an empty set has
    hypervolume 0.
    """
    moocore = require("moocore", extra="mo", purpose="Pareto fronts and hypervolume")

    ref = np.asarray(reference, dtype=np.float64).reshape(-1)
    array = as_points(points, ref.size)
    if array.shape[0] == 0:
        return 0.0
    flags = _flags(maximise, ref.size)
    return float(moocore.hypervolume(array, ref=ref, maximise=flags))


@dataclass(frozen=True)
class Bounds:
    """The range of each objective over a benchmark, and which are maximised."""

    names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def __post_init__(self) -> None:
        k = len(self.names)
        if len(self.lower) != k or len(self.upper) != k:
            raise ParetoInputError(
                f"bounds need one lower and one upper value per objective ({k})"
            )
        values = np.array([self.lower, self.upper], dtype=np.float64)
        if not np.isfinite(values).all() or (values[0] > values[1]).any():
            raise ParetoInputError(
                f"bounds must be finite with lower <= upper; got lower={self.lower}, "
                f"upper={self.upper}"
            )

    @classmethod
    def of(cls, names: Sequence[str], points: ArrayLike) -> Bounds:
        """The column-wise minimum and maximum of ``points`` (NaN rows ignored)."""
        array = np.asarray(points, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != len(names):
            raise ParetoInputError(
                f"expected a (n, {len(names)}) array for objectives {list(names)}, "
                f"got shape {array.shape}"
            )
        array = array[np.isfinite(array).all(axis=1)]
        if array.shape[0] == 0:
            raise ParetoInputError("no row with finite values in every objective")
        return cls(
            tuple(names),
            tuple(float(v) for v in array.min(axis=0)),
            tuple(float(v) for v in array.max(axis=0)),
        )

    @property
    def maximise(self) -> list[bool]:
        """Which objectives are maximised."""
        return maximised(self.names)

    def normalise(self, points: ArrayLike) -> FloatArray:
        """Map ``points`` to the minimised ``[0, 1]`` scale of the module docstring.

        An objective whose range is a single value maps to 0.
        """
        array = as_points(points, len(self.names))
        lower = np.array(self.lower)
        span = np.array(self.upper) - lower
        span[span == 0.0] = 1.0
        scaled = (array - lower) / span
        flags = np.array(self.maximise)
        scaled[:, flags] = 1.0 - scaled[:, flags]
        result: FloatArray = scaled
        return result

    def hypervolume(
        self, points: ArrayLike, reference: float = REFERENCE_POINT
    ) -> float:
        """Hypervolume of ``points`` after :meth:`normalise`, against ``reference``."""
        normalised = self.normalise(points)
        return hypervolume(normalised, np.full(len(self.names), reference))

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "names": list(self.names),
            "lower": list(self.lower),
            "upper": list(self.upper),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Bounds:
        """Inverse of :meth:`to_json`."""
        return cls(
            tuple(str(n) for n in data["names"]),
            tuple(float(v) for v in data["lower"]),
            tuple(float(v) for v in data["upper"]),
        )


@dataclass(frozen=True)
class TrueFront:
    """The exact Pareto front of a tabular benchmark for some objectives.

    Attributes:
        bounds: Names and range of the objectives over every architecture.
        accuracy: Which accuracy the accuracy objective holds (``"test"`` or
            ``"valid"``).
        front: The distinct non-dominated rows, raw units, sorted.
        archs: Number of architectures (rows of the table).
        hypervolume: :meth:`Bounds.hypervolume` of ``front``.
    """

    bounds: Bounds
    accuracy: str
    front: FloatArray
    archs: int
    hypervolume: float

    def to_json(self) -> dict[str, Any]:
        """JSON form (as stored in a leaderboard run's header)."""
        return {
            "bounds": self.bounds.to_json(),
            "accuracy": self.accuracy,
            "front": self.front.tolist(),
            "archs": self.archs,
            "hypervolume": self.hypervolume,
            "reference_point": REFERENCE_POINT,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrueFront:
        """Inverse of :meth:`to_json`."""
        bounds = Bounds.from_json(data["bounds"])
        front = as_points(
            np.asarray(data["front"], dtype=np.float64), len(bounds.names)
        )
        return cls(
            bounds,
            str(data["accuracy"]),
            front,
            int(data["archs"]),
            float(data["hypervolume"]),
        )


def front_of_table(
    names: Sequence[str], table: ArrayLike, accuracy: str = "test"
) -> TrueFront:
    """The :class:`TrueFront` of an ``(archs, k)`` objective table (raw units).

    Rows with a NaN (architectures without a value) are left out.
    """
    array = np.asarray(table, dtype=np.float64)
    bounds = Bounds.of(names, array)
    rows = array[np.isfinite(array).all(axis=1)]
    front = pareto_front(rows, bounds.maximise)
    return TrueFront(
        bounds, accuracy, front, int(rows.shape[0]), bounds.hypervolume(front)
    )


def true_front(env: Any, names: Sequence[str], *, accuracy: str = "test") -> TrueFront:
    """The exact Pareto front of a tabular env for objectives ``names``.

    Args:
        env: A nasgym env (possibly wrapped) whose ``unwrapped`` has
            ``objective_table(names, accuracy=...)``.
        names: Objective names, e.g. ``["valid_accuracy", "latency:pi5-litert"]``.
        accuracy: ``"test"`` (the accuracy nasgym reports; default) or ``"valid"``:
            which accuracy fills the accuracy objective's column.

    Raises:
        ParetoInputError: The env has no objective table (it is not tabular).
    """
    if accuracy not in ("test", "valid"):
        raise ParetoInputError(f"accuracy must be 'test' or 'valid', got {accuracy!r}")
    unwrapped = getattr(env, "unwrapped", env)
    table = getattr(unwrapped, "objective_table", None)
    if table is None:
        raise ParetoInputError(
            f"{type(unwrapped).__name__} has no objective_table(): its true Pareto "
            "front cannot be enumerated (only tabular envs have one)"
        )
    return front_of_table(names, table(list(names), accuracy=accuracy), accuracy)
