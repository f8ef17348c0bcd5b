"""Optuna samplers as leaderboard agents, through :class:`~.adapter.AskTellAgent`.

Each agent runs an in-memory Optuna study with one parameter per slot of the env's
``MultiDiscrete`` action (``x0``, ``x1``, ...). Optuna is optional
(``pip install "nasgym[optuna]"``) and imported only when an agent is built.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np

from ..baselines.common import IntArray
from .adapter import AskTellAgent, AskTellOptimizer, Outcome, SearchProblem

if TYPE_CHECKING:
    import optuna

#: How a slot becomes an Optuna parameter.
ENCODINGS = ("categorical", "integer")

#: Parameters of a sampler an agent sets itself (never an agent option).
_RESERVED = ("seed",)


def import_optuna(agent: str, extra: tuple[str, ...] = ()) -> Any:
    """Import Optuna (and the modules in ``extra``), or explain how to install them.

    Raises:
        ImportError: Optuna or a module in ``extra`` (e.g. ``cmaes``, which Optuna's
            CMA-ES sampler needs) is not installed; the message gives the pip
            command.
    """
    try:
        import optuna

        for name in extra:
            importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"{agent} needs {' and '.join(('optuna', *extra))}, optional "
            f'dependencies of nasgym: pip install "nasgym[optuna]" ({exc})'
        ) from exc
    return optuna


@contextmanager
def optuna_verbosity(optuna: Any, verbose: bool) -> Iterator[None]:
    """Inside the block, Optuna logs only errors, or with ``verbose`` from INFO up.

    Driven through ask/tell, Optuna's log lines are per trial (e.g. CMA-ES's warning
    for each parameter it samples independently), so a quiet run logs none of them.
    """
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(
        optuna.logging.INFO if verbose else optuna.logging.ERROR
    )
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


class OptunaOptimizer:
    """An Optuna study as an :class:`~.adapter.AskTellOptimizer`.

    Slot ``i`` is the parameter ``f"x{i}"``: with ``encoding="categorical"`` a
    categorical over ``0..nvec[i]-1`` (no order among the choices), with
    ``"integer"`` an integer in ``0..nvec[i]-1`` (ordered, which samplers such as
    CMA-ES need). An outcome is told as a completed trial with its value (also for a
    revisit: the known value again), and an invalid vector as a failed trial
    (``TrialState.FAIL``), which Optuna's samplers leave out of their models.

    Args:
        study: The study (its directions must match ``problem.directions``).
        problem: The search problem.
        encoding: One of :data:`ENCODINGS`.
    """

    def __init__(
        self, study: optuna.Study, problem: SearchProblem, encoding: str
    ) -> None:
        self.study = study
        self.problem = problem
        self.encoding = encoding
        self._optuna = import_optuna(type(self).__name__)
        self._pending: tuple[optuna.Trial, tuple[int, ...]] | None = None

    def ask(self) -> IntArray:
        """Ask the study for a trial; return its vector."""
        if self._pending is not None:
            raise RuntimeError("OptunaOptimizer.ask() called twice without tell()")
        trial = self.study.ask()
        values: list[int] = []
        for i, n in enumerate(self.problem.nvec):
            name = f"x{i}"
            if self.encoding == "integer":
                values.append(int(trial.suggest_int(name, 0, n - 1)))
            else:
                values.append(int(trial.suggest_categorical(name, list(range(n)))))
        self._pending = (trial, tuple(values))
        return np.asarray(values, dtype=np.int64)

    def tell(self, vector: IntArray, outcome: Outcome) -> None:
        """Tell the pending trial its outcome."""
        if self._pending is None:
            raise RuntimeError("OptunaOptimizer.tell() called without ask()")
        trial, asked = self._pending
        if tuple(int(v) for v in vector) != asked:
            raise ValueError(
                f"OptunaOptimizer.tell() got {list(vector)}, but the pending trial "
                f"asked {list(asked)}"
            )
        self._pending = None
        state = self._optuna.trial.TrialState
        if outcome.value is None:
            self.study.tell(trial, state=state.FAIL)
        elif isinstance(outcome.value, tuple):
            self.study.tell(trial, list(outcome.value))
        else:
            self.study.tell(trial, outcome.value)


class OptunaAgent(AskTellAgent):
    """An Optuna sampler searching a ``...Query-v0`` env (base of the named agents).

    The sampler is built with ``seed=seed`` and the agent's sampler options, so a
    run is a pure function of the seed. Optuna logs only errors during the run
    (its per-trial info and warning lines are silenced) unless ``verbose=True``.

    Args:
        env: A nasgym ``...Query-v0`` env (possibly wrapped) made with
            ``max_queries``.
        seed: Seeds the env's ``reset`` and the sampler.
        fitness: What the study optimises (see
            :func:`~.adapter.search_problem`): ``"valid_accuracy"`` (default),
            ``"reward"``, or ``"objectives"`` for a multi-objective study.
        encoding: How slots become parameters (see :class:`OptunaOptimizer`);
            default :attr:`default_encoding`.
        verbose: Log Optuna's INFO and WARNING lines during the run.
        stall_limit: See :class:`~.adapter.AskTellAgent`.
        on_stall: See :class:`~.adapter.AskTellAgent`; a restart starts a new study
            (:attr:`study` is the last one).
        **sampler_options: Keyword arguments of the sampler class (all but
            ``seed``); an unknown one is refused with the list of valid ones.

    Raises:
        ImportError: Optuna is not installed.
        ValueError: An unknown sampler option or encoding, a ``fitness`` the
            sampler does not support, or see :func:`~.adapter.search_problem`.
    """

    #: Name of the sampler class in ``optuna.samplers``.
    sampler_name: ClassVar[str] = "TPESampler"
    #: The agent's harness name, for messages.
    agent_name: ClassVar[str] = "optuna"
    default_encoding: ClassVar[str] = "categorical"
    #: The ``fitness`` values the sampler supports.
    fitnesses: ClassVar[tuple[str, ...]] = ("valid_accuracy", "reward", "objectives")
    default_fitness: ClassVar[str] = "valid_accuracy"
    #: Modules the sampler needs besides Optuna.
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        seed: int,
        fitness: str | None = None,
        encoding: str | None = None,
        verbose: bool = False,
        stall_limit: int = 100,
        on_stall: str = "restart",
        **sampler_options: Any,
    ) -> None:
        self._optuna = import_optuna(self.agent_name, self.requires)
        sampler_class = getattr(self._optuna.samplers, self.sampler_name)
        valid = sorted(
            p for p in inspect.signature(sampler_class).parameters if p not in _RESERVED
        )
        unknown = sorted(set(sampler_options) - set(valid))
        if unknown:
            names = ", ".join(map(repr, unknown))
            raise ValueError(
                f"{self.agent_name}: unknown option(s) {names}; "
                f"valid: {', '.join(valid)} ({self.sampler_name} options) and the "
                "agent's fitness, encoding, verbose, stall_limit, on_stall (the seed "
                "comes from "
                "the harness)"
            )
        fitness = self.default_fitness if fitness is None else fitness
        if fitness not in self.fitnesses:
            raise ValueError(
                f"{self.agent_name} ({self.sampler_name}) supports fitness in "
                f"{', '.join(map(repr, self.fitnesses))}, got {fitness!r}"
                + (
                    "; for a Pareto front use optuna-nsga2, optuna-tpe or "
                    "optuna-random with fitness='objectives'"
                    if fitness == "objectives"
                    else ""
                )
            )
        encoding = self.default_encoding if encoding is None else encoding
        if encoding not in ENCODINGS:
            raise ValueError(
                f"encoding must be one of {', '.join(map(repr, ENCODINGS))}, got "
                f"{encoding!r}"
            )
        self.encoding = encoding
        self.verbose = bool(verbose)
        self.sampler_options = dict(sampler_options)
        self._sampler_class = sampler_class
        super().__init__(
            env, seed=seed, fitness=fitness, stall_limit=stall_limit, on_stall=on_stall
        )
        self.study: optuna.Study | None = None

    def make_optimizer(self, problem: SearchProblem) -> AskTellOptimizer:
        """A fresh in-memory study with the seeded sampler."""
        sampler = self._sampler_class(seed=problem.seed, **self.sampler_options)
        self.study = self._optuna.create_study(
            directions=list(problem.directions), sampler=sampler
        )
        return OptunaOptimizer(self.study, problem, self.encoding)

    def config(self) -> dict[str, Any]:
        """Agent and sampler options, as the leaderboard records them."""
        return {
            **super().config(),
            "encoding": self.encoding,
            "sampler": self.sampler_name,
            "optuna_version": str(self._optuna.__version__),
            **{k: _jsonable(v) for k, v in self.sampler_options.items()},
        }

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent."""
        with optuna_verbosity(self._optuna, self.verbose):
            super().run()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class OptunaTPE(OptunaAgent):
    """``optuna-tpe``: Optuna's Tree-structured Parzen Estimator (``TPESampler``).

    TPE (Bergstra et al., 2011) models the good and the bad trials with Parzen
    estimators and proposes where their ratio is largest; the first
    ``n_startup_trials`` (Optuna's default 10) are random. Slots are categorical.
    With ``fitness="objectives"`` it is Optuna's multi-objective TPE.
    """

    sampler_name = "TPESampler"
    agent_name = "optuna-tpe"


class OptunaCMAES(OptunaAgent):
    """``optuna-cmaes``: Optuna's CMA-ES (``CmaEsSampler``), single-objective only.

    Optuna's CMA-ES samples only float and integer parameters; categorical ones it
    hands to its independent sampler (random by default), which would make the whole
    search random. So this agent encodes each slot as an *integer* in
    ``0..nvec[i]-1`` by default: CMA-ES then searches a continuous relaxation and
    rounds, which imposes an arbitrary order on a slot's choices (operation
    indices). ``encoding="categorical"`` gives the fallback instead. On
    NAS-Bench-201 CMA-ES converges after about a hundred distinct cells and then
    proposes only known ones; the adapter then restarts it with a fresh study
    (``on_stall``). Needs the
    ``cmaes`` package (in the ``optuna`` extra).
    """

    sampler_name = "CmaEsSampler"
    agent_name = "optuna-cmaes"
    default_encoding = "integer"
    fitnesses = ("valid_accuracy", "reward")
    requires = ("cmaes",)


class OptunaRandom(OptunaAgent):
    """``optuna-random``: Optuna's ``RandomSampler`` (uniform, independent slots).

    The same distribution as the ``random`` baseline through Optuna's machinery: a
    control for the other Optuna agents.
    """

    sampler_name = "RandomSampler"
    agent_name = "optuna-random"


class OptunaNSGA2(OptunaAgent):
    """``optuna-nsga2``: Optuna's NSGA-II (``NSGAIISampler``) on a multi-objective env.

    Needs an env made with ``objectives=["valid_accuracy", <cost>, ...]``: the study
    maximises validation accuracy (%) and minimises each cost in its raw unit
    (``info["objectives"]``). On a single-objective env it raises ``ValueError``.
    Generations have ``population_size`` trials (Optuna's default 50).
    """

    sampler_name = "NSGAIISampler"
    agent_name = "optuna-nsga2"
    fitnesses = ("objectives",)
    default_fitness = "objectives"
