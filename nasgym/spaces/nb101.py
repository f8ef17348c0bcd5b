"""The NAS-Bench-101 cell space (Ying et al., 2019): labelled DAGs of up to 7 vertices.

A cell is a directed acyclic graph given by a strictly upper-triangular 0/1 adjacency
matrix (so vertex indices are a topological order) and one operation label per
vertex. Vertex 0 is the ``"input"``, the last vertex the ``"output"``, and every
other (*interior*) vertex carries one of :data:`INTERIOR_OPS`. Unlike NB201 the cell
is not a fixed-length categorical vector, so this module has its own small API
rather than a :class:`~nasgym.spaces.base.CategoricalSearchSpace`:

* :class:`NB101Cell`, an immutable, hashable value (2 to 7 vertices);
* :func:`prune`, :func:`is_valid` / :func:`invalid_reason` (the official
  ``ModelSpec`` pruning and ``NASBench.is_valid`` rules);
* :func:`nb101_hash`, the official NAS-Bench-101 fingerprint, reimplemented without
  TensorFlow; it is the canonical key of a cell (isomorphic cells share it);
* a fixed table of :data:`NUM_EDIT_ACTIONS` edit actions
  (docs/methods/cassimon.md#edit-actions),
  :func:`apply_edit`, :func:`edit_mask`, :func:`neighbours` and :func:`describe_edit`;
* samplers (:func:`sample`, :data:`SAMPLERS`);
* fixed-shape arrays for observations (:func:`graph_arrays`,
  :func:`from_graph_arrays`) and NASLib's tuple encoding (:func:`to_naslib`,
  :func:`from_naslib`).

Validity (:func:`invalid_reason`), in the order checked:

1. vertex 0 is labelled ``"input"``, the last vertex ``"output"``, every interior
   vertex one of :data:`INTERIOR_OPS` (stricter than the official check, which looks
   at the labels of the pruned cell only);
2. the matrix is strictly upper-triangular (a DAG in topological order);
3. after pruning, the input still reaches the output;
4. after pruning, at most :data:`MAX_EDGES` edges remain (and at most
   :data:`MAX_VERTICES` vertices, which every :class:`NB101Cell` satisfies).

Pruning (:func:`prune`) keeps exactly the vertices that lie on some input->output
path, with the edges among them, and renumbers them in their old order, as the
official ``ModelSpec`` does; the hash and all table lookups use the pruned cell.

This module imports numpy only (networkx inside :meth:`NB101Cell.to_networkx`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nasgym.error import InvalidArchitectureError, require, unknown_option

if TYPE_CHECKING:
    import networkx as nx

#: Label of the input vertex (always vertex 0).
INPUT = "input"
#: Label of the output vertex (always the last vertex).
OUTPUT = "output"
#: The interior operations, in the official canonical order
#: (``config['available_ops']``): the official hash labels them 0, 1, 2.
INTERIOR_OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
#: Every vertex label; :func:`graph_arrays` uses these indices.
OPS: tuple[str, ...] = (INPUT, *INTERIOR_OPS, OUTPUT)
#: Most vertices in a cell, input and output included.
MAX_VERTICES = 7
#: Most edges in a valid (pruned) cell.
MAX_EDGES = 9
#: NASLib's op codes (``convert_spec_to_tuple``): index in this tuple = code.
NASLIB_OPS: tuple[str, ...] = (
    INPUT,
    OUTPUT,
    "maxpool3x3",
    "conv1x1-bn-relu",
    "conv3x3-bn-relu",
)
#: Sampler names accepted by :func:`sample`.
SAMPLERS: tuple[str, ...] = ("bananas", "uniform", "nb101-dist")

_OP_SET = frozenset(OPS)
_OP_INDEX = {op: i for i, op in enumerate(OPS)}
_HASH_LABEL = {op: i for i, op in enumerate(INTERIOR_OPS)}

Matrix = tuple[tuple[int, ...], ...]


# ---------------------------------------------------------------------------
# The cell value
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NB101Cell:
    """An NB101 cell: adjacency matrix plus one label per vertex (immutable, hashable).

    Equality and hashing compare the matrix and labels as given, so two isomorphic
    cells (or a cell and its pruned form) are different values; use
    :func:`nb101_hash` as the canonical key. Lists and NumPy arrays passed to the
    constructor are converted to tuples.

    Attributes:
        matrix: ``n x n`` tuple of tuples of 0/1 ints; ``matrix[u][w] == 1`` is an
            edge ``u -> w``.
        ops: ``n`` vertex labels from :data:`OPS`.

    Raises:
        InvalidArchitectureError: The shape is wrong (``n`` not in 2..7, matrix not
            ``n x n``), an entry is not 0 or 1, or a label is not in :data:`OPS`.
            (Structural problems only: see :func:`invalid_reason` for validity.)

    Example:
        >>> cell = NB101Cell(((0, 1, 1), (0, 0, 1), (0, 0, 0)),
        ...                  ("input", "conv3x3-bn-relu", "output"))
        >>> cell.num_vertices, cell.num_edges, is_valid(cell)
        (3, 3, True)
        >>> len(nb101_hash(cell))
        32
    """

    matrix: Matrix
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        matrix = _coerce_matrix(self.matrix)
        ops = _coerce_ops(self.ops)
        n = len(ops)
        if not 2 <= n <= MAX_VERTICES:
            raise InvalidArchitectureError(
                f"an NB101 cell has 2 to {MAX_VERTICES} vertices, got {n} ops"
            )
        if len(matrix) != n or any(len(row) != n for row in matrix):
            shape = (len(matrix), *{len(row) for row in matrix})
            raise InvalidArchitectureError(
                f"NB101 adjacency matrix must be {n}x{n} to match {n} ops, got rows "
                f"of shape {shape}"
            )
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", ops)

    @classmethod
    def from_numpy(cls, matrix: ArrayLike, ops: Sequence[str]) -> NB101Cell:
        """Build a cell from an ``n x n`` array and ``n`` labels.

        Raises:
            InvalidArchitectureError: See :class:`NB101Cell`.
        """
        array = np.asarray(matrix)
        if array.ndim != 2:
            raise InvalidArchitectureError(
                f"NB101 adjacency matrix must be 2-D, got shape {array.shape}"
            )
        return cls(_coerce_matrix(array.tolist()), tuple(ops))

    def to_numpy(self) -> NDArray[np.uint8]:
        """Return the adjacency matrix as a new ``(n, n)`` ``uint8`` array."""
        return np.array(self.matrix, dtype=np.uint8).reshape(self.num_vertices, -1)

    @property
    def num_vertices(self) -> int:
        """Number of vertices ``n``, input and output included."""
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        """Number of edges (ones in the matrix)."""
        return sum(map(sum, self.matrix))

    @property
    def op_indices(self) -> tuple[int, ...]:
        """Index in :data:`OPS` of every vertex label."""
        return tuple(_OP_INDEX[op] for op in self.ops)

    def edges(self) -> list[tuple[int, int]]:
        """All edges ``(u, w)`` in row-major order."""
        n = self.num_vertices
        return [(u, w) for u in range(n) for w in range(n) if self.matrix[u][w]]

    def to_networkx(self) -> nx.DiGraph:
        """Return the cell as a ``networkx.DiGraph`` (vertex attribute ``op``).

        Raises:
            MissingExtraError: networkx is not installed (the ``graph`` extra).
        """
        require("networkx", extra="graph", purpose="to_networkx")
        import networkx as nx

        graph = nx.DiGraph()
        for v, op in enumerate(self.ops):
            graph.add_node(v, op=op)
        graph.add_edges_from(self.edges())
        return graph

    def __str__(self) -> str:
        rows = "".join("".join(map(str, row)) for row in self.matrix)
        return f"NB101Cell({rows}, {','.join(self.ops)})"


def _coerce_matrix(matrix: Any) -> Matrix:
    try:
        rows = tuple(tuple(row) for row in matrix)
    except TypeError as exc:
        raise InvalidArchitectureError(
            f"NB101 adjacency matrix must be a sequence of rows, got {matrix!r}"
        ) from exc
    out = []
    for row in rows:
        values = []
        for x in row:
            if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
                raise InvalidArchitectureError(
                    f"NB101 adjacency entries must be the ints 0 or 1, got {x!r}"
                )
            if x not in (0, 1):
                raise InvalidArchitectureError(
                    f"NB101 adjacency entries must be 0 or 1, got {x!r}"
                )
            values.append(int(x))
        out.append(tuple(values))
    return tuple(out)


def _coerce_ops(ops: Any) -> tuple[str, ...]:
    if isinstance(ops, str):
        raise InvalidArchitectureError(
            f"NB101 ops must be a sequence of labels, got the string {ops!r}"
        )
    try:
        labels = tuple(ops)
    except TypeError as exc:
        raise InvalidArchitectureError(
            f"NB101 ops must be a sequence of labels, got {ops!r}"
        ) from exc
    for op in labels:
        if not isinstance(op, str) or op not in _OP_SET:
            raise InvalidArchitectureError(
                f"unknown NB101 op {op!r}; valid labels: {', '.join(OPS)}"
            )
    return labels


def _make(matrix: Matrix, ops: tuple[str, ...]) -> NB101Cell:
    """Build a cell from already-checked tuples, skipping validation (fast path)."""
    cell = object.__new__(NB101Cell)
    object.__setattr__(cell, "matrix", matrix)
    object.__setattr__(cell, "ops", ops)
    return cell


# ---------------------------------------------------------------------------
# Pruning and validity
# ---------------------------------------------------------------------------
def _is_upper_triangular(matrix: Matrix) -> bool:
    return not any(matrix[u][w] for u in range(len(matrix)) for w in range(u + 1))


def _on_path(matrix: Matrix) -> list[int]:
    """Vertices reachable from the input and reaching the output (ascending)."""
    n = len(matrix)
    forward = [False] * n
    forward[0] = True
    for u in range(n):  # topological order: a single sweep suffices
        if forward[u]:
            row = matrix[u]
            for w in range(u + 1, n):
                if row[w]:
                    forward[w] = True
    backward = [False] * n
    backward[n - 1] = True
    for w in range(n - 1, -1, -1):
        if backward[w]:
            for u in range(w):
                if matrix[u][w]:
                    backward[u] = True
    return [v for v in range(n) if forward[v] and backward[v]]


def _prune_or_none(cell: NB101Cell) -> NB101Cell | None:
    """The pruned cell, or ``None`` when the input does not reach the output.

    The matrix must be upper-triangular.
    """
    keep = _on_path(cell.matrix)
    if not keep:
        return None
    if len(keep) == cell.num_vertices:
        return cell
    matrix = tuple(tuple(cell.matrix[u][w] for w in keep) for u in keep)
    return _make(matrix, tuple(cell.ops[v] for v in keep))


def prune(cell: NB101Cell) -> NB101Cell:
    """Remove vertices on no input->output path and renumber the rest in order.

    Same semantics as the official ``ModelSpec._prune``: a vertex survives when it
    is reachable from the input and the output is reachable from it; the edges among
    survivors are kept. Returns ``cell`` itself when nothing is removed.

    Raises:
        InvalidArchitectureError: The matrix is not strictly upper-triangular, or
            the input does not reach the output.
    """
    if not _is_upper_triangular(cell.matrix):
        raise InvalidArchitectureError(
            f"{cell}: NB101 adjacency matrix must be strictly upper-triangular"
        )
    pruned = _prune_or_none(cell)
    if pruned is None:
        raise InvalidArchitectureError(f"{cell}: the input does not reach the output")
    return pruned


def is_pruned(cell: NB101Cell) -> bool:
    """Whether every vertex lies on an input->output path (and the matrix is a DAG).

    Raises:
        InvalidArchitectureError: As :func:`prune`.
    """
    return prune(cell) is cell


def invalid_reason(cell: NB101Cell) -> str | None:
    """Why ``cell`` is not in the NB101 space, or ``None`` when it is valid.

    See the module docstring for the rules and their order.
    """
    ops, n = cell.ops, cell.num_vertices
    if ops[0] != INPUT:
        return f"vertex 0 must be {INPUT!r}, got {ops[0]!r}"
    if ops[-1] != OUTPUT:
        return f"vertex {n - 1} (the last) must be {OUTPUT!r}, got {ops[-1]!r}"
    for v in range(1, n - 1):
        if ops[v] not in _HASH_LABEL:
            return (
                f"interior vertex {v} must be one of {', '.join(INTERIOR_OPS)}, "
                f"got {ops[v]!r}"
            )
    if not _is_upper_triangular(cell.matrix):
        return "the adjacency matrix is not strictly upper-triangular (not a DAG)"
    pruned = _prune_or_none(cell)
    if pruned is None:
        return "the input does not reach the output"
    if pruned.num_vertices > MAX_VERTICES:  # pragma: no cover - cells have <= 7
        return f"{pruned.num_vertices} vertices after pruning (max {MAX_VERTICES})"
    edges = pruned.num_edges
    if edges > MAX_EDGES:
        return f"{edges} edges after pruning (max {MAX_EDGES})"
    return None


def is_valid(cell: NB101Cell) -> bool:
    """Whether ``cell`` is in the NB101 space (see :func:`invalid_reason`)."""
    return invalid_reason(cell) is None


def check_valid(cell: NB101Cell) -> NB101Cell:
    """Return ``cell`` if it is valid.

    Raises:
        InvalidArchitectureError: ``cell`` is invalid (the message says why).
    """
    reason = invalid_reason(cell)
    if reason is not None:
        raise InvalidArchitectureError(f"{cell} is not a valid NB101 cell: {reason}")
    return cell


# ---------------------------------------------------------------------------
# The official fingerprint
# ---------------------------------------------------------------------------
def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def graph_fingerprint(matrix: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """The official NAS-Bench-101 graph fingerprint of a labelled directed graph.

    The algorithm of ``graph_util.hash_module``: every vertex starts with the MD5 of
    the text of the tuple ``(out-degree, in-degree, label)``; then, as many times as
    there are vertices, every vertex's hash becomes the MD5 of its in-neighbours'
    hashes (sorted, concatenated), ``"|"``, its out-neighbours' hashes (same),
    ``"|"`` and its own hash. The fingerprint is the MD5 of the text of the sorted
    list of final hashes (Python's ``str`` of a list of strings). Isomorphic graphs
    with equal labels get equal fingerprints. No pruning happens here.

    Args:
        matrix: Square adjacency matrix (any directed graph; nonzero = edge).
        labels: One ``int`` label per vertex.

    Returns:
         32 lowercase hex characters.
    """
    n = len(labels)
    ins = [[u for u in range(n) if matrix[u][v]] for v in range(n)]
    outs = [[w for w in range(n) if matrix[v][w]] for v in range(n)]
    hashes = [_md5(str((len(outs[v]), len(ins[v]), int(labels[v])))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted([hashes[u] for u in ins[v]]))
                + "|"
                + "".join(sorted([hashes[w] for w in outs[v]]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


@lru_cache(maxsize=1 << 16)
def _hash_of_pruned(pruned: NB101Cell) -> str:
    labels = [-1] + [_HASH_LABEL[op] for op in pruned.ops[1:-1]] + [-2]
    return graph_fingerprint(pruned.matrix, labels)


def nb101_hash(cell: NB101Cell) -> str:
    """The official NAS-Bench-101 hash of a cell: the canonical key of its class.

    Equals ``ModelSpec(matrix, ops).hash_spec(config['available_ops'])``: the cell
    is pruned, then fingerprinted (:func:`graph_fingerprint`) with labels ``-1`` for
    the input, ``-2`` for the output and the index in :data:`INTERIOR_OPS` for
    interior vertices. Isomorphic cells (any topological relabelling) share it. The
    edge limit is not checked, so cells with more than 9 edges have a hash too.

    Raises:
        InvalidArchitectureError: The cell cannot be pruned (not a DAG, or the input
            does not reach the output), or the pruned cell has misplaced labels.
    """
    pruned = prune(cell)
    ops = pruned.ops
    if (
        ops[0] != INPUT
        or ops[-1] != OUTPUT
        or not all(op in _HASH_LABEL for op in ops[1:-1])
    ):
        raise InvalidArchitectureError(
            f"{cell}: cannot hash, labels must be input, interior ops..., output"
        )
    return _hash_of_pruned(pruned)


# ---------------------------------------------------------------------------
# Edit actions (docs/methods/cassimon.md#edit-actions)
# ---------------------------------------------------------------------------
OP_CHANGE = "op_change"
EDGE_TOGGLE = "edge_toggle"
VERTEX_REMOVE = "vertex_remove"
VERTEX_INSERT = "vertex_insert"


class EditAction(NamedTuple):
    """One entry of the edit-action table.

    Attributes:
        kind: :data:`OP_CHANGE`, :data:`EDGE_TOGGLE`, :data:`VERTEX_REMOVE` or
            :data:`VERTEX_INSERT`.
        u: The vertex (op change, vertex removal) or the edge's source.
        w: The edge's target; ``-1`` for op changes and removals.
        op: The new interior op (op change, insertion); ``None`` otherwise.
    """

    kind: str
    u: int
    w: int
    op: str | None


_PAIRS: tuple[tuple[int, int], ...] = tuple(
    itertools.combinations(range(MAX_VERTICES), 2)
)


def _build_actions() -> tuple[EditAction, ...]:
    actions = [
        EditAction(OP_CHANGE, v, -1, op)
        for v in range(1, MAX_VERTICES - 1)
        for op in INTERIOR_OPS
    ]
    actions += [EditAction(EDGE_TOGGLE, u, w, None) for u, w in _PAIRS]
    actions += [
        EditAction(VERTEX_REMOVE, v, -1, None) for v in range(1, MAX_VERTICES - 1)
    ]
    actions += [
        EditAction(VERTEX_INSERT, u, w, op) for u, w in _PAIRS for op in INTERIOR_OPS
    ]
    return tuple(actions)


#: The fixed action table; vertex indices refer to the cell being edited.
#:
#: ====== ========================== =========================================
#: index  action                     meaning
#: ====== ========================== =========================================
#: 0-14   ``OP_CHANGE(v, o)``        ``3 * (v - 1) + o``, v in 1..5, o in 0..2
#: 15-35  ``EDGE_TOGGLE(u, w)``      pairs ``0 <= u < w <= 6`` in lexicographic
#:                                   order
#: 36-40  ``VERTEX_REMOVE(v)``       ``36 + v - 1``, v in 1..5
#: 41-103 ``VERTEX_INSERT(u, w, o)`` ``41 + 3 * pair(u, w) + o``
#: ====== ========================== =========================================
EDIT_ACTIONS: tuple[EditAction, ...] = _build_actions()
#: Size of the edit-action table (104).
NUM_EDIT_ACTIONS = len(EDIT_ACTIONS)


def edit_action(action: int) -> EditAction:
    """The table entry of an action index.

    Raises:
        InvalidArchitectureError: ``action`` is not an int in ``0..103``.
    """
    if isinstance(action, (bool, np.bool_)) or not isinstance(
        action, (int, np.integer)
    ):
        raise InvalidArchitectureError(
            f"NB101 edit action must be an int in 0..{NUM_EDIT_ACTIONS - 1}, got "
            f"{action!r}"
        )
    if not 0 <= int(action) < NUM_EDIT_ACTIONS:
        raise InvalidArchitectureError(
            f"NB101 edit action {action} out of range 0..{NUM_EDIT_ACTIONS - 1}"
        )
    return EDIT_ACTIONS[int(action)]


def describe_edit(action: int) -> str:
    """A short human-readable description of an action index.

    Example:
        >>> describe_edit(0), describe_edit(15), describe_edit(36), describe_edit(41)
        ('OP_CHANGE(v1 -> conv3x3-bn-relu)', 'EDGE_TOGGLE(0 -> 1)', \
'VERTEX_REMOVE(v1)', 'VERTEX_INSERT(0 -> new conv3x3-bn-relu -> 1)')
    """
    entry = edit_action(action)
    if entry.kind == OP_CHANGE:
        return f"OP_CHANGE(v{entry.u} -> {entry.op})"
    if entry.kind == EDGE_TOGGLE:
        return f"EDGE_TOGGLE({entry.u} -> {entry.w})"
    if entry.kind == VERTEX_REMOVE:
        return f"VERTEX_REMOVE(v{entry.u})"
    return f"VERTEX_INSERT({entry.u} -> new {entry.op} -> {entry.w})"


def _valid_pruned(matrix: Matrix, ops: tuple[str, ...]) -> NB101Cell | None:
    """The pruned cell if (matrix, ops) is valid, else ``None``.

    ``matrix`` is upper-triangular by construction and labels are well placed.
    """
    pruned = _prune_or_none(_make(matrix, ops))
    if pruned is None or pruned.num_edges > MAX_EDGES:
        return None
    return pruned


def _edit(cell: NB101Cell, entry: EditAction) -> NB101Cell | None:
    n = cell.num_vertices
    m = cell.matrix
    if entry.kind == OP_CHANGE:
        v, op = entry.u, entry.op
        assert op is not None
        if not 1 <= v <= n - 2 or cell.ops[v] == op:
            return None
        return _valid_pruned(m, (*cell.ops[:v], op, *cell.ops[v + 1 :]))
    if entry.kind == EDGE_TOGGLE:
        u, w = entry.u, entry.w
        if w >= n:
            return None
        rows = [list(row) for row in m]
        rows[u][w] = 1 - rows[u][w]
        return _valid_pruned(tuple(map(tuple, rows)), cell.ops)
    if entry.kind == VERTEX_REMOVE:
        v = entry.u
        if not 1 <= v <= n - 2:
            return None
        preds = [u for u in range(v) if m[u][v]]
        succs = [w for w in range(v + 1, n) if m[v][w]]
        rows = [list(row) for row in m]
        for u in preds:
            for w in succs:
                rows[u][w] = 1
        keep = [x for x in range(n) if x != v]
        matrix = tuple(tuple(rows[a][b] for b in keep) for a in keep)
        return _valid_pruned(matrix, tuple(cell.ops[x] for x in keep))
    # VERTEX_INSERT
    u, w, op = entry.u, entry.w, entry.op
    assert op is not None
    if n >= MAX_VERTICES or w >= n or not m[u][w]:
        return None
    new = u + 1

    def old_to_new(x: int) -> int:
        return x if x <= u else x + 1

    rows = [[0] * (n + 1) for _ in range(n + 1)]
    for a in range(n):
        for b in range(a + 1, n):
            if m[a][b] and (a, b) != (u, w):
                rows[old_to_new(a)][old_to_new(b)] = 1
    rows[u][new] = 1
    rows[new][old_to_new(w)] = 1
    ops = (*cell.ops[: u + 1], op, *cell.ops[u + 1 :])
    return _valid_pruned(tuple(map(tuple, rows)), ops)


def apply_edit(cell: NB101Cell, action: int) -> NB101Cell | None:
    """Apply one edit action; return the pruned result, or ``None``.

    Semantics (vertex indices refer to ``cell``; ``n`` is its vertex count):

    * ``OP_CHANGE(v, o)``: relabel interior vertex ``v`` (``1 <= v <= n - 2``) with
      op ``o``; ``None`` when ``o`` is its current op.
    * ``EDGE_TOGGLE(u, w)`` (``w < n``): add the edge if absent, remove it if present.
    * ``VERTEX_REMOVE(v)`` (``1 <= v <= n - 2``), with edge regeneration (the paper's
      Figure 2): add an edge from every predecessor of ``v`` to every successor of
      ``v``, delete ``v`` and renumber. Paths through ``v`` are rerouted, so no
      other vertex of a pruned cell becomes disconnected; the candidate is kept
      when the result (pruned) is valid, in particular has at most 9 edges. (Only
      the full regeneration is tried, not subsets of the candidate edges.)
    * ``VERTEX_INSERT(u, w, o)``: needs the edge ``u -> w`` and ``n < 7``; replaces
      it by ``u -> new -> w``, the new vertex labelled ``o`` and numbered ``u + 1``
      (later vertices shift up by one).

    After the edit the cell is pruned; the result is returned only if it is valid
    (:func:`invalid_reason`). The input cell need not be pruned (its indices are used
    as they are) nor valid.

    Args:
        cell: The cell to edit; its matrix must be upper-triangular and its labels
            well placed (input first, output last).
        action: Index into :data:`EDIT_ACTIONS`.

    Returns:
        The edited, pruned, valid cell; ``None`` when the action does not apply (a
        vertex index past ``n``, a missing edge to insert on, a full cell, an
        unchanged op) or the result is invalid.

    Raises:
        InvalidArchitectureError: ``action`` is out of range, or ``cell`` is not a
            DAG or has misplaced input/output/interior labels.
    """
    entry = edit_action(action)
    _check_editable(cell)
    return _edit(cell, entry)


def _check_editable(cell: NB101Cell) -> None:
    if not _is_upper_triangular(cell.matrix):
        raise InvalidArchitectureError(
            f"{cell}: cannot edit, the matrix is not strictly upper-triangular"
        )
    ops = cell.ops
    if (
        ops[0] != INPUT
        or ops[-1] != OUTPUT
        or not all(op in _HASH_LABEL for op in ops[1:-1])
    ):
        raise InvalidArchitectureError(
            f"{cell}: cannot edit, labels must be input, interior ops..., output"
        )


@lru_cache(maxsize=1 << 14)
def _edit_table(cell: NB101Cell) -> tuple[tuple[NB101Cell | None, ...], bytes]:
    """Results of every action and the mask (as bytes) for one cell (cached)."""
    pruned = _prune_or_none(cell)
    current = None if pruned is None else nb101_hash(pruned)
    results = tuple(_edit(cell, entry) for entry in EDIT_ACTIONS)
    mask = bytes(int(r is not None and nb101_hash(r) != current) for r in results)
    return results, mask


def edit_mask(cell: NB101Cell) -> NDArray[np.bool_]:
    """Which actions lead to a valid cell with a different official hash.

    ``mask[i]`` is ``True`` exactly when :func:`apply_edit` returns a cell whose
    :func:`nb101_hash` differs from ``cell``'s (for a cell whose input does not reach
    its output, every valid result counts as different). Results are cached per
    cell, so repeated calls are cheap.

    Returns:
        A new ``(104,)`` boolean array.

    Raises:
        InvalidArchitectureError: As :func:`apply_edit`.
    """
    _check_editable(cell)
    _, mask = _edit_table(cell)
    return np.frombuffer(mask, dtype=np.uint8).astype(np.bool_)


def neighbours(cell: NB101Cell) -> list[tuple[int, NB101Cell]]:
    """``(action, result)`` for every action allowed by :func:`edit_mask`.

    Raises:
        InvalidArchitectureError: As :func:`apply_edit`.
    """
    _check_editable(cell)
    results, mask = _edit_table(cell)
    return [(i, r) for i, r in enumerate(results) if mask[i] and r is not None]


# ---------------------------------------------------------------------------
# Fixed-shape arrays and NASLib tuples
# ---------------------------------------------------------------------------
def graph_arrays(cell: NB101Cell) -> tuple[NDArray[np.uint8], NDArray[np.int8]]:
    """Padded arrays for observations.

    The cell is used as given (pass a pruned cell for a canonical observation):
    vertex ``i < n`` occupies row/column ``i`` (so the output is at ``n - 1``, not
    necessarily 6) and rows, columns and op entries ``>= n`` are padding.

    Returns:
        ``(adjacency, op_index)``: a ``(7, 7)`` ``uint8`` matrix and a ``(7,)``
        ``int8`` vector of indices into :data:`OPS`, ``-1`` for padding.
    """
    n = cell.num_vertices
    adjacency = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    adjacency[:n, :n] = cell.matrix
    op_index = np.full(MAX_VERTICES, -1, dtype=np.int8)
    op_index[:n] = cell.op_indices
    return adjacency, op_index


def from_graph_arrays(adjacency: ArrayLike, op_index: ArrayLike) -> NB101Cell:
    """Inverse of :func:`graph_arrays`.

    Raises:
        InvalidArchitectureError: Wrong shapes, padding not at the end, an op index
            out of range, or edges touching padding vertices.
    """
    adj = np.asarray(adjacency)
    ops = np.asarray(op_index)
    if adj.shape != (MAX_VERTICES, MAX_VERTICES) or ops.shape != (MAX_VERTICES,):
        raise InvalidArchitectureError(
            f"expected a (7, 7) adjacency and (7,) op indices, got {adj.shape} and "
            f"{ops.shape}"
        )
    n = int(np.count_nonzero(ops >= 0))
    if np.any(ops[:n] < 0) or np.any(ops[n:] != -1) or np.any(ops >= len(OPS)):
        raise InvalidArchitectureError(
            f"op indices must be {n} values in 0..{len(OPS) - 1} then -1 padding, "
            f"got {ops.tolist()}"
        )
    if np.any(adj[n:, :]) or np.any(adj[:, n:]):
        raise InvalidArchitectureError("edges touch padding vertices")
    return NB101Cell.from_numpy(adj[:n, :n], [OPS[int(i)] for i in ops[:n]])


def to_naslib(cell: NB101Cell) -> tuple[int, ...]:
    """NASLib's tuple key of a cell (``convert_spec_to_tuple``).

    The flattened ``n x n`` matrix (row by row) followed by ``n`` op codes, codes
    being indices in :data:`NASLIB_OPS` (``0`` input, ``1`` output, ``2`` maxpool3x3,
    ``3`` conv1x1, ``4`` conv3x3). The cell is used as given, *not pruned*: NASLib
    keys (e.g. NAS-Bench-Suite-Zero's 56-int keys) are unpruned 7-vertex specs, so
    an unpruned 7-vertex cell gives a 56-int key and smaller cells give
    ``n * n + n`` ints.
    """
    flat = [x for row in cell.matrix for x in row]
    return (*flat, *(NASLIB_OPS.index(op) for op in cell.ops))


def from_naslib(key: str | Sequence[int]) -> NB101Cell:
    """Parse a NASLib tuple key (a tuple of ints or its ``str``), unpruned.

    Raises:
        InvalidArchitectureError: The key is not ``n * n + n`` ints for ``n`` in
            2..7, an op code is unknown, or the matrix has entries other than 0/1.
    """
    if isinstance(key, str):
        text = key.strip().strip("()[]")
        try:
            values = [int(part) for part in text.split(",") if part.strip()]
        except ValueError as exc:
            raise InvalidArchitectureError(
                f"NASLib NB101 key {key!r} is not a tuple of ints"
            ) from exc
    else:
        values = [int(x) for x in key]
    sizes = [n for n in range(2, MAX_VERTICES + 1) if n * n + n == len(values)]
    if not sizes:
        raise InvalidArchitectureError(
            f"NASLib NB101 key has {len(values)} ints; expected n*n + n for n in "
            f"2..{MAX_VERTICES} (56 for 7 vertices)"
        )
    n = sizes[0]
    codes = values[n * n :]
    if any(not 0 <= c < len(NASLIB_OPS) for c in codes):
        raise InvalidArchitectureError(
            f"NASLib NB101 op codes must be in 0..{len(NASLIB_OPS) - 1}, got {codes}"
        )
    matrix = tuple(tuple(values[r * n : (r + 1) * n]) for r in range(n))
    return NB101Cell(matrix, tuple(NASLIB_OPS[c] for c in codes))


# ---------------------------------------------------------------------------
# Samplers (docs/methods/cassimon.md#initial-state-samplers)
# ---------------------------------------------------------------------------
def sample_bananas(rng: np.random.Generator) -> NB101Cell:
    """BANANAS/naszilla's NB101 sampler, returned pruned.

    Each entry of a 7x7 matrix is drawn from Bernoulli(0.5) and the strict upper
    triangle kept; the 7 labels are drawn uniformly from :data:`INTERIOR_OPS`, then
    vertex 0 becomes the input and vertex 6 the output; repeat until valid.
    """
    while True:
        matrix = np.triu(rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), 1)
        labels = [INTERIOR_OPS[int(i)] for i in rng.integers(0, 3, MAX_VERTICES)]
        labels[0], labels[-1] = INPUT, OUTPUT
        cell = _make(tuple(map(tuple, matrix.tolist())), tuple(labels))
        pruned = _prune_or_none(cell)
        if pruned is not None and pruned.num_edges <= MAX_EDGES:
            return pruned


def sample_uniform(
    rng: np.random.Generator, population: Sequence[NB101Cell]
) -> NB101Cell:
    """A uniformly random member of ``population`` (e.g. a table's ``cells``).

    Sampling the rows of an NB101 table is sampling its hashes uniformly.

    Raises:
        ValueError: ``population`` is empty.
    """
    if len(population) == 0:
        raise ValueError("cannot sample from an empty population")
    return population[int(rng.integers(len(population)))]


def _popcount(values: NDArray[np.uint32]) -> NDArray[np.int64]:
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    total = np.zeros(values.shape, dtype=np.int64)
    for shift in (0, 8, 16, 24):
        total += table[(values >> np.uint32(shift)) & np.uint32(0xFF)]
    return total


@cache
def _full_dags(n: int) -> dict[int, NDArray[np.uint32]]:
    """Every ``n``-vertex upper-triangular matrix with all vertices on a path.

    Keyed by edge count (at most :data:`MAX_EDGES`); each matrix is a bit mask over
    ``itertools.combinations(range(n), 2)``. Such a matrix needs no pruning.
    """
    pairs = list(itertools.combinations(range(n), 2))
    masks = np.arange(1 << len(pairs), dtype=np.uint32)
    counts = _popcount(masks)
    keep = counts <= MAX_EDGES
    masks, counts = masks[keep], counts[keep]
    ok = np.ones(masks.shape, dtype=bool)
    for v in range(n):
        out_bits = sum(1 << k for k, (a, _) in enumerate(pairs) if a == v)
        in_bits = sum(1 << k for k, (_, b) in enumerate(pairs) if b == v)
        if v < n - 1:
            ok &= (masks & np.uint32(out_bits)) != 0
        if v > 0:
            ok &= (masks & np.uint32(in_bits)) != 0
    masks, counts = masks[ok], counts[ok]
    return {int(e): masks[counts == e] for e in np.unique(counts)}


def _histogram_array(histogram: ArrayLike | Mapping[tuple[int, int], float]) -> Any:
    weights = np.zeros((MAX_VERTICES + 1, MAX_EDGES + 1), dtype=np.float64)
    if isinstance(histogram, Mapping):
        for (v, e), count in histogram.items():
            if not (0 <= v <= MAX_VERTICES and 0 <= e <= MAX_EDGES):
                raise ValueError(f"histogram bin ({v}, {e}) is out of range")
            weights[v, e] = float(count)
    else:
        array = np.asarray(histogram, dtype=np.float64)
        if array.shape != weights.shape:
            raise ValueError(
                f"histogram must have shape {weights.shape} (indexed [vertices, "
                f"edges]), got {array.shape}"
            )
        weights[:] = array
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError("histogram counts must be finite and non-negative")
    for v in range(MAX_VERTICES + 1):
        for e in range(MAX_EDGES + 1):
            if weights[v, e] > 0 and (v < 2 or e not in _full_dags(v)):
                raise ValueError(
                    f"histogram bin ({v} vertices, {e} edges) holds no valid cell"
                )
    total = weights.sum()
    if total <= 0:
        raise ValueError("histogram is empty")
    return weights / total


def sample_nb101_dist(
    rng: np.random.Generator,
    histogram: ArrayLike | Mapping[tuple[int, int], float],
) -> NB101Cell:
    """A cell whose (vertex, edge) counts follow ``histogram``.

    First a ``(vertices, edges)`` bin is drawn with probability proportional to its
    count, then a matrix uniformly among the upper-triangular matrices with that
    many vertices and edges in which every vertex is on an input->output path
    (enumerated once and cached, so no rejection loop is needed; this is the
    rejection sampler's distribution), then uniform interior ops. The result is
    pruned and valid. Within a bin, labelled matrices are uniform, not hashes.

    Args:
        rng: Random generator.
        histogram: Counts indexed ``[vertices, edges]``: an ``(8, 10)`` array, e.g.
            :meth:`nasgym.benchmarks.nb101.NB101Table.vertex_edge_histogram`, or a
            mapping ``{(vertices, edges): count}``.

    Raises:
        ValueError: The histogram has the wrong shape, negative counts, is empty or
            puts weight on a bin with no valid cell.
    """
    weights = _histogram_array(histogram)
    flat = int(rng.choice(weights.size, p=weights.ravel()))
    n, e = divmod(flat, MAX_EDGES + 1)
    masks = _full_dags(n)[e]
    mask = int(masks[int(rng.integers(len(masks)))])
    rows = [[0] * n for _ in range(n)]
    for k, (a, b) in enumerate(itertools.combinations(range(n), 2)):
        if mask >> k & 1:
            rows[a][b] = 1
    labels = [INTERIOR_OPS[int(i)] for i in rng.integers(0, 3, n)]
    labels[0], labels[-1] = INPUT, OUTPUT
    return _make(tuple(map(tuple, rows)), tuple(labels))


def sample(
    rng: np.random.Generator,
    sampler: str = "bananas",
    *,
    population: Sequence[NB101Cell] | None = None,
    histogram: ArrayLike | Mapping[tuple[int, int], float] | None = None,
) -> NB101Cell:
    """Draw one valid, pruned cell with the named sampler.

    Args:
        rng: Random generator (all randomness comes from it).
        sampler: ``"bananas"`` (:func:`sample_bananas`), ``"uniform"``
            (:func:`sample_uniform`, needs ``population``) or ``"nb101-dist"``
            (:func:`sample_nb101_dist`, needs ``histogram``).
        population: The cells to sample uniformly from (e.g. ``table.cells``).
        histogram: Vertex/edge-count histogram for ``"nb101-dist"``.

    Raises:
        UnknownOptionError: Unknown sampler name.
        ValueError: The sampler's argument is missing or invalid.
    """
    if sampler == "bananas":
        return sample_bananas(rng)
    if sampler == "uniform":
        if population is None:
            raise ValueError(
                "sampler 'uniform' needs population= (e.g. an NB101 table's cells)"
            )
        return sample_uniform(rng, population)
    if sampler == "nb101-dist":
        if histogram is None:
            raise ValueError(
                "sampler 'nb101-dist' needs histogram= (e.g. an NB101 table's "
                "vertex_edge_histogram())"
            )
        return sample_nb101_dist(rng, histogram)
    raise unknown_option("NB101 sampler", sampler, SAMPLERS)
