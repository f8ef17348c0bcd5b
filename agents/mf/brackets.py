"""Successive halving and Hyperband: synchronous brackets of rungs.

A *bracket* starts ``n`` configurations at its lowest rung, and each time a rung is
complete promotes the best ``floor(n_i / eta)`` to the next rung, until the top rung
(the largest fidelity). :class:`SuccessiveHalving` repeats one bracket shape,
:class:`Hyperband` cycles through the brackets of Li et al. (2018). A rung waits for
all its results before it promotes (the synchronous algorithm); with several
workers, when no running bracket has a job to give, a new bracket is started
(as HpBandSter runs BOHB in parallel), unless ``max_active_brackets`` says no, in
which case :meth:`ask` returns ``None`` until a result arrives.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nasgym.mf.protocol import Job

from .common import (
    MFBase,
    Ranked,
    check_int,
    check_optional_int,
    rung_ladder,
)

__all__ = ["Bracket", "BracketSearch", "Hyperband", "SuccessiveHalving"]


@dataclass
class Bracket:
    """One run of successive halving.

    Attributes:
        index: Which bracket this is (0, 1, ... in the order they were started).
        rungs: The bracket's epoch budgets, lowest first.
        sizes: How many configurations each rung evaluates.
        rung: The rung now being filled.
        issued: Jobs issued in the current rung.
        queue: Promoted vectors waiting to be issued in the current rung.
        results: Scores of the current rung.
        history: Per finished rung: the fidelity and the vectors it evaluated.
    """

    index: int
    rungs: tuple[int, ...]
    sizes: tuple[int, ...]
    rung: int = 0
    issued: int = 0
    queue: deque[tuple[int, ...]] = field(default_factory=deque)
    results: Ranked = field(default_factory=Ranked)
    history: list[tuple[int, list[tuple[int, ...]]]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Whether the top rung has all its results."""
        return self.rung >= len(self.rungs)

    @property
    def fidelity(self) -> int:
        """The epoch budget of the current rung."""
        return self.rungs[self.rung]

    def wants_new(self) -> bool:
        """Whether the next job is a new configuration (only in the lowest rung)."""
        return not self.done and self.rung == 0 and self.issued < self.sizes[0]

    def next_promoted(self) -> tuple[int, ...] | None:
        """A promoted vector to issue in the current rung, if one waits."""
        if self.done or not self.queue:
            return None
        self.issued += 1
        return self.queue.popleft()

    def record(self, score: float, order: int, vector: tuple[int, ...]) -> None:
        """Add a result of the current rung; promote when the rung is complete."""
        self.results.add(score, order, vector)
        if len(self.results) < self.sizes[self.rung]:
            return
        evaluated = [r[2] for r in sorted(self.results.results, key=lambda r: r[1])]
        self.history.append((self.fidelity, evaluated))
        self.rung += 1
        if not self.done:
            keep = self.results.top(self.sizes[self.rung])
            self.queue = deque(r[2] for r in keep)
            self.issued = 0
            self.results = Ranked()


class BracketSearch(MFBase):
    """Runs brackets of successive halving; subclasses choose their shapes.

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the optimizer's generator.
        eta: Reduction factor: each rung keeps the best ``1/eta`` (default 3, Li et
            al.'s choice).
        min_fidelity: Lowest rung (default the smallest fidelity).
        max_fidelity: Highest rung (default the largest fidelity).
        max_brackets: Brackets to run before :meth:`ask` returns ``None`` for good
            (default ``None``: start new brackets for as long as asked).
        max_active_brackets: Brackets allowed to run at once (default ``None``: a
            new bracket starts whenever no running one has a job to give; ``1``:
            wait for a rung to complete, the strictly sequential algorithm).

    Attributes:
        rungs: The rung ladder (:func:`~.common.rung_ladder`).
        brackets: Every bracket started so far (finished ones included).
    """

    agent_name = "brackets"

    def __init__(
        self,
        *,
        nvec: Sequence[int],
        fidelities: Sequence[int],
        seed: int,
        eta: int = 3,
        min_fidelity: int | None = None,
        max_fidelity: int | None = None,
        max_brackets: int | None = None,
        max_active_brackets: int | None = None,
    ) -> None:
        super().__init__(nvec=nvec, fidelities=fidelities, seed=seed)
        self._set_rung_range(eta, min_fidelity, max_fidelity)
        self.max_brackets = check_optional_int("max_brackets", max_brackets, 1)
        self.max_active_brackets = check_optional_int(
            "max_active_brackets", max_active_brackets, 1
        )
        self.rungs = rung_ladder(
            self.fidelities, self.eta, self.min_fidelity, self.max_fidelity
        )
        self.brackets: list[Bracket] = []
        self._active: list[Bracket] = []

    @property
    def s_max(self) -> int:
        """The number of rungs minus one (Li et al.'s ``s_max``)."""
        return len(self.rungs) - 1

    @abstractmethod
    def bracket_shape(self, index: int) -> tuple[int, int]:
        """``(s, n)`` of bracket ``index``: ``n`` configurations, ``s`` rungs down.

        The bracket starts ``n`` configurations ``s`` rungs below the top rung.
        """

    def bracket_sizes(self, s: int, n: int) -> tuple[int, ...]:
        """Rung sizes of a bracket: ``max(1, floor(n * eta**-i))``, ``i = 0..s``."""
        return tuple(max(1, n // self.eta**i) for i in range(s + 1))

    def draw(self, fidelity: int) -> tuple[int, ...]:
        """A new configuration for a bracket starting at ``fidelity`` (random)."""
        del fidelity
        return self.sample()

    def observe(self, job: Job, score: float) -> None:
        """Learn from a result (nothing here; BOHB fits its model)."""

    def _start(self) -> Bracket | None:
        if self.max_brackets is not None and len(self.brackets) >= self.max_brackets:
            return None
        if (
            self.max_active_brackets is not None
            and len(self._active) >= self.max_active_brackets
        ):
            return None
        s, n = self.bracket_shape(len(self.brackets))
        bracket = Bracket(
            len(self.brackets), self.rungs[self.s_max - s :], self.bracket_sizes(s, n)
        )
        self.brackets.append(bracket)
        self._active.append(bracket)
        return bracket

    def _next(self) -> tuple[Job, Any] | None:
        for bracket in [*self._active, None]:
            if bracket is None:
                bracket = self._start()
                if bracket is None:
                    return None
            promoted = bracket.next_promoted()
            if promoted is not None:
                return Job(promoted, bracket.fidelity), (bracket, self.asked)
            if bracket.wants_new():
                bracket.issued += 1
                vector = self.draw(bracket.fidelity)
                return Job(vector, bracket.fidelity), (bracket, self.asked)
        return None  # pragma: no cover - a fresh bracket always has a job

    def _result(self, job: Job, tag: Any, score: float) -> None:
        bracket, order = tag
        bracket.record(score, order, job.vector)
        if bracket.done:
            self._active.remove(bracket)
        self.observe(job, score)

    def config(self) -> dict[str, Any]:
        """The settings, as a run header records them."""
        return {
            **super().config(),
            "eta": self.eta,
            "rungs": list(self.rungs),
            "max_brackets": self.max_brackets,
            "max_active_brackets": self.max_active_brackets,
        }


class SuccessiveHalving(BracketSearch):
    """``sh``: successive halving (Jamieson and Talwalkar 2016), bracket after bracket.

    Each bracket starts ``n_configs`` random configurations at the lowest rung and
    keeps the best ``floor(n_i / eta)`` of rung ``i`` for the next, up to the largest
    fidelity; then the next bracket starts with fresh configurations.

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the optimizer's generator.
        eta: See :class:`BracketSearch`.
        min_fidelity: See :class:`BracketSearch`.
        max_fidelity: See :class:`BracketSearch`.
        n_configs: Configurations a bracket starts with (default ``None``:
            ``eta ** s_max``, so that exactly one reaches the top rung).
        max_brackets: See :class:`BracketSearch`.
        max_active_brackets: See :class:`BracketSearch`.

    Example:
        >>> sh = SuccessiveHalving(nvec=(5,) * 6, fidelities=(12, 200), seed=0)
        >>> sh.rungs, sh.bracket_sizes(*sh.bracket_shape(0))
        ((12, 200), (3, 1))
    """

    agent_name = "sh"

    def __init__(
        self,
        *,
        nvec: Sequence[int],
        fidelities: Sequence[int],
        seed: int,
        eta: int = 3,
        min_fidelity: int | None = None,
        max_fidelity: int | None = None,
        n_configs: int | None = None,
        max_brackets: int | None = None,
        max_active_brackets: int | None = None,
    ) -> None:
        super().__init__(
            nvec=nvec,
            fidelities=fidelities,
            seed=seed,
            eta=eta,
            min_fidelity=min_fidelity,
            max_fidelity=max_fidelity,
            max_brackets=max_brackets,
            max_active_brackets=max_active_brackets,
        )
        self.n_configs = (
            self.eta**self.s_max
            if n_configs is None
            else check_int("n_configs", n_configs, 1)
        )

    def bracket_shape(self, index: int) -> tuple[int, int]:
        """Every bracket spans all rungs with :attr:`n_configs` configurations."""
        del index
        return self.s_max, self.n_configs

    def config(self) -> dict[str, Any]:
        """The settings, as a run header records them."""
        return {**super().config(), "n_configs": self.n_configs}


class Hyperband(BracketSearch):
    """``hyperband``: Hyperband (Li et al. 2018), its brackets in a cycle.

    With ``s_max + 1`` rungs, bracket ``s`` (``s = s_max, ..., 0``, then again)
    starts ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` random configurations ``s``
    rungs below the top and runs successive halving from there: rung ``i`` of the
    bracket evaluates ``floor(n * eta**-i)``. The most aggressive bracket starts
    many configurations at the lowest fidelity; the last one is random search at
    the largest.

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the optimizer's generator.
        eta: See :class:`BracketSearch`.
        min_fidelity: See :class:`BracketSearch`.
        max_fidelity: See :class:`BracketSearch`.
        max_brackets: See :class:`BracketSearch` (a bracket, not a cycle of them).
        max_active_brackets: See :class:`BracketSearch`.

    Example:
        >>> hb = Hyperband(nvec=(5,) * 6, fidelities=tuple(range(1, 99)), seed=0)
        >>> hb.rungs
        (1, 4, 11, 33, 98)
        >>> [hb.bracket_shape(i) for i in range(5)]
        [(4, 81), (3, 34), (2, 15), (1, 8), (0, 5)]
    """

    agent_name = "hyperband"

    def bracket_shape(self, index: int) -> tuple[int, int]:
        """Bracket ``index`` is ``s = s_max - index mod (s_max + 1)``."""
        s = self.s_max - index % (self.s_max + 1)
        n = math.ceil((self.s_max + 1) / (s + 1) * self.eta**s)
        return s, n
