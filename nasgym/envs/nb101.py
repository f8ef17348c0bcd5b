"""NAS-Bench-101 environments (graph edits and whole-cell queries) on an NB101 table.

The state is always the table's own representative of the current architecture (the
pruned cell stored in the row of its official hash), so an edit's result depends on
the architecture only, never on how it was reached. Per table, nasgym builds once a
*neighbour table* ``row x 104 -> row`` (``-1`` where the edit gives no valid,
different cell that the table holds): masks, moves and lookups are then array reads.
It is built lazily (about 3-4 ms per cell: seconds for EC-NAS-Bench; for the full
423,624-cell table about 30 CPU-minutes, spread over a process pool of all CPUs),
kept in memory for the process and saved next to the table
(``<table>-neighbours-<digest>.npy``) when that directory is writable.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from nasgym.benchmarks.nb101 import NB101Benchmark, NB101Table, load_table
from nasgym.envs.docstring import GraphEnvDoc, build_graph_docstring
from nasgym.envs.keyed import (
    DEFAULT_HORIZON,
    NUM_STATS,
    Float32Array,
    KeyedNASEnv,
    KeyedNASVectorEnv,
    edit_index,
    int_vector,
)
from nasgym.envs.keywords import check_single_dataset
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidArchitectureError,
    UnknownOptionError,
    unknown_option,
)
from nasgym.objectives import ACCURACY, table_names
from nasgym.render import CellView
from nasgym.spaces.base import BoolArray, IntArray
from nasgym.spaces.nb101 import (
    EDGE_TOGGLE,
    EDIT_ACTIONS,
    INTERIOR_OPS,
    MAX_VERTICES,
    NUM_EDIT_ACTIONS,
    OP_CHANGE,
    OPS,
    VERTEX_INSERT,
    VERTEX_REMOVE,
    NB101Cell,
    apply_edit,
    describe_edit,
    invalid_reason,
    nb101_hash,
    neighbours,
    sample_bananas,
    sample_nb101_dist,
)

#: The dataset of every NB101 table (CIFAR-10); ``table=`` picks the data source.
DATASETS: tuple[str, ...] = ("cifar10",)
#: Initial-state samplers of the edit env (docs/methods/cassimon.md#initial-state-samplers); ``"nb101-dist"`` is an
#: alias of ``"nb101"`` (the name used by :func:`nasgym.spaces.nb101.sample`).
SAMPLERS: tuple[str, ...] = ("uniform", "bananas", "nb101")
_SAMPLER_ALIASES = {"nb101-dist": "nb101"}
#: Draws a rejection sampler may take to land on a cell the table holds.
MAX_SAMPLER_TRIES = 100_000
#: One-hot op columns of the observation: :data:`nasgym.spaces.nb101.OPS` then PAD.
OBS_OPS: tuple[str, ...] = (*OPS, "PAD")
#: The 21 upper-triangular vertex pairs of the Query action, row-major.
PAIRS: tuple[tuple[int, int], ...] = tuple(
    (u, w) for u in range(MAX_VERTICES) for w in range(u + 1, MAX_VERTICES)
)
NUM_INTERIOR = MAX_VERTICES - 2


# ---------------------------------------------------------------------------
# Per-table arrays shared by every env over the same table
# ---------------------------------------------------------------------------
class NB101Tables:
    """Read-only per-row arrays of one NB101 benchmark view (built once per process).

    Local index ``i`` (``0..N-1``) is the ``i``-th table row the benchmark holds with
    a finite validation accuracy at the chosen budget; ``-1`` (the arrays' extra last
    row) means "no architecture yet".

    Attributes:
        rows: Table row of every local index.
        hashes: Official hash of every local index.
        valid, test, cost: Mean validation / test accuracy (%) and training seconds.
        adjacency, ops, node_mask: Observation arrays, ``N + 1`` rows.

    Example:
        >>> tables = nb101_tables(NB101Benchmark("ecnas"))  # doctest: +SKIP
        >>> len(tables), tables.neighbours.shape  # doctest: +SKIP
        (2532, (2533, 104))
    """

    def __init__(self, bench: NB101Benchmark, epochs: int | None) -> None:
        data = bench.data
        self.bench = bench
        self.data: NB101Table = data
        rows = bench.rows
        all_hashes = bench.hashes()
        valid = np.asarray(bench.query(all_hashes, "valid", epochs), dtype=np.float64)
        keep = np.isfinite(valid)
        if not keep.any():
            raise UnknownOptionError(
                f"{bench.name} has no validation accuracy at epochs={epochs}"
            )
        self.rows: IntArray = rows[keep]
        self.hashes: list[str] = [h for h, k in zip(all_hashes, keep, strict=True) if k]
        self.valid: list[float] = valid[keep].tolist()
        test = np.asarray(bench.query(self.hashes, "test", epochs), dtype=np.float64)
        self.test: list[float] = test.tolist()
        self.has_cost = "train_time_s" in bench.metrics
        cost = (
            np.nan_to_num(
                np.asarray(bench.query(self.hashes, "train_time_s", epochs)), nan=0.0
            )
            if self.has_cost
            else np.zeros(len(self.hashes))
        )
        self.cost: list[float] = cost.tolist()
        self.optimum = float(np.nanmax(test)) if np.isfinite(test).any() else math.nan
        self.row_to_local: IntArray = np.full(len(data), -1, dtype=np.int64)
        self.row_to_local[self.rows] = np.arange(self.rows.size)
        self.histogram = data.vertex_edge_histogram(self.rows)
        self.adjacency, self.ops, self.node_mask = self._obs_arrays()
        self._neighbours: NDArray[np.int32] | None = None
        self._masks: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.rows.size)

    def _obs_arrays(self) -> tuple[Float32Array, Float32Array, Float32Array]:
        arrays = self.data.arrays
        n = self.rows.size
        sizes = arrays["num_vertices"][self.rows].astype(np.int64)
        bits = np.unpackbits(arrays["adjacency"][self.rows], axis=1)
        adjacency = np.zeros((n + 1, MAX_VERTICES, MAX_VERTICES), dtype=np.float32)
        adjacency[:n] = bits[:, : MAX_VERTICES**2].reshape(n, MAX_VERTICES, -1)
        op_index = arrays["ops"][self.rows].astype(np.int64)
        pad = np.arange(MAX_VERTICES)[None, :] >= sizes[:, None]
        op_index = np.where(pad, len(OPS), op_index)
        ops = np.zeros((n + 1, MAX_VERTICES, len(OBS_OPS)), dtype=np.float32)
        ops[:n] = np.eye(len(OBS_OPS), dtype=np.float32)[op_index]
        ops[n, :, len(OPS)] = 1.0
        node_mask = np.zeros((n + 1, MAX_VERTICES), dtype=np.float32)
        node_mask[:n] = ~pad
        for table in (adjacency, ops, node_mask):
            table.setflags(write=False)
        return adjacency, ops, node_mask

    def cell(self, local: int) -> NB101Cell:
        """The table's (pruned) cell at a local index."""
        return self.data.cell(int(self.rows[local]))

    def local_of(self, cell: NB101Cell) -> int:
        """Local index of a valid cell, ``-1`` where the view does not hold it."""
        row = int(self.data.lookup([nb101_hash(cell)])[0])
        return int(self.row_to_local[row]) if row >= 0 else -1

    # ------------------------------------------------------------ neighbours
    @property
    def neighbours(self) -> NDArray[np.int32]:
        """``(N + 1, 104)`` local index reached by each edit, ``-1`` where masked."""
        if self._neighbours is None:
            target_rows = self._neighbour_rows()
            local = np.where(
                target_rows >= 0, self.row_to_local[np.maximum(target_rows, 0)], -1
            )
            table = np.full((len(self) + 1, NUM_EDIT_ACTIONS), -1, dtype=np.int32)
            table[:-1] = local
            table.setflags(write=False)
            self._neighbours = table
        return self._neighbours

    @property
    def masks(self) -> BoolArray:
        """``(N + 1, 104)`` legal edits (the last row, no architecture, is empty)."""
        if self._masks is None:
            masks = self.neighbours >= 0
            masks.setflags(write=False)
            self._masks = masks
        return self._masks

    def _cache_path(self) -> Path:
        digest = hashlib.sha256(
            self.data.checksum.encode() + self.rows.astype("<i8").tobytes()
        ).hexdigest()[:16]
        path = self.data.path
        return path.with_name(f"{path.stem}-neighbours-{digest}.npy")

    def _neighbour_rows(self) -> NDArray[np.int64]:
        """Table row reached by each edit of each local cell (disk-cached)."""
        path = self._cache_path()
        shape = (len(self), NUM_EDIT_ACTIONS)
        try:
            cached: NDArray[np.int64] = np.load(path, allow_pickle=False).astype(
                np.int64
            )
            if cached.shape == shape:
                return cached
        except (OSError, ValueError):
            pass
        slow = len(self) * SECONDS_PER_CELL >= ANNOUNCE_S
        if slow:
            where = (
                f"cached in {path}"
                if os.access(path.parent, os.W_OK)
                else f"kept in memory only: {path.parent} is read-only"
            )
            print(
                f"nasgym: building the edit table of {self.bench.name} (the cell "
                f"each of the {NUM_EDIT_ACTIONS} edits of each of {len(self):,} cells "
                f"reaches), once; {where}",
                file=sys.stderr,
                flush=True,
            )
        out = self.compute_neighbour_rows(progress=slow)
        try:
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                np.save(handle, out.astype(np.int32))
            os.replace(tmp, path)
        except OSError:
            pass  # read-only table directory: keep the table in memory only
        return out

    def compute_neighbour_rows(
        self, workers: int | None = None, *, progress: bool = False
    ) -> NDArray[np.int64]:
        """Compute the table row reached by each edit of each local cell.

        Args:
            workers: Processes to use; default all CPUs for tables of at least
                :data:`PARALLEL_MIN_CELLS` cells, else 1 (this process).
            progress: Show a progress bar over the cells (stderr).
        """
        rows = self.rows.tolist()
        if workers is None:
            workers = (os.cpu_count() or 1) if len(rows) >= PARALLEL_MIN_CELLS else 1
        return neighbour_rows(
            self.data.kind, str(self.data.path), rows, workers, progress=progress
        )


#: Measured cost of the edit table per cell on one core (seconds), and the estimated
#: build time from which nasgym says what it builds and shows a progress bar.
SECONDS_PER_CELL = 0.004
ANNOUNCE_S = 5.0

#: Tables with at least this many cells build their neighbour table in a process
#: pool (about 4 ms per 7-vertex cell: 30 minutes for the full table on one core).
PARALLEL_MIN_CELLS = 20_000


def neighbour_rows(
    kind: str,
    path: str,
    rows: Sequence[int],
    workers: int = 1,
    *,
    progress: bool = False,
) -> NDArray[np.int64]:
    """``(len(rows), 104)`` table row reached by each edit of each row's cell.

    ``-1`` where :func:`nasgym.spaces.nb101.edit_mask` masks the edit (no valid,
    different cell) or the table does not hold the result.

    Args:
        kind: The table kind (``"full"`` or ``"ecnas"``).
        path: The table file.
        rows: Table rows.
        workers: Processes: above 1, chunks of rows run in a spawned process pool.
        progress: Show a progress bar (tqdm, on stderr) over the cells.
    """
    bar: Any = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(rows), unit="cells", desc="NB101 edit table", file=sys.stderr
        )
    if workers > 1 and len(rows) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        step = max(1, -(-len(rows) // (8 * workers)))
        chunks = [list(rows[i : i + step]) for i in range(0, len(rows), step)]
        context = multiprocessing.get_context("spawn")
        parts = []
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            n = len(chunks)
            for part in pool.map(neighbour_rows, [kind] * n, [path] * n, chunks):
                parts.append(part)
                if bar is not None:
                    bar.update(len(part))
        if bar is not None:
            bar.close()
        return np.concatenate(parts)
    data = load_table(kind, path)
    out = np.full((len(rows), NUM_EDIT_ACTIONS), -1, dtype=np.int64)
    for k, row in enumerate(rows):
        found = neighbours(data.cell(row))
        if found:
            actions = [a for a, _ in found]
            out[k, actions] = data.lookup([nb101_hash(c) for _, c in found])
        if bar is not None and k % 256 == 255:
            bar.update(256)
    if bar is not None:
        bar.update(len(rows) - bar.n)
        bar.close()
    return out


_TABLES: dict[tuple[str, str, str | None, int | None], NB101Tables] = {}


def nb101_tables(bench: NB101Benchmark, epochs: int | None = None) -> NB101Tables:
    """The shared :class:`NB101Tables` of a benchmark view (built on first use).

    Raises:
        BenchmarkDataMissingError: The table is not imported (the message gives the
            import command).
        UnknownOptionError: ``epochs`` is not a budget of the table.
    """
    data = bench.data
    budget = bench.epochs[-1] if epochs is None else epochs
    if budget not in bench.epochs:
        raise unknown_option(f"epochs of {bench.name}", budget, bench.epochs)
    key = (str(data.path), data.checksum, bench.subspace, budget)
    tables = _TABLES.get(key)
    if tables is None:
        tables = _TABLES[key] = NB101Tables(bench, budget)
    return tables


# ---------------------------------------------------------------------------
# Environments
# ---------------------------------------------------------------------------
class _NB101Env(KeyedNASEnv):
    default_alpha: ClassVar[float] = 6.0

    def __init__(
        self,
        table: str = "full",
        *,
        dataset: str = DATASETS[0],
        subspace: str | None = None,
        path: str | os.PathLike[str] | None = None,
        epochs: int | None = None,
        benchmark: NB101Benchmark | None = None,
        sampler: str = "uniform",
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
        check_single_dataset("NB101", dataset, DATASETS)
        mo_options: dict[str, Any] = {
            "mo_reward": mo_reward,
            "mo_alpha": mo_alpha,
            "cost_weights": cost_weights,
            "cost_threshold": cost_threshold,
            "constraint_penalty": constraint_penalty,
        }
        sampler = _SAMPLER_ALIASES.get(sampler, sampler)
        if sampler not in SAMPLERS:
            raise unknown_option("NB101 sampler", sampler, SAMPLERS)
        if benchmark is None:
            benchmark = NB101Benchmark(table, path=path, subspace=subspace)
        elif not isinstance(benchmark, NB101Benchmark):
            raise UnknownOptionError(
                f"benchmark must be an NB101Benchmark instance, got {benchmark!r}"
            )
        self.benchmark = benchmark
        self.sampler = sampler
        self._tables = nb101_tables(benchmark, epochs)
        self.epochs = self._tables.bench.epochs[-1] if epochs is None else epochs
        self._setup(
            reward=reward,
            alpha=alpha,
            horizon=horizon,
            max_queries=max_queries,
            invalid_action=invalid_action,
            invalid_reward=invalid_reward,
            render_mode=render_mode,
            optimum=self._tables.optimum,
            has_cost=self._tables.has_cost,
        )
        self._obj_matrix: NDArray[np.float64] | None = None
        self._setup_objectives(objectives, mo_options, self._objective_bounds)
        self._cur = -1
        t = self._tables
        self.observation_space = spaces.Dict(
            {
                "adjacency": spaces.Box(
                    0.0, 1.0, (MAX_VERTICES, MAX_VERTICES), np.float32
                ),
                "ops": spaces.Box(0.0, 1.0, (MAX_VERTICES, len(OBS_OPS)), np.float32),
                "node_mask": spaces.Box(0.0, 1.0, (MAX_VERTICES,), np.float32),
                "stats": spaces.Box(0.0, 1.0, (NUM_STATS,), np.float32),
            }
        )
        self._adjacency, self._ops, self._node_mask = t.adjacency, t.ops, t.node_mask

    @property
    def tables(self) -> NB101Tables:
        """The shared per-row arrays of the benchmark view."""
        return self._tables

    # ------------------------------------------------------------ objectives
    def _objective_columns(
        self, names: Sequence[str], accuracy: str = "valid"
    ) -> NDArray[np.float64]:
        """``(cells, k)`` raw values of ``names`` over the env's cells."""
        if accuracy not in ("valid", "test"):
            raise unknown_option("accuracy", accuracy, ("valid", "test"))
        t = self._tables
        bench = t.bench
        columns = []
        for name in names:
            if name == ACCURACY:
                columns.append(np.asarray(t.valid if accuracy == "valid" else t.test))
                continue
            metric = bench.cost_metric(name)
            values = np.asarray(
                bench.query(
                    t.hashes, metric, None if metric == "params" else self.epochs
                ),
                dtype=np.float64,
            )
            if not np.isfinite(values).all():
                raise BenchmarkDataMissingError(
                    f"{bench.name}: cost {name!r} is missing for "
                    f"{int((~np.isfinite(values)).sum())} of {values.size} cells"
                )
            columns.append(values)
        return np.stack(columns, axis=1).astype(np.float64)

    def _objective_bounds(
        self, names: tuple[str, ...]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[str, ...]]:
        values = self._objective_columns(names)
        matrix = np.concatenate([values, np.full((1, len(names)), np.nan)])
        matrix.setflags(write=False)
        self._obj_matrix = matrix
        costs = self._tables.bench.costs()
        units = tuple("%" if n == ACCURACY else costs[n].unit for n in names)
        return values.min(axis=0), values.max(axis=0), units

    def _objective_values(self, best: bool) -> NDArray[np.float64] | None:
        if self._obj_matrix is None:
            return None
        if best:
            row = self._search.best_code
            local = int(self._tables.row_to_local[row]) if row >= 0 else -1
        else:
            local = self._cur
        return None if local < 0 else self._obj_matrix[local]

    def objective_table(
        self, names: Sequence[str] | None = None, *, accuracy: str = "valid"
    ) -> NDArray[np.float64]:
        """Raw objective values of every cell the env can query, ``(cells, k)``.

        Same contract as the tabular envs' ``objective_table``: columns in
        ``names`` order (default: the env's ``objectives``), accuracy in percent
        (validation, or the reported test accuracy with ``accuracy="test"``), costs
        in their units (:meth:`NB101Benchmark.costs`); one row per table cell.

        Raises:
            UnknownOptionError: No names and no ``objectives``, an unknown cost
                (lists the table's) or ``accuracy``.
        """
        return self._objective_columns(table_names(names, self.objectives), accuracy)

    def _restart(self) -> None:
        self._cur = -1

    def _start(self, rng: np.random.Generator) -> None:
        self._cur = -1

    def _move(self, local: int) -> float:
        t = self._tables
        self._cur = local
        key = t.hashes[local]
        return self._search.evaluate(
            key, key, int(t.rows[local]), t.valid[local], t.test[local], t.cost[local]
        )

    def _observe(self) -> dict[str, Float32Array]:
        cur = self._cur  # -1 selects the all-padding row
        return {
            "adjacency": self._adjacency[cur].copy(),
            "ops": self._ops[cur].copy(),
            "node_mask": self._node_mask[cur].copy(),
            "stats": self._search.stats(),
        }

    def cell_views(self, arch: str) -> list[CellView]:
        """The cell of ``arch`` (an official hash in this env's table), for drawing.

        Raises:
            InvalidArchitectureError: ``arch`` is not a hash of the env's table.
        """
        data = self._tables.data
        row = int(data.lookup([arch])[0])
        if row < 0:
            raise InvalidArchitectureError(
                f"{arch!r} is not the hash of a cell in this NB101 table"
            )
        cell = data.cell(row)
        return [CellView.from_arrays(np.asarray(cell.matrix), list(cell.ops))]

    @property
    def current_cell(self) -> NB101Cell | None:
        """The current cell (the table's representative), ``None`` before a query."""
        return None if self._cur < 0 else self._tables.cell(self._cur)


class NB101EditEnv(_NB101Env):
    """NB101 graph-edit env (full docstring assigned below)."""

    mode: ClassVar[str] = "edit"

    def __init__(self, table: str = "full", **kwargs: Any) -> None:
        super().__init__(table, **kwargs)
        self.action_space = spaces.Discrete(NUM_EDIT_ACTIONS)
        self._neighbours = self._tables.neighbours
        self._masks = self._tables.masks

    def _draw(self, rng: np.random.Generator) -> int:
        t = self._tables
        if self.sampler == "uniform":
            return int(rng.integers(len(t)))
        for _ in range(MAX_SAMPLER_TRIES):
            if self.sampler == "bananas":
                cell = sample_bananas(rng)
            else:
                cell = sample_nb101_dist(rng, t.histogram)
            local = t.local_of(cell)
            if local >= 0:
                return local
        raise UnknownOptionError(
            f"sampler {self.sampler!r} drew {MAX_SAMPLER_TRIES} cells and none is in "
            f"{self.benchmark.name}; use sampler='uniform' for this table"
        )

    def _start(self, rng: np.random.Generator) -> None:
        search = self._search
        if search.spent and search.best_code >= 0:
            local = int(self._tables.row_to_local[search.best_code])
        else:
            local = self._draw(rng)
        self._move(local)

    def _act(self, action: Any) -> float:
        action = edit_index(action, NUM_EDIT_ACTIONS)
        target = int(self._neighbours.item(self._cur, action))
        if target < 0:
            return self._reject(self._why(self._cur, action))
        if self._search.spent:
            blocked = self._budget_blocks(
                self._tables.hashes[target], f"edit action {action}"
            )
            if blocked is not None:
                return self._reject(blocked)
        self._search.t += 1
        return self._move(target)

    def _mask(self) -> BoolArray:
        mask: BoolArray = self._masks[self._cur]
        return mask

    def edit_targets(self) -> list[str | None]:
        """Where each edit action leads from the current cell (no query).

        Entry ``a`` is the official hash (the ``info["arch"]`` form) of the table
        cell that action ``a`` reaches, ``None`` where :meth:`action_masks` forbids
        it; read from the neighbour table, nothing is evaluated.

        Raises:
            gymnasium.error.ResetNeeded: Before the first ``reset``.
        """
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before edit_targets()")
        hashes = self._tables.hashes
        return [
            None if target < 0 else hashes[target]
            for target in self._neighbours[self._cur].tolist()
        ]

    def _why(self, local: int, action: int) -> str:
        t = self._tables
        cell = t.cell(local)
        result = apply_edit(cell, action)
        if result is None:
            why = _inapplicable(cell, action)
        elif nb101_hash(result) == t.hashes[local]:
            why = "it gives the same architecture (an isomorphic cell)"
        else:
            why = (
                f"the result (hash {nb101_hash(result)}) is a valid NB101 cell that "
                f"{self.benchmark.name} does not hold (the table covers only part of "
                f"the space)"
            )
        return (
            f"edit action {action} ({describe_edit(action)}) is masked in the current "
            f"state {cell}: {why}; use env.action_masks() to choose legal actions"
        )


def _inapplicable(cell: NB101Cell, action: int) -> str:
    """Why :func:`apply_edit` returns ``None`` for a valid cell."""
    entry = EDIT_ACTIONS[action]
    n = cell.num_vertices
    if entry.kind in (OP_CHANGE, VERTEX_REMOVE) and not 1 <= entry.u <= n - 2:
        return f"vertex {entry.u} is not an interior vertex of this {n}-vertex cell"
    if entry.kind == OP_CHANGE:
        return f"vertex {entry.u} already is {entry.op}"
    if entry.kind in (EDGE_TOGGLE, VERTEX_INSERT) and entry.w >= n:
        return f"vertex {entry.w} does not exist in this {n}-vertex cell"
    if entry.kind == VERTEX_INSERT and not cell.matrix[entry.u][entry.w]:
        return f"there is no edge {entry.u} -> {entry.w} to insert a vertex on"
    if entry.kind == VERTEX_INSERT and n >= MAX_VERTICES:
        return f"the cell already has {MAX_VERTICES} vertices"
    return (
        "the edited cell is not a valid NB101 cell (the input no longer reaches the "
        "output, or more than 9 edges remain after pruning)"
    )


def _describe_entry(s: int) -> str:
    if s < len(PAIRS):
        return f"edge bit {PAIRS[s]}"
    return f"op of vertex {s - len(PAIRS) + 1}"


class NB101QueryEnv(_NB101Env):
    """NB101 black-box query env (full docstring assigned below)."""

    mode: ClassVar[str] = "query"

    def __init__(self, table: str = "full", **kwargs: Any) -> None:
        super().__init__(table, **kwargs)
        self._nvec = [2] * len(PAIRS) + [len(INTERIOR_OPS)] * NUM_INTERIOR
        self.action_space = spaces.MultiDiscrete(self._nvec)
        self._decoded: dict[tuple[int, ...], int | str] = {}

    def _decode(self, values: Sequence[int]) -> int | str:
        """Local index of an action vector, or why it is rejected (memoised)."""
        key = tuple(values)
        found = self._decoded.get(key)
        if found is not None:
            return found
        matrix = [[0] * MAX_VERTICES for _ in range(MAX_VERTICES)]
        for bit, (u, w) in zip(values[: len(PAIRS)], PAIRS, strict=True):
            matrix[u][w] = bit
        labels = ("input", *(INTERIOR_OPS[o] for o in values[len(PAIRS) :]), "output")
        cell = NB101Cell(tuple(map(tuple, matrix)), labels)
        reason = invalid_reason(cell)
        result: int | str
        if reason is not None:
            result = f"query action {list(values)} is not a valid NB101 cell: {reason}"
        else:
            local = self._tables.local_of(cell)
            result = (
                local
                if local >= 0
                else f"query action {list(values)} is a valid NB101 cell (hash "
                f"{nb101_hash(cell)}) that {self.benchmark.name} does not hold"
            )
        if len(self._decoded) >= 1 << 16:
            self._decoded.clear()
        self._decoded[key] = result
        return result

    def _act(self, action: Any) -> float:
        values = int_vector(action, self._nvec, _describe_entry)
        result = self._decode(values)
        if isinstance(result, str):
            return self._reject(result)
        blocked = self._budget_blocks(self._tables.hashes[result], "this query")
        if blocked is not None:
            return self._reject(blocked)
        self._search.t += 1
        return self._move(result)


# ---------------------------------------------------------------------------
# Docstrings
# ---------------------------------------------------------------------------
_SPACE = """\
NAS-Bench-101 cells (Ying et al. 2019): DAGs of at most 7 vertices (input, up to 5
interior ops from conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3, output) and at most 9
edges, 423,624 unique cells up to isomorphism (`nasgym.spaces.nb101`). A cell is
valid when the input reaches the output and at most 9 edges remain after pruning
vertices that lie on no input->output path. Architectures are identified by the
official NB101 hash (isomorphic cells share it). The env only moves to cells that
its table holds: with `table="ecnas"` that is EC-NAS-Bench's 2,532 measured cells of
at most 5 vertices (two sub-spaces, `subspace="4V9E"` or `"5V9E"`)."""

_DATA = """\
An NB101-format table imported once into `NASGYM_CACHE_DIR`: the official
`nasbench_only108.tfrecord` / `nasbench_full.tfrecord` (`nasgym data import nb101
PATH`, table `"full"`, default) or EC-NAS-Bench's measured 4-epoch runs
(`nasgym data import ecnas PATH`, table `"ecnas"`; MIT / Apache-2.0). Rewards use the
mean validation accuracy over the repeats at `epochs` (default: the table's largest
budget, 108 for NB101, 4 for EC-NAS; naszilla's deterministic query), `info` reports
the mean test accuracy, `sim_time_s` sums the mean training time of distinct
queries. Values are means, so queries are deterministic. The first env over a table
builds its neighbour table (row x 104 edits -> row; seconds for EC-NAS, about 30
CPU-minutes for the full table, run on all CPUs) and saves it next to the table
file. Without the table, construction raises `BenchmarkDataMissingError` naming
the file and the import command. Cost objectives (`objectives=[...]`): `train_time`
(s, mean over repeats at `epochs`) and `params` (count) in both tables, plus EC-NAS's
`energy_kwh` (kWh) and `co2` (g CO2-eq) per run."""

_ARGS = """\
| param | type | default | description |
|---|---|---|---|
| `table` | str | `"full"` | `"full"` (official NB101, `nb101.npz`) or `"ecnas"` (EC-NAS-Bench) |
| `subspace` | str or None | None | EC-NAS only: `"4V9E"` or `"5V9E"` |
| `path` | path or None | None | the table file or its directory (default: the cache search path) |
| `dataset` | str | `"cifar10"` | the tables' only dataset; any other value is an error |
| `epochs` | int or None | None | training budget of the rewarded/reported values (default: the largest) |
| `benchmark` | NB101Benchmark | None | a backend instance to use instead of `table`/`path`/`subspace` |
| `sampler` | str | `"uniform"` | Edit starting state: `"uniform"` (a uniform table row), `"bananas"` (BANANAS' Bernoulli(0.5) sampler) or `"nb101"` (the table's vertex/edge-count distribution); the last two reject draws the table lacks |"""

_REFS = """\
* Ying et al., "NAS-Bench-101: Towards Reproducible Neural Architecture Search",
  ICML 2019.
* Bakhtiarifard et al., "EC-NAS: Energy Consumption Aware Tabular Benchmarks for
  Neural Architecture Search", ICASSP 2024.
* Cassimon, Mercelis, Mets, "Scalable reinforcement learning-based neural
  architecture search", arXiv 2410.01431 (the edit MDP and reward shaping)."""

_OBS = f"""\
`Dict` of fixed-shape `Box`es (usable by SB3's `MultiInputPolicy`), one token per
vertex padded to 7 (docs/methods/cassimon.md#observation-encoding), describing the table's pruned cell (vertex `i`
in row `i`, the output last; all padding before the first query):

| key | shape | dtype | range | meaning |
|---|---|---|---|---|
| `adjacency` | (7, 7) | float32 | {{0, 1}} | adjacency, row = source |
| `ops` | (7, 6) | float32 | {{0, 1}} | one-hot vertex label: {", ".join(OBS_OPS)} |
| `node_mask` | (7,) | float32 | {{0, 1}} | 1 for real vertices |
| `stats` | (4,) | float32 | [0, 1] | {{stats}} |"""

_INFO = """\
| `arch`, `best_arch` | official NB101 hash (32 hex characters) of the current / incumbent cell |
| `arch_code`, `arch_class` | table row of the cell (`benchmark.data.cell(row)`); rows are per hash, so both are equal; `-1` before the first query |
| `test_accuracy`, `best_test_accuracy` | mean test accuracy (%) in the table |
| `regret` | best mean test accuracy of the table view minus `best_test_accuracy` |
| `sim_time_s` | summed mean training seconds of distinct queries |"""


def _doc(mode: str, env_id: str, title: str, description: str, action: str) -> str:
    return build_graph_docstring(
        GraphEnvDoc(
            title=title,
            description=description,
            search_space=_SPACE,
            action_space=action,
            observation_space=_OBS,
            starting_state=(
                "A cell drawn by `sampler` (default: a uniform table row); evaluating "
                "it is the episode's first query. Once `max_queries` is spent, "
                "episodes start from the incumbent instead (a free revisit)."
                if mode == "edit"
                else "No architecture: nothing is queried at reset."
            ),
            information=_INFO,
            arguments=_ARGS,
            benchmark_data=_DATA,
            references=_REFS,
            env_id=env_id,
            data_hint="needs an imported table: `nasgym data import nb101 PATH` or "
            '`nasgym data import ecnas PATH` with `table="ecnas"`',
            multi_objective=True,
        ),
        mode,
        reward_default="power",
        alpha_default=6.0,
    )


_EDIT_ACTION = """\
`Discrete(104)`: the fixed edit table of docs/methods/cassimon.md#edit-actions (`nasgym.spaces.nb101.
EDIT_ACTIONS`), vertex indices referring to the current (pruned) cell:

| actions | edit |
|---|---|
| 0-14 | `OP_CHANGE(v, o)` = `3 * (v - 1) + o`: relabel interior vertex v in 1..5 with op o |
| 15-35 | `EDGE_TOGGLE(u, w)`, pairs `0 <= u < w <= 6` in lexicographic order |
| 36-40 | `VERTEX_REMOVE(v)` = `36 + v - 1`, rerouting every predecessor to every successor |
| 41-103 | `VERTEX_INSERT(u, w, o)` = `41 + 3 * pair(u, w) + o`: split edge u->w with a new vertex |

The result is pruned; the state becomes the table's cell of its hash.
`env.action_masks()` (sb3-contrib's MaskablePPO convention) and `info["action_mask"]`
hold exactly the edits giving a valid cell with a different hash that the table
holds. An out-of-range action raises `nasgym.error.InvalidActionError`. A masked
action follows `invalid_action`: `"penalize"` (default) leaves the state unchanged,
costs no query, gives `invalid_reward` and says why (e.g. the result is not in the
table) in `info["invalid_action"]`; `"raise"` raises `InvalidActionError`."""

_QUERY_ACTION = """\
`MultiDiscrete([2] * 21 + [3] * 5)`: a whole 7-vertex cell per step. Entries 0-20
are the upper-triangular adjacency bits `(u, w)`, `0 <= u < w <= 6`, row-major;
entries 21-25 the ops of vertices 1..5 (0 conv3x3-bn-relu, 1 conv1x1-bn-relu, 2
maxpool3x3). The cell is pruned, so smaller cells are proposed by leaving vertices
off every input->output path. An out-of-range vector raises
`nasgym.error.InvalidActionError`. An invalid cell, or one the table does not hold,
follows `invalid_action`: `"penalize"` (default) costs no query, leaves the state
unchanged, gives `invalid_reward` and says why in `info["invalid_action"]`;
`"raise"` raises `InvalidActionError`."""

NB101EditEnv.__doc__ = _doc(
    "edit",
    "nasgym/NB101Edit-v0",
    "Graph-edit search over NAS-Bench-101 cells (Cassimon et al.'s MDP).",
    "The agent holds one cell and applies one of 104 edits per step (op change, "
    "edge toggle, vertex removal with edge regeneration, vertex insertion), walking "
    "the neighbourhood graph of the space; each new cell reached is a benchmark "
    "query. The reward defaults to `acc ** 6` (docs/methods/cassimon.md#mdp-and-reward-shaping).",
    _EDIT_ACTION,
)
NB101QueryEnv.__doc__ = _doc(
    "query",
    "nasgym/NB101Query-v0",
    "Black-box search over NAS-Bench-101: each step proposes a whole cell.",
    "One step is one query of a complete cell given as adjacency bits and ops, the "
    "interface of random search, regularized evolution and REINFORCE controllers.",
    _QUERY_ACTION,
)


class _NB101VectorEnv(KeyedNASVectorEnv):
    """``num_envs`` NB101 searches (:class:`~nasgym.envs.keyed.KeyedNASVectorEnv`).

    The sub-envs share the process-wide table and neighbour arrays.
    """

    env_class: ClassVar[type[_NB101Env]]


class NB101EditVectorEnv(_NB101VectorEnv):
    """``gym.make_vec`` entry point of ``nasgym/NB101Edit-v0``."""

    env_class = NB101EditEnv


class NB101QueryVectorEnv(_NB101VectorEnv):
    """``gym.make_vec`` entry point of ``nasgym/NB101Query-v0``."""

    env_class = NB101QueryEnv
