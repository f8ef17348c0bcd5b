"""The NAS-Bench-201 (NATS-Bench topology) cell search space.

A cell is a 4-node DAG; each of its 6 edges ``j<-i`` (``i < j``) carries one of 5
operations. The choice vector lists the edge ops in the order of the official
architecture string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``::

    slot:  0     1     2     3     4     5
    edge:  1<-0  2<-0  2<-1  3<-0  3<-1  3<-2

This module is pure NumPy. The official NATS-Bench *index* (0..15624) is an order
defined by the benchmark files, so index conversions live with the data in
:mod:`nasgym.benchmarks.nb201`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nasgym.error import InvalidArchitectureError
from nasgym.spaces.base import CategoricalSearchSpace, IntArray, shared_table

OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)
#: ``(source, target)`` node of each slot, in official string order.
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))

#: NASLib's op order (``naslib/search_spaces/nasbench201``): its index -> our op.
NASLIB_OPS: tuple[str, ...] = (
    "skip_connect",
    "none",
    "nor_conv_3x3",
    "nor_conv_1x1",
    "avg_pool_3x3",
)
#: NASLib edge order ``0->1, 0->2, 0->3, 1->2, 1->3, 2->3``: NASLib position -> slot.
NASLIB_EDGE_SLOTS: tuple[int, ...] = (0, 1, 3, 2, 4, 5)

_NODE_RE = re.compile(r"^\|([^|]+)\|(?:([^|]+)\|)?(?:([^|]+)\|)?$")


@dataclass(frozen=True, slots=True)
class NB201Arch:
    """An immutable NAS-Bench-201 cell: one op index (into :data:`OPS`) per edge.

    Example:
        >>> arch = NB201Arch.from_str(
        ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        ...     "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
        ... )
        >>> arch.ops
        (3, 3, 3, 1, 3, 3)
        >>> NB201Arch.from_str(arch.to_str()) == arch
        True
    """

    ops: tuple[int, ...]

    def __post_init__(self) -> None:
        ops = self.ops
        if (
            not isinstance(ops, tuple)
            or len(ops) != len(EDGES)
            or not all(
                isinstance(o, (int, np.integer)) and 0 <= o < len(OPS) for o in ops
            )
        ):
            raise InvalidArchitectureError(
                f"NB201Arch needs a tuple of {len(EDGES)} op indices in "
                f"0..{len(OPS) - 1} (ops: {', '.join(OPS)}); got {ops!r}"
            )
        object.__setattr__(self, "ops", tuple(int(o) for o in ops))

    @classmethod
    def from_str(cls, text: str) -> NB201Arch:
        """Parse the official arch string, e.g. ``|nor_conv_3x3~0|+|...|``.

        Raises:
            InvalidArchitectureError: The string is malformed; the message says where.
        """
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"expected an NB201 arch string, got {text!r}"
            )
        nodes = text.strip().split("+")
        if len(nodes) != 3:
            raise InvalidArchitectureError(
                f"NB201 arch string must have 3 '+'-separated nodes, got {len(nodes)}: "
                f"{text!r} (example: {cls((3, 3, 3, 1, 3, 3)).to_str()!r})"
            )
        ops: list[int] = []
        for target, node in enumerate(nodes, start=1):
            tokens = node.strip("|").split("|") if node.startswith("|") else []
            if (
                not node.startswith("|")
                or not node.endswith("|")
                or len(tokens) != target
            ):
                raise InvalidArchitectureError(
                    f"NB201 node {target} must be '|op~0|...|op~{target - 1}|' with "
                    f"{target} inputs, got {node!r} in {text!r}"
                )
            for source, token in enumerate(tokens):
                op, sep, src = token.partition("~")
                if not sep or src != str(source):
                    raise InvalidArchitectureError(
                        f"NB201 edge {token!r} of node {target} must read "
                        f"'<op>~{source}' in {text!r}"
                    )
                if op not in OPS:
                    raise InvalidArchitectureError(
                        f"unknown NB201 op {op!r} in {text!r}; "
                        f"valid ops: {', '.join(OPS)}"
                    )
                ops.append(OPS.index(op))
        return cls(tuple(ops))

    def to_str(self) -> str:
        """Return the official arch string."""
        parts = []
        k = 0
        for target in (1, 2, 3):
            tokens = []
            for source in range(target):
                tokens.append(f"{OPS[self.ops[k]]}~{source}")
                k += 1
            parts.append("|" + "|".join(tokens) + "|")
        return "+".join(parts)

    @property
    def op_names(self) -> tuple[str, ...]:
        """Op name of every edge, in slot order."""
        return tuple(OPS[o] for o in self.ops)

    def to_naslib(self) -> tuple[int, ...]:
        """Return NASLib's op-index tuple (its op and edge order)."""
        return tuple(
            NASLIB_OPS.index(OPS[self.ops[slot]]) for slot in NASLIB_EDGE_SLOTS
        )

    @classmethod
    def from_naslib(cls, op_indices: Sequence[int]) -> NB201Arch:
        """Build from NASLib's op-index tuple.

        Raises:
            InvalidArchitectureError: Wrong length or an index out of range.
        """
        values = tuple(op_indices)
        if len(values) != len(EDGES) or not all(
            isinstance(v, (int, np.integer)) and 0 <= v < len(NASLIB_OPS)
            for v in values
        ):
            raise InvalidArchitectureError(
                f"NASLib NB201 encoding must be {len(EDGES)} ints in "
                f"0..{len(NASLIB_OPS) - 1}, got {op_indices!r}"
            )
        ops = [0] * len(EDGES)
        for position, slot in enumerate(NASLIB_EDGE_SLOTS):
            ops[slot] = OPS.index(NASLIB_OPS[values[position]])
        return cls(tuple(ops))

    def unique_str(self) -> str:
        """Return the official NATS-Bench isomorphism-class string of the cell.

        Each node's value is written as a sorted sum of its inputs: ``#`` for a zero
        input (``none``, or any op applied to a node that is exactly ``#``), the input
        node's own string for ``skip_connect``, and ``(x)@op`` otherwise. This is the
        rule behind the published count of 6,466 classes (and behind NATS-Bench's and
        HW-NAS-Bench's class ids). It keeps ``#`` terms, so it is slightly *finer*
        than functional equivalence: a few cells that compute the same function up to
        relabelling the two intermediate nodes land in different classes. See
        :meth:`functional_str` for the relabelling-invariant key.
        """
        exprs = ["0"]
        for target in (1, 2, 3):
            terms = []
            for slot, (source, node) in enumerate(EDGES):
                if node != target:
                    continue
                op = OPS[self.ops[slot]]
                if op == "none" or exprs[source] == "#":
                    terms.append("#")
                elif op == "skip_connect":
                    terms.append(exprs[source])
                else:
                    terms.append(f"({exprs[source]})@{op}")
            exprs.append("+".join(sorted(terms)))
        return exprs[3]

    def functional_str(self) -> str:
        """Return a key equal for exactly the cells computing the same function.

        Zero inputs (``none`` edges, and nodes whose inputs are all zero) are dropped,
        ``skip_connect`` passes its input's terms through, sums are sorted multisets
        of terms, and any other op wraps its input as ``(x)@op``. The key ignores node
        labels, so it is invariant under relabelling the intermediate nodes; there
        are 4,930 such classes. ``"0"`` alone is the identity cell and ``"#"`` the
        cell whose output is always zero.
        """
        terms: list[list[str] | None] = [["0"]]
        for target in (1, 2, 3):
            node: list[str] = []
            for slot, (source, dest) in enumerate(EDGES):
                if dest != target:
                    continue
                op = OPS[self.ops[slot]]
                inputs = terms[source]
                if op == "none" or inputs is None:
                    continue
                if op == "skip_connect":
                    node.extend(inputs)
                else:
                    node.append("(" + "+".join(inputs) + ")@" + op)
            terms.append(sorted(node) if node else None)
        output = terms[3]
        return "+".join(output) if output is not None else "#"


class NB201Space(CategoricalSearchSpace[NB201Arch]):
    """The NAS-Bench-201 cell space: 6 edges x 5 ops = 15,625 cells, all valid.

    The graph view puts ops on vertices (as NAS-Bench-101 does): vertex 0 is the cell
    input, vertices 1..6 are the six edge ops in slot order, vertices 7 and 8 are the
    sum nodes 1 and 2, and vertex 9 the cell output (node 3). Edge op ``j<-i`` has an
    arc from node ``i`` and an arc to node ``j``.

    Example:
        >>> space = NB201Space()
        >>> space.size, space.num_classes
        (15625, 6466)
        >>> arch = space.from_string(
        ...     "|none~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|"
        ... )
        >>> len(space.neighbours(arch))
        24
    """

    name = "nb201"
    memo_codes = True  # frozen dataclass of ints

    @property
    def slot_names(self) -> tuple[str, ...]:
        """Edge names ``"j<-i"`` in slot order."""
        return tuple(f"{t}<-{s}" for s, t in EDGES)

    @property
    def slot_choices(self) -> tuple[tuple[str, ...], ...]:
        """The 5 ops for each of the 6 edges."""
        return (OPS,) * len(EDGES)

    def encode(self, arch: NB201Arch) -> IntArray:
        """Return the op-index vector."""
        if not isinstance(arch, NB201Arch):
            raise InvalidArchitectureError(f"expected an NB201Arch, got {arch!r}")
        return np.array(arch.ops, dtype=np.int64)

    def decode(self, vector: Sequence[int] | IntArray) -> NB201Arch:
        """Return the cell with this op-index vector."""
        return NB201Arch(tuple(int(v) for v in self.check_vector(vector)))

    def to_string(self, arch: NB201Arch) -> str:
        """Return the official arch string."""
        return arch.to_str()

    def from_string(self, text: str) -> NB201Arch:
        """Parse the official arch string."""
        return NB201Arch.from_str(text)

    def string_template(self) -> tuple[str, tuple[tuple[str, ...], ...]]:
        """The official arch string as a template over the 6 edge ops."""
        return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|", self.slot_choices

    @shared_table
    def unique_strings(self) -> tuple[str, ...]:
        """Official isomorphism-class string of every code."""
        vectors = self.codes_to_vectors(np.arange(self.size))
        return tuple(NB201Arch(tuple(int(x) for x in v)).unique_str() for v in vectors)

    @shared_table
    def functional_codes(self) -> IntArray:
        """For every code, the smallest code computing the same function.

        Coarser than :attr:`canonical_codes` (4,930 classes against the official
        6,466) and invariant under relabelling the intermediate nodes.
        """
        first: dict[str, int] = {}
        table = np.empty(self.size, dtype=np.int64)
        vectors = self.codes_to_vectors(np.arange(self.size)).tolist()
        for code, vector in enumerate(vectors):
            key = NB201Arch(tuple(vector)).functional_str()
            table[code] = first.setdefault(key, code)
        table.setflags(write=False)
        return table

    def _build_canonical_codes(self) -> IntArray:
        first: dict[str, int] = {}
        table = np.empty(self.size, dtype=np.int64)
        for code, key in enumerate(self.unique_strings):
            table[code] = first.setdefault(key, code)
        return table

    @property
    def max_nodes(self) -> int:
        """10 vertices: input, 6 edge ops, 2 sum nodes, output."""
        return 10

    @property
    def node_types(self) -> tuple[str, ...]:
        """Vertex labels: ``input``, ``sum``, ``output`` and the 5 ops."""
        return ("input", "sum", "output", *OPS)

    def _build_graph_tables(self) -> tuple[NDArray[np.uint8], NDArray[np.int8]]:
        node_vertex = {0: 0, 1: 7, 2: 8, 3: 9}
        template = np.zeros((self.max_nodes, self.max_nodes), dtype=np.uint8)
        for slot, (source, target) in enumerate(EDGES):
            template[node_vertex[source], 1 + slot] = 1
            template[1 + slot, node_vertex[target]] = 1
        adjacency = np.broadcast_to(template, (self.size, *template.shape)).copy()
        ops = np.empty((self.size, self.max_nodes), dtype=np.int8)
        ops[:, 0] = 0
        ops[:, 7:9] = 1
        ops[:, 9] = 2
        ops[:, 1:7] = 3 + self.codes_to_vectors(np.arange(self.size))
        return adjacency, ops
