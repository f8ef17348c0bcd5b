"""Optuna's TPE sampler with its Hyperband pruner, driven through ask/tell.

Each Optuna trial is one configuration: its slots are categorical parameters
``x0, x1, ...`` that the TPE sampler suggests. The trial first runs at the lowest
rung; each result is reported to the trial as an intermediate value at step
``fidelity`` (epochs), and Optuna's ``HyperbandPruner`` decides whether the trial
stops there (``TrialState.PRUNED``) or continues at the next rung. At the largest
fidelity the trial is completed with that score. Optuna's pruner compares a
trial with the results already recorded at its rung, so it never waits: like ASHA
(Optuna's successive halving is the asynchronous variant), it runs with any number
of workers, and :meth:`OptunaHyperband.ask` never returns ``None``.

The pruner checks a trial at steps ``min_fidelity * eta**k``; the rungs are
those steps mapped to the nearest declared fidelity, plus the largest fidelity
(:func:`optuna_rungs`). On a sparse set of fidelities (NB201's ``{12, 200}``) that
is the set itself: a trial of Optuna's bracket ``s > 0`` is not checked at 12
epochs, so it runs to 200. Optuna is optional (``pip install "nasgym[optuna]"``)
and imported only when the optimizer is built.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nasgym.mf.protocol import Job

from ..asktell.optuna_agents import import_optuna, optuna_verbosity
from .common import MFBase, check_int, snap

if TYPE_CHECKING:
    import optuna

__all__ = ["OptunaHyperband", "optuna_rungs"]


def optuna_rungs(
    fidelities: tuple[int, ...], eta: int, min_fidelity: int, max_fidelity: int
) -> tuple[int, ...]:
    """The steps at which a trial reports: Optuna's rung steps and the largest.

    ``min_fidelity * eta**k`` below ``max_fidelity``, each mapped to the nearest
    declared fidelity in ``min..max`` on a log scale, then ``max_fidelity``.

    Example:
        >>> optuna_rungs(tuple(range(1, 99)), 3, 1, 98)
        (1, 3, 9, 27, 81, 98)
        >>> optuna_rungs((12, 200), 3, 12, 200)
        (12, 200)
    """
    allowed = [f for f in fidelities if min_fidelity <= f <= max_fidelity]
    steps = {max_fidelity}
    k = 0
    while min_fidelity * eta**k < max_fidelity:
        steps.add(snap(min_fidelity * float(eta) ** k, allowed))
        k += 1
    return tuple(sorted(steps))


class OptunaHyperband(MFBase):
    """``optuna-hb``: Optuna ``TPESampler`` + ``HyperbandPruner`` through ask/tell.

    Args:
        nvec: Choices per slot of an architecture vector.
        fidelities: The benchmark's epoch budgets, increasing.
        seed: Seeds the TPE sampler (and names the study, which fixes the
            pruner's assignment of trials to brackets).
        eta: The pruner's ``reduction_factor`` (default 3).
        min_fidelity: The pruner's ``min_resource`` (default the smallest
            fidelity).
        max_fidelity: The pruner's ``max_resource`` (default the largest).
        n_startup_trials: Trials the TPE sampler draws at random before its model
            (Optuna's default 10).
        bootstrap_count: The pruner's ``bootstrap_count`` (default 0).
        verbose: Let Optuna log INFO and WARNING lines.

    Attributes:
        rungs: The report steps (:func:`optuna_rungs`).
        study: The in-memory Optuna study.
        pruned: Trials pruned so far.
        completed: Trials that reached the largest fidelity.

    Raises:
        ImportError: Optuna is not installed.
    """

    agent_name = "optuna-hb"

    def __init__(
        self,
        *,
        nvec: Sequence[int],
        fidelities: Sequence[int],
        seed: int,
        eta: int = 3,
        min_fidelity: int | None = None,
        max_fidelity: int | None = None,
        n_startup_trials: int = 10,
        bootstrap_count: int = 0,
        verbose: bool = False,
    ) -> None:
        super().__init__(nvec=nvec, fidelities=fidelities, seed=seed)
        self._optuna = import_optuna(self.agent_name)
        self._set_rung_range(eta, min_fidelity, max_fidelity)
        self.n_startup_trials = check_int("n_startup_trials", n_startup_trials, 0)
        self.bootstrap_count = check_int("bootstrap_count", bootstrap_count, 0)
        self.verbose = bool(verbose)
        self.rungs = optuna_rungs(
            self.fidelities, self.eta, self.min_fidelity, self.max_fidelity
        )
        lib = self._optuna
        sampler = lib.samplers.TPESampler(
            seed=self.seed, n_startup_trials=self.n_startup_trials
        )
        pruner = lib.pruners.HyperbandPruner(
            min_resource=self.min_fidelity,
            max_resource=self.max_fidelity,
            reduction_factor=self.eta,
            bootstrap_count=self.bootstrap_count,
        )
        with optuna_verbosity(lib, self.verbose):
            self.study: optuna.Study = lib.create_study(
                direction="maximize",
                sampler=sampler,
                pruner=pruner,
                study_name=f"nasgym-optuna-hb-seed{self.seed}",
            )
        self._continue: deque[tuple[optuna.Trial, tuple[int, ...], int]] = deque()
        self.pruned = 0
        self.completed = 0

    def _new_trial(self) -> tuple[optuna.Trial, tuple[int, ...]]:
        trial = self.study.ask()
        vector = tuple(
            int(trial.suggest_categorical(f"x{i}", list(range(n))))
            for i, n in enumerate(self.nvec)
        )
        return trial, vector

    def _next(self) -> tuple[Job, Any] | None:
        if self._continue:
            trial, vector, k = self._continue.popleft()
        else:
            with optuna_verbosity(self._optuna, self.verbose):
                trial, vector = self._new_trial()
            k = 0
        return Job(vector, self.rungs[k]), (trial, k)

    def _result(self, job: Job, tag: Any, score: float) -> None:
        trial, k = tag
        state = self._optuna.trial.TrialState
        with optuna_verbosity(self._optuna, self.verbose):
            trial.report(score, step=job.fidelity)
            if k == len(self.rungs) - 1:
                self.study.tell(trial, score)
                self.completed += 1
            elif trial.should_prune():
                self.study.tell(trial, state=state.PRUNED)
                self.pruned += 1
            else:
                self._continue.append((trial, job.vector, k + 1))

    @property
    def n_brackets(self) -> int:
        """Brackets of Optuna's pruner: ``floor(log_eta(max / min)) + 1``."""
        ratio = self.max_fidelity / self.min_fidelity
        return math.floor(math.log(ratio, self.eta) + 1e-9) + 1

    def config(self) -> dict[str, Any]:
        """The settings, as a run header records them."""
        return {
            **super().config(),
            "eta": self.eta,
            "rungs": list(self.rungs),
            "n_startup_trials": self.n_startup_trials,
            "bootstrap_count": self.bootstrap_count,
            "optuna_version": str(self._optuna.__version__),
        }
