"""Once-for-All MobileNetV3 environments (edits, whole configs, L2NAS scores).

The space (about 1e20 architectures, :mod:`nasgym.spaces.ofa`) cannot be enumerated,
so the envs use the keyed search machinery of :mod:`nasgym.envs.keyed`: the current
architecture is a canonical choice vector and caches are keyed by
:meth:`nasgym.spaces.ofa.OFASpace.key`. The reward input is the OFA accuracy
predictor's ImageNet top-1 (a surrogate), run in NumPy (:mod:`nasgym.benchmarks.ofa`);
predictions are cached per env and shared by the sub-envs of a vector env, which
predict every sub-env's next architecture in one batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from nasgym.benchmarks.ofa import OFABenchmark
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
from nasgym.error import InvalidActionError, UnknownOptionError
from nasgym.objectives import ACCURACY, unknown_cost
from nasgym.spaces.ofa import (
    LABEL_NAMES,
    LABEL_PAD,
    MAX_VERTICES,
    NUM_STAGES,
    RESOLUTIONS,
    OFASpace,
    apply_edit,
    chain_graph,
    decode_scores,
    describe_edit,
    edit_mask,
    edit_table,
    score_features,
    vector_key,
)

if TYPE_CHECKING:
    from nasgym.render import CellView

Float32Array = NDArray[np.float32]
#: Most predictions an env caches before starting over.
MAX_CACHED = 1 << 20

_BENCHMARKS: dict[tuple[str | None, tuple[int, ...], int], OFABenchmark] = {}


def shared_benchmark(
    path: str | os.PathLike[str] | None = None,
    resolutions: Sequence[int] = RESOLUTIONS,
) -> OFABenchmark:
    """One :class:`OFABenchmark` per table, resolution list and process.

    Raises:
        BenchmarkDataMissingError: ``ofa.npz`` was not imported.
        CorruptDataError: It fails its checks.
    """
    space = OFASpace(resolutions)
    key = (None if path is None else str(path), space.resolutions, os.getpid())
    bench = _BENCHMARKS.get(key)
    if bench is None:
        bench = _BENCHMARKS[key] = OFABenchmark(space, path=path)
    return bench


class _OFAEnv(KeyedNASEnv):
    default_alpha: ClassVar[float] = 32.0

    def __init__(
        self,
        *,
        benchmark: OFABenchmark | None = None,
        path: str | os.PathLike[str] | None = None,
        resolutions: Sequence[int] = RESOLUTIONS,
        reward: str | None = None,
        alpha: float | None = None,
        horizon: int = DEFAULT_HORIZON,
        max_queries: int | None = None,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
        render_mode: str | None = None,
        objectives: Sequence[str] | None = None,
        mo_reward: str | None = None,
        mo_alpha: float = 0.5,
        cost_weights: float | Sequence[float] | None = None,
        cost_threshold: float | Sequence[float] | None = None,
        constraint_penalty: float = 0.0,
    ) -> None:
        mo_options: dict[str, Any] = {
            "mo_reward": mo_reward,
            "mo_alpha": mo_alpha,
            "cost_weights": cost_weights,
            "cost_threshold": cost_threshold,
            "constraint_penalty": constraint_penalty,
        }
        if benchmark is None:
            benchmark = shared_benchmark(path, resolutions)
        elif not isinstance(benchmark, OFABenchmark):
            raise UnknownOptionError(
                f"benchmark must be an OFABenchmark, got {benchmark!r}"
            )
        self.benchmark = benchmark
        self.space: OFASpace = benchmark.space
        self._res = self.space.resolutions
        self._setup(
            reward=reward,
            alpha=alpha,
            horizon=horizon,
            max_queries=max_queries,
            invalid_action=invalid_action,
            invalid_reward=invalid_reward,
            render_mode=render_mode,
            optimum=benchmark.optimum,
            has_cost=False,
        )
        n_res = len(self._res)
        self.observation_space = spaces.Dict(
            {
                "adjacency": spaces.Box(
                    0.0, 1.0, (MAX_VERTICES, MAX_VERTICES), np.float32
                ),
                "ops": spaces.Box(
                    0.0, 1.0, (MAX_VERTICES, len(LABEL_NAMES)), np.float32
                ),
                "stage": spaces.Box(0.0, 1.0, (MAX_VERTICES, NUM_STAGES), np.float32),
                "node_mask": spaces.Box(0.0, 1.0, (MAX_VERTICES,), np.float32),
                "resolution": spaces.Box(0.0, 1.0, (n_res,), np.float32),
                "stats": spaces.Box(0.0, 1.0, (NUM_STATS,), np.float32),
            }
        )
        self._values: dict[str, tuple[float, ...]] = {}
        self._row: list[int] | None = None
        #: ``(row, key)`` the vector env found for this sub-env's next step (it
        #: already checked the action and predicted the row); ``None`` otherwise.
        self._planned: tuple[list[int], str] | None = None
        self._setup_objectives(
            objectives,
            mo_options if objectives is None else {"clip": True, **mo_options},
            self._objective_bounds,
        )

    # ------------------------------------------------------------ objectives
    def _objective_bounds(
        self, names: tuple[str, ...]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[str, ...]]:
        """Accuracy: the import sample's minimum to the search's optimum; costs exact."""
        costs = self.benchmark.cost_objectives
        low, high, units = [], [], []
        for name in names:
            if name == ACCURACY:
                low.append(float(self.benchmark.sample_top1.min()))
                high.append(self.benchmark.optimum)
                units.append("%")
                continue
            if name not in costs:
                raise unknown_cost("ofa", name, tuple(costs))
            if name == "latency" and not self.benchmark.has_latency:
                raise UnknownOptionError(
                    f"the Note10 latency tables cover resolutions 160..224 only; "
                    f"resolutions={list(self._res)} has no latency objective"
                )
            lo, hi = self.benchmark.cost_bounds(name)
            low.append(lo)
            high.append(hi)
            units.append(costs[name][0])
        return np.asarray(low), np.asarray(high), tuple(units)

    def predict(
        self, vectors: NDArray[np.int64] | Sequence[Sequence[int]], keys: list[str]
    ) -> list[tuple[float, ...]]:
        """``(top-1 %, latency ms, MFLOPs, params M)`` of canonical vectors.

        One batched predictor call for the keys not cached yet; ``vectors`` (an
        ``(N, 46)`` array or N lists) is only converted to an array on a miss.
        """
        missing = [i for i, k in enumerate(keys) if k not in self._values]
        if missing:
            if len(self._values) + len(missing) > MAX_CACHED:
                self._values.clear()
            batch = np.asarray(vectors, dtype=np.int64)[missing]
            bench = self.benchmark
            columns = (
                bench.top1(batch),
                bench.latency_ms(batch),
                bench.flops_m(batch),
                bench.params_m(batch),
            )
            for j, i in enumerate(missing):
                self._values[keys[i]] = tuple(float(c[j]) for c in columns)
        return [self._values[k] for k in keys]

    def _move(self, row: list[int], key: str) -> float:
        """Move to a canonical vector and query it."""
        ((top1, latency, flops, params),) = self.predict([row], [key])
        self._row = row
        self._moved(row, key, top1)
        reward = self._search.evaluate(key, key, -1, top1, top1, 0.0)
        if self._objectives is not None:
            by_name = {
                ACCURACY: top1,
                "latency": latency,
                "flops": flops,
                "params": params,
            }
            self._hold_objectives(
                key, np.array([by_name[n] for n in self._objectives.names])
            )
        return reward

    def _moved(self, row: list[int], key: str, top1: float) -> None:
        """Hook: the state just became ``row`` (before the search records it)."""

    def _take_planned(self) -> tuple[list[int], str] | None:
        """The vector env's ``(row, key)`` for this step, once (see ``_planned``)."""
        planned, self._planned = self._planned, None
        return planned

    def _query(self, row: list[int], what: str, key: str | None = None) -> float:
        if key is None:
            key = vector_key(row, self._res)
        blocked = self._budget_blocks(key, what)
        if blocked is not None:
            return self._reject(blocked)
        self._search.t += 1
        return self._move(row, key)

    def _graph(self) -> dict[str, Float32Array]:
        n_res = len(self._res)
        if self._row is None:
            ops = np.zeros((MAX_VERTICES, len(LABEL_NAMES)), dtype=np.float32)
            ops[:, LABEL_PAD] = 1.0
            return {
                "adjacency": np.zeros((MAX_VERTICES, MAX_VERTICES), np.float32),
                "ops": ops,
                "stage": np.zeros((MAX_VERTICES, NUM_STAGES), np.float32),
                "node_mask": np.zeros(MAX_VERTICES, np.float32),
                "resolution": np.zeros(n_res, np.float32),
                "stats": self._search.stats(),
            }
        graph = chain_graph(self._row, self._res)
        stage = np.zeros((MAX_VERTICES, NUM_STAGES), np.float32)
        on = graph["stage"] >= 0
        stage[np.flatnonzero(on), graph["stage"][on]] = 1.0
        resolution = np.zeros(n_res, np.float32)
        resolution[self._row[-1]] = 1.0
        return {
            "adjacency": graph["adjacency"].astype(np.float32),
            "ops": np.eye(len(LABEL_NAMES), dtype=np.float32)[graph["labels"]],
            "stage": stage,
            "node_mask": graph["node_mask"].astype(np.float32),
            "resolution": resolution,
            "stats": self._search.stats(),
        }

    def cell_views(self, arch: str) -> list[CellView]:
        """The chain stem -> active blocks -> head of ``arch`` (an OFA key), for drawing.

        Raises:
            InvalidArchitectureError: ``arch`` is not an OFA key of this space.
        """
        from nasgym.render import CellView

        graph = self.space.graph(self.space.from_string(arch))
        labels = [
            None if not on else LABEL_NAMES[int(label)]
            for label, on in zip(graph["labels"], graph["node_mask"], strict=True)
        ]
        title = f"OFA MobileNetV3 at {int(graph['resolution'])} px"
        return [CellView.from_arrays(graph["adjacency"], labels, title)]

    @property
    def config(self) -> dict[str, list[int]] | None:
        """The current architecture in OFA's dict form, ``None`` before a query."""
        if self._row is None:
            return None
        return self.space.to_dict(self.space.from_vector(self._row))


class OFAMBv3EditEnv(_OFAEnv):
    """OFA graph-edit env (full docstring assigned below)."""

    mode: ClassVar[str] = "edit"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._edits = edit_table(len(self._res))
        self.action_space = spaces.Discrete(len(self._edits))
        self._masks = np.zeros(len(self._edits), dtype=bool)
        self._masks.setflags(write=False)
        self._best_row: list[int] | None = None

    def _restart(self) -> None:
        self._best_row = None

    def _moved(self, row: list[int], key: str, top1: float) -> None:
        masks = edit_mask(row, len(self._res))
        masks.setflags(write=False)
        self._masks = masks
        if top1 > self._search.best_valid:
            self._best_row = row

    def _start(self, rng: np.random.Generator) -> None:
        if self._search.spent and self._best_row is not None:
            row = self._best_row
        else:
            row = self.space.sample_vectors(1, rng)[0].tolist()
        self._move(row, vector_key(row, self._res))

    def _target(self, action: Any) -> list[int] | None:
        """The canonical vector edit ``action`` reaches (``None``: masked)."""
        action = edit_index(action, len(self._edits))
        assert self._row is not None
        if not self._masks[action]:
            return None
        return apply_edit(self._row, self._edits[action])

    def _act(self, action: Any) -> float:
        planned = self._take_planned()
        if planned is not None:
            index = edit_index(action, len(self._edits))
            return self._query(planned[0], f"edit action {index}", planned[1])
        row = self._target(action)
        action = edit_index(action, len(self._edits))
        if row is None:
            return self._reject(
                f"edit action {action} ({describe_edit(self._edits[action], self._res)})"
                f" is masked in the current state: it would not change the "
                f"architecture (inactive layer, same value, or depth at its limit); "
                f"use env.action_masks() to choose legal actions"
            )
        return self._query(row, f"edit action {action}")

    def _observe(self) -> dict[str, Float32Array]:
        return self._graph()

    def _mask(self) -> NDArray[np.bool_]:
        return self._masks

    def edit_targets(self) -> list[str | None]:
        """Where each edit action leads from the current architecture (no query).

        Entry ``a`` is the canonical key (``info["arch"]`` form) that action ``a``
        reaches, ``None`` where :meth:`action_masks` forbids it.

        Raises:
            gymnasium.error.ResetNeeded: Before the first ``reset``.
        """
        if self._needs_reset or self._row is None:
            raise gym.error.ResetNeeded("call reset() before edit_targets()")
        out: list[str | None] = []
        for edit, legal in zip(self._edits, self._masks.tolist(), strict=True):
            row = apply_edit(self._row, edit) if legal else None
            out.append(None if row is None else vector_key(row, self._res))
        return out


class OFAMBv3QueryEnv(_OFAEnv):
    """OFA black-box query env (full docstring assigned below)."""

    mode: ClassVar[str] = "query"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._nvec = list(self.space.nvec)
        self.action_space = spaces.MultiDiscrete(self._nvec)

    def _start(self, rng: np.random.Generator) -> None:
        self._row = None

    def _target(self, action: Any) -> list[int]:
        """The canonical vector of a query (inactive layers' entries ignored)."""
        values = int_vector(action, self._nvec, lambda s: self.space.slot_names[s])
        row: list[int] = self.space.canonical_vectors(np.asarray(values))[0].tolist()
        return row

    def _act(self, action: Any) -> float:
        planned = self._take_planned()
        if planned is not None:
            return self._query(planned[0], "this query", planned[1])
        return self._query(self._target(action), "this query")

    def _observe(self) -> dict[str, Float32Array]:
        return self._graph()


class OFAMBv3ContinuousEnv(_OFAEnv):
    """OFA continuous env (full docstring assigned below)."""

    mode: ClassVar[str] = "continuous"

    def __init__(self, *, top_k: int = 10, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._width = 3 * 45 + len(self._res)
        #: Scores per slot in the action (the largest slot's choices).
        self._per_slot = max(3, len(self._res))
        self._topk = TopK(top_k, self._width)
        self.top_k = self._topk.k
        self.action_space = spaces.Box(-1.0, 1.0, (46 * self._per_slot,), np.float32)
        self.observation_space = spaces.Box(
            0.0, 1.0, (2 * self._width + NUM_STATS,), np.float32
        )

    @property
    def action_choices(self) -> tuple[int, ...]:
        """Choices per decision slot (kernels, expand ratios, depths, resolution).

        20 kernel, 20 expand and 5 depth slots of 3 choices, then the resolutions.
        """
        return (3,) * 45 + (len(self._res),)

    def _restart(self) -> None:
        self._topk.clear()

    def _start(self, rng: np.random.Generator) -> None:
        self._row = None

    def _moved(self, row: list[int], key: str, top1: float) -> None:
        if self._search.is_new(key):
            features = score_features(np.asarray([row]), len(self._res))[0]
            self._topk.push(top1, features.astype(np.float64))

    def _target(self, action: Any) -> list[int]:
        """The canonical vector the scores decode to (argmax per slot)."""
        scores = np.asarray(action, dtype=np.float64)
        size = 46 * self._per_slot
        if scores.shape != (size,) or not np.isfinite(scores).all():
            raise InvalidActionError(
                f"continuous actions must be finite arrays of shape ({size},); "
                f"got shape {scores.shape}"
            )
        grid = np.clip(scores, -1.0, 1.0).reshape(46, self._per_slot)
        compact = np.concatenate([grid[:45, :3].ravel(), grid[45, : len(self._res)]])
        row: list[int] = decode_scores(compact[None], len(self._res))[0].tolist()
        return row

    def _act(self, action: Any) -> float:
        what = "the action decodes to an architecture that"
        planned = self._take_planned()
        if planned is not None:
            return self._query(planned[0], what, planned[1])
        return self._query(self._target(action), what)

    def _observe(self) -> Float32Array:
        return np.concatenate(
            [self._topk.summary(), self._search.stats().astype(np.float64)]
        ).astype(np.float32)


class _OFAVectorEnv(KeyedNASVectorEnv):
    """``num_envs`` OFA searches sharing one predictor and cache, batched per step.

    Sub-env ``i`` of ``reset(seed=s)`` is seeded ``s + i`` (next-step autoreset), so
    results equal those of ``num_envs`` single envs; before the sub-envs step, the
    architectures their actions reach are predicted in one batch.
    """

    env_class: ClassVar[type[_OFAEnv]]
    unwrapped_envs: Sequence[_OFAEnv]

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        shared = self.unwrapped_envs[0]._values
        for env in self.unwrapped_envs[1:]:
            env._values = shared

    def _factories(
        self, num_envs: int, kwargs: dict[str, Any]
    ) -> list[Callable[[], gym.Env[Any, Any]]]:
        if kwargs.get("benchmark") is None:
            kwargs["benchmark"] = shared_benchmark(
                kwargs.pop("path", None), kwargs.pop("resolutions", RESOLUTIONS)
            )
        return super()._factories(num_envs, kwargs)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Predict every sub-env's next architecture in one batch, then step them.

        Each stepping sub-env is handed the row and key found for it here, so it
        does not decode its action a second time.
        """
        found = self._targets(actions)
        envs = self.unwrapped_envs
        if found:
            res = envs[0].space.resolutions
            keys = [vector_key(row, res) for _, row in found]
            envs[0].predict([row for _, row in found], keys)
            for (i, row), key in zip(found, keys, strict=True):
                envs[i]._planned = (row, key)
        try:
            return super().step(actions)
        finally:
            for i, _ in found:  # a sub-env that raised never took its plan
                envs[i]._planned = None


class OFAMBv3EditVectorEnv(_OFAVectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/OFAMBv3Edit-v0``."""

    env_class = OFAMBv3EditEnv


class OFAMBv3QueryVectorEnv(_OFAVectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/OFAMBv3Query-v0``."""

    env_class = OFAMBv3QueryEnv


class OFAMBv3ContinuousVectorEnv(_OFAVectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/OFAMBv3Continuous-v0``."""

    env_class = OFAMBv3ContinuousEnv


# ---------------------------------------------------------------------------
# Docstrings
# ---------------------------------------------------------------------------
_SPACE = """\
The Once-for-All MobileNetV3 space (Cai et al., ICLR 2020; `nasgym.spaces.ofa`):
five stages of up to four MBConv layers (20 layer slots); per stage a depth in
{2, 3, 4}, per layer a kernel size in {3, 5, 7} and an expand ratio in {3, 4, 6}, and
an input resolution from `resolutions` (default 160, 176, 192, 208, 224). Layers
beyond a stage's depth are inactive and ignored: the canonical form zeroes them, so
configurations that differ only there are one architecture (a free revisit). About
1.1e20 architectures. The graph view is a chain stem -> active blocks -> head."""

_DATA = """\
The OFA tutorial's accuracy predictor (`acc_predictor.pth`, an MLP on 128 one-hot
features) and the Samsung Note10 latency lookup tables (`note10-latency/*.yaml`),
the files the `ofa` package downloads (GitHub `han-cai/files`, folder `ofa/`). Import
them once with `nasgym data import ofa PATH` (checks their SHA-256; needs torch and
PyYAML for the import only): the predictor runs in NumPy, batched. The reward input
is the *predicted* ImageNet top-1 (%) of the architecture without fine-tuning, a
surrogate like NB301's, deterministic. Cost objectives (`objectives=[...]`):
`latency` (ms, the Note10 table summed over stem, active blocks and head as OFA's
lookup does; resolutions 160..224 only), `flops` (millions of multiply-adds) and
`params` (millions), counted from the width-1.2 supernet's layer list; their bounds
are the exact extremes over the space. Accuracy is normalised from the import
sample's minimum to the search optimum (clipped)."""

_ARGS = """\
| param | type | default | description |
|---|---|---|---|
| `path` | path or None | None | an imported `ofa.npz` (default: the one `nasgym data import ofa` wrote) |
| `benchmark` | OFABenchmark | None | a loaded benchmark to share between envs, instead of `path` |
| `resolutions` | list of int | `[160, 176, 192, 208, 224]` | input resolutions of the space (multiples of 16 in 112..224) |"""

_REFS = """\
* Cai et al., "Once-for-All: Train One Network and Specialize it for Efficient
  Deployment", ICLR 2020. https://github.com/mit-han-lab/once-for-all
* Mills et al., "L2NAS: Learning to Optimize Neural Architectures via
  Continuous-Action Reinforcement Learning", CIKM 2021.
* Cassimon, Mercelis, Mets, "Scalable reinforcement learning-based neural
  architecture search", arXiv 2410.01431."""

_INFO = """\
| `arch`, `best_arch` | canonical key `"<r>\\|k<k>e<e>,...\\|..."` (`OFASpace.from_string` rebuilds it) |
| `arch_code`, `arch_class` | always `-1`: the space has no integer codes |
| `valid_accuracy` | the predictor's ImageNet top-1 (%) |
| `test_accuracy`, `best_test_accuracy` | repeat the predicted top-1: the surrogate has no separate test value |
| `regret` | the best predicted top-1 found by the import-time search (2,000 samples, 150 generations of evolution, then steepest-ascent edits; `docs/ofa.md`) minus `best_test_accuracy`: not a true optimum, so it can be negative |
| `sim_time_s` | `None`: no training cost |"""

_GRAPH_OBS = f"""\
`Dict` of fixed-shape `Box`es, one token per chain vertex (stem, up to 20 active
blocks, head; {MAX_VERTICES} padded), all padding before the first query:

| key | shape | dtype | range | meaning |
|---|---|---|---|---|
| `adjacency` | ({MAX_VERTICES}, {MAX_VERTICES}) | float32 | {{0, 1}} | chain edges, row = source |
| `ops` | ({MAX_VERTICES}, {len(LABEL_NAMES)}) | float32 | {{0, 1}} | one-hot vertex label: {", ".join(LABEL_NAMES)} |
| `stage` | ({MAX_VERTICES}, 5) | float32 | {{0, 1}} | one-hot stage of each block |
| `node_mask` | ({MAX_VERTICES},) | float32 | {{0, 1}} | 1 for real vertices |
| `resolution` | (R,) | float32 | {{0, 1}} | one-hot input resolution |
| `stats` | (4,) | float32 | [0, 1] | {{stats}} |"""

_CONT_OBS = """\
`Box(0, 1, (2 W + 4,), float32)` with `W = 135 + R`: the element-wise mean and
standard deviation of the one-hot score encodings (`nasgym.spaces.ofa.score_features`:
1 on each active layer's kernel and expand choice, each stage's depth and the
resolution) of the top-`top_k` architectures by predicted top-1, then `stats`
(4 values): {stats}."""

_EDIT_ACTION = """\
`Discrete(130 + R)` (`nasgym.spaces.ofa.edit_table`): `layer * 3 + k` sets the
kernel of layer `layer` (0-19, stage-major) to choice `k`; `60 + layer * 3 + e` its
expand ratio; `120 + s` grows stage `s` by one layer (a copy of its last layer);
`125 + s` shrinks it; `130 + i` sets the resolution to `resolutions[i]`.
`env.action_masks()` and `info["action_mask"]` hold exactly the edits that change the
architecture (active layer and a new value; depth below 4 / above 2; a new
resolution). An out-of-range action raises `nasgym.error.InvalidActionError`. A masked
action follows `invalid_action`: `"penalize"` (default) leaves the state unchanged,
costs no query, gives `invalid_reward` and says why in `info["invalid_action"]`;
`"raise"` raises `InvalidActionError`."""

_QUERY_ACTION = """\
`MultiDiscrete([3] * 45 + [R])`: 20 kernel choices, 20 expand choices (layers
stage-major), 5 depth choices (2, 3, 4), then the resolution index. Entries of layers
beyond their stage's depth are ignored, so many vectors name one architecture (a free
revisit). A new architecture once `max_queries` is spent follows `invalid_action`
(`"penalize"`: no query, `invalid_reward`, reason in `info["invalid_action"]`;
`"raise"`)."""

_CONT_ACTION = """\
`Box(-1, 1, (46 * M,), float32)`, `M = max(3, R)` (230 with the default five
resolutions): L2NAS scores (Mills et al.), `M` per decision slot: 20 kernel slots, 20
expand slots, 5 depth slots (their first 3 scores count), then one resolution slot
(its first R scores count); `action_choices` lists the choices per slot. Decoding
takes the argmax of each slot's counted scores; layers beyond the decoded depth are
ignored. Actions are clipped to [-1, 1]; non-finite or wrongly
shaped actions raise `nasgym.error.InvalidActionError`."""


def _doc(
    mode: str, env_id: str, title: str, description: str, action: str, obs: str
) -> str:
    return build_graph_docstring(
        GraphEnvDoc(
            title=title,
            description=description,
            search_space=_SPACE,
            action_space=action,
            observation_space=obs,
            starting_state=(
                "An architecture drawn uniformly per entry (depths, then every "
                "layer's kernel and expand ratio, and the resolution); evaluating it "
                "is the episode's first query. Once `max_queries` is spent, episodes "
                "start from the incumbent instead (a free revisit)."
                if mode == "edit"
                else "No architecture: nothing is queried at reset"
                + (
                    "; the top-K history carries over between episodes of one search."
                    if mode == "continuous"
                    else "."
                )
            ),
            information=_INFO,
            arguments=_ARGS,
            benchmark_data=_DATA,
            references=_REFS,
            env_id=env_id,
            data_hint="needs `nasgym data import ofa PATH` first, PATH the OFA "
            "files' folder; see docs/data.md#once-for-all-mobilenetv3",
            vector="a `SyncVectorEnv` whose sub-envs share one predictor and cache: "
            "each step predicts the architectures all sub-envs reach in one batch "
            "(sub-env `i` seeded `seed + i`, next-step autoreset, the same results as "
            "N single envs).",
            multi_objective=True,
        ),
        mode,
        reward_default="power",
        alpha_default=32.0,
    )


OFAMBv3EditEnv.__doc__ = _doc(
    "edit",
    "nasgym/OFAMBv3Edit-v0",
    "Graph-edit search over the Once-for-All MobileNetV3 space (Cassimon et al.'s MDP).",
    "The agent holds one architecture and per step changes one active layer's kernel "
    "or expand ratio, grows or shrinks one stage, or changes the resolution; each new "
    "architecture reached is a predictor query. The reward defaults to "
    "`(top-1 / 100) ** 32`.",
    _EDIT_ACTION,
    _GRAPH_OBS,
)
OFAMBv3QueryEnv.__doc__ = _doc(
    "query",
    "nasgym/OFAMBv3Query-v0",
    "Black-box search over the Once-for-All MobileNetV3 space: one config per step.",
    "One step is one predictor query of a complete configuration, the interface of "
    "random search, regularized evolution and REINFORCE controllers.",
    _QUERY_ACTION,
    _GRAPH_OBS,
)
OFAMBv3ContinuousEnv.__doc__ = _doc(
    "continuous",
    "nasgym/OFAMBv3Continuous-v0",
    "Continuous architecture-score search over the OFA MobileNetV3 space (L2NAS).",
    "The action holds one score per decision slot and choice, decoded by argmax "
    "(L2NAS, Mills et al. 2021); the state summarises the top-K architectures found "
    "so far.",
    _CONT_ACTION,
    _CONT_OBS,
)
