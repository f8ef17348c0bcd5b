"""Run any ask/tell optimizer as a leaderboard agent on a ``...Query-v0`` env.

An ask/tell optimizer proposes one architecture at a time (``ask``) and is told how
it scored (``tell``). :class:`AskTellAgent` drives such an object on a nasgym
``...Query-v0`` env, whose ``MultiDiscrete`` action is a whole architecture, until
the env's query budget is spent. The optimizer never sees the env: it gets a
:class:`SearchProblem` (slot sizes, objectives and their directions, budget, seed)
and one :class:`Outcome` per proposal.

A few lines wrap an optimizer of one's own::

    class MyOptimizer:
        def __init__(self, problem: SearchProblem) -> None:
            self.rng = np.random.default_rng(problem.seed)
            self.nvec = np.asarray(problem.nvec)

        def ask(self) -> np.ndarray:
            return self.rng.integers(0, self.nvec)

        def tell(self, vector: np.ndarray, outcome: Outcome) -> None:
            ...  # learn from outcome.value (None when the vector was invalid)


    class MyAgent(AskTellAgent):
        def make_optimizer(self, problem: SearchProblem) -> AskTellOptimizer:
            return MyOptimizer(problem)

and ``my_agent = "my_package.module:MyAgent"`` under
``[project.entry-points."nasgym.agents"]`` makes it a leaderboard agent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
from numpy.typing import ArrayLike

from ..baselines.common import (
    STALL_LIMIT,
    BudgetedSearch,
    IntArray,
    check_positive_int,
    multidiscrete_nvec,
    query_budget,
    valid_accuracy,
)

#: What an :class:`AskTellAgent` reports to its optimizer as the objective value.
FITNESS = ("valid_accuracy", "reward", "objectives")

#: What :class:`AskTellAgent` does when its optimizer stalls.
ON_STALL = ("restart", "error")

#: Restarts in a row without a new evaluation after which a search is stuck.
MAX_RESTARTS = 100

#: How a proposal ended (see :class:`Outcome`).
Status = Literal["evaluated", "revisit", "invalid"]

#: ``"maximize"`` or ``"minimize"``, Optuna's spelling.
Direction = Literal["maximize", "minimize"]

#: The value of an :class:`Outcome`: one number, one per objective, or ``None``.
Value = float | tuple[float, ...] | None


@dataclass(frozen=True)
class SearchProblem:
    """What an ask/tell optimizer is told about the search before it starts.

    Attributes:
        nvec: Number of choices of each slot: a proposal is a vector ``v`` of
            integers with ``0 <= v[i] < nvec[i]`` (the env's ``MultiDiscrete``
            action space). Some vectors may be invalid architectures.
        objectives: Names of the values an :class:`Outcome` carries, in order:
            ``("valid_accuracy",)``, ``("reward",)`` or the env's ``objectives``.
        directions: ``"maximize"`` or ``"minimize"``, one per objective.
        budget: The env's query budget (distinct architectures evaluated).
        seed: The run's seed; an optimizer seeded from it makes the run
            reproducible.
    """

    nvec: tuple[int, ...]
    objectives: tuple[str, ...]
    directions: tuple[Direction, ...]
    budget: int
    seed: int

    @property
    def multi_objective(self) -> bool:
        """Whether an outcome's value is a tuple (more than one objective)."""
        return len(self.objectives) > 1


@dataclass(frozen=True)
class Outcome:
    """What became of one proposal.

    Attributes:
        status: ``"evaluated"``: a new architecture, one query of the budget spent.
            ``"revisit"``: the vector, or an isomorphic architecture, was evaluated
            before; ``value`` is the known one and no budget was spent.
            ``"invalid"``: the env rejected the vector (it is no architecture of the
            space, e.g. an NB101 cell that is not a connected DAG); nothing was
            evaluated, no budget was spent and ``value`` is ``None``.
        value: The objective value (a float), or with several objectives a tuple in
            :attr:`SearchProblem.objectives` order; ``None`` when invalid.
    """

    status: Status
    value: Value

    @property
    def valid(self) -> bool:
        """Whether the vector was an architecture (``status != "invalid"``)."""
        return self.status != "invalid"


@runtime_checkable
class AskTellOptimizer(Protocol):
    """The protocol :class:`AskTellAgent` drives.

    The agent calls ``ask`` and ``tell`` strictly alternately, one ``tell`` for
    every ``ask`` and in the same order, so the optimizer may keep its pending
    proposal to itself. The last ``tell`` is the one that spends the budget; no
    ``ask`` follows it.
    """

    def ask(self) -> ArrayLike:
        """Propose the next architecture: a vector of ``len(nvec)`` integers."""
        ...

    def tell(self, vector: IntArray, outcome: Outcome) -> None:
        """Report the outcome of the vector the last ``ask`` returned."""
        ...


#: Builds the optimizer of a run from its problem.
OptimizerFactory = Callable[[SearchProblem], AskTellOptimizer]


def restart_seed(seed: int, restart: int) -> int:
    """Seed of the optimizer after ``restart`` restarts of the run seeded ``seed``.

    Drawn from ``numpy.random.SeedSequence((seed, restart))``: distinct per restart
    and a pure function of the run's seed.
    """
    state = np.random.SeedSequence((int(seed), int(restart))).generate_state(1)
    return int(state[0])


def check_fitness(fitness: str) -> str:
    """Return ``fitness`` if it is one of :data:`FITNESS`.

    Raises:
        ValueError: It is not; the message lists the valid ones.
    """
    if fitness not in FITNESS:
        raise ValueError(
            f"fitness must be one of {', '.join(map(repr, FITNESS))}, got {fitness!r}"
        )
    return fitness


def search_problem(
    env: gym.Env[Any, Any], *, seed: int, fitness: str, agent: str
) -> SearchProblem:
    """Describe the search an :class:`AskTellAgent` runs on ``env``.

    Args:
        env: A nasgym ``...Query-v0`` env (possibly wrapped) made with
            ``max_queries``.
        seed: The run's seed.
        fitness: ``"valid_accuracy"`` (maximised; ``100 * zc_value`` on a
            training-free env), ``"reward"`` (the env's scalar reward, maximised)
            or ``"objectives"`` (the raw values of the env's ``objectives=[...]``:
            accuracy in % maximised, each cost minimised).
        agent: The agent's name, for error messages.

    Raises:
        ValueError: No query budget, not ``MultiDiscrete`` actions, an unknown
            ``fitness``, ``"reward"`` on a vector-reward env, or ``"objectives"``
            on an env without at least two objectives.
    """
    check_fitness(fitness)
    budget = query_budget(env, agent)
    nvec = tuple(int(n) for n in multidiscrete_nvec(env, agent))
    unwrapped = env.unwrapped
    names = getattr(unwrapped, "objectives", None)
    vector_reward = getattr(unwrapped, "reward_space", None) is not None
    if fitness == "objectives":
        if names is None or len(names) < 2:
            raise ValueError(
                f"{agent} searches for a Pareto front and needs a multi-objective "
                f"env, but {unwrapped!r} has objectives={names!r}; make it with "
                "objectives=['valid_accuracy', <cost>, ...] (see "
                "docs/multi_objective.md), or use a single-objective agent"
            )
        objectives = tuple(str(n) for n in names)
        directions: tuple[Direction, ...] = tuple(
            "maximize" if n == "valid_accuracy" else "minimize" for n in objectives
        )
    else:
        if fitness == "reward" and vector_reward:
            raise ValueError(
                f"{agent}: fitness='reward' needs a scalar reward, but the env "
                f"returns a vector of {len(names or ())} objectives "
                "(mo_reward='vector'); make it with mo_reward='weighted' or "
                "'constrained', use fitness='valid_accuracy', or a multi-objective "
                "agent such as optuna-nsga2"
            )
        objectives, directions = (fitness,), ("maximize",)
    return SearchProblem(nvec, objectives, directions, budget, int(seed))


class AskTellAgent:
    """A leaderboard agent that drives an ask/tell optimizer on a ``...Query-v0`` env.

    Each round asks the optimizer for a vector and tells it the :class:`Outcome`:

    * A vector seen before in this run is told its known outcome at once, without
      stepping the env. An architecture isomorphic to one evaluated before is
      stepped; the env spends no budget on it (``info["new_query"]`` is false) and
      it is told as a ``"revisit"`` with the known value.
    * A vector the env rejects (``info["invalid_action"]``) is told as
      ``"invalid"`` with value ``None``; it costs no budget.
    * Otherwise one query is spent and the value is told as ``"evaluated"``.

    The run stops exactly when the env reports the budget spent: the optimizer is
    told the last outcome and asked nothing more. The incumbent is the env's
    (``info["best_valid_accuracy"]``).

    **Stalls.** An optimizer that converges on a small discrete space keeps
    proposing vectors it already knows (CMA-ES on NAS-Bench-201 does so after about
    a hundred distinct cells), and revisits never spend the budget. When
    ``stall_limit`` proposals in a row evaluate nothing new, ``on_stall="restart"``
    (the default) discards the optimizer and builds a fresh one with the next
    restart seed (:func:`restart_seed`); revisits of what earlier optimizers
    evaluated stay free. :attr:`restarts` counts them. ``on_stall="error"`` raises
    :class:`RuntimeError` instead, as does a restart policy after
    :data:`MAX_RESTARTS` restarts in a row without a new evaluation.

    Pass ``optimizer`` (a :data:`OptimizerFactory`) or subclass and override
    :meth:`make_optimizer`. Works on every ``...Query-v0`` env.

    Args:
        env: A nasgym ``...Query-v0`` env (possibly wrapped) made with
            ``max_queries``.
        seed: Seeds the env's ``reset``; the optimizer gets it as
            :attr:`SearchProblem.seed`.
        optimizer: Builds the optimizer from the :class:`SearchProblem`.
        fitness: What the optimizer is told (see :func:`search_problem`).
        stall_limit: Proposals in a row without a new evaluation that make a stall.
        on_stall: ``"restart"`` or ``"error"`` (see above).

    Raises:
        ValueError: See :func:`search_problem`; a bad ``stall_limit`` or
            ``on_stall``.
        TypeError: Neither ``optimizer`` nor an overridden :meth:`make_optimizer`.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        seed: int,
        optimizer: OptimizerFactory | None = None,
        fitness: str = "valid_accuracy",
        stall_limit: int = 100,
        on_stall: str = "restart",
    ) -> None:
        self.env = env
        self.seed = int(seed)
        self.fitness = check_fitness(fitness)
        self.stall_limit = min(
            check_positive_int("stall_limit", stall_limit), STALL_LIMIT
        )
        if on_stall not in ON_STALL:
            raise ValueError(
                f"on_stall must be one of {', '.join(map(repr, ON_STALL))}, got "
                f"{on_stall!r}"
            )
        self.on_stall = on_stall
        #: Restarts of the optimizer in the last :meth:`run`.
        self.restarts = 0
        self._factory = optimizer
        name = type(self).__name__
        if (
            optimizer is None
            and type(self).make_optimizer is AskTellAgent.make_optimizer
        ):
            raise TypeError(
                f"{name} needs an optimizer: pass optimizer=<callable(SearchProblem) "
                "-> ask/tell object>, or subclass AskTellAgent and override "
                "make_optimizer"
            )
        self.problem = search_problem(env, seed=self.seed, fitness=fitness, agent=name)
        self._search = BudgetedSearch(env, name)
        #: Outcome of every distinct vector proposed so far, in first-seen order.
        self.history: dict[tuple[int, ...], Outcome] = {}

    def make_optimizer(self, problem: SearchProblem) -> AskTellOptimizer:
        """Build the run's optimizer (default: the ``optimizer`` factory)."""
        if self._factory is None:  # only reachable if a subclass calls super()
            raise TypeError(f"{type(self).__name__} was given no optimizer factory")
        return self._factory(problem)

    def _vector(self, proposal: ArrayLike) -> IntArray:
        """Check a proposal against the action space; return it as ``int64``."""
        nvec = self.problem.nvec
        array = np.asarray(proposal)
        if array.shape != (len(nvec),) or not (
            np.issubdtype(array.dtype, np.integer)
            or (
                np.issubdtype(array.dtype, np.floating)
                and np.all(array == np.round(array))
            )
        ):
            raise ValueError(
                f"{type(self).__name__}: ask() must return {len(nvec)} integers "
                f"(one per slot, slot i in 0..nvec[i]-1 with nvec={list(nvec)}), got "
                f"{proposal!r}"
            )
        vector: IntArray = array.astype(np.int64)
        if np.any(vector < 0) or np.any(vector >= np.asarray(nvec)):
            raise ValueError(
                f"{type(self).__name__}: ask() returned {vector.tolist()}, outside "
                f"the action space (slot i must be in 0..nvec[i]-1, nvec={list(nvec)})"
            )
        return vector

    def _value(self, info: dict[str, Any]) -> Value:
        """The objective value of the architecture the last step reached."""
        if self.fitness == "valid_accuracy":
            return valid_accuracy(info)
        if self.fitness == "reward":
            return float(np.asarray(self._search.last_reward, dtype=np.float64))
        raw = info["objectives"]
        return tuple(float(raw[name]) for name in self.problem.objectives)

    def config(self) -> dict[str, Any]:
        """The agent's configuration, as the leaderboard records it.

        The harness reads it after :meth:`run`, so it also records ``restarts``.
        """
        return {
            "fitness": self.fitness,
            "stall_limit": self.stall_limit,
            "on_stall": self.on_stall,
            "restarts": self.restarts,
        }

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent.

        Raises:
            ValueError: The optimizer proposed something outside the action space.
            RuntimeError: The search stalled (see the class docstring).
        """
        search = self._search
        self.history = {}
        self.restarts = 0
        search.start(self.seed)
        optimizer = self.make_optimizer(self.problem)
        stalled = 0
        while not search.exhausted:
            vector = self._vector(optimizer.ask())
            key = tuple(vector.tolist())
            known = self.history.get(key)
            if known is not None:
                outcome = (
                    known
                    if known.status == "invalid"
                    else Outcome("revisit", known.value)
                )
            else:
                info = search.step(vector)
                if info.get("invalid_action") is not None:
                    outcome = Outcome("invalid", None)
                else:
                    status: Status = "evaluated" if info["new_query"] else "revisit"
                    outcome = Outcome(status, self._value(info))
                self.history[key] = outcome
            optimizer.tell(vector, outcome)
            if outcome.status == "evaluated":
                stalled = 0
                continue
            stalled += 1
            if stalled % self.stall_limit:
                continue
            if self.on_stall == "error" or stalled >= self.stall_limit * MAX_RESTARTS:
                raise RuntimeError(
                    f"{type(self).__name__}: {stalled} proposals in a row evaluated no "
                    f"new architecture ({len(self.history)} distinct vectors proposed, "
                    f"{self.restarts} restarts, budget {self.problem.budget}); the "
                    "optimizer keeps proposing known or invalid vectors (raise "
                    "stall_limit, or give it more exploration)"
                )
            self.restarts += 1
            seed = restart_seed(self.seed, self.restarts)
            optimizer = self.make_optimizer(replace(self.problem, seed=seed))
