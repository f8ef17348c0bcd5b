"""Gymnasium environments over tabular benchmarks (single and vectorised).

:class:`TabularNASEnv` owns ``reset``, ``step``, seeding and the ``info`` contract;
concrete environments only choose a benchmark and a mode. :class:`TabularNASVectorEnv`
steps ``num_envs`` searches in one batched NumPy call; ``gym.make_vec(id, num_envs=N)``
gives it for every registered tabular id, with the same results as N single envs
seeded ``seed, seed + 1, ...``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from nasgym.benchmarks.base import FloatArray, TabularBenchmark
from nasgym.envs.core import (
    MODES,
    ContinuousMode,
    EditMode,
    Mode,
    QueryMode,
    SearchCore,
    multidiscrete_mask_tuple,
    render_summary,
)
from nasgym.envs.keywords import StrictKeywords
from nasgym.envs.scalar import ScalarSearch
from nasgym.envs.tables import arch_names, arch_string_table
from nasgym.error import InvalidActionError, UnknownOptionError, unknown_option
from nasgym.objectives import (
    ACCURACY,
    TableObjectives,
    check_names,
    check_unused,
    table_names,
)
from nasgym.render import CellView, categorical_views, make_renderer
from nasgym.rewards import RewardShaping, RewardSignal
from nasgym.spaces.base import BoolArray, CategoricalSearchSpace, IntArray

#: Default episode length (docs/methods/cassimon.md#mdp-and-reward-shaping: fixed
#: horizon, truncation only).
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


def distinct_codes(core: SearchCore) -> IntArray:
    """Codes of the distinct architectures a search over ``core`` can query.

    Every valid code, or one code per isomorphism class where the benchmark shares
    one entry per class (NAS-Bench-Graph).
    """
    valid = core.space.valid_codes
    if core.entry is core.space.canonical_codes:
        rows: IntArray = np.unique(core.space.canonical_codes[valid])
        return rows
    return np.asarray(valid, dtype=np.int64)


def objective_columns(
    core: SearchCore, names: Sequence[str], accuracy: str = "valid"
) -> tuple[dict[str, FloatArray], dict[str, str]]:
    """Raw tables over codes and units of the objectives ``names``.

    ``"valid_accuracy"`` is the rewarded validation metric (``accuracy="valid"``) or
    the reported test metric (``accuracy="test"``), in percent.

    Raises:
        UnknownOptionError: Unknown cost (lists the backend's) or ``accuracy``.
        BenchmarkDataMissingError: A cost whose data is not imported or partial.
    """
    if accuracy not in ("valid", "test"):
        raise unknown_option("accuracy", accuracy, ("valid", "test"))
    bench = core.benchmark
    columns: dict[str, FloatArray] = {}
    units: dict[str, str] = {}
    for name in names:
        if name == ACCURACY:
            columns[name] = core.valid_table if accuracy == "valid" else core.test_table
            units[name] = "%"
        else:
            columns[name] = bench.cost_table(name)
    if len(units) < len(names):
        specs = bench.costs()
        units.update({n: specs[n].unit for n in names if n != ACCURACY})
    return columns, units


def table_objectives(
    core: SearchCore,
    objectives: Sequence[str] | None,
    invalid_reward: float,
    options: dict[str, Any],
) -> TableObjectives | None:
    """The objectives of a tabular env (``None`` without ``objectives``).

    Raises:
        UnknownOptionError: Bad names or reward options (see
            :class:`nasgym.objectives.Objectives`).
    """
    if objectives is None:
        check_unused(options)
        return None
    names = check_names(objectives)
    columns, units = objective_columns(core, names)
    return TableObjectives(
        names,
        columns,
        units,
        distinct_codes(core),
        invalid_reward=invalid_reward,
        **options,
    )


class TabularNASEnv(StrictKeywords, gym.Env[Any, Any], ABC):
    """Template of every tabular NAS environment (see the concrete classes' docs).

    Subclasses set :attr:`mode` and implement :meth:`make_benchmark`.
    """

    metadata: dict[str, Any] = {
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 4,
    }
    #: Cells drawn per architecture by the image render modes (NB301: 2).
    cells_per_arch: ClassVar[int] = 1
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
        objectives: Sequence[str] | None = None,
        mo_reward: str | None = None,
        mo_alpha: float = 0.5,
        cost_weights: float | Sequence[float] | None = None,
        cost_threshold: float | Sequence[float] | None = None,
        constraint_penalty: float = 0.0,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise unknown_option(
                "render_mode", render_mode, self.metadata["render_modes"]
            )
        self.render_mode = render_mode
        self._renderer = make_renderer(render_mode, self.metadata["render_fps"])
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
        self._mo_options: dict[str, Any] = {
            "mo_reward": mo_reward,
            "mo_alpha": mo_alpha,
            "cost_weights": cost_weights,
            "cost_threshold": cost_threshold,
            "constraint_penalty": constraint_penalty,
        }
        self._objectives = table_objectives(
            self._core, objectives, self._mode.invalid_reward, self._mo_options
        )
        #: MO-Gymnasium's ``reward_space`` (a ``Box``) with a vector reward, else
        #: ``None``.
        self.reward_space: gym.spaces.Box | None = (
            self._objectives.objectives.reward_space()
            if self._objectives is not None and self._objectives.objectives.vector
            else None
        )
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
        cls,
        dataset: str | None,
        benchmark: object,
        *,
        default_dataset: str,
        reward_metric: str | None = None,
        report_metric: str | None = None,
    ) -> TabularBenchmark[Any]:
        """Return ``benchmark`` after checking it, or build the one of ``dataset``.

        ``dataset``, ``reward_metric`` and ``report_metric`` are honoured with a
        given ``benchmark`` too: the metrics select its columns (a copy sharing its
        tables), and a ``dataset`` other than the benchmark's is an error (a
        benchmark holds one dataset's numbers). ``None`` means the default: the
        benchmark's own, or ``default_dataset`` and the env's default metrics.

        Raises:
            UnknownOptionError: ``benchmark`` is not a :class:`TabularBenchmark` over
                :attr:`space_type`, its dataset differs from ``dataset``, or it lacks
                a requested metric.
        """
        metrics = {
            k: v
            for k, v in (
                ("reward_metric", reward_metric),
                ("report_metric", report_metric),
            )
            if v is not None
        }
        if benchmark is None:
            return cls.make_benchmark(dataset or default_dataset, **metrics)
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
        if dataset is not None and dataset != benchmark.dataset:
            raise UnknownOptionError(
                f"dataset={dataset!r} conflicts with benchmark= ({benchmark.name}, "
                f"dataset {benchmark.dataset!r}): a benchmark holds one dataset's "
                f"numbers; drop dataset= or pass a benchmark built for {dataset!r}"
            )
        return benchmark.with_metrics(**metrics) if metrics else benchmark

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
            self._render_human()
            return scalar.observe(), self._info()
        if seed is not None:
            self._core.restart(self._idx)
        self._mode.reset_searches(self._idx, [self.np_random])
        self._render_human()
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Apply one action; see the class docstring for its semantics."""
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step()")
        scalar = self._scalar
        reward: Any
        if scalar is not None:
            if self._objectives is None and self.render_mode != "human":
                # The common case in three calls: what the general path below does
                # without objectives or a window.
                reward = scalar.step(action)
                obs = scalar.observe()
                return obs, reward, False, scalar.truncated(), scalar.info()
            reward = scalar.step(action)
            if self._objectives is not None:
                reward = self._mo_reward(reward, scalar.last_invalid, scalar.current)
            self._render_human()
            return scalar.observe(), reward, False, scalar.truncated(), self._info()
        batch = np.asarray(action)[None]
        reward = float(self._mode.step_searches(self._idx, batch)[0])
        if self._objectives is not None:
            reward = self._mo_reward(
                reward, self._mode.last_invalid[0], int(self._core.current[0])
            )
        truncated = bool(self._core.truncated(self._idx)[0])
        self._render_human()
        return self._observation(), reward, False, truncated, self._info()

    def _mo_reward(self, shaped: float, rejected: str | None, code: int) -> Any:
        """The multi-objective reward of a step (``shaped``: its accuracy reward)."""
        assert self._objectives is not None
        if rejected is not None:
            return self._objectives.objectives.rejected()
        return self._objectives.reward(shaped, code)

    # ----------------------------------------------------------- objectives
    @property
    def objectives(self) -> tuple[str, ...] | None:
        """The ``objectives`` option (``None``: accuracy only, scalar reward)."""
        return None if self._objectives is None else self._objectives.objectives.names

    @property
    def objective_units(self) -> dict[str, str]:
        """Unit of each objective (``{}`` without ``objectives``)."""
        if self._objectives is None:
            return {}
        spec = self._objectives.objectives
        return dict(zip(spec.names, spec.units, strict=True))

    def objective_table(
        self, names: Sequence[str] | None = None, *, accuracy: str = "valid"
    ) -> FloatArray:
        """Raw objective values of every distinct architecture the env can query.

        Args:
            names: Objective names (default: the env's ``objectives``).
            accuracy: ``"valid"``: the ``"valid_accuracy"`` column is the rewarded
                validation metric; ``"test"``: the reported test metric.

        Returns:
            ``(n_archs, k)`` float64, columns in ``names`` order, accuracy in percent
            and costs in their units; one row per valid code, or per isomorphism
            class where the benchmark shares entries (NAS-Bench-Graph).

        Raises:
            UnknownOptionError: No names given and the env has no ``objectives``, an
                unknown cost (lists the backend's) or ``accuracy``.
        """
        names = table_names(
            names,
            None if self._objectives is None else self._objectives.objectives.names,
        )
        columns, _ = objective_columns(self._core, names, accuracy)
        rows = distinct_codes(self._core)
        return np.stack([columns[n][rows] for n in names], axis=1)

    @property
    def action_masks(self) -> Callable[[], BoolArray]:
        """``env.action_masks()``: legal actions now (sb3-contrib's MaskablePPO form).

        Edit envs mask edits that would not change the architecture or would make it
        invalid (a ``Discrete`` mask); Query envs allow every choice (the flat
        ``MultiDiscrete`` mask, ``sum(nvec)`` booleans; :meth:`action_mask_tuple`
        gives Gymnasium's form). Continuous envs have no masks: the attribute does
        not exist there (``hasattr(env, "action_masks")`` is false), so
        sb3-contrib's ``is_masking_supported`` is not fooled.

        Raises:
            AttributeError: On a continuous env.
        """
        if isinstance(self._mode, EditMode):
            return self._edit_masks
        if isinstance(self.action_space, gym.spaces.MultiDiscrete):
            return self._query_masks
        raise AttributeError(
            f"{type(self).__name__} has continuous actions: no action masks"
        )

    def _edit_masks(self) -> BoolArray:
        if self._scalar is not None and not self._needs_reset:
            fresh: BoolArray = self._scalar.action_mask().copy()
            return fresh
        assert isinstance(self._mode, EditMode)
        mask: BoolArray = self._mode.masks(self._idx)[0]
        return mask

    def _query_masks(self) -> BoolArray:
        space = self.action_space
        assert isinstance(space, gym.spaces.MultiDiscrete)
        return np.ones(int(space.nvec.sum()), dtype=bool)

    @property
    def action_mask_tuple(self) -> Callable[[], tuple[NDArray[np.int8], ...]]:
        """``env.action_mask_tuple()``: the Query mask in Gymnasium's form.

        One ``int8`` array per slot (``len(nvec[i])`` ones: every choice is legal),
        the form ``env.action_space.sample(mask=...)`` of a ``MultiDiscrete`` space
        takes; :attr:`action_masks` gives the same mask flat, as sb3-contrib
        expects.

        Raises:
            AttributeError: Not a Query (``MultiDiscrete``) env.
        """
        if not isinstance(self.action_space, gym.spaces.MultiDiscrete):
            raise AttributeError(
                f"{type(self).__name__} has no MultiDiscrete actions: "
                "action_mask_tuple exists on Query envs only"
            )
        return partial(multidiscrete_mask_tuple, self.action_space)

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

    def cell_views(self, arch: str) -> list[CellView]:
        """The cell graph of ``arch`` (the ``info["arch"]`` form), for drawing.

        Raises:
            InvalidArchitectureError: ``arch`` is not a string of this space.
        """
        return categorical_views(self.search_space, arch)

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
            info = self._scalar.info()
            if self._objectives is not None:
                self._add_objectives(info, self._scalar.current, self._scalar.best_code)
            return info
        info = self._core.info(0)
        info.update(self._mode.extra_info(0))
        if self._objectives is not None:
            self._add_objectives(
                info, int(self._core.current[0]), int(self._core.best_code[0])
            )
        return info

    def _add_objectives(self, info: dict[str, Any], code: int, best: int) -> None:
        """Add ``objectives``, ``incumbent_objectives``, ``constraint_violated``."""
        table = self._objectives
        assert table is not None
        info["objectives"] = table.values(code)
        info["incumbent_objectives"] = table.values(best)
        if table.objectives.constrained:
            info["constraint_violated"] = code >= 0 and table.violated(code)

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
        self._objectives = template._objectives
        #: MO-Gymnasium's ``reward_space`` of one sub-env (``None``: scalar reward).
        self.reward_space = template.reward_space
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
        if self._objectives is not None:
            rewards = self._mo_rewards(rewards, stepping)
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

    def _mo_rewards(self, shaped: FloatArray, stepping: IntArray) -> FloatArray:
        """Multi-objective rewards: ``(num_envs, k)`` (vector form) or ``(num_envs,)``.

        Sub-envs that autoreset get 0; rejected actions ``invalid_reward``.
        """
        assert self._objectives is not None
        objectives = self._objectives.objectives
        shape = (self.num_envs, objectives.k) if objectives.vector else self.num_envs
        out = np.zeros(shape)
        accepted = stepping[self._mode.last_invalid[stepping] == None]  # noqa: E711
        rejected = np.setdiff1d(stepping, accepted)
        out[rejected] = objectives.invalid_reward
        if accepted.size:
            raw = self._objectives.matrix[self._core.current[accepted]]
            out[accepted] = objectives.rewards(shaped[accepted], raw)
        return out.astype(np.float32) if objectives.vector else out

    @property
    def action_masks(self) -> Callable[[], BoolArray]:
        """``envs.action_masks()``: legal actions of every sub-env, ``(num_envs, n)``.

        Edit envs only; elsewhere the attribute does not exist.

        Raises:
            AttributeError: Not an edit env.
        """
        if isinstance(self._mode, EditMode):
            return partial(self._mode.masks, self._all)
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
        if self._objectives is not None:
            self._add_objectives(infos)
        for key in list(infos):
            infos[f"_{key}"] = present
        return infos

    def _add_objectives(self, infos: dict[str, Any]) -> None:
        """Batched ``objectives`` / ``incumbent_objectives`` (dicts of arrays)."""
        assert self._objectives is not None
        matrix = self._objectives.matrix
        objectives = self._objectives.objectives
        present = self._present
        for key, codes in (
            ("objectives", self._core.current),
            ("incumbent_objectives", self._core.best_code),
        ):
            values = matrix[codes]
            nested: dict[str, Any] = {}
            for j, name in enumerate(objectives.names):
                nested[name] = values[:, j].copy()
                nested[f"_{name}"] = present
            infos[key] = nested
        if objectives.constrained:
            current = self._core.current
            infos["constraint_violated"] = (current >= 0) & objectives.violated(
                matrix[current]
            )

    def _best_names(self) -> Any:
        best = self._core.best_code
        if self._best_memo is None or not np.array_equal(self._best_memo[0], best):
            self._best_memo = (best.copy(), arch_names(self.search_space, best))
        return self._best_memo[1].copy()

    @property
    def core(self) -> SearchCore:
        """The batched search state."""
        return self._core
