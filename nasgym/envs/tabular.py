"""Gymnasium environments over tabular benchmarks (single and vectorised).

:class:`TabularNASEnv` owns ``reset``, ``step``, seeding and the ``info`` contract;
concrete environments only choose a benchmark and a mode. :class:`TabularNASVectorEnv`
steps ``num_envs`` searches in one batched NumPy call; ``gym.make_vec(id, num_envs=N)``
gives it for every registered tabular id, with the same results as N single envs
seeded ``seed, seed + 1, ...``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from nasgym.benchmarks.base import TabularBenchmark
from nasgym.envs.core import (
    MODES,
    ContinuousMode,
    EditMode,
    Mode,
    QueryMode,
    SearchCore,
    render_summary,
)
from nasgym.envs.scalar import ScalarSearch
from nasgym.envs.tables import arch_names, arch_string_table
from nasgym.error import InvalidActionError, UnknownOptionError, unknown_option
from nasgym.rewards import RewardShaping, RewardSignal
from nasgym.spaces.base import BoolArray, CategoricalSearchSpace

#: Default episode length (METHODS.md 1.5: fixed horizon, truncation only).
DEFAULT_HORIZON = 100


def build_mode(
    mode: str,
    benchmark: TabularBenchmark[Any],
    num_envs: int,
    *,
    reward: str,
    alpha: float,
    horizon: int,
    max_queries: int | None,
    top_k: int,
    invalid_action: str,
    invalid_reward: float,
    signal: RewardSignal | None = None,
) -> Mode:
    """Create the search core and the mode object shared by single and vector envs."""
    if mode not in MODES:
        raise unknown_option("mode", mode, MODES)
    if not isinstance(benchmark, TabularBenchmark):
        raise UnknownOptionError(
            f"benchmark must be a nasgym TabularBenchmark instance, got {benchmark!r}"
        )
    core = SearchCore(
        benchmark,
        num_envs,
        shaping=RewardShaping(reward, alpha),
        horizon=horizon,
        max_queries=max_queries,
        top_k=top_k,
        signal=signal,
    )
    if mode == "query":
        return QueryMode(
            core, invalid_action=invalid_action, invalid_reward=invalid_reward
        )
    if mode == "continuous":
        return ContinuousMode(
            core, invalid_action=invalid_action, invalid_reward=invalid_reward
        )
    return EditMode(core, invalid_action=invalid_action, invalid_reward=invalid_reward)


class TabularNASEnv(gym.Env[Any, Any], ABC):
    """Template of every tabular NAS environment (see the concrete classes' docs).

    Subclasses set :attr:`mode` and implement :meth:`make_benchmark`.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}
    #: ``"edit"``, ``"query"`` or ``"continuous"``.
    mode: ClassVar[str] = "edit"
    #: Default reward shaping for this env class.
    default_reward: ClassVar[str] = "valid"
    default_alpha: ClassVar[float] = 6.0

    def __init__(
        self,
        benchmark: TabularBenchmark[Any],
        *,
        reward: str | None = None,
        alpha: float | None = None,
        horizon: int = DEFAULT_HORIZON,
        max_queries: int | None = None,
        top_k: int = 10,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
        render_mode: str | None = None,
        signal: RewardSignal | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise unknown_option(
                "render_mode", render_mode, self.metadata["render_modes"]
            )
        self.render_mode = render_mode
        self.benchmark = benchmark
        self.search_space = benchmark.space
        self._mode = build_mode(
            self.mode,
            benchmark,
            1,
            reward=reward or self.default_reward,
            alpha=self.default_alpha if alpha is None else alpha,
            horizon=horizon,
            max_queries=max_queries,
            top_k=top_k,
            invalid_action=invalid_action,
            invalid_reward=invalid_reward,
            signal=signal,
        )
        self._core = self._mode.core
        self.action_space = self._mode.action_space
        self.observation_space = self._mode.observation_space
        self._idx = np.zeros(1, dtype=np.int64)
        self._needs_reset = True
        # Edit and Query searches run on Python scalars (see nasgym.envs.scalar);
        # the continuous mode's top-K statistics stay on the NumPy core.
        self._scalar: ScalarSearch | None = (
            ScalarSearch(self._mode)
            if isinstance(self._mode, (EditMode, QueryMode))
            else None
        )

    #: The search space the env's benchmarks must cover (set by subclasses).
    space_type: ClassVar[type[CategoricalSearchSpace[Any]]]

    @classmethod
    @abstractmethod
    def make_benchmark(cls, dataset: str, **kwargs: Any) -> TabularBenchmark[Any]:
        """Build the benchmark backend for ``dataset``."""

    @classmethod
    def resolve_benchmark(
        cls, dataset: str, benchmark: object, **kwargs: Any
    ) -> TabularBenchmark[Any]:
        """Return ``benchmark`` after checking it, or build the one of ``dataset``.

        Raises:
            UnknownOptionError: ``benchmark`` is not a :class:`TabularBenchmark` over
                :attr:`space_type`.
        """
        if benchmark is None:
            return cls.make_benchmark(dataset, **kwargs)
        if not isinstance(benchmark, TabularBenchmark):
            raise UnknownOptionError(
                f"benchmark must be a nasgym TabularBenchmark instance, got "
                f"{benchmark!r}; to choose a dataset, pass dataset=... instead"
            )
        if not isinstance(benchmark.space, cls.space_type):
            raise UnknownOptionError(
                f"{cls.__name__} needs a benchmark over {cls.space_type.__name__}, "
                f"got one over {benchmark.space!r}"
            )
        return benchmark

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
        self._needs_reset = False
        scalar = self._scalar
        if scalar is not None:
            if seed is not None:
                scalar.restart()
            scalar.reset(self.np_random)
            return scalar.observe(), scalar.info()
        if seed is not None:
            self._core.restart(self._idx)
        self._mode.reset_searches(self._idx, [self.np_random])
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Apply one action; see the class docstring for its semantics."""
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step()")
        scalar = self._scalar
        if scalar is not None:
            reward = scalar.step(action)
            return scalar.observe(), reward, False, scalar.truncated(), scalar.info()
        batch = np.asarray(action)[None]
        reward = float(self._mode.step_searches(self._idx, batch)[0])
        truncated = bool(self._core.truncated(self._idx)[0])
        return self._observation(), reward, False, truncated, self._info()

    def action_masks(self) -> BoolArray:
        """Legal actions now (sb3-contrib's MaskablePPO convention).

        Edit envs mask edits that would not change the architecture or would make it
        invalid; other modes allow every action.
        """
        if isinstance(self._mode, EditMode):
            if self._scalar is not None and not self._needs_reset:
                fresh: BoolArray = self._scalar.action_mask().copy()
                return fresh
            mask: BoolArray = self._mode.masks(self._idx)[0]
            return mask
        space = self.action_space
        if isinstance(space, gym.spaces.MultiDiscrete):
            return np.ones(int(space.nvec.sum()), dtype=bool)
        raise AttributeError(
            f"{type(self).__name__} has continuous actions: no action masks"
        )

    def edit_targets(self) -> list[str | None]:
        """Where each edit action leads from the current architecture (no query).

        Edit envs only. Entry ``a`` is the ``info["arch"]`` string that action ``a``
        would reach, ``None`` where :meth:`action_masks` forbids it. Nothing is
        evaluated and no counter moves: this is the space's edit rule applied to the
        current architecture, so search agents can plan moves (e.g. edit back after
        a probe) through the public API.

        Raises:
            AttributeError: Not an edit env.
            gymnasium.error.ResetNeeded: Before the first ``reset``.
        """
        if not isinstance(self._mode, EditMode):
            raise AttributeError(f"{type(self).__name__} is not an edit env")
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before edit_targets()")
        code = int(self._info()["arch_code"])
        n = self.search_space.num_edits
        codes = self.search_space.apply_edits(
            np.full(n, code, dtype=np.int64), np.arange(n, dtype=np.int64)
        )
        names = arch_string_table(self.search_space)[codes]
        mask = self.action_masks()
        return [str(name) if ok else None for name, ok in zip(names, mask, strict=True)]

    def render(self) -> str | None:
        """Return a one-line text summary of the search (``render_mode="ansi"``)."""
        if self.render_mode != "ansi":
            return None
        return render_summary(self.step_count, self._info())

    # --------------------------------------------------------------- helpers
    def _observation(self) -> Any:
        if self._scalar is not None:
            return self._scalar.observe()
        obs = self._mode.observe(self._idx)
        if isinstance(obs, dict):
            return {k: v[0] for k, v in obs.items()}
        return obs[0]

    def _info(self) -> dict[str, Any]:
        if self._scalar is not None:
            return self._scalar.info()
        info = self._core.info(0)
        info.update(self._mode.extra_info(0))
        return info

    def search_info(self) -> dict[str, Any]:
        """The current ``info`` dict of the search (e.g. after training stopped)."""
        return self._info()

    @property
    def horizon(self) -> int:
        """Steps per episode."""
        return self._core.horizon

    @property
    def max_queries(self) -> int | None:
        """The query budget of the search (``None``: unlimited)."""
        return self._core.max_queries

    @property
    def top_k(self) -> int:
        """History size behind the Continuous observation."""
        return self._core.top_k

    @property
    def action_choices(self) -> tuple[int, ...]:
        """Continuous envs: choices per slot of the flat score action, in order.

        Slot ``s`` owns ``max_choices`` consecutive scores of the action; only its
        first ``action_choices[s]`` are read (the rest pad shorter slots).

        Raises:
            AttributeError: Not a continuous env.
        """
        if not isinstance(self._mode, ContinuousMode):
            raise AttributeError(f"{type(self).__name__} is not a continuous env")
        return tuple(int(n) for n in self.search_space.nvec)

    @property
    def optimum(self) -> float:
        """The benchmark's optimum of the reported metric (``regret`` is against it)."""
        return float(self._core.optimum)

    @property
    def step_count(self) -> int:
        """Steps taken in the current episode."""
        return self._scalar.t if self._scalar is not None else int(self._core.t[0])


class TabularNASVectorEnv(VectorEnv[Any, Any, Any]):
    """``num_envs`` searches of one tabular env class, stepped in one NumPy call.

    Sub-env ``i`` of ``reset(seed=s)`` is seeded ``s + i``, as in ``SyncVectorEnv``,
    and episodes autoreset on the next step (Gymnasium's ``NEXT_STEP`` mode).
    """

    metadata: dict[str, Any] = {
        "render_modes": [],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }
    env_class: ClassVar[type[TabularNASEnv]]

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        if (
            not isinstance(num_envs, (int, np.integer))
            or isinstance(num_envs, bool)
            or num_envs < 1
        ):
            raise UnknownOptionError(
                f"num_envs must be a positive integer, got {num_envs!r}"
            )
        template = self.env_class(**kwargs)
        self.num_envs = int(num_envs)
        self.benchmark = template.benchmark
        self.search_space = template.search_space
        settings = template._core
        self._mode = build_mode(
            template.mode,
            template.benchmark,
            self.num_envs,
            reward=settings.shaping.name,
            alpha=settings.shaping.alpha,
            horizon=settings.horizon,
            max_queries=settings.max_queries,
            top_k=settings.top_k,
            invalid_action=template._mode.invalid_action,
            invalid_reward=template._mode.invalid_reward,
            signal=settings.signal,
        )
        self._core = self._mode.core
        self.single_action_space = template.action_space
        self.single_observation_space = template.observation_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(
            self.single_observation_space, self.num_envs
        )
        self._rngs: list[np.random.Generator] = [
            seeding.np_random(None)[0] for _ in range(self.num_envs)
        ]
        self._all = np.arange(self.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._started = False
        self._best_memo: tuple[Any, Any] | None = None
        self._present = np.ones(self.num_envs, dtype=bool)
        self._present.setflags(write=False)

    def reset(
        self,
        *,
        seed: int | list[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every sub-env (seeded ``seed + i``, or per-env seeds from a list)."""
        seeds: list[int | None]
        if seed is None:
            seeds = [None] * self.num_envs
        elif isinstance(seed, bool):
            raise UnknownOptionError(f"seed must be an integer or a list, got {seed!r}")
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise UnknownOptionError(
                    f"got {len(seeds)} seeds for {self.num_envs} envs; pass one per env"
                )
        restart = [i for i, s in enumerate(seeds) if s is not None]
        for i in restart:
            self._rngs[i] = seeding.np_random(seeds[i])[0]
        if restart:
            self._core.restart(np.array(restart, dtype=np.int64))
        self._mode.reset_searches(self._all, self._rngs)
        self._autoreset[:] = False
        self._started = True
        return self._mode.observe(self._all), self._infos()

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Step all sub-envs; those that ended on the previous step reset instead."""
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        rewards = np.zeros(self.num_envs)
        resetting = np.flatnonzero(self._autoreset)
        stepping = np.flatnonzero(~self._autoreset)
        if resetting.size:
            self._mode.reset_searches(
                resetting, [self._rngs[int(i)] for i in resetting]
            )
        if stepping.size:
            acts = np.asarray(actions)
            if acts.ndim == 0 or acts.shape[0] != self.num_envs:
                raise InvalidActionError(
                    f"expected a batch of {self.num_envs} actions, "
                    f"got shape {acts.shape}"
                )
            acts = acts if resetting.size == 0 else acts[stepping]
            rewards[stepping] = self._mode.step_searches(stepping, acts)
        truncated = np.zeros(self.num_envs, dtype=bool)
        truncated[stepping] = self._core.truncated(stepping)
        self._autoreset = truncated.copy()
        terminated = np.zeros(self.num_envs, dtype=bool)
        return (
            self._mode.observe(self._all),
            rewards,
            terminated,
            truncated,
            self._infos(),
        )

    def action_masks(self) -> BoolArray:
        """Legal actions of every sub-env, shape ``(num_envs, n_actions)``."""
        if isinstance(self._mode, EditMode):
            return self._mode.masks(self._all)
        raise AttributeError("only edit envs have action masks")

    def _infos(self) -> dict[str, Any]:
        core = self._core
        best = core.best_code >= 0
        current = core.current
        space = self.search_space
        infos: dict[str, Any] = {
            "arch": arch_names(space, current),
            "arch_code": current.copy(),
            "arch_class": np.where(current >= 0, space.canonical_codes[current], -1),
            "valid_accuracy": core.last_valid.copy(),
            "test_accuracy": core.last_test.copy(),
            "new_query": core.last_new.copy(),
            "queries": core.queries.copy(),
            "best_arch": self._best_names(),
            "best_valid_accuracy": np.where(best, core.best_valid, np.nan),
            "best_test_accuracy": core.best_test.copy(),
            "regret": core.optimum - core.best_test,
            "sim_time_s": core.sim_time.copy()
            if core.time_table is not None
            else np.full(self.num_envs, None, dtype=object),
            "budget_exhausted": core.queries >= core.max_queries
            if core.max_queries is not None
            else np.zeros(self.num_envs, dtype=bool),
        }
        if core.signal is not None:
            infos[core.signal.info_key] = core.last_score.copy()
            infos[core.signal.value_key] = core.last_signal.copy()
        if isinstance(self._mode, EditMode):
            infos["action_mask"] = self._mode.masks(self._all)
        infos["invalid_action"] = self._mode.last_invalid.copy()
        present = self._present
        for key in list(infos):
            infos[f"_{key}"] = present
        return infos

    def _best_names(self) -> Any:
        best = self._core.best_code
        if self._best_memo is None or not np.array_equal(self._best_memo[0], best):
            self._best_memo = (best.copy(), arch_names(self.search_space, best))
        return self._best_memo[1].copy()

    @property
    def core(self) -> SearchCore:
        """The batched search state."""
        return self._core
