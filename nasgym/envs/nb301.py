"""NAS-Bench-301 environments (edits, L2NAS scores, whole genotypes) on the surrogate.

The DARTS space is far too large to enumerate, so the envs keep the current genotype
as a ``(2, 8, 2)`` array of ``(op, input)`` and key caches on
:meth:`nasgym.spaces.darts.DartsGenotype.key`. Surrogate predictions are cached per
env by that key (the YAHPO surrogate is deterministic), so a revisit never runs the
model; every query runs it once on a batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import ArrayLike, NDArray

from nasgym.benchmarks.nb301 import DEFAULT_EPOCH, NB301Surrogate, SurrogateModel
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
from nasgym.envs.keywords import check_single_dataset
from nasgym.error import UnknownOptionError, unknown_option
from nasgym.objectives import ACCURACY, unknown_cost
from nasgym.render import CellView, darts_views
from nasgym.spaces.darts import (
    CELL_FLAG,
    CELL_VERTICES,
    CELLS,
    EDIT_TABLE,
    L2NAS_OPS,
    LABEL_NAMES,
    LABEL_OP0,
    LABEL_PAD,
    MAX_SOURCE,
    NUM_CANDIDATE_EDGES,
    NUM_CELLS,
    NUM_EDITS,
    NUM_OPS,
    NUM_PAIRS,
    NUM_VERTICES,
    OP_VERTEX,
    REWIRE,
    SOURCE_VERTEX,
    BoolArray,
    DartsGenotype,
    Float32Array,
    Int8Array,
    decode_scores_array,
    describe_edit,
    encode_scores,
    from_array,
    node_graphs,
    sample_bananas_array,
)

#: The dataset the NB301 surrogate predicts for.
DATASETS: tuple[str, ...] = ("cifar10",)
#: Initial-state samplers of the edit env (docs/methods/cassimon.md#initial-state-samplers).
SAMPLERS: tuple[str, ...] = ("bananas",)
#: Objectives of the NB301 envs -> unit: the surrogate's validation accuracy and
#: its predicted training runtime (seconds) at ``epoch``.
NB301_OBJECTIVES: dict[str, str] = {ACCURACY: "%", "train_time": "s"}
#: Seeded BANANAS genotypes whose predictions give the objectives' normalisation
#: range (a surrogate has no table of every architecture); costs outside it clip.
OBJECTIVE_SAMPLE = 1000
_SAMPLE_BOUNDS: dict[tuple[int, int], NDArray[np.float64]] = {}
#: Width of the continuous action: 2 cells x 14 candidate edges x 8 ops (with none).
SCORE_WIDTH = NUM_CELLS * NUM_CANDIDATE_EDGES * len(L2NAS_OPS)
#: Most surrogate predictions an env caches before starting over.
MAX_CACHED = 1 << 20

_SURROGATES: dict[tuple[str, bool, int], NB301Surrogate] = {}


def shared_surrogate(
    path: str | os.PathLike[str] | None = None, *, verify: bool = True
) -> NB301Surrogate:
    """One :class:`NB301Surrogate` per surrogate directory, ``verify`` and process.

    Raises:
        BenchmarkDataMissingError: A surrogate file is missing.
        CorruptDataError: A file is not the NB301 surrogate, or (``verify``) not the
            published file.
    """
    from nasgym.benchmarks.nb301 import surrogate_dir

    key = (str(surrogate_dir(path).resolve()), bool(verify), os.getpid())
    surrogate = _SURROGATES.get(key)
    if surrogate is None:
        surrogate = _SURROGATES[key] = NB301Surrogate(key[0], verify=verify)
    return surrogate


def _graph_templates() -> tuple[Float32Array, Float32Array, NDArray[np.intp]]:
    """The fixed part of every node graph, and where each pair's op vertex lies."""
    base = np.zeros((1, NUM_CELLS, NUM_PAIRS, 2), dtype=np.int8)
    base[..., 1] = [0, 1] * 4  # any valid wiring; its source edges are removed below
    adj, labels, _ = node_graphs(base)
    adjacency = adj[0].astype(np.float32)
    ops = np.eye(len(LABEL_NAMES), dtype=np.float32)[labels[0]]
    op_vertex = np.asarray(
        [c * CELL_VERTICES + OP_VERTEX[j] for c in range(NUM_CELLS) for j in range(8)],
        dtype=np.intp,
    )
    adjacency[:, op_vertex] = 0.0  # the source -> op edges depend on the genotype
    ops[op_vertex] = 0.0
    return adjacency, ops, op_vertex


_ADJ, _OPS, _OP_VERTEX = _graph_templates()
_CELL_BASE = np.repeat(np.arange(NUM_CELLS) * CELL_VERTICES, NUM_PAIRS).astype(np.intp)
_SOURCE_VERTEX = np.asarray(SOURCE_VERTEX, dtype=np.intp)
_EMPTY_OPS = np.zeros((NUM_VERTICES, len(LABEL_NAMES)), dtype=np.float32)
_EMPTY_OPS[:, LABEL_PAD] = 1.0
_CELL = CELL_FLAG.astype(np.float32)


def _mask_tables() -> tuple[BoolArray, BoolArray]:
    """The legal-edit rule of :func:`nasgym.spaces.darts.edit_masks`, tabulated.

    For a valid genotype the mask of a pair's 7 op changes depends on its op only,
    and that of its 6 rewires on (pair, its input, its sibling's input), so a mask
    is two table lookups. ``ops[o]`` and ``rewires[j, s, t]``.
    """
    ops = np.arange(NUM_OPS)[None, :] != np.arange(NUM_OPS)[:, None]
    values = np.arange(6)
    rewires = np.zeros((NUM_PAIRS, 6, 6, 6), dtype=bool)
    for j in range(NUM_PAIRS):
        for src in range(6):
            for sib in range(6):
                rewires[j, src, sib] = (
                    (values <= MAX_SOURCE[j]) & (values != src) & (values != sib)
                )
    return ops, rewires


_OP_MASK, _REWIRE_MASK = _mask_tables()
_PAIR_OF = np.tile(np.arange(NUM_PAIRS), NUM_CELLS)
_SIBLING_OF = _PAIR_OF ^ 1


def legal_edits(arr: Int8Array) -> BoolArray:
    """The ``(208,)`` edit mask of a *valid* ``(2, 8, 2)`` genotype (fast path).

    Equals ``nasgym.spaces.darts.edit_masks(arr[None])[0]`` for valid genotypes.
    """
    flat = arr.reshape(-1, 2).astype(np.intp)
    src = flat[:, 1]
    sib = src.reshape(NUM_CELLS, NUM_PAIRS)[:, _SIBLING_OF[:NUM_PAIRS]].ravel()
    mask: BoolArray = np.concatenate(
        [_OP_MASK[flat[:, 0]].ravel(), _REWIRE_MASK[_PAIR_OF, src, sib].ravel()]
    )
    return mask


def genotype_key(arr: Int8Array) -> str:
    """:meth:`DartsGenotype.key` of a ``(2, 8, 2)`` array, on Python ints (fast path).

    Equals ``nasgym.spaces.darts.array_keys(arr[None])[0]``: per cell, each node's
    two pairs sorted by (input, op), written as ``<op><input>`` digits.
    """
    v = arr.ravel().tolist()
    cells = []
    for base in (0, 2 * NUM_PAIRS):
        digits = []
        for i in range(base, base + 2 * NUM_PAIRS, 4):
            first, second = (v[i + 1], v[i]), (v[i + 3], v[i + 2])
            lo, hi = (first, second) if first <= second else (second, first)
            digits.append(f"{lo[1]}{lo[0]}{hi[1]}{hi[0]}")
        cells.append("".join(digits))
    return "|".join(cells)


#: ``EDIT_TABLE`` as plain lists: ``(cell, pair, field, value)`` of each action.
_EDITS: list[tuple[int, int, int, int]] = [
    (e.cell, e.pair, 1 if e.kind == REWIRE else 0, e.value) for e in EDIT_TABLE
]


def graph_observation(arr: Int8Array | None) -> dict[str, Float32Array]:
    """The padded node-graph arrays of a ``(2, 8, 2)`` genotype (``None``: empty).

    Same graph as :func:`nasgym.spaces.darts.to_node_graph`, as float32 one-hots.
    """
    if arr is None:
        return {
            "adjacency": np.zeros((NUM_VERTICES, NUM_VERTICES), dtype=np.float32),
            "ops": _EMPTY_OPS.copy(),
            "node_mask": np.zeros(NUM_VERTICES, dtype=np.float32),
            "cell": _CELL.copy(),
        }
    flat = arr.reshape(-1, 2).astype(np.intp)
    adjacency = _ADJ.copy()
    adjacency[_CELL_BASE + _SOURCE_VERTEX[flat[:, 1]], _OP_VERTEX] = 1.0
    ops = _OPS.copy()
    ops[_OP_VERTEX, LABEL_OP0 + flat[:, 0]] = 1.0
    return {
        "adjacency": adjacency,
        "ops": ops,
        "node_mask": np.ones(NUM_VERTICES, dtype=np.float32),
        "cell": _CELL.copy(),
    }


class _NB301Env(KeyedNASEnv):
    default_alpha: ClassVar[float] = 32.0
    cells_per_arch: ClassVar[int] = 2

    def __init__(
        self,
        *,
        dataset: str = DATASETS[0],
        surrogate: SurrogateModel | None = None,
        path: str | os.PathLike[str] | None = None,
        verify_surrogate: bool = True,
        epoch: int = DEFAULT_EPOCH,
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
        check_single_dataset("NB301", dataset, DATASETS)
        mo_options: dict[str, Any] = {
            "mo_reward": mo_reward,
            "mo_alpha": mo_alpha,
            "cost_weights": cost_weights,
            "cost_threshold": cost_threshold,
            "constraint_penalty": constraint_penalty,
        }
        if surrogate is None:
            surrogate = shared_surrogate(path, verify=verify_surrogate)
        elif not isinstance(surrogate, SurrogateModel):
            raise UnknownOptionError(
                f"surrogate must be an NB301Surrogate or implement SurrogateModel "
                f"(predict(genotypes, epoch) -> (valid %, runtime s)), got "
                f"{surrogate!r}"
            )
        if (
            isinstance(epoch, bool)
            or not isinstance(epoch, (int, np.integer))
            or not 1 <= epoch <= DEFAULT_EPOCH
        ):
            raise UnknownOptionError(
                f"epoch must be an integer in 1..{DEFAULT_EPOCH}, got {epoch!r}"
            )
        self.surrogate: SurrogateModel = surrogate
        #: Where the surrogate came from (run headers record it): the files'
        #: ``path``, ``verified`` against the published digests, and ``sha256``; for
        #: a ``surrogate=`` model of another kind, its ``repr`` and ``verified=False``.
        self.surrogate_provenance: dict[str, Any] = (
            surrogate.provenance()
            if isinstance(surrogate, NB301Surrogate)
            else {"model": repr(surrogate), "verified": False}
        )
        self.epoch = int(epoch)
        self._setup(
            reward=reward,
            alpha=alpha,
            horizon=horizon,
            max_queries=max_queries,
            invalid_action=invalid_action,
            invalid_reward=invalid_reward,
            render_mode=render_mode,
            optimum=100.0,
            has_cost=True,
        )
        self.observation_space = spaces.Dict(
            {
                "adjacency": spaces.Box(
                    0.0, 1.0, (NUM_VERTICES, NUM_VERTICES), np.float32
                ),
                "ops": spaces.Box(
                    0.0, 1.0, (NUM_VERTICES, len(LABEL_NAMES)), np.float32
                ),
                "node_mask": spaces.Box(0.0, 1.0, (NUM_VERTICES,), np.float32),
                "cell": spaces.Box(0.0, 1.0, (NUM_VERTICES,), np.float32),
                "stats": spaces.Box(0.0, 1.0, (NUM_STATS,), np.float32),
            }
        )
        self._values: dict[str, tuple[float, float]] = {}
        self._arr: Int8Array | None = None
        # The costs clip: their range is a sample's, not the space's.
        self._setup_objectives(
            objectives,
            mo_options if objectives is None else {"clip": True, **mo_options},
            self._objective_bounds,
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Start an episode (see :meth:`KeyedNASEnv.reset`).

        With a surrogate not checked against the published files (``verify_surrogate
        =False`` or a ``surrogate=`` model), the reset ``info`` says so under
        ``"surrogate"`` (:attr:`surrogate_provenance`).
        """
        obs, info = super().reset(seed=seed, options=options)
        if not self.surrogate_provenance["verified"]:
            info["surrogate"] = dict(self.surrogate_provenance)
        return obs, info

    # ------------------------------------------------------------ objectives
    def _objective_bounds(
        self, names: tuple[str, ...]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[str, ...]]:
        """Objective ranges over :data:`OBJECTIVE_SAMPLE` seeded BANANAS genotypes."""
        for name in names:
            if name not in NB301_OBJECTIVES:
                raise unknown_cost(
                    "nb301", name, tuple(n for n in NB301_OBJECTIVES if n != ACCURACY)
                )
        key = (id(self.surrogate), self.epoch)
        sample = _SAMPLE_BOUNDS.get(key)
        if sample is None:
            arr = sample_bananas_array(OBJECTIVE_SAMPLE, np.random.default_rng(0))
            acc, runtime = (
                np.asarray(v, dtype=np.float64).reshape(-1)
                for v in self.surrogate.predict(arr, self.epoch)
            )
            sample = np.stack([acc, runtime], axis=1)
            _SAMPLE_BOUNDS[key] = sample
        cols = [0 if n == ACCURACY else 1 for n in names]
        units = tuple(NB301_OBJECTIVES[n] for n in names)
        return sample[:, cols].min(axis=0), sample[:, cols].max(axis=0), units

    def objective_table(
        self, names: Sequence[str] | None = None, *, accuracy: str = "valid"
    ) -> NDArray[np.float64]:
        """Not available: the DARTS space cannot be enumerated.

        Raises:
            UnknownOptionError: Always; NB301's true Pareto front is unknown.
        """
        raise UnknownOptionError(
            "NB301 is a surrogate over ~10^18 DARTS genotypes: it has no table of "
            "every architecture, so no objective_table() or true Pareto front; "
            "compare runs by the hypervolume of the fronts they found instead"
        )

    def predict(self, arr: Int8Array, keys: list[str]) -> list[tuple[float, float]]:
        """``(valid %, runtime s)`` of valid genotypes, one surrogate batch for misses.

        Args:
            arr: ``(N, 2, 8, 2)`` genotypes.
            keys: Their canonical keys.
        """
        missing = [i for i, k in enumerate(keys) if k not in self._values]
        if missing:
            if len(self._values) + len(missing) > MAX_CACHED:
                self._values.clear()
            batch = arr[missing]
            out: tuple[ArrayLike, ArrayLike]
            if isinstance(self.surrogate, NB301Surrogate):
                # Valid by construction (edits keep validity, decoding and the query
                # encoding only produce valid genotypes), so skip the rule checks.
                out = self.surrogate.predict(batch, self.epoch, validate=False)
            else:
                out = self.surrogate.predict(batch, self.epoch)
            acc, runtime = (np.asarray(v, dtype=np.float64).reshape(-1) for v in out)
            if acc.size != len(missing) or runtime.size != len(missing):
                raise ValueError(
                    f"{self.surrogate!r}.predict returned {acc.size} accuracies and "
                    f"{runtime.size} runtimes for {len(missing)} genotypes"
                )
            for i, a, r in zip(missing, acc.tolist(), runtime.tolist(), strict=True):
                self._values[keys[i]] = (a, r)
        return [self._values[k] for k in keys]

    def _move(self, arr: Int8Array, key: str) -> float:
        """Move to a valid genotype and query it (the surrogate has no test value)."""
        ((valid, runtime),) = self.predict(arr[None], [key])
        self._arr = arr
        self._moved(arr, key, valid)
        reward = self._search.evaluate(key, key, -1, valid, valid, runtime)
        if self._objectives is not None:
            by_name = {ACCURACY: valid, "train_time": runtime}
            self._hold_objectives(
                key, np.array([by_name[n] for n in self._objectives.names])
            )
        return reward

    def _moved(self, arr: Int8Array, key: str, valid: float) -> None:
        """Hook: the state just became ``arr`` (before the search records it)."""

    def _query(self, arr: Int8Array, what: str) -> float:
        """Step to a valid genotype unless that exceeds the budget (``what`` did it)."""
        key = genotype_key(arr)
        blocked = self._budget_blocks(key, what)
        if blocked is not None:
            return self._reject(blocked)
        self._search.t += 1
        return self._move(arr, key)

    def _graph(self) -> dict[str, Float32Array]:
        obs = graph_observation(self._arr)
        obs["stats"] = self._search.stats()
        return obs

    def cell_views(self, arch: str) -> list[CellView]:
        """The normal and the reduce cell of ``arch`` (a genotype key), for drawing.

        Raises:
            InvalidArchitectureError: ``arch`` is not a DARTS genotype key.
        """
        return darts_views(arch)

    @property
    def genotype(self) -> DartsGenotype | None:
        """The current genotype, ``None`` before the first query."""
        return None if self._arr is None else from_array(self._arr)


class NB301EditEnv(_NB301Env):
    """NB301 graph-edit env (full docstring assigned below)."""

    mode: ClassVar[str] = "edit"

    def __init__(self, *, sampler: str = "bananas", **kwargs: Any) -> None:
        if sampler not in SAMPLERS:
            raise unknown_option("NB301 sampler", sampler, SAMPLERS)
        super().__init__(**kwargs)
        self.sampler = sampler
        self.action_space = spaces.Discrete(NUM_EDITS)
        self._masks = np.zeros(NUM_EDITS, dtype=bool)
        self._masks.setflags(write=False)
        self._best_arr: Int8Array | None = None

    def _restart(self) -> None:
        self._best_arr = None

    def _moved(self, arr: Int8Array, key: str, valid: float) -> None:
        masks = legal_edits(arr)
        masks.setflags(write=False)
        self._masks = masks
        if valid > self._search.best_valid:
            self._best_arr = arr

    def _start(self, rng: np.random.Generator) -> None:
        if self._search.spent and self._best_arr is not None:
            arr = self._best_arr
        else:
            arr = sample_bananas_array(1, rng)[0]
        self._move(arr, genotype_key(arr))

    def _target(self, action: Any) -> Int8Array | None:
        """The genotype edit ``action`` reaches (``None``: masked)."""
        action = edit_index(action, NUM_EDITS)
        assert self._arr is not None
        if not self._masks[action]:
            return None
        cell, pair, field, value = _EDITS[action]
        arr: Int8Array = self._arr.copy()
        arr[cell, pair, field] = value
        return arr

    def _act(self, action: Any) -> float:
        arr = self._target(action)
        action = edit_index(action, NUM_EDITS)
        if arr is None:
            assert self._arr is not None
            return self._reject(self._why(self._arr, action))
        return self._query(arr, f"edit action {action}")

    def _observe(self) -> dict[str, Float32Array]:
        return self._graph()

    def _mask(self) -> BoolArray:
        return self._masks

    def edit_targets(self) -> list[str | None]:
        """Where each edit action leads from the current genotype (no query).

        Entry ``a`` is the canonical key (the ``info["arch"]`` form) of the genotype
        that action ``a`` reaches, ``None`` where :meth:`action_masks` forbids it;
        nothing is evaluated.

        Raises:
            gymnasium.error.ResetNeeded: Before the first ``reset``.
        """
        if self._needs_reset or self._arr is None:
            raise gym.error.ResetNeeded("call reset() before edit_targets()")
        targets: list[str | None] = []
        for action, legal in enumerate(self._masks.tolist()):
            if not legal:
                targets.append(None)
                continue
            cell, pair, field, value = _EDITS[action]
            arr = self._arr.copy()
            arr[cell, pair, field] = value
            targets.append(genotype_key(arr))
        return targets

    @staticmethod
    def _why(arr: Int8Array, action: int) -> str:
        cell, pair, field, value = _EDITS[action]
        genotype = from_array(arr)
        if field == 0:
            why = "the pair already has that op"
        elif value > MAX_SOURCE[pair]:
            why = (
                f"pair {pair} feeds node {pair // 2}, whose inputs must be <= "
                f"{MAX_SOURCE[pair]}"
            )
        elif value == arr[cell, pair, 1]:
            why = f"the pair already reads input {value}"
        else:
            why = (
                f"its sibling pair {pair ^ 1} already reads input {value}; a node "
                f"needs two distinct inputs"
            )
        return (
            f"edit action {action} ({describe_edit(action, genotype)}) is masked in "
            f"the current state: {why}; use env.action_masks() to choose legal "
            f"actions"
        )


def _describe_entry(s: int) -> str:
    c, rest = divmod(s, 2 * NUM_PAIRS)
    return f"{('input', 'op')[rest % 2]} of pair {rest // 2} of the {CELLS[c]} cell"


class NB301QueryEnv(_NB301Env):
    """NB301 black-box query env (full docstring assigned below)."""

    mode: ClassVar[str] = "query"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The first pair of node m reads one of its m + 2 inputs; the second reads
        # one of the m + 1 others (skipping the first's), so every vector is valid.
        self._nvec = [
            n
            for _ in range(NUM_CELLS)
            for j in range(NUM_PAIRS)
            for n in (MAX_SOURCE[j] + 1 - j % 2, NUM_OPS)
        ]
        self.action_space = spaces.MultiDiscrete(self._nvec)

    def _start(self, rng: np.random.Generator) -> None:
        self._arr = None

    def _target(self, action: Any) -> Int8Array:
        """The genotype the query vector names (always valid)."""
        values = int_vector(action, self._nvec, _describe_entry)
        vector = np.asarray(values, dtype=np.int8)
        arr = vector.reshape(NUM_CELLS, NUM_PAIRS, 2)[..., ::-1].astype(np.int8)
        first = arr[:, 0::2, 1]
        arr[:, 1::2, 1] += arr[:, 1::2, 1] >= first
        return arr

    def _act(self, action: Any) -> float:
        return self._query(self._target(action), "this query")

    def _observe(self) -> dict[str, Float32Array]:
        return self._graph()


class NB301ContinuousEnv(_NB301Env):
    """NB301 continuous env (full docstring assigned below)."""

    mode: ClassVar[str] = "continuous"

    def __init__(self, *, top_k: int = 10, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._topk = TopK(top_k, SCORE_WIDTH)
        self.top_k = self._topk.k
        self.action_space = spaces.Box(-1.0, 1.0, (SCORE_WIDTH,), np.float32)
        self.observation_space = spaces.Box(
            0.0, 1.0, (2 * SCORE_WIDTH + NUM_STATS,), np.float32
        )

    @property
    def action_choices(self) -> tuple[int, ...]:
        """Choices per decision slot of the flat action, in order.

        28 slots (2 cells x 14 candidate edges) of 8 scores each (the 7 DARTS ops and
        ``none``): the action is these score vectors concatenated.
        """
        return (len(L2NAS_OPS),) * (NUM_CELLS * NUM_CANDIDATE_EDGES)

    def _restart(self) -> None:
        self._topk.clear()

    def _start(self, rng: np.random.Generator) -> None:
        self._arr = None

    def _moved(self, arr: Int8Array, key: str, valid: float) -> None:
        if self._search.is_new(key):
            features = encode_scores(from_array(arr, validate=False))
            self._topk.push(valid, features.astype(np.float64).ravel())

    def _target(self, action: Any) -> Int8Array:
        """The genotype the scores decode to (docs/methods/l2nas.md#action-space-and-decoding)."""
        scores = continuous_action(action, (SCORE_WIDTH,))
        grid = np.clip(scores, -1.0, 1.0).reshape(
            1, NUM_CELLS, NUM_CANDIDATE_EDGES, len(L2NAS_OPS)
        )
        arr: Int8Array = decode_scores_array(grid)[0]
        return arr

    def _act(self, action: Any) -> float:
        return self._query(
            self._target(action), "the action decodes to a genotype that"
        )

    def _observe(self) -> Float32Array:
        return np.concatenate(
            [self._topk.summary(), self._search.stats().astype(np.float64)]
        ).astype(np.float32)


class _NB301VectorEnv(KeyedNASVectorEnv):
    """``num_envs`` NB301 searches sharing one surrogate, queried in one batch a step.

    Sub-env ``i`` of ``reset(seed=s)`` is seeded ``s + i`` and episodes autoreset on
    the next step (Gymnasium's ``NEXT_STEP`` mode), so results equal those of
    ``num_envs`` single envs. Before the sub-envs step, the genotypes their actions
    reach are predicted in one batched surrogate call into a cache the sub-envs share;
    each sub-env's step then finds its value there.
    """

    env_class: ClassVar[type[_NB301Env]]
    unwrapped_envs: Sequence[_NB301Env]

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        shared = self.unwrapped_envs[0]._values
        for env in self.unwrapped_envs[1:]:
            env._values = shared

    def _factories(
        self, num_envs: int, kwargs: dict[str, Any]
    ) -> list[Callable[[], gym.Env[Any, Any]]]:
        if kwargs.get("surrogate") is None:
            kwargs["surrogate"] = shared_surrogate(
                kwargs.pop("path", None),
                verify=kwargs.pop("verify_surrogate", True),
            )
        return super()._factories(num_envs, kwargs)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Predict every sub-env's next genotype in one batch, then step them all."""
        arrs: list[Int8Array] = [arr for _, arr in self._targets(actions)]
        if arrs:
            self.unwrapped_envs[0].predict(
                np.stack(arrs), [genotype_key(a) for a in arrs]
            )
        return super().step(actions)


class NB301EditVectorEnv(_NB301VectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/NB301Edit-v0``."""

    env_class = NB301EditEnv


class NB301QueryVectorEnv(_NB301VectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/NB301Query-v0``."""

    env_class = NB301QueryEnv


class NB301ContinuousVectorEnv(_NB301VectorEnv):
    """Batched ``gym.make_vec`` entry point of ``nasgym/NB301Continuous-v0``."""

    env_class = NB301ContinuousEnv


# ---------------------------------------------------------------------------
# Docstrings
# ---------------------------------------------------------------------------
_SPACE = """\
The DARTS cell space of NAS-Bench-301 (Siems et al.): a normal and a reduction cell,
each of 8 `(op, input)` pairs; pair `j` feeds intermediate node `j // 2` and reads
input `0` (c_{k-2}), `1` (c_{k-1}) or `2..5` (intermediate nodes 0..3), at most
`j // 2 + 1`; the two pairs of a node read distinct inputs. Ops: max_pool_3x3,
avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5.
About 10^18 networks (`nasgym.spaces.darts`); swapping a node's two pairs gives the
same network, so caches use `DartsGenotype.key()`. The graph view puts ops on
vertices (docs/methods/cassimon.md#darts-genotypes-as-node-graphs): per cell IN0, IN1, one vertex per pair, one SUM per node
and OUT, 15 vertices, 30 for the genotype."""

_DATA = """\
The YAHPO Gym NB301 surrogate (`new_model.onnx`, `encoding.json`, `config_space.json`
of `slds-lmu/yahpo_data`, branch `iaml_ex`; Apache-2.0), run with onnxruntime, found
in `$NASGYM_DATA_DIR/nas-bench-301-yahpo/v1_iaml_ex/` or at `path`. It predicts the
CIFAR-10 validation accuracy (%) and training runtime (s) after `epoch` epochs
(default 98) and is deterministic (no noise), so repeated queries agree; predictions
are cached per env by canonical key. Without the files, construction raises
`BenchmarkDataMissingError` naming them and the expected directory. Any other model
with the same batched `predict(genotypes, epoch) -> (valid %, runtime s)`
(`nasgym.benchmarks.nb301.SurrogateModel`), such as an adapter to the official
nasbench301 ensembles (docs/data.md), can be passed as `surrogate=`. Cost objective
(`objectives=[...]`): `train_time`, the predicted runtime (s) at `epoch`, normalised
with the range of the surrogate's predictions for 1,000 seeded BANANAS genotypes
(clipped to [0, 1]); there is no table of every genotype, so `objective_table()`
raises."""

_ARGS = """\
| param | type | default | description |
|---|---|---|---|
| `path` | path or None | None | directory of the surrogate files (default under `NASGYM_DATA_DIR`) |
| `surrogate` | SurrogateModel | None | a loaded surrogate (an `NB301Surrogate`, or any object with `predict(genotypes, epoch) -> (valid %, runtime s)`, see docs/data.md) to use instead of `path` |
| `epoch` | int | 98 | training epochs the surrogate predicts for (1..98) |
| `verify_surrogate` | bool | True | refuse surrogate files whose SHA-256 is not the published one; `False` runs your own files at `path` (the reset `info["surrogate"]` and run headers then record `verified: False`) |
| `dataset` | str | `"cifar10"` | the surrogate's only dataset; any other value is an error |"""

_REFS = """\
* Siems et al., "NAS-Bench-301 and the Case for Surrogate Benchmarks for Neural
  Architecture Search", arXiv 2008.09777.
* Pfisterer et al., "YAHPO Gym - An Efficient Multi-Objective Multi-Fidelity
  Benchmark for Hyperparameter Optimization", AutoML-Conf 2022.
* Cassimon, Mercelis, Mets, "Scalable reinforcement learning-based neural
  architecture search", arXiv 2410.01431.
* Mills et al., "L2NAS: Learning to Optimize Neural Architectures via
  Continuous-Action Reinforcement Learning", CIKM 2021."""

_GRAPH_OBS = f"""\
`Dict` of fixed-shape `Box`es (usable by SB3's `MultiInputPolicy`), one token per
node-graph vertex (docs/methods/cassimon.md#observation-encoding; vertex order `nasgym.spaces.darts.VERTEX_NAMES`,
normal cell first), all padding before the first query:

| key | shape | dtype | range | meaning |
|---|---|---|---|---|
| `adjacency` | (30, 30) | float32 | {{0, 1}} | adjacency, row = source |
| `ops` | (30, 12) | float32 | {{0, 1}} | one-hot vertex label: {", ".join(LABEL_NAMES)} |
| `node_mask` | (30,) | float32 | {{0, 1}} | 1 for real vertices |
| `cell` | (30,) | float32 | {{0, 1}} | cell flag: 0 normal, 1 reduce |
| `stats` | (4,) | float32 | [0, 1] | {{stats}} |"""

_CONT_OBS = f"""\
`Box(0, 1, ({2 * SCORE_WIDTH + NUM_STATS},), float32)`, built from the search history
(docs/methods/l2nas.md#history-and-state): the element-wise mean ({SCORE_WIDTH} values) and standard deviation
({SCORE_WIDTH} values) of the one-hot score encodings
(`nasgym.spaces.darts.encode_scores`, 1 on each used edge's op, 1 on `none` for unused
edges) of the top-`top_k` genotypes by validation accuracy, then `stats` (4 values):
{{stats}}."""

_INFO = """\
| `arch`, `best_arch` | canonical key of the genotype (`DartsGenotype.from_key(info["arch"])` rebuilds it) |
| `arch_code`, `arch_class` | always `-1`: the space has no integer codes |
| `valid_accuracy` | the surrogate's predicted validation accuracy (%) |
| `test_accuracy`, `best_test_accuracy` | the surrogate has no test value: these repeat the predicted validation accuracy (docs/methods/cassimon.md#evaluation-protocol-and-baselines; naszilla likewise uses validation in place of test on NB301) |
| `regret` | `100 - best_test_accuracy`: the surrogate's optimum over the space is not known, so regret is measured against a perfect 100 % (an upper bound of the true regret, NaN before the first query) |
| `sim_time_s` | summed predicted training runtime of distinct queries |"""

_EDIT_ACTION = """\
`Discrete(208)`: the fixed edit table of docs/methods/cassimon.md#edit-actions (`nasgym.spaces.darts.
EDIT_TABLE`): `OP_CHANGE(cell, pair, op)` = `cell * 56 + pair * 7 + op` (0-111) sets
a pair's op; `REWIRE(cell, pair, src)` = `112 + cell * 48 + pair * 6 + src`
(112-207) sets its input. `env.action_masks()` (sb3-contrib's MaskablePPO convention)
and `info["action_mask"]` hold the edits that give a valid, different network (96 op
changes and 24 rewires from any valid genotype). An out-of-range action raises
`nasgym.error.InvalidActionError`. A masked action follows `invalid_action`:
`"penalize"` (default) leaves the state unchanged, costs no query, gives
`invalid_reward` and says why in `info["invalid_action"]`; `"raise"` raises
`InvalidActionError`."""

_QUERY_ACTION = """\
`MultiDiscrete` of 32 entries, a whole genotype per step: for the normal then the
reduce cell, for pair `j = 0..7`, entry `(cell * 8 + j) * 2` is the pair's input and
the next entry its op (0..6 in the order above). The first pair of node `m` (even
`j`) reads input `0..m + 1` directly; the second pair (odd `j`) chooses among the
`m + 1` *other* inputs: value `v` means input `v + (v >= first)`, where `first` is
the sibling's input. So `nvec` is `[2, 7, 1, 7, 3, 7, 2, 7, 4, 7, 3, 7, 5, 7, 4, 7]`
per cell, and every in-range vector is a valid genotype (with absolute inputs 96 %
of uniformly drawn vectors would read one input twice), each ordered genotype
exactly once. An out-of-range or wrongly shaped vector raises
`nasgym.error.InvalidActionError`. A new genotype once `max_queries` is spent follows
`invalid_action`: `"penalize"` (default) costs no query, leaves the state unchanged,
gives `invalid_reward` and says why in `info["invalid_action"]`; `"raise"` raises
`InvalidActionError`."""

_CONT_ACTION = f"""\
`Box(-1, 1, ({SCORE_WIDTH},), float32)`: L2NAS architecture scores (docs/methods/l2nas.md#action-space-and-decoding),
`a[(cell * 14 + edge) * 8 + k]` scoring op `k` of (none, max_pool_3x3, ...,
dil_conv_5x5) on candidate edge `edge` (`nasgym.spaces.darts.CANDIDATE_EDGES`: node
`m` owns one edge per source `0..m + 1`). Decoding (`decode_scores`): per node, keep
the two incoming edges with the largest maximum non-none score, each with its argmax
non-none op; the result is always valid. Actions are clipped to [-1, 1]; non-finite
or wrongly shaped actions raise `nasgym.error.InvalidActionError`."""


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
                "A genotype drawn by `sampler` (`'bananas'`, the only one: two "
                "distinct inputs and two uniform ops per node, docs/methods/cassimon.md#initial-state-samplers); "
                "evaluating it is the episode's first query. Once `max_queries` is "
                "spent, episodes start from the incumbent instead (a free revisit)."
                if mode == "edit"
                else "No architecture: nothing is queried at reset"
                + (
                    "; the top-K history carries over between episodes of one search."
                    if mode == "continuous"
                    else "."
                )
            ),
            information=_INFO,
            arguments=_ARGS
            + (
                '\n| `sampler` | str | `"bananas"` | starting-state sampler |'
                if mode == "edit"
                else ""
            ),
            benchmark_data=_DATA,
            references=_REFS,
            env_id=env_id,
            data_hint="needs the YAHPO NB301 surrogate files under "
            "`$NASGYM_DATA_DIR/nas-bench-301-yahpo/v1_iaml_ex/`",
            vector="a `SyncVectorEnv` whose sub-envs share one surrogate and cache: "
            "each step predicts the genotypes all sub-envs reach in one batched "
            "surrogate call (sub-env `i` seeded `seed + i`, next-step autoreset, the "
            "same results as N single envs).",
            multi_objective=True,
        ),
        mode,
        reward_default="power",
        alpha_default=32.0,
    )


NB301EditEnv.__doc__ = _doc(
    "edit",
    "nasgym/NB301Edit-v0",
    "Graph-edit search over NAS-Bench-301 DARTS genotypes (Cassimon et al.'s MDP).",
    "The agent holds one genotype and changes one pair's op or input per step, "
    "walking the neighbourhood graph of the DARTS space; each new genotype reached "
    "is a surrogate query. The reward defaults to `acc ** 32` (docs/methods/cassimon.md#mdp-and-reward-shaping).",
    _EDIT_ACTION,
    _GRAPH_OBS,
)
NB301QueryEnv.__doc__ = _doc(
    "query",
    "nasgym/NB301Query-v0",
    "Black-box search over NAS-Bench-301: each step proposes a whole genotype.",
    "One step is one surrogate query of a complete genotype, the interface of random "
    "search, regularized evolution and REINFORCE controllers.",
    _QUERY_ACTION,
    _GRAPH_OBS,
)
NB301ContinuousEnv.__doc__ = _doc(
    "continuous",
    "nasgym/NB301Continuous-v0",
    "Continuous architecture-score search over NAS-Bench-301 (for SAC/TD3, L2NAS).",
    "The action holds one score per cell, candidate edge and op (none included), "
    "decoded DARTS-style (docs/methods/l2nas.md#action-space-and-decoding); the state summarises the top-K genotypes "
    "found so far.",
    _CONT_ACTION,
    _CONT_OBS,
)
