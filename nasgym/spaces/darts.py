"""The DARTS cell search space (NAS-Bench-301), as values, arrays and edit actions.

A DARTS genotype has a *normal* and a *reduce* cell. Each cell is 8 ``(op, input)``
pairs; pair ``j`` feeds intermediate node ``j // 2``. Inputs (sources) are numbered as
in the DARTS code: ``0`` is the cell input ``c_{k-2}``, ``1`` is ``c_{k-1}`` and
``2..5`` are intermediate nodes ``0..3``. The cell output concatenates the four
intermediate nodes. Operations are the seven of :data:`OPS` (DARTS' ``'none'`` is not
part of the NB301 space).

A genotype is *valid* when every intermediate node ``m`` takes its two inputs from two
distinct sources, each lower than its own index (``input <= m + 1``). The two pairs of a
node are unordered: swapping them gives the same network, so :meth:`DartsGenotype.key`
(the canonical form) is what caches and visited sets should use.

The space is far too large to tabulate (about 10^18 distinct networks), so it is *not* a
:class:`~nasgym.spaces.base.CategoricalSearchSpace`. It offers instead:

* :class:`DartsGenotype`, an immutable value with validity reasons, canonical form and
  key, plus conversions to NASLib's compact form (:func:`to_naslib`), to the DARTS
  ``Genotype(...)`` string (:func:`to_genotype_str`) and back;
* a batch encoding: int8 arrays of shape ``(N, 2, 8, 2)`` holding ``(op, input)``
  (:func:`genotypes_to_array`, :func:`valid_mask`, :func:`canonicalize_array`);
* the ops-on-nodes graph view of 30 vertices (:func:`to_node_graph`,
  :func:`from_node_graph`, :func:`node_graphs`);
* a fixed table of 208 edit actions with masks (:func:`apply_edit`, :func:`edit_mask`);
* the BANANAS sampler (:func:`sample_bananas`, :func:`sample_bananas_array`);
* L2NAS score decoding (:func:`decode_scores`) and its one-hot inverse
  (:func:`encode_scores`).

This module imports numpy only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nasgym.error import InvalidActionError, InvalidArchitectureError

Int8Array: TypeAlias = NDArray[np.int8]
UInt8Array: TypeAlias = NDArray[np.uint8]
BoolArray: TypeAlias = NDArray[np.bool_]
Float32Array: TypeAlias = NDArray[np.float32]

#: The seven NB301 operations, in NASLib's and naszilla's index order.
OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
#: DARTS' eight primitives (``'none'`` first, then :data:`OPS`): the op axis of L2NAS
#: score arrays, as in the DARTS code's ``PRIMITIVES``.
L2NAS_OPS: tuple[str, ...] = ("none", *OPS)
#: Cell names, in genotype order; a cell index ``c`` means ``CELLS[c]``.
CELLS: tuple[str, str] = ("normal", "reduce")

NUM_OPS = len(OPS)
NUM_CELLS = 2
NUM_NODES = 4
NUM_PAIRS = 2 * NUM_NODES
NUM_SOURCES = NUM_NODES + 2
#: The nodes the DARTS cell output concatenates (``normal_concat``, ``reduce_concat``).
CONCAT: tuple[int, ...] = (2, 3, 4, 5)

_OP_INDEX = {name: i for i, name in enumerate(OPS)}
_PAIR_NODE = np.arange(NUM_PAIRS) // 2
#: Largest allowed input of each pair: ``j // 2 + 1``.
MAX_SOURCE: tuple[int, ...] = tuple(int(m) + 1 for m in _PAIR_NODE)
_MAX_SOURCE = np.asarray(MAX_SOURCE, dtype=np.int8)
_SIBLING = np.arange(NUM_PAIRS) ^ 1

# ------------------------------------------------------------ candidate edges (L2NAS)
#: First candidate-edge index of each intermediate node: node ``m`` owns edges
#: ``EDGE_OFFSET[m] .. EDGE_OFFSET[m] + m + 1`` (one per source ``0 .. m + 1``), the
#: order of DARTS' ``alphas`` rows and of NB301's ``edge_<cell>_<e>`` hyperparameters.
EDGE_OFFSET: tuple[int, ...] = (0, 2, 5, 9)
#: The 14 candidate edges of a cell as ``(node, source)``.
CANDIDATE_EDGES: tuple[tuple[int, int], ...] = tuple(
    (m, s) for m in range(NUM_NODES) for s in range(m + 2)
)
NUM_CANDIDATE_EDGES = len(CANDIDATE_EDGES)

# ------------------------------------------------------------------- node graph view
#: Vertices per cell in the ops-on-nodes view.
CELL_VERTICES = 15
#: Vertices of a genotype's node graph (normal cell first, then reduce).
NUM_VERTICES = NUM_CELLS * CELL_VERTICES
#: Vertex labels (docs/methods/cassimon.md#observation-encoding): the two cell inputs,
#: the 7 ops, SUM, OUT, and PAD for
#: envs that pad node graphs to a common size. Op ``o`` has label ``LABEL_OP0 + o``.
LABEL_NAMES: tuple[str, ...] = ("IN0", "IN1", *OPS, "SUM", "OUT", "PAD")
LABEL_IN0, LABEL_IN1, LABEL_OP0 = 0, 1, 2
LABEL_SUM, LABEL_OUT, LABEL_PAD = 9, 10, 11
NUM_LABELS = len(LABEL_NAMES)


def _op_vertex(j: int) -> int:
    return 2 + 3 * (j // 2) + j % 2


def _sum_vertex(m: int) -> int:
    return 4 + 3 * m


#: Local vertex (within a cell) of each op vertex ``O_j``; vertices are in a fixed
#: topological order ``IN0, IN1, O_0, O_1, S_0, O_2, O_3, S_1, ..., O_7, S_3, OUT``.
OP_VERTEX: tuple[int, ...] = tuple(_op_vertex(j) for j in range(NUM_PAIRS))
#: Local vertex of each sum vertex ``S_m``.
SUM_VERTEX: tuple[int, ...] = tuple(_sum_vertex(m) for m in range(NUM_NODES))
#: Local vertex of the cell output.
OUT_VERTEX = CELL_VERTICES - 1
#: Local vertex of each source ``0..5``: IN0, IN1, then S_0..S_3.
SOURCE_VERTEX: tuple[int, ...] = (0, 1, *SUM_VERTEX)


def _vertex_names() -> tuple[str, ...]:
    local = ["IN0", "IN1"]
    for m in range(NUM_NODES):
        local += [f"O{2 * m}", f"O{2 * m + 1}", f"S{m}"]
    local.append("OUT")
    return tuple(f"{cell}/{name}" for cell in CELLS for name in local)


#: Names of the 30 node-graph vertices, e.g. ``"normal/O3"`` or ``"reduce/S1"``.
VERTEX_NAMES: tuple[str, ...] = _vertex_names()
#: Cell-type flag of every vertex (0 normal, 1 reduce).
CELL_FLAG: UInt8Array = np.repeat(np.arange(NUM_CELLS, dtype=np.uint8), CELL_VERTICES)
CELL_FLAG.setflags(write=False)

_OP_VERTEX = np.asarray(OP_VERTEX, dtype=np.intp)
_SOURCE_VERTEX = np.asarray(SOURCE_VERTEX, dtype=np.intp)
_SUM_OF_PAIR = np.asarray([SUM_VERTEX[m] for m in _PAIR_NODE], dtype=np.intp)

# ---------------------------------------------------------------------- edit actions
OP_CHANGE = "OP_CHANGE"
REWIRE = "REWIRE"
NUM_OP_CHANGES = NUM_CELLS * NUM_PAIRS * NUM_OPS
NUM_REWIRES = NUM_CELLS * NUM_PAIRS * NUM_SOURCES
#: Size of the fixed edit-action table (docs/methods/cassimon.md#edit-actions).
NUM_EDITS = NUM_OP_CHANGES + NUM_REWIRES


class Edit(NamedTuple):
    """One entry of the edit-action table.

    Attributes:
        kind: :data:`OP_CHANGE` or :data:`REWIRE`.
        cell: 0 (normal) or 1 (reduce).
        pair: Pair index ``0..7`` (it feeds node ``pair // 2``).
        value: The new op index (``OP_CHANGE``) or the new input ``0..5`` (``REWIRE``).
    """

    kind: str
    cell: int
    pair: int
    value: int


def encode_edit(kind: str, cell: int, pair: int, value: int) -> int:
    """Return the action index of an edit.

    Layout: ``OP_CHANGE(cell, pair, op)`` is ``cell * 56 + pair * 7 + op`` (0..111) and
    ``REWIRE(cell, pair, src)`` is ``112 + cell * 48 + pair * 6 + src`` (112..207).

    Args:
        kind: :data:`OP_CHANGE` or :data:`REWIRE`.
        cell: 0 (normal) or 1 (reduce).
        pair: Pair index ``0..7``.
        value: New op index ``0..6`` or new input ``0..5``.

    Returns:
        The action index.

    Raises:
        InvalidActionError: A field is out of range.
    """
    size = NUM_OPS if kind == OP_CHANGE else NUM_SOURCES
    if kind not in (OP_CHANGE, REWIRE):
        raise InvalidActionError(f"edit kind must be {OP_CHANGE!r} or {REWIRE!r}")
    if not (0 <= cell < NUM_CELLS and 0 <= pair < NUM_PAIRS and 0 <= value < size):
        raise InvalidActionError(
            f"{kind}(cell={cell}, pair={pair}, value={value}) is out of range "
            f"(cell 0..1, pair 0..7, value 0..{size - 1})"
        )
    base = 0 if kind == OP_CHANGE else NUM_OP_CHANGES
    return base + (cell * NUM_PAIRS + pair) * size + value


def decode_edit(action: int) -> Edit:
    """Return the :class:`Edit` of an action index.

    Raises:
        InvalidActionError: ``action`` is not in ``0..207``.
    """
    if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
        raise InvalidActionError(f"action must be an integer, got {action!r}")
    a = int(action)
    if not 0 <= a < NUM_EDITS:
        raise InvalidActionError(f"action {a} is out of range 0..{NUM_EDITS - 1}")
    if a < NUM_OP_CHANGES:
        rest, value = divmod(a, NUM_OPS)
        kind = OP_CHANGE
    else:
        rest, value = divmod(a - NUM_OP_CHANGES, NUM_SOURCES)
        kind = REWIRE
    cell, pair = divmod(rest, NUM_PAIRS)
    return Edit(kind, cell, pair, value)


#: The whole edit-action table, indexed by action.
EDIT_TABLE: tuple[Edit, ...] = tuple(decode_edit(a) for a in range(NUM_EDITS))

Pair: TypeAlias = tuple[str, int]
Cell: TypeAlias = tuple[Pair, ...]


def _normalise_cell(name: str, cell: Any) -> Cell:
    """Check a cell's form (8 pairs of a known op and an input 0..5); return tuples."""
    try:
        pairs = list(cell)
    except TypeError:
        raise InvalidArchitectureError(
            f"{name} cell must be a sequence of 8 (op, input) pairs, got {cell!r}"
        ) from None
    if len(pairs) != NUM_PAIRS:
        raise InvalidArchitectureError(
            f"{name} cell has {len(pairs)} pairs; a DARTS cell has {NUM_PAIRS}"
        )
    out: list[Pair] = []
    for j, pair in enumerate(pairs):
        try:
            op, source = pair
        except (TypeError, ValueError):
            raise InvalidArchitectureError(
                f"{name} pair {j} must be an (op, input) pair, got {pair!r}"
            ) from None
        if not isinstance(op, str) or op not in _OP_INDEX:
            raise InvalidArchitectureError(
                f"{name} pair {j}: unknown op {op!r}; valid ops: {', '.join(OPS)}"
            )
        if isinstance(source, bool) or not isinstance(source, (int, np.integer)):
            raise InvalidArchitectureError(
                f"{name} pair {j}: input must be an integer 0..5, got {source!r}"
            )
        if not 0 <= int(source) < NUM_SOURCES:
            raise InvalidArchitectureError(
                f"{name} pair {j}: input {int(source)} is out of range 0..5"
            )
        out.append((op, int(source)))
    return tuple(out)


@dataclass(frozen=True)
class DartsGenotype:
    """An immutable DARTS genotype: a normal and a reduce cell of 8 ``(op, input)``.

    Construction checks the *form* (8 pairs per cell, known ops, inputs ``0..5``) and
    raises :class:`~nasgym.error.InvalidArchitectureError` otherwise; it does not
    check the wiring rules, so that invalid genotypes can be inspected:
    :meth:`errors` lists the reasons, :meth:`validate` raises on them. Equality and
    hashing are structural (pair order matters); use :meth:`key` for network identity.

    Attributes:
        normal: The normal cell's 8 ``(op, input)`` pairs.
        reduce: The reduction cell's 8 ``(op, input)`` pairs.
    """

    normal: Cell
    reduce: Cell

    def __post_init__(self) -> None:
        object.__setattr__(self, "normal", _normalise_cell("normal", self.normal))
        object.__setattr__(self, "reduce", _normalise_cell("reduce", self.reduce))

    @property
    def cells(self) -> tuple[Cell, Cell]:
        """``(normal, reduce)``, indexable by cell index."""
        return (self.normal, self.reduce)

    def errors(self) -> tuple[str, ...]:
        """Why this genotype is invalid; empty when it is valid."""
        reasons: list[str] = []
        for name, cell in zip(CELLS, self.cells, strict=True):
            for m in range(NUM_NODES):
                (_, a), (_, b) = cell[2 * m], cell[2 * m + 1]
                where = f"{name} node {m} (pairs {2 * m}, {2 * m + 1})"
                for j, source in ((2 * m, a), (2 * m + 1, b)):
                    if source > m + 1:
                        reasons.append(
                            f"{where}: pair {j} reads input {source}, which is not an "
                            f"earlier node (inputs must be <= {m + 1})"
                        )
                if a == b:
                    reasons.append(
                        f"{where}: both pairs read input {a}; a node needs two "
                        f"distinct inputs"
                    )
        return tuple(reasons)

    @property
    def is_valid(self) -> bool:
        """Whether the genotype obeys the NB301 wiring rules."""
        return not self.errors()

    def validate(self) -> DartsGenotype:
        """Return ``self`` if valid.

        Raises:
            InvalidArchitectureError: Listing every violated rule.
        """
        reasons = self.errors()
        if reasons:
            raise InvalidArchitectureError(
                "invalid DARTS genotype: " + "; ".join(reasons)
            )
        return self

    def canonical(self) -> DartsGenotype:
        """The canonical form: the two pairs of every node sorted by (input, op)."""
        cells = []
        for cell in self.cells:
            pairs: list[Pair] = []
            for m in range(NUM_NODES):
                duo = sorted(
                    cell[2 * m : 2 * m + 2], key=lambda p: (p[1], _OP_INDEX[p[0]])
                )
                pairs += duo
            cells.append(tuple(pairs))
        return DartsGenotype(cells[0], cells[1])

    def key(self) -> str:
        """A canonical string key: equal for genotypes describing the same network.

        Format: per cell, 8 two-digit groups ``<op index><input>`` of the canonical
        form; the normal and reduce cells are joined by ``|`` (33 characters).
        """
        return array_keys(self.to_array()[None])[0]

    @classmethod
    def from_key(cls, key: str) -> DartsGenotype:
        """Parse a :meth:`key` string (it yields the canonical genotype).

        Raises:
            InvalidArchitectureError: ``key`` is malformed.
        """
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise InvalidArchitectureError(f"not a DARTS genotype key: {key!r}")
        digits = key.replace("|", "")
        arr = np.asarray([int(c) for c in digits], dtype=np.int8).reshape(2, 8, 2)
        return from_array(arr, validate=False)

    def to_array(self) -> Int8Array:
        """Return the ``(2, 8, 2)`` int8 array of ``(op index, input)``."""
        return np.asarray(
            [[(_OP_INDEX[op], src) for op, src in cell] for cell in self.cells],
            dtype=np.int8,
        )

    def __str__(self) -> str:
        return to_genotype_str(self)


_KEY_RE = re.compile(r"(?:[0-6][0-5]){8}\|(?:[0-6][0-5]){8}")

Genotypes: TypeAlias = DartsGenotype | Sequence[DartsGenotype] | ArrayLike


# ------------------------------------------------------------------ array encoding
def _check_array_shape(arr: NDArray[Any]) -> NDArray[Any]:
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[1:] != (NUM_CELLS, NUM_PAIRS, 2):
        raise InvalidArchitectureError(
            f"DARTS genotype arrays have shape (N, 2, 8, 2) or (2, 8, 2), got "
            f"{arr.shape}"
        )
    return arr


def as_array(genotypes: Genotypes, *, validate: bool = True) -> Int8Array:
    """Return genotypes as an ``(N, 2, 8, 2)`` int8 array of ``(op, input)``.

    Args:
        genotypes: A :class:`DartsGenotype`, a sequence of them, or an integer array of
            shape ``(2, 8, 2)`` or ``(N, 2, 8, 2)``.
        validate: Raise when a row breaks a wiring rule (the form, i.e. op and input
            ranges, is always checked).

    Returns:
        A new int8 array.

    Raises:
        InvalidArchitectureError: Wrong shape, out-of-range entries or (``validate``)
            an invalid genotype, naming the first offending row.
    """
    if isinstance(genotypes, DartsGenotype):
        arr: NDArray[Any] = genotypes.to_array()[None]
    elif (
        isinstance(genotypes, Sequence)
        and len(genotypes) > 0
        and isinstance(genotypes[0], DartsGenotype)
    ):
        arr = genotypes_to_array(genotypes)  # type: ignore[arg-type]
    else:
        arr = np.asarray(genotypes)
        if arr.size == 0 and arr.ndim <= 1:
            arr = np.zeros((0, NUM_CELLS, NUM_PAIRS, 2), dtype=np.int8)
        if arr.dtype.kind not in "iu":
            raise InvalidArchitectureError(
                f"DARTS genotype arrays hold integers, got dtype {arr.dtype}"
            )
    arr = _check_array_shape(arr)
    ops, src = arr[..., 0], arr[..., 1]
    bad = ((ops < 0) | (ops >= NUM_OPS) | (src < 0) | (src >= NUM_SOURCES)).any(
        axis=(1, 2)
    )
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidArchitectureError(
            f"genotype row {row} has an op outside 0..6 or an input outside 0..5: "
            f"{arr[row].tolist()}"
        )
    out = arr.astype(np.int8, copy=True)
    if validate:
        ok = valid_mask(out)
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            reasons = "; ".join(from_array(out[row], validate=False).errors())
            raise InvalidArchitectureError(f"genotype row {row} is invalid: {reasons}")
    return out


def genotypes_to_array(genotypes: Iterable[DartsGenotype]) -> Int8Array:
    """Stack genotypes into an ``(N, 2, 8, 2)`` int8 array (no validity check)."""
    rows = [g.to_array() for g in genotypes]
    if not rows:
        return np.zeros((0, NUM_CELLS, NUM_PAIRS, 2), dtype=np.int8)
    return np.stack(rows)


def from_array(arr: ArrayLike, *, validate: bool = True) -> DartsGenotype:
    """Build a genotype from a ``(2, 8, 2)`` array of ``(op index, input)``.

    Raises:
        InvalidArchitectureError: Wrong shape or values, or (``validate``) invalid.
    """
    a = np.asarray(arr)
    if a.shape != (NUM_CELLS, NUM_PAIRS, 2):
        raise InvalidArchitectureError(
            f"a DARTS genotype array has shape (2, 8, 2), got {a.shape}"
        )
    rows = as_array(a, validate=validate)[0].tolist()
    cells = [tuple((OPS[op], src) for op, src in cell) for cell in rows]
    return DartsGenotype(cells[0], cells[1])


def array_to_genotypes(arr: ArrayLike, *, validate: bool = True) -> list[DartsGenotype]:
    """Convert an ``(N, 2, 8, 2)`` array to a list of genotypes."""
    rows = as_array(arr, validate=validate).tolist()
    return [
        DartsGenotype(
            tuple((OPS[op], src) for op, src in row[0]),
            tuple((OPS[op], src) for op, src in row[1]),
        )
        for row in rows
    ]


def valid_mask(arr: ArrayLike) -> BoolArray:
    """Vectorised validity: which rows of an ``(N, 2, 8, 2)`` array are valid genotypes.

    Rows with out-of-range ops or inputs are invalid too.
    """
    a = _check_array_shape(np.asarray(arr))
    ops, src = a[..., 0], a[..., 1]
    in_range = (ops >= 0) & (ops < NUM_OPS) & (src >= 0) & (src <= _MAX_SOURCE)
    distinct = src[..., 0::2] != src[..., 1::2]
    return np.asarray(in_range.all(axis=(1, 2)) & distinct.all(axis=(1, 2)))


def canonicalize_array(arr: ArrayLike) -> Int8Array:
    """Vectorised :meth:`DartsGenotype.canonical`: sort node pairs by (input, op).

    Returns:
        A new ``(N, 2, 8, 2)`` int8 array.
    """
    a: Int8Array = _check_array_shape(np.asarray(arr)).astype(np.int8, copy=True)
    first, second = a[:, :, 0::2], a[:, :, 1::2]
    swap = (first[..., 1] > second[..., 1]) | (
        (first[..., 1] == second[..., 1]) & (first[..., 0] > second[..., 0])
    )
    out: Int8Array = a.copy()
    out[:, :, 0::2] = np.where(swap[..., None], second, first)
    out[:, :, 1::2] = np.where(swap[..., None], first, second)
    return out


def array_keys(arr: ArrayLike) -> list[str]:
    """Vectorised :meth:`DartsGenotype.key` for an ``(N, 2, 8, 2)`` array."""
    canon = canonicalize_array(arr)
    n = canon.shape[0]
    chars = np.empty((n, 33), dtype=np.uint8)
    digits = (canon.reshape(n, 2, 16) + ord("0")).astype(np.uint8)
    chars[:, :16] = digits[:, 0]
    chars[:, 16] = ord("|")
    chars[:, 17:] = digits[:, 1]
    return [row.decode("ascii") for row in chars.view("S33").ravel()]


def onehot_features(arr: ArrayLike) -> Float32Array:
    """A flat one-hot encoding for predictors: ``(N, 2 * 8 * (7 + 6))`` float32.

    Per cell and pair, a one-hot of the op (7) followed by a one-hot of the input (6);
    the pairs are taken in canonical order, so equivalent genotypes encode equally.
    """
    canon = canonicalize_array(arr).astype(np.intp)
    n = canon.shape[0]
    out = np.zeros((n, NUM_CELLS, NUM_PAIRS, NUM_OPS + NUM_SOURCES), dtype=np.float32)
    rows = np.arange(n)[:, None, None]
    cells = np.arange(NUM_CELLS)[None, :, None]
    pairs = np.arange(NUM_PAIRS)[None, None, :]
    out[rows, cells, pairs, canon[..., 0]] = 1.0
    out[rows, cells, pairs, NUM_OPS + canon[..., 1]] = 1.0
    return out.reshape(n, -1)


# ---------------------------------------------------------------- NASLib conversions
def to_naslib(g: DartsGenotype) -> tuple[tuple[tuple[int, int], ...], ...]:
    """NASLib's compact form: per cell, 8 ``(input, op index)`` tuples."""
    return tuple(tuple((src, _OP_INDEX[op]) for op, src in cell) for cell in g.cells)


def to_naslib_str(g: DartsGenotype) -> str:
    """The compact form as NASLib's data files key it: ``"[[(0, 4), ...], [...]]"``."""
    return str([list(cell) for cell in to_naslib(g)])


def from_naslib(compact: str | Sequence[Sequence[Sequence[int]]]) -> DartsGenotype:
    """Parse NASLib's compact form (nested sequences or their string).

    Args:
        compact: Two cells of 8 ``(input, op index)`` pairs, or their ``str``.

    Returns:
        The (validated) genotype.

    Raises:
        InvalidArchitectureError: Malformed or invalid.
    """
    value: Any = compact
    if isinstance(compact, str):
        try:
            value = ast.literal_eval(compact.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise InvalidArchitectureError(
                f"not a NASLib compact DARTS string: {compact!r}"
            ) from None
    try:
        cells = [list(cell) for cell in value]
        if len(cells) != NUM_CELLS or any(len(c) != NUM_PAIRS for c in cells):
            raise ValueError
        arr = np.asarray(
            [[(int(p[1]), int(p[0])) for p in cell] for cell in cells], dtype=np.int64
        )
        if any(len(p) != 2 for cell in cells for p in cell):
            raise ValueError
    except (TypeError, ValueError, IndexError):
        raise InvalidArchitectureError(
            f"NASLib compact form is two lists of 8 (input, op) pairs, got {compact!r}"
        ) from None
    return from_array(arr)


# ------------------------------------------------------------ DARTS Genotype strings
def to_genotype_str(g: DartsGenotype) -> str:
    """The DARTS ``Genotype(...)`` string, as the DARTS code prints a genotype."""
    concat = list(CONCAT)
    return (
        f"Genotype(normal={list(g.normal)}, normal_concat={concat}, "
        f"reduce={list(g.reduce)}, reduce_concat={concat})"
    )


_GENOTYPE_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")


def _concat_value(node: ast.expr) -> list[int]:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and not node.keywords
    ):
        args = [ast.literal_eval(arg) for arg in node.args]
        return list(range(*args))
    value = ast.literal_eval(node)
    return [int(v) for v in value]


def from_genotype_str(text: str) -> DartsGenotype:
    """Parse a DARTS ``Genotype(normal=[...], normal_concat=..., reduce=[...], ...)``.

    Keywords or positional fields are accepted; ``*_concat`` may be a list or
    ``range(2, 6)`` and must be ``[2, 3, 4, 5]``. Nothing is evaluated as code.

    Raises:
        InvalidArchitectureError: The string is malformed or the genotype invalid.
    """
    if not isinstance(text, str):
        raise InvalidArchitectureError(f"expected a Genotype string, got {text!r}")

    def bad(why: str) -> InvalidArchitectureError:
        return InvalidArchitectureError(
            f"not a DARTS Genotype string ({why}): {text!r}"
        )

    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise bad("syntax error") from None
    call = tree.body
    if not isinstance(call, ast.Call):
        raise bad("expected Genotype(...)")
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name != "Genotype":
        raise bad("expected Genotype(...)")
    if len(call.args) > len(_GENOTYPE_FIELDS):
        raise bad("too many fields")
    fields: dict[str, ast.expr] = dict(zip(_GENOTYPE_FIELDS, call.args, strict=False))
    for kw in call.keywords:
        if kw.arg not in _GENOTYPE_FIELDS or kw.arg in fields:
            raise bad(f"unexpected or repeated field {kw.arg!r}")
        fields[kw.arg] = kw.value
    if "normal" not in fields or "reduce" not in fields:
        raise bad("it needs both normal and reduce")
    try:
        normal = ast.literal_eval(fields["normal"])
        reduce = ast.literal_eval(fields["reduce"])
        concats = [
            _concat_value(fields[c]) for c in _GENOTYPE_FIELDS[1::2] if c in fields
        ]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise bad("fields must be literals") from None
    if any(concat != list(CONCAT) for concat in concats):
        raise bad("normal_concat and reduce_concat must be [2, 3, 4, 5]")
    return DartsGenotype(normal, reduce).validate()


# ----------------------------------------------------------------- node graph view
def node_graphs(arr: ArrayLike) -> tuple[UInt8Array, Int8Array, UInt8Array]:
    """Vectorised :func:`to_node_graph` for an ``(N, 2, 8, 2)`` array.

    Returns:
        ``(adjacency (N, 30, 30) uint8, labels (N, 30) int8, cell_flag (N, 30)
        uint8)``; ``adjacency[n, u, v] == 1`` for an edge ``u -> v``.
    """
    a = as_array(arr, validate=False).astype(np.intp)
    n = a.shape[0]
    adj = np.zeros((n, NUM_VERTICES, NUM_VERTICES), dtype=np.uint8)
    labels = np.empty((n, NUM_VERTICES), dtype=np.int8)
    rows = np.arange(n)[:, None]
    for c in range(NUM_CELLS):
        base = c * CELL_VERTICES
        cell_labels = labels[:, base : base + CELL_VERTICES]
        cell_labels[:, 0], cell_labels[:, 1] = LABEL_IN0, LABEL_IN1
        cell_labels[:, list(SUM_VERTEX)] = LABEL_SUM
        cell_labels[:, OUT_VERTEX] = LABEL_OUT
        cell_labels[:, _OP_VERTEX] = LABEL_OP0 + a[:, c, :, 0]
        sources = base + _SOURCE_VERTEX[a[:, c, :, 1]]  # (n, 8)
        adj[rows, sources, base + _OP_VERTEX[None, :]] = 1
        adj[:, base + _OP_VERTEX, base + _SUM_OF_PAIR] = 1
        adj[:, base + np.asarray(SUM_VERTEX), base + OUT_VERTEX] = 1
    flags = np.broadcast_to(CELL_FLAG, (n, NUM_VERTICES)).copy()
    return adj, labels, flags


def to_node_graph(g: DartsGenotype) -> tuple[UInt8Array, Int8Array, UInt8Array]:
    """The ops-on-nodes view of a genotype (docs/methods/cassimon.md): 30 vertices.

    Per cell (normal vertices ``0..14``, reduce ``15..29``), in a fixed topological
    order: ``IN0, IN1, O_0, O_1, S_0, O_2, O_3, S_1, O_4, O_5, S_2, O_6, O_7, S_3,
    OUT`` (see :data:`VERTEX_NAMES`). Op vertex ``O_j`` carries pair ``j``'s op; the
    edges are ``source(j) -> O_j``, ``O_j -> S_{j//2}`` and ``S_m -> OUT``, where
    source ``0, 1`` are ``IN0, IN1`` and source ``s >= 2`` is ``S_{s-2}``. The
    adjacency matrix is strictly upper triangular.

    Returns:
        ``(adjacency (30, 30) uint8, labels (30,) int8, cell_flag (30,) uint8)``.
        Labels index :data:`LABEL_NAMES`; the cell flag is 0 (normal) or 1 (reduce).
    """
    adj, labels, flags = node_graphs(g.to_array()[None])
    return adj[0], labels[0], flags[0]


def from_node_graph(
    adjacency: ArrayLike, labels: ArrayLike, cell_flag: ArrayLike | None = None
) -> DartsGenotype:
    """Invert :func:`to_node_graph`.

    Each op vertex's label gives the pair's op and its single predecessor gives the
    input. The graph must be exactly one that :func:`to_node_graph` produces.

    Args:
        adjacency: ``(30, 30)`` 0/1 matrix.
        labels: ``(30,)`` vertex labels.
        cell_flag: Optional ``(30,)`` cell flags, checked against :data:`CELL_FLAG`.

    Returns:
        The (validated) genotype.

    Raises:
        InvalidArchitectureError: The arrays are not a DARTS node graph.
    """
    adj = np.asarray(adjacency)
    lab = np.asarray(labels)
    shape = (NUM_VERTICES, NUM_VERTICES)
    if adj.shape != shape or lab.shape != (NUM_VERTICES,):
        raise InvalidArchitectureError(
            f"a DARTS node graph has a (30, 30) adjacency and 30 labels, got "
            f"{adj.shape} and {lab.shape}"
        )
    if not np.isin(adj, (0, 1)).all():
        raise InvalidArchitectureError("node-graph adjacency must be 0/1")
    if cell_flag is not None and not np.array_equal(np.asarray(cell_flag), CELL_FLAG):
        raise InvalidArchitectureError(
            "node-graph cell flags must be 0 for vertices 0..14 and 1 for 15..29"
        )
    arr = np.zeros((NUM_CELLS, NUM_PAIRS, 2), dtype=np.int8)
    for c, name in enumerate(CELLS):
        base = c * CELL_VERTICES
        for j in range(NUM_PAIRS):
            v = base + OP_VERTEX[j]
            op = int(lab[v]) - LABEL_OP0
            if not 0 <= op < NUM_OPS:
                raise InvalidArchitectureError(
                    f"{VERTEX_NAMES[v]} (vertex {v}) has label {int(lab[v])}, not "
                    f"an op label {LABEL_OP0}..{LABEL_OP0 + NUM_OPS - 1}"
                )
            preds = np.flatnonzero(adj[:, v])
            if preds.size != 1 or preds[0] - base not in SOURCE_VERTEX:
                raise InvalidArchitectureError(
                    f"{VERTEX_NAMES[v]} (vertex {v}) must have exactly one predecessor "
                    f"among its {name} cell's IN0, IN1, S0..S3; it has "
                    f"{[VERTEX_NAMES[p] for p in preds]}"
                )
            arr[c, j] = (op, SOURCE_VERTEX.index(int(preds[0]) - base))
    genotype = from_array(arr, validate=False).validate()
    want_adj, want_labels, _ = to_node_graph(genotype)
    if not np.array_equal(adj, want_adj) or not np.array_equal(lab, want_labels):
        extra = np.argwhere((adj != 0) & (want_adj == 0))
        missing = np.argwhere((adj == 0) & (want_adj != 0))
        bad_labels = np.flatnonzero(lab != want_labels)
        names = VERTEX_NAMES
        raise InvalidArchitectureError(
            "not a DARTS node graph: "
            f"unexpected edges {[(names[u], names[v]) for u, v in extra]}, "
            f"missing edges {[(names[u], names[v]) for u, v in missing]}, "
            f"wrong labels at {[names[v] for v in bad_labels]}"
        )
    return genotype


# ---------------------------------------------------------------------- edit actions
_REWIRE_STATIC = np.arange(NUM_SOURCES)[None, :] <= _MAX_SOURCE[:, None]  # (8, 6)


def _candidates(arr: Int8Array) -> Int8Array:
    """All 208 edits applied to each row: ``(N, 208, 2, 8, 2)`` (no checks)."""
    n = arr.shape[0]
    out = np.repeat(arr[:, None], NUM_EDITS, axis=1)
    table = np.asarray(
        [(e.kind == REWIRE, e.cell, e.pair, e.value) for e in EDIT_TABLE]
    )
    idx = np.arange(NUM_EDITS)
    out[:, idx, table[:, 1], table[:, 2], table[:, 0]] = table[None, :, 3]
    return out.reshape(n, NUM_EDITS, NUM_CELLS, NUM_PAIRS, 2)


def _brute_force_masks(arr: Int8Array) -> BoolArray:
    n = arr.shape[0]
    cands = _candidates(arr).reshape(n * NUM_EDITS, NUM_CELLS, NUM_PAIRS, 2)
    ok = valid_mask(cands).reshape(n, NUM_EDITS)
    canon = canonicalize_array(cands).reshape(n, NUM_EDITS, -1)
    same = (canon == canonicalize_array(arr).reshape(n, 1, -1)).all(axis=2)
    return np.asarray(ok & ~same)


def edit_masks(arr: ArrayLike) -> BoolArray:
    """Vectorised :func:`edit_mask` for an ``(N, 2, 8, 2)`` array: ``(N, 208)`` bool."""
    a = as_array(arr, validate=False)
    n = a.shape[0]
    ops, src = a[..., 0].astype(np.intp), a[..., 1].astype(np.intp)
    op_mask = np.arange(NUM_OPS)[None, None, None, :] != ops[..., None]
    sibling = src[:, :, _SIBLING]
    values = np.arange(NUM_SOURCES)[None, None, None, :]
    rewire = (
        _REWIRE_STATIC[None, None]
        & (values != src[..., None])
        & (values != sibling[..., None])
    )
    masks = np.concatenate([op_mask.reshape(n, -1), rewire.reshape(n, -1)], axis=1)
    invalid = ~valid_mask(a)
    if invalid.any():
        # The rules above assume a valid start; fall back to the definition.
        masks[invalid] = _brute_force_masks(a[invalid])
    return masks


def edit_mask(g: DartsGenotype) -> BoolArray:
    """Which of the 208 edit actions lead from ``g`` to a valid, different genotype.

    "Different" means a different :meth:`DartsGenotype.key`. For a valid ``g`` this is
    docs/methods/cassimon.md#edit-actions: ``OP_CHANGE`` to any other op (96 actions)
    and ``REWIRE`` to an input
    ``src <= pair // 2 + 1`` that is neither the pair's current input nor its sibling
    pair's (24 actions): 120 neighbours, all distinct networks.

    Returns:
        A ``(208,)`` bool array.
    """
    mask: BoolArray = edit_masks(g.to_array()[None])[0]
    return mask


def apply_edit(g: DartsGenotype, action: int, *, check: bool = True) -> DartsGenotype:
    """Apply an edit action to a genotype.

    Args:
        g: The genotype.
        action: Index into :data:`EDIT_TABLE`.
        check: Raise when the action is masked (the result would be invalid or the
            same network). Without it, the edit is applied as is.

    Returns:
        The edited genotype (the other pairs keep their order).

    Raises:
        InvalidActionError: ``action`` is out of range, or masked and ``check``.
    """
    edit = decode_edit(action)
    if check and not edit_mask(g)[int(action)]:
        raise InvalidActionError(
            f"action {int(action)} ({describe_edit(action, g)}) is masked: it would "
            f"give an invalid genotype or the same network"
        )
    arr = g.to_array()
    arr[edit.cell, edit.pair, 1 if edit.kind == REWIRE else 0] = edit.value
    cells = [tuple((OPS[op], src) for op, src in cell) for cell in arr.tolist()]
    return DartsGenotype(cells[0], cells[1])


def neighbours(g: DartsGenotype) -> list[DartsGenotype]:
    """Every genotype one unmasked edit away, in action order."""
    return [apply_edit(g, int(a), check=False) for a in np.flatnonzero(edit_mask(g))]


def describe_edit(action: int, g: DartsGenotype | None = None) -> str:
    """A readable description of an action, with the current value when ``g`` is given.

    Example: ``"OP_CHANGE normal pair 3 (node 1): sep_conv_3x3 -> dil_conv_5x5"``.
    """
    edit = decode_edit(action)
    where = f"{CELLS[edit.cell]} pair {edit.pair} (node {edit.pair // 2})"
    if edit.kind == OP_CHANGE:
        new = OPS[edit.value]
        old = g.cells[edit.cell][edit.pair][0] if g is not None else None
    else:
        new, old = f"input {edit.value}", None
        if g is not None:
            old = f"input {g.cells[edit.cell][edit.pair][1]}"
    change = f"{old} -> {new}" if old is not None else f"-> {new}"
    return f"{edit.kind} {where}: {change}"


# --------------------------------------------------------------------------- samplers
def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return (
        seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    )


def sample_bananas_array(
    n: int, rng: int | np.random.Generator | None = None
) -> Int8Array:
    """Draw ``n`` genotypes with the BANANAS sampler, as an ``(n, 2, 8, 2)`` array.

    For each cell and intermediate node ``m``: two distinct inputs uniformly from
    ``range(m + 2)`` (an ordered pair), and two ops uniformly (with replacement).
    Every row is valid.

    Args:
        n: Number of genotypes.
        rng: A seed or a numpy Generator.
    """
    gen = _rng(rng)
    out = np.empty((n, NUM_CELLS, NUM_PAIRS, 2), dtype=np.int8)
    out[..., 0] = gen.integers(0, NUM_OPS, size=(n, NUM_CELLS, NUM_PAIRS))
    for m in range(NUM_NODES):
        first = gen.integers(0, m + 2, size=(n, NUM_CELLS))
        second = gen.integers(0, m + 1, size=(n, NUM_CELLS))
        second = second + (second >= first)
        out[:, :, 2 * m, 1] = first
        out[:, :, 2 * m + 1, 1] = second
    return out


def sample_bananas(rng: int | np.random.Generator | None = None) -> DartsGenotype:
    """Draw one genotype with the BANANAS sampler (see :func:`sample_bananas_array`).

    ``sample_bananas(seed)`` equals the first row of ``sample_bananas_array(1, seed)``.
    """
    return from_array(sample_bananas_array(1, rng)[0], validate=False)


# ---------------------------------------------------------------------- L2NAS decoding
_EDGE_NODE = np.asarray([m for m, _ in CANDIDATE_EDGES], dtype=np.intp)
_EDGE_SOURCE = np.asarray([s for _, s in CANDIDATE_EDGES], dtype=np.intp)


def decode_scores_array(scores: ArrayLike) -> Int8Array:
    """Vectorised :func:`decode_scores`: ``(N, 2, 14, 8)`` scores to ``(N, 2, 8, 2)``.

    Raises:
        InvalidActionError: Wrong shape or non-finite scores.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 3:
        s = s[None]
    if s.ndim != 4 or s.shape[1:] != (NUM_CELLS, NUM_CANDIDATE_EDGES, len(L2NAS_OPS)):
        raise InvalidActionError(
            f"DARTS score arrays have shape (2, 14, 8) or (N, 2, 14, 8), got "
            f"{np.shape(scores)}"
        )
    if not np.isfinite(s).all():
        raise InvalidActionError("DARTS score arrays must be finite")
    real = s[..., 1:]
    strength = real.max(axis=-1)  # (N, 2, 14)
    best_op = real.argmax(axis=-1)  # first maximum: lowest op index wins ties
    out = np.empty((s.shape[0], NUM_CELLS, NUM_PAIRS, 2), dtype=np.int8)
    for m in range(NUM_NODES):
        lo, hi = EDGE_OFFSET[m], EDGE_OFFSET[m] + m + 2
        order = np.argsort(-strength[..., lo:hi], axis=-1, kind="stable")[..., :2]
        ops = np.take_along_axis(best_op[..., lo:hi], order, axis=-1)
        out[:, :, 2 * m : 2 * m + 2, 0] = ops
        out[:, :, 2 * m : 2 * m + 2, 1] = order
    return out


def decode_scores(scores: ArrayLike) -> DartsGenotype:
    """Decode L2NAS / DARTS-style edge scores into a genotype (docs/methods/l2nas.md).

    ``scores[c, e, k]`` scores op ``L2NAS_OPS[k]`` (``k = 0`` is ``'none'``) on
    candidate edge ``e`` of cell ``c``; candidate edges are :data:`CANDIDATE_EDGES`
    (node ``m`` owns ``m + 2`` of them, one per source). For each node, the two incoming
    edges with the largest maximum non-none score are kept, strongest first (ties:
    lower source first); each kept edge's op is its argmax excluding none (ties: lower
    op index). The result is always valid.

    Args:
        scores: A ``(2, 14, 8)`` array.

    Raises:
        InvalidActionError: Wrong shape or non-finite scores.
    """
    if np.ndim(scores) != 3:
        raise InvalidActionError(
            f"decode_scores takes one (2, 14, 8) array, got shape {np.shape(scores)}"
        )
    return from_array(decode_scores_array(scores)[0], validate=False)


def encode_scores(g: DartsGenotype) -> Float32Array:
    """One-hot ``(2, 14, 8)`` scores of a genotype (the inverse of decoding).

    Each used candidate edge gets 1 on its op (column ``op + 1``), each unused edge 1
    on ``'none'``; ``decode_scores(encode_scores(g))`` has ``g``'s key. Averages of
    these are the L2NAS state of docs/methods/l2nas.md#history-and-state.

    Raises:
        InvalidArchitectureError: ``g`` is invalid.
    """
    g.validate()
    out = np.zeros((NUM_CELLS, NUM_CANDIDATE_EDGES, len(L2NAS_OPS)), dtype=np.float32)
    out[..., 0] = 1.0
    for c, cell in enumerate(g.cells):
        for j, (op, src) in enumerate(cell):
            e = EDGE_OFFSET[j // 2] + src
            out[c, e, 0] = 0.0
            out[c, e, 1 + _OP_INDEX[op]] = 1.0
    return out
