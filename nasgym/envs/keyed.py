"""Search state and env template for spaces too large to enumerate (NB101, NB301).

The tabular envs (:mod:`nasgym.envs.core`) number every architecture of their space
with an integer code. NAS-Bench-101 (423,624 cells, or a table's subset) and the
DARTS space of NAS-Bench-301 (about 10^18 genotypes) cannot be enumerated, so their
envs keep one search in Python scalars keyed by the architecture's *canonical key*
(the official NB101 hash, :meth:`nasgym.spaces.darts.DartsGenotype.key`):

* :class:`KeyedSearch` holds the query cache (a set of keys: revisits are free), the
  incumbent, the budget, the step counter and the shaped rewards, and builds the
  ``info`` dict of the tabular envs' contract;
* :class:`KeyedNASEnv` is the Gymnasium template: it owns ``reset``, ``step``,
  seeding, option checks and rendering, and concrete envs implement the hooks
  :meth:`~KeyedNASEnv._start`, :meth:`~KeyedNASEnv._act` and
  :meth:`~KeyedNASEnv._observe`;
* :class:`TopK` keeps the best architectures' feature vectors for the continuous
  envs' history observation (docs/methods/l2nas.md#history-and-state);
* :class:`KeyedNASVectorEnv` is the template of their ``gym.make_vec`` entry points.

The semantics are the tabular envs': a fixed horizon with truncation only, an
optional ``max_queries`` budget counting distinct architectures, rejected actions that
cost no query, and the same ``info`` keys.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import Any, ClassVar, cast

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.vector.utils import iterate
from numpy.typing import NDArray

from nasgym.envs.core import (
    NUM_STATS,
    _positive_int,
    check_budget_options,
    check_invalid_options,
    multidiscrete_mask_tuple,
    render_summary,
)
from nasgym.envs.keywords import StrictKeywords
from nasgym.error import InvalidActionError, UnknownOptionError, unknown_option
from nasgym.objectives import Objectives, check_names, check_unused
from nasgym.render import CellView, make_renderer
from nasgym.rewards import RewardShaping

Float32Array = NDArray[np.float32]

#: Default episode length (docs/methods/cassimon.md#mdp-and-reward-shaping: fixed
#: horizon, truncation only).
DEFAULT_HORIZON = 100


def shaped(shaping: RewardShaping, acc: float, best_before: float) -> float:
    """Scalar form of ``shaping(acc, best_before)`` (fractions in, reward out).

    The same formulas as :mod:`nasgym.rewards` on Python floats (a NumPy call per
    step would cost more than the rest of a table lookup).
    """
    name, alpha = shaping.name, float(shaping.alpha)
    if name == "power":
        return float(acc**alpha)
    if name == "exp":
        return math.exp(alpha * (acc - 1.0))
    if name == "improvement":
        return max(acc - (best_before if math.isfinite(best_before) else 0.0), 0.0)
    return acc


def edit_index(action: Any, n: int) -> int:
    """An edit action as an ``int`` in ``0..n-1``.

    Raises:
        InvalidActionError: Not a single integer, or out of range.
    """
    if type(action) is not int:
        array = np.asarray(action)
        if array.shape != () or array.dtype.kind not in "iu":
            raise InvalidActionError(
                f"edit actions must be single integers, got {action!r}"
            )
        action = int(array)
    if not 0 <= action < n:
        raise InvalidActionError(f"edit action {action} is out of range 0..{n - 1}")
    return int(action)


def int_vector(action: Any, nvec: list[int], describe: Any) -> list[int]:
    """A ``MultiDiscrete`` action as a list of ints within ``nvec``.

    Args:
        action: The action.
        nvec: Choices per entry.
        describe: ``describe(entry) -> str`` names an entry in error messages.

    Raises:
        InvalidActionError: Wrong shape or dtype, or an entry out of range.
    """
    vector = np.asarray(action)
    if vector.shape != (len(nvec),) or vector.dtype.kind not in "iu":
        raise InvalidActionError(
            f"query actions must be integer arrays of shape ({len(nvec)},); got "
            f"{action!r}"
        )
    values: list[int] = vector.tolist()
    for s, value in enumerate(values):
        if not 0 <= value < nvec[s]:
            raise InvalidActionError(
                f"query action {values}: entry {s} ({describe(s)}) is {value}, valid "
                f"range 0..{nvec[s] - 1}"
            )
    return values


class KeyedSearch:
    """One search over a non-enumerated space, in Python scalars.

    Architectures are identified by a hashable canonical key; ``code`` is an
    optional integer (a table row) reported as ``info["arch_code"]``, ``-1`` where
    the space has none.

    Args:
        shaping: Reward shaping of validation accuracy.
        horizon: Steps per episode.
        max_queries: Query budget (distinct architectures) or ``None``.
        optimum: The benchmark's optimum of the reported test metric (percent);
            ``nan`` where unknown, which makes ``regret`` NaN.
        has_cost: Whether the backend reports simulated training time.

    Raises:
        UnknownOptionError: ``horizon`` or ``max_queries`` is not a positive integer.

    Example:
        >>> search = KeyedSearch(
        ...     RewardShaping("valid"), horizon=10, max_queries=2, optimum=95.0,
        ...     has_cost=False,
        ... )
        >>> search.evaluate("a", "a", -1, 90.0, 89.0, 0.0)
        0.9
        >>> search.evaluate("a", "a", -1, 90.0, 89.0, 0.0), search.queries  # free
        (0.9, 1)
        >>> search.info()["regret"], search.over_budget("b")
        (6.0, False)
    """

    def __init__(
        self,
        shaping: RewardShaping,
        *,
        horizon: int,
        max_queries: int | None,
        optimum: float,
        has_cost: bool,
    ) -> None:
        check_budget_options(horizon, max_queries)
        self.shaping = shaping
        self.horizon = int(horizon)
        self.max_queries = None if max_queries is None else int(max_queries)
        self.optimum = float(optimum)
        self.has_cost = has_cost
        self.restart()
        self.begin_episode()

    # ------------------------------------------------------------- lifecycle
    def restart(self) -> None:
        """Forget the search: cache, budget and incumbent (a seeded reset)."""
        self.visited: set[Hashable] = set()
        self.queries = 0
        self.best_valid = -math.inf
        self.best_test = math.nan
        self.best_key: Hashable | None = None
        self.best_arch: str | None = None
        self.best_code = -1
        self.sim_time = 0.0

    def begin_episode(self) -> None:
        """Start an episode; the search history and budget carry over."""
        self.t = 0
        self.key: Hashable | None = None
        self.arch: str | None = None
        self.code = -1
        self.cur_reward = 0.0
        self.ep_best_reward = 0.0
        self.last_valid = math.nan
        self.last_test = math.nan
        self.last_new = False
        self.last_invalid: str | None = None

    # --------------------------------------------------------------- queries
    def is_new(self, key: Hashable) -> bool:
        """Whether ``key`` has not been evaluated in this search."""
        return key not in self.visited

    @property
    def spent(self) -> bool:
        """Whether the query budget is used up."""
        return self.max_queries is not None and self.queries >= self.max_queries

    def over_budget(self, key: Hashable) -> bool:
        """Whether evaluating ``key`` would be a query beyond the budget."""
        return self.spent and key not in self.visited

    def budget_reason(self) -> str:
        """Why an over-budget action is rejected."""
        return (
            f"the query budget (max_queries={self.max_queries}) is spent: only "
            f"architectures already evaluated can be revisited; reset(seed=...) starts "
            f"a new search"
        )

    def evaluate(
        self,
        key: Hashable,
        arch: str,
        code: int,
        valid: float,
        test: float,
        cost: float,
    ) -> float:
        """Move to an architecture with the given values; return the shaped reward.

        Args:
            key: Canonical key (the query cache is a set of these).
            arch: Its canonical string (``info["arch"]``).
            code: Its integer code, or ``-1``.
            valid: Validation accuracy (percent): the reward's input.
            test: Reported test accuracy (percent); never rewarded.
            cost: Simulated training seconds (ignored without ``has_cost``).
        """
        new = key not in self.visited
        if new:
            self.visited.add(key)
            self.queries += 1
            self.sim_time += cost
        best_before = self.best_valid
        reward = shaped(self.shaping, valid / 100.0, best_before / 100.0)
        if valid > best_before:
            self.best_valid = valid
            self.best_test = test
            self.best_key = key
            self.best_arch = arch
            self.best_code = code
        self.key, self.arch, self.code = key, arch, code
        self.cur_reward = reward
        if reward > self.ep_best_reward or math.isnan(reward):
            self.ep_best_reward = reward
        self.last_valid = valid
        self.last_test = test
        self.last_new = new
        self.last_invalid = None
        return reward

    def reject(self, reason: str) -> None:
        """Record a rejected action: no move, no query."""
        self.last_invalid = reason
        self.last_new = False

    def truncated(self) -> bool:
        """Whether the episode ends now (horizon reached or budget spent)."""
        return self.t >= self.horizon or self.spent

    # ------------------------------------------------------------- outputs
    def stats(self) -> Float32Array:
        """``[current shaped reward, best shaped this episode, t / H, budget used]``."""
        used = (
            min(self.queries / self.max_queries, 1.0)
            if self.max_queries is not None
            else 0.0
        )
        return np.array(
            [
                min(max(self.cur_reward, 0.0), 1.0),
                min(max(self.ep_best_reward, 0.0), 1.0),
                min(self.t / self.horizon, 1.0),
                used,
            ],
            dtype=np.float32,
        )

    def info(self) -> dict[str, Any]:
        """The ``info`` dict (the tabular envs' contract, without mode extras)."""
        found = self.best_key is not None
        return {
            "arch": self.arch,
            "arch_code": self.code,
            "arch_class": self.code,
            "valid_accuracy": self.last_valid,
            "test_accuracy": self.last_test,
            "new_query": self.last_new,
            "queries": self.queries,
            "best_arch": self.best_arch,
            "best_valid_accuracy": self.best_valid if found else math.nan,
            "best_test_accuracy": self.best_test,
            "regret": self.optimum - self.best_test,
            "sim_time_s": self.sim_time if self.has_cost else None,
            "budget_exhausted": self.spent,
        }


class TopK:
    """The ``k`` best architectures of a search by validation accuracy (features).

    Ties keep the earlier architecture first, as the tabular continuous mode does.

    Example:
        >>> top = TopK(2, width=1)
        >>> for value in (1.0, 3.0, 2.0):
        ...     top.push(value, np.array([value]))
        >>> top.values, top.summary().tolist()  # mean, then std, of the best two
        ([3.0, 2.0], [2.5, 0.5])
    """

    def __init__(self, k: int, width: int) -> None:
        if not _positive_int(k):
            raise UnknownOptionError(f"top_k must be a positive integer, got {k!r}")
        self.k = int(k)
        self.width = width
        self.clear()

    def clear(self) -> None:
        """Forget the history."""
        self.values: list[float] = []
        self.features: list[NDArray[np.float64]] = []

    def push(self, value: float, features: NDArray[np.float64]) -> None:
        """Insert a newly queried architecture."""
        pos = sum(1 for v in self.values if v >= value)
        if pos >= self.k:
            return
        self.values.insert(pos, value)
        self.features.insert(pos, features)
        del self.values[self.k :], self.features[self.k :]

    def summary(self) -> NDArray[np.float64]:
        """Element-wise mean then standard deviation of the kept features."""
        if not self.features:
            return np.zeros(2 * self.width)
        stack = np.stack(self.features)
        mean = stack.mean(axis=0)
        std = np.sqrt(np.maximum((stack**2).mean(axis=0) - mean**2, 0.0))
        return np.concatenate([mean, std])


class KeyedNASEnv(StrictKeywords, gym.Env[Any, Any], ABC):
    """Template of the NB101 and NB301 environments (see the concrete classes).

    Subclasses call :meth:`_setup` from their constructor and implement
    :meth:`_start` (begin an episode), :meth:`_act` (apply one action, return its
    reward) and :meth:`_observe`; edit envs also implement :meth:`_mask`.
    """

    metadata: dict[str, Any] = {
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 4,
    }
    #: Cells drawn per architecture by the image render modes (NB301: 2).
    cells_per_arch: ClassVar[int] = 1
    #: ``"edit"``, ``"query"`` or ``"continuous"``.
    mode: ClassVar[str] = "edit"
    #: Default reward shaping (docs/methods/cassimon.md#mdp-and-reward-shaping: power
    #: with the paper's alpha).
    default_reward: ClassVar[str] = "power"
    default_alpha: ClassVar[float] = 6.0

    def _setup(
        self,
        *,
        reward: str | None,
        alpha: float | None,
        horizon: int,
        max_queries: int | None,
        invalid_action: str,
        invalid_reward: float,
        render_mode: str | None,
        optimum: float,
        has_cost: bool,
    ) -> None:
        """Check the common options and create the search state."""
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise unknown_option(
                "render_mode", render_mode, self.metadata["render_modes"]
            )
        self.invalid_reward = check_invalid_options(invalid_action, invalid_reward)
        self.render_mode = render_mode
        self._renderer = make_renderer(render_mode, self.metadata["render_fps"])
        self.invalid_action = invalid_action
        shaping = RewardShaping(
            reward or self.default_reward,
            self.default_alpha if alpha is None else alpha,
        )
        self._search = KeyedSearch(
            shaping,
            horizon=horizon,
            max_queries=max_queries,
            optimum=optimum,
            has_cost=has_cost,
        )
        self._needs_reset = True
        self._objectives: Objectives | None = None
        #: ``(key, raw objective values)`` of the current / incumbent architecture
        #: (see :meth:`_hold_objectives`).
        self._obj_current: tuple[Hashable, NDArray[np.float64]] | None = None
        self._obj_best: tuple[Hashable, NDArray[np.float64]] | None = None
        #: MO-Gymnasium's ``reward_space`` with a vector reward, else ``None``.
        self.reward_space: gym.spaces.Box | None = None

    def _setup_objectives(
        self,
        objectives: Sequence[str] | None,
        options: dict[str, Any],
        bounds: Any,
    ) -> None:
        """Create the multi-objective reward (after :meth:`_setup`).

        Args:
            objectives: The ``objectives`` option (``None``: accuracy only).
            options: The MONAS options (``mo_reward``, ``mo_alpha`` ...).
            bounds: ``bounds(names) -> (low, high, units)`` of the objectives;
                raises for a cost the backend lacks.
        """
        if objectives is None:
            check_unused(options)
            return
        names = check_names(objectives)
        low, high, units = bounds(names)
        self._objectives = Objectives(
            names, low, high, units, invalid_reward=self.invalid_reward, **options
        )
        if self._objectives.vector:
            self.reward_space = self._objectives.reward_space()

    def _hold_objectives(self, key: Hashable, raw: NDArray[np.float64]) -> None:
        """Keep the raw objective values of ``key``, just evaluated by the search.

        They are the current architecture's, and the incumbent's when ``key`` is the
        search's best (call after :meth:`KeyedSearch.evaluate`).
        """
        self._obj_current = (key, raw)
        if self._search.best_key == key:
            self._obj_best = (key, raw)

    def _objective_values(self, best: bool) -> NDArray[np.float64] | None:
        """Raw objective values of the current (or incumbent) architecture.

        ``None`` before the first query: the values :meth:`_hold_objectives` kept, if
        they belong to the search's current (or best) key. Envs that tabulate their
        objectives may override it.
        """
        held = self._obj_best if best else self._obj_current
        key = self._search.best_key if best else self._search.key
        if held is None or held[0] != key:
            return None
        return held[1]

    @property
    def objectives(self) -> tuple[str, ...] | None:
        """The ``objectives`` option (``None``: accuracy only, scalar reward)."""
        return None if self._objectives is None else self._objectives.names

    @property
    def objective_units(self) -> dict[str, str]:
        """Unit of each objective (``{}`` without ``objectives``)."""
        spec = self._objectives
        return {} if spec is None else dict(zip(spec.names, spec.units, strict=True))

    # ------------------------------------------------------------------ hooks
    def _start(self, rng: np.random.Generator) -> None:
        """Begin an episode (the search's episode state is already cleared)."""

    @abstractmethod
    def _act(self, action: Any) -> float:
        """Apply one action and return its reward."""

    @abstractmethod
    def _observe(self) -> Any:
        """The observation of the current state."""

    def _mask(self) -> NDArray[np.bool_] | None:
        """Legal actions now (edit envs), else ``None``."""
        return None

    def _restart(self) -> None:
        """Extra state to forget on a seeded reset (e.g. a top-K history)."""

    def _target(self, action: Any) -> Any:
        """What ``action`` would query now, without querying (``None``: masked).

        Vector envs that batch their sub-envs' queries call it before stepping
        (:meth:`KeyedNASVectorEnv._targets`); the default takes no actions.

        Raises:
            InvalidActionError: The action is malformed or out of range.
        """
        raise InvalidActionError(f"{type(self).__name__} takes no actions")

    # --------------------------------------------------------------- helpers
    def _reject(self, reason: str) -> float:
        """Reject an in-range action (raise, or no-op with ``invalid_reward``)."""
        if self.invalid_action == "raise":
            raise InvalidActionError(reason)
        self._search.reject(reason)
        self._search.t += 1
        return self.invalid_reward

    def _budget_blocks(self, key: Hashable, what: str) -> str | None:
        """The rejection reason when moving to ``key`` would exceed the budget."""
        if self._search.over_budget(key):
            return f"{what} would query a new architecture but " + (
                self._search.budget_reason()
            )
        return None

    # --------------------------------------------------------------- Gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode.

        A reset with an explicit ``seed`` starts a fresh search: the query cache,
        the budget and the incumbent are cleared. A reset without a seed starts a new
        episode of the same search (history and budget carry over).
        """
        super().reset(seed=seed)
        if seed is not None:
            self._search.restart()
            self._restart()
        self._search.begin_episode()
        self._needs_reset = False
        self._start(self.np_random)
        self._render_human()
        return self._observe(), self._info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Apply one action; see the class docstring for its semantics."""
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step()")
        reward: Any = self._act(action)
        objectives = self._objectives
        if objectives is not None:
            raw = self._objective_values(best=False)
            reward = (
                objectives.rejected()
                if self._search.last_invalid is not None or raw is None
                else objectives.reward(reward, raw)
            )
        self._render_human()
        return self._observe(), reward, False, self._search.truncated(), self._info()

    @property
    def action_masks(self) -> Callable[[], NDArray[np.bool_]]:
        """``env.action_masks()``: legal actions now (sb3-contrib's MaskablePPO form).

        Edit envs mask the edits that would not reach a different architecture the
        benchmark can evaluate; ``MultiDiscrete`` (Query) envs allow every choice
        (the flat mask; :attr:`action_mask_tuple` gives Gymnasium's form).
        Continuous envs have no masks: the attribute does not exist there
        (``hasattr(env, "action_masks")`` is false).

        Raises:
            AttributeError: On a continuous env.
        """
        if self._mask() is not None:
            return self._copied_mask
        space = self.action_space
        if isinstance(space, gym.spaces.MultiDiscrete):
            size = int(space.nvec.sum())
            return lambda: np.ones(size, dtype=np.bool_)
        raise AttributeError(
            f"{type(self).__name__} has continuous actions: no action masks"
        )

    def _copied_mask(self) -> NDArray[np.bool_]:
        mask = self._mask()
        assert mask is not None
        fresh: NDArray[np.bool_] = mask.copy()
        return fresh

    @property
    def action_mask_tuple(self) -> Callable[[], tuple[NDArray[np.int8], ...]]:
        """``env.action_mask_tuple()``: the Query mask in Gymnasium's form.

        One ``int8`` array of ones per slot, what ``env.action_space.sample(mask=...)``
        of a ``MultiDiscrete`` space takes; :attr:`action_masks` gives it flat.

        Raises:
            AttributeError: Not a Query (``MultiDiscrete``) env.
        """
        if not isinstance(self.action_space, gym.spaces.MultiDiscrete):
            raise AttributeError(
                f"{type(self).__name__} has no MultiDiscrete actions: "
                "action_mask_tuple exists on Query envs only"
            )
        return partial(multidiscrete_mask_tuple, self.action_space)

    def _info(self) -> dict[str, Any]:
        info = self._search.info()
        mask = self._mask()
        if mask is not None:
            info["action_mask"] = mask.copy()
        info["invalid_action"] = self._search.last_invalid
        objectives = self._objectives
        if objectives is not None:
            current = self._objective_values(best=False)
            info["objectives"] = objectives.as_dict(current)
            info["incumbent_objectives"] = objectives.as_dict(
                self._objective_values(best=True)
            )
            if objectives.constrained:
                info["constraint_violated"] = bool(
                    current is not None and objectives.violated(current)
                )
        return info

    def search_info(self) -> dict[str, Any]:
        """The current ``info`` dict of the search (e.g. after training stopped)."""
        return self._info()

    def render(self) -> Any:
        """Render the search in ``render_mode``.

        ``"ansi"``: a one-line text summary. ``"rgb_array"``: an ``(H, W, 3)`` uint8
        frame drawing the current and the incumbent architecture as cell graphs with
        op labels (the same shape every step, for ``gym.wrappers.RecordVideo``).
        ``"human"``: that frame in a matplotlib window (drawn but not shown without
        a display), also after every ``reset``/``step``. ``None``: nothing.
        """
        if self.render_mode == "ansi":
            return render_summary(self.step_count, self._info())
        if self._renderer is None:
            return None
        return self._renderer.render(self, self._info(), self.step_count)

    def _render_human(self) -> None:
        if self.render_mode == "human":
            self.render()

    def close(self) -> None:
        """Close the ``render_mode="human"`` window, if any."""
        renderer = getattr(self, "_renderer", None)  # None if __init__ failed early
        if renderer is not None:
            renderer.close()
        super().close()

    @abstractmethod
    def cell_views(self, arch: str) -> list[CellView]:
        """The cell graph(s) of ``arch`` (the ``info["arch"]`` form), for drawing.

        Raises:
            InvalidArchitectureError: ``arch`` is not an architecture of this env.
        """

    @property
    def horizon(self) -> int:
        """Steps per episode."""
        return self._search.horizon

    @property
    def optimum(self) -> float:
        """The optimum of the reported metric that ``regret`` is measured against."""
        return self._search.optimum

    @property
    def max_queries(self) -> int | None:
        """The query budget of the search (``None``: unlimited)."""
        return self._search.max_queries

    @property
    def step_count(self) -> int:
        """Steps taken in the current episode."""
        return self._search.t


class KeyedNASVectorEnv(SyncVectorEnv):
    """``num_envs`` searches of :attr:`env_class` in Gymnasium's ``SyncVectorEnv``.

    Sub-env ``i`` of ``reset(seed=s)`` is seeded ``s + i`` and episodes autoreset on
    the next step (Gymnasium's ``NEXT_STEP`` mode), as in every nasgym vector env.
    With a vector reward (``objectives=[...]``) rewards have shape ``(num_envs, k)``
    (float32, MO-Gymnasium's ``MOSyncVectorEnv`` layout) and :attr:`reward_space` is
    one sub-env's. Subclasses that share a model between the sub-envs override
    :meth:`_factories`; those that batch the sub-envs' queries override ``step``
    and find what each action will query with :meth:`_targets`.

    Raises:
        UnknownOptionError: ``num_envs`` is not a positive integer.
    """

    env_class: ClassVar[type[KeyedNASEnv]]

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)):
            raise UnknownOptionError(f"num_envs must be an integer, got {num_envs!r}")
        if num_envs < 1:
            raise UnknownOptionError(f"num_envs must be >= 1, got {num_envs}")
        super().__init__(
            self._factories(int(num_envs), kwargs),
            autoreset_mode=AutoresetMode.NEXT_STEP,
        )
        #: The sub-envs, unwrapped.
        self.unwrapped_envs: Sequence[KeyedNASEnv] = [
            cast(KeyedNASEnv, env.unwrapped) for env in self.envs
        ]
        #: MO-Gymnasium's ``reward_space`` of one sub-env (``None``: scalar reward).
        self.reward_space: gym.spaces.Box | None = self.unwrapped_envs[0].reward_space
        if self.reward_space is not None:  # vector rewards: (num_envs, k)
            self._rewards = np.zeros(
                (self.num_envs, *self.reward_space.shape), dtype=np.float32
            )

    def _factories(
        self, num_envs: int, kwargs: dict[str, Any]
    ) -> list[Callable[[], gym.Env[Any, Any]]]:
        """The sub-envs' constructors: ``num_envs`` of ``env_class(**kwargs)``."""
        return [partial(self.env_class, **kwargs) for _ in range(num_envs)]

    def _targets(self, actions: Any, *, spent: bool = True) -> list[tuple[int, Any]]:
        """``(sub-env index, KeyedNASEnv._target)`` of each sub-env stepping a query.

        Sub-envs that autoreset this step or need a reset are left out, as are
        masked actions (target ``None``) and malformed ones (the sub-env's own step
        raises); with ``spent=False`` also the sub-envs whose budget is spent.
        """
        found: list[tuple[int, Any]] = []
        for i, action in enumerate(iterate(self.action_space, actions)):
            env = self.unwrapped_envs[i]
            if (
                self._autoreset_envs[i]
                or env._needs_reset
                or (not spent and env._search.spent)
            ):
                continue
            try:
                target = env._target(action)
            except InvalidActionError:
                continue  # the sub-env's own step raises it
            if target is not None:
                found.append((i, target))
        return found

    @property
    def action_masks(self) -> Callable[[], NDArray[np.bool_]]:
        """``envs.action_masks()``: ``(num_envs, n)`` legal-action masks.

        Absent (``AttributeError``) where the sub-envs have none (continuous envs).
        """
        masks = [env.action_masks for env in self.unwrapped_envs]
        return lambda: np.stack([mask() for mask in masks])


__all__ = [
    "DEFAULT_HORIZON",
    "NUM_STATS",
    "Float32Array",
    "KeyedNASEnv",
    "KeyedNASVectorEnv",
    "KeyedSearch",
    "TopK",
    "edit_index",
    "int_vector",
    "shaped",
]
