"""What the multi-fidelity optimizers share: settings checks, rungs, bookkeeping.

Every optimizer of :mod:`nasgym_agents.mf` is an
:class:`~nasgym.mf.protocol.MFOptimizer` built as
``cls(nvec=..., fidelities=..., seed=..., **config)`` with explicit keyword settings
only; an unknown keyword raises :class:`~nasgym.error.UnknownKeywordError` (a
``TypeError`` and an ``UnknownOptionError``) naming the valid ones.
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from nasgym.envs.keywords import StrictKeywords
from nasgym.error import UnknownOptionError, unknown_option
from nasgym.mf.protocol import Job

IntArray = NDArray[np.int64]


def check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``.

    Raises:
        UnknownOptionError: It is not (``bool`` does not count as an integer).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or int(value) < minimum
    ):
        raise UnknownOptionError(
            f"{name} must be an integer >= {minimum}, got {value!r}"
        )
    return int(value)


def check_optional_int(name: str, value: object, minimum: int) -> int | None:
    """:func:`check_int`, letting ``None`` (no limit) through."""
    return None if value is None else check_int(name, value, minimum)


def check_fraction(name: str, value: object, *, closed: bool = True) -> float:
    """Return ``value`` as a float in ``[0, 1]`` (``(0, 1)`` when not ``closed``).

    Raises:
        UnknownOptionError: It is not a number in that interval.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise UnknownOptionError(f"{name} must be a number, got {value!r}")
    number = float(value)
    ok = 0.0 <= number <= 1.0 if closed else 0.0 < number < 1.0
    if not ok:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise UnknownOptionError(f"{name} must lie in {interval}, got {value!r}")
    return number


def check_nvec(nvec: object) -> tuple[int, ...]:
    """Return ``nvec`` as a tuple of choice counts (each an integer >= 1).

    Raises:
        UnknownOptionError: Empty, not a sequence, or an entry below 1.
    """
    try:
        values = tuple(np.asarray(nvec).reshape(-1).tolist())
    except (TypeError, ValueError) as exc:  # pragma: no cover - numpy accepts most
        raise UnknownOptionError(f"nvec must be a sequence of integers: {exc}") from exc
    if not values:
        raise UnknownOptionError("nvec must name at least one slot, got ()")
    return tuple(check_int(f"nvec[{i}]", v, 1) for i, v in enumerate(values))


def check_fidelities(fidelities: object) -> tuple[int, ...]:
    """Return the epoch budgets as a strictly increasing tuple of positive integers.

    Raises:
        UnknownOptionError: Empty, an entry that is not a positive integer, or not
            strictly increasing.
    """
    if not isinstance(fidelities, Sequence) or isinstance(fidelities, str):
        raise UnknownOptionError(
            f"fidelities must be a sequence of epoch budgets, got {fidelities!r}"
        )
    values = tuple(check_int("a fidelity", f, 1) for f in fidelities)
    if not values:
        raise UnknownOptionError("fidelities must name at least one epoch budget")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise UnknownOptionError(
            f"fidelities must be strictly increasing, got {list(values)}"
        )
    return values


def check_member(kind: str, value: object, fidelities: tuple[int, ...]) -> int:
    """Return ``value`` if it is one of ``fidelities``.

    Raises:
        UnknownOptionError: It is not; the message names the declared budgets.
    """
    if isinstance(value, bool) or value not in fidelities:
        if len(fidelities) > 8:
            raise UnknownOptionError(
                f"{kind} {value!r} is not a fidelity of the benchmark; it must be "
                f"an integer in {fidelities[0]}..{fidelities[-1]} that the "
                "benchmark declares"
            )
        raise unknown_option(kind, value, fidelities)
    return int(value)


def snap(target: float, fidelities: Sequence[int]) -> int:
    """The declared fidelity nearest to ``target`` on a log scale (ties: the lower)."""
    return min(fidelities, key=lambda f: (abs(math.log(f / target)), f))


def rung_ladder(
    fidelities: tuple[int, ...], eta: int, min_fidelity: int, max_fidelity: int
) -> tuple[int, ...]:
    """The rungs (epoch budgets) of successive halving, lowest first.

    The ladder of Li et al. (2018) descends from ``max_fidelity`` by factors of
    ``eta``: ``max_fidelity * eta**-k`` for ``k = 0 .. floor(log_eta(max/min))``.
    Each value is replaced by the declared fidelity in ``min..max`` nearest to it on
    a log scale, and repeats are dropped. On a dense range (NB301's 1..98 with
    ``eta=3``: 1, 4, 11, 33, 98) this is the geometric ladder; on a sparse set it is
    the declared budgets the ladder lands on (NB201's ``{12, 200}``: both; NB101's
    4/12/36/108: all four).

    Args:
        fidelities: The benchmark's budgets, increasing.
        eta: Reduction factor (>= 2).
        min_fidelity: Lowest rung (a member of ``fidelities``).
        max_fidelity: Highest rung (a member of ``fidelities``, >= ``min_fidelity``).

    Returns:
        Strictly increasing rungs; the first is ``>= min_fidelity``, the last is
        ``max_fidelity``.

    Example:
        >>> rung_ladder(tuple(range(1, 99)), 3, 1, 98)
        (1, 4, 11, 33, 98)
        >>> rung_ladder((12, 200), 3, 12, 200)
        (12, 200)
    """
    allowed = [f for f in fidelities if min_fidelity <= f <= max_fidelity]
    s_max = math.floor(math.log(max_fidelity / min_fidelity, eta) + 1e-9)
    rungs = {snap(max_fidelity * float(eta) ** -k, allowed) for k in range(s_max + 1)}
    return tuple(sorted(rungs))


class MFBase(StrictKeywords, ABC):
    """Base of the multi-fidelity optimizers: settings, generator, pending jobs.

    Subclasses implement :meth:`_next` (the next job, or ``None``) and
    :meth:`_result` (a finished job's score). :meth:`ask` and :meth:`tell` keep the
    jobs in flight, so a score for a job that was never asked (or told twice) is an
    error instead of corrupting the search.

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the optimizer's only generator.

    Attributes:
        asked: Jobs handed out so far.
        told: Scores received so far.
    """

    #: The leaderboard name of the optimizer (its entry point).
    agent_name: ClassVar[str] = "mf"

    def __init__(
        self, *, nvec: Sequence[int], fidelities: Sequence[int], seed: int
    ) -> None:
        self.nvec: tuple[int, ...] = check_nvec(nvec)
        self.fidelities: tuple[int, ...] = check_fidelities(fidelities)
        self.seed = check_int("seed", seed, 0)
        self.rng = np.random.default_rng(self.seed)
        self._nvec_array: IntArray = np.asarray(self.nvec, dtype=np.int64)
        self._pending: dict[Job, deque[Any]] = {}
        self.asked = 0
        self.told = 0

    def _set_rung_range(
        self, eta: int, min_fidelity: int | None, max_fidelity: int | None
    ) -> None:
        """Check and store ``eta`` and the lowest and highest rung's fidelity."""
        self.eta = check_int("eta", eta, 2)
        low = self.fidelities[0] if min_fidelity is None else min_fidelity
        high = self.fidelities[-1] if max_fidelity is None else max_fidelity
        self.min_fidelity = check_member("min_fidelity", low, self.fidelities)
        self.max_fidelity = check_member("max_fidelity", high, self.fidelities)
        if self.min_fidelity > self.max_fidelity:
            raise UnknownOptionError(
                f"min_fidelity={self.min_fidelity} exceeds max_fidelity="
                f"{self.max_fidelity}; the lowest rung must not be above the highest"
            )

    # ------------------------------------------------------------- protocol
    def ask(self) -> Job | None:
        """The next job to run, or ``None`` when waiting for (or out of) results."""
        proposal = self._next()
        if proposal is None:
            return None
        job, tag = proposal
        self._pending.setdefault(job, deque()).append(tag)
        self.asked += 1
        return job

    def tell(self, job: Job, score: float) -> None:
        """The search score (higher is better) of a job previously asked for.

        Raises:
            UnknownOptionError: ``job`` is not in flight (never asked, or told
                already), or ``score`` is not a finite number.
        """
        tags = self._pending.get(job)
        if not tags:
            raise UnknownOptionError(
                f"{self.agent_name}: tell() got {job!r}, which is not in flight "
                f"({self.in_flight} job(s) are); tell each asked job once"
            )
        value = float(score)
        if not math.isfinite(value):
            raise UnknownOptionError(
                f"{self.agent_name}: the score of {job!r} must be finite, got {score!r}"
            )
        tag = tags.popleft()
        if not tags:
            del self._pending[job]
        self.told += 1
        self._result(job, tag, value)

    @property
    def in_flight(self) -> int:
        """Jobs asked for and not yet told."""
        return sum(len(tags) for tags in self._pending.values())

    # ------------------------------------------------------------- hooks
    @abstractmethod
    def _next(self) -> tuple[Job, Any] | None:
        """The next job and a tag handed back to :meth:`_result` with its score."""

    @abstractmethod
    def _result(self, job: Job, tag: Any, score: float) -> None:
        """Learn from a finished job (``tag``: what :meth:`_next` attached)."""

    # ------------------------------------------------------------- helpers
    def sample(self) -> tuple[int, ...]:
        """A uniformly random architecture vector (every slot independent)."""
        return tuple(int(v) for v in self.rng.integers(0, self._nvec_array))

    def config(self) -> dict[str, Any]:
        """The settings, as a run header records them."""
        return {"agent": self.agent_name, "seed": self.seed}


class Ranked:
    """Scores of one rung, ranked best first (ties: the earlier job).

    Attributes:
        results: ``(score, order, vector)`` for each finished job of the rung.
    """

    def __init__(self) -> None:
        self.results: list[tuple[float, int, tuple[int, ...]]] = []

    def add(self, score: float, order: int, vector: tuple[int, ...]) -> None:
        """Record one finished job (``order``: when it was issued)."""
        self.results.append((score, order, vector))

    def __len__(self) -> int:
        return len(self.results)

    def top(self, count: int) -> list[tuple[float, int, tuple[int, ...]]]:
        """The ``count`` best results, best first."""
        return sorted(self.results, key=lambda r: (-r[0], r[1]))[:count]
