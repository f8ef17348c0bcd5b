"""The NAS-Bench-Graph search space (graph neural networks, Qin et al., 2022).

A NAS-Bench-Graph cell has one input node and four *computing nodes*. Computing node
``i`` (1-based) takes its input from node ``link[i - 1]``, where ``0`` is the input
node and ``k > 0`` is computing node ``k``, and applies one GNN operation to it. The
benchmark fixes nine link patterns (:data:`LINKS`, the wheel's ``link_list``) and
nine operations (:data:`OPS`, the wheel's ``gnn_list``); the ``proteins`` dataset
uses a five-operation subset (:data:`OPS_PROTEINS`).

Choice vector: slot 0 is the link pattern (9 choices), slots 1..4 the operation of
computing nodes 1..4. The nine vectors whose four operations are all ``skip`` are
invalid (the cell would compute nothing). Every other vector is a valid architecture;
several vectors can describe the same network, and the benchmark stores one entry per
class. The class of a vector is the key that the ``nas-bench-graph`` wheel's
``Arch.valid_hash`` gives it; :func:`wheel_keys` computes these keys (it needs the
wheel, imported only when called) and the space's canonical map sends each code to
the smallest code with the same key.

Graph view (6 vertices): vertex 0 is the input, vertices 1..4 the computing nodes and
vertex 5 the output. There is an edge ``link[i - 1] -> i`` for every computing node
``i``, and an edge ``i -> 5`` from every computing node that no other computing node
takes as input (the *leaves*, whose outputs the network combines into its output).

This module imports numpy only; ``nas_bench_graph`` is imported inside
:func:`wheel_keys` and :func:`import_wheel`, and the key cache's file helpers
(:mod:`nasgym.data`) inside :func:`wheel_keys`.
"""

from __future__ import annotations

import importlib
import inspect
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.error import BenchmarkDataMissingError, InvalidArchitectureError
from nasgym.spaces.base import BoolArray, CategoricalSearchSpace, IntArray

#: The nine link patterns, in the wheel's ``link_list`` order.
LINKS: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)

#: The nine GNN operations, in the wheel's ``gnn_list`` order.
OPS: tuple[str, ...] = (
    "gat",
    "gcn",
    "gin",
    "cheb",
    "sage",
    "arma",
    "graph",
    "fc",
    "skip",
)

#: The five operations of the ``proteins`` dataset (the wheel's ``gnn_list_proteins``).
OPS_PROTEINS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")

#: Number of computing nodes in a cell.
NUM_NODES = 4

_INPUT, _OUTPUT = 0, NUM_NODES + 1

_STRING_RE = re.compile(r"\s*link\s*=\s*\[([^\]]*)\]\s+ops\s*=\s*\[([^\]]*)\]\s*")

_INSTALL_HINT = "install it with `pip install nas-bench-graph`"

#: Layout version of the key cache files (:func:`wheel_keys`); others are rebuilt.
_KEYS_CACHE_VERSION = 1


@dataclass(frozen=True, slots=True)
class GNNArch:
    """One NAS-Bench-Graph architecture.

    Attributes:
        link: Index of the link pattern in :data:`LINKS`.
        ops: Four operation indices (computing nodes 1..4) into the space's op list
            (:data:`OPS`, or :data:`OPS_PROTEINS` for the proteins space).
    """

    link: int
    ops: tuple[int, ...]

    def __post_init__(self) -> None:
        # Normalise numpy integers and lists so equal architectures hash equally.
        try:
            object.__setattr__(self, "link", operator.index(self.link))
            object.__setattr__(
                self, "ops", tuple(operator.index(op) for op in self.ops)
            )
        except (TypeError, ValueError) as exc:
            raise InvalidArchitectureError(
                f"GNNArch needs an integer link and a sequence of integer ops, got "
                f"link={self.link!r}, ops={self.ops!r}"
            ) from exc


def import_wheel() -> ModuleType:
    """Import and return the ``nas_bench_graph`` package.

    Raises:
        BenchmarkDataMissingError: The ``nas-bench-graph`` wheel is not installed.
    """
    try:
        return importlib.import_module("nas_bench_graph")
    except ImportError as exc:
        raise BenchmarkDataMissingError(
            f"NAS-Bench-Graph needs the nas-bench-graph package ({exc}); "
            f"{_INSTALL_HINT}"
        ) from exc


@cache
def wheel_keys(proteins: bool = False) -> IntArray:
    """Return the wheel's benchmark key of every code of the space (``-1``: invalid).

    The key is ``nas_bench_graph.Arch(link, ops).valid_hash()``, which the wheel uses
    to index its tables and which is equal for isomorphic architectures. Hashing all
    codes takes a few hundred milliseconds, so the keys are also kept on disk in
    nasgym's cache directory (``nbgraph/`` under :func:`nasgym.data.cache_dir`),
    keyed by the wheel's version and the checksum of the wheel module that computes
    the keys (:func:`wheel_fingerprint`): a different wheel gets its own file. A
    cache file that is unreadable, fails its checksum or holds keys of the wrong
    shape is never used: the keys are recomputed, the file is rewritten and a
    :class:`RuntimeWarning` says so (:func:`nasgym.data.cached_arrays`). When the
    cache directory is not writable, the keys are computed in every process. The
    result is cached in memory too, and read-only.

    Args:
        proteins: Use the proteins space (five operations) instead of the full one.

    Raises:
        BenchmarkDataMissingError: The ``nas-bench-graph`` wheel is not installed.
        RuntimeError: The installed wheel's link or operation lists differ from the
            ones this module was written for.
    """
    return _load_wheel_keys(proteins)


def _check_wheel(wheel: ModuleType, proteins: bool) -> None:
    """Refuse a wheel whose link or operation lists differ from this module's."""
    ops = OPS_PROTEINS if proteins else OPS
    wheel_ops = wheel.gnn_list_proteins if proteins else wheel.gnn_list
    if [list(link) for link in LINKS] != list(wheel.link_list) or list(ops) != list(
        wheel_ops
    ):
        raise RuntimeError(
            "the installed nas-bench-graph wheel has unexpected link/operation lists; "
            "nasgym supports nas-bench-graph 1.4"
        )


def compute_wheel_keys(wheel: ModuleType, proteins: bool = False) -> IntArray:
    """Hash every valid code with the wheel's ``Arch.valid_hash`` (no cache).

    Args:
        wheel: The imported ``nas_bench_graph`` package (:func:`import_wheel`).
        proteins: Use the proteins space.

    Returns:
        A writable int64 array over all codes; ``-1`` marks invalid codes.

    Raises:
        RuntimeError: The wheel's link or operation lists are not the expected ones.
    """
    _check_wheel(wheel, proteins)
    ops = OPS_PROTEINS if proteins else OPS
    space = NBGraphSpace(proteins=proteins)
    keys = np.full(space.size, -1, dtype=np.int64)
    vectors = space.codes_to_vectors(space.valid_codes)
    arch_cls = wheel.Arch
    for code, vector in zip(space.valid_codes.tolist(), vectors.tolist(), strict=True):
        link = list(LINKS[vector[0]])
        names = [ops[i] for i in vector[1:]]
        keys[code] = arch_cls(link, names).valid_hash()
    return keys


def wheel_fingerprint(wheel: ModuleType) -> dict[str, str]:
    """Identify the installed wheel's key function: its version and file checksum.

    Returns:
        ``{"wheel_version": ..., "wheel_sha256": ...}``: the version the package
        declares and the SHA-256 of the module file that defines ``Arch.valid_hash``,
        the code the keys come from (so an edited or upgraded wheel is recognised
        even when its version string stays the same).
    """
    import hashlib

    source = inspect.getsourcefile(wheel.Arch)
    digest = hashlib.sha256(Path(source).read_bytes() if source else b"")
    return {
        "wheel_version": str(getattr(wheel, "__version__", "unknown")),
        "wheel_sha256": digest.hexdigest(),
    }


def cache_name(kind: str, stamp: dict[str, str]) -> str:
    """File name of a NAS-Bench-Graph cache file: ``kind`` plus a digest of ``stamp``.

    A different wheel (another stamp) gets another file, so two installations that
    share a cache directory do not overwrite each other's cache.
    """
    import hashlib

    text = "\n".join(f"{key}={stamp[key]}" for key in sorted(stamp))
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.npz"


def _load_wheel_keys(proteins: bool) -> IntArray:
    """:func:`wheel_keys` without the in-memory cache: disk cache, else compute."""
    from nasgym.data import cache_dir, cached_arrays

    wheel = import_wheel()
    _check_wheel(wheel, proteins)
    space = NBGraphSpace(proteins=proteins)
    stamp = {"cache_version": str(_KEYS_CACHE_VERSION), **wheel_fingerprint(wheel)}
    variant = "proteins" if proteins else "full"
    path = cache_dir() / "nbgraph" / cache_name(f"keys-{variant}", stamp)

    def check(arrays: dict[str, np.ndarray]) -> str | None:
        keys = arrays["keys"]
        if keys.dtype != np.int64 or not np.array_equal(keys >= 0, space.valid_mask):
            return "its keys do not mark exactly the valid codes of the space"
        return None

    arrays = cached_arrays(
        path,
        stamp,
        {"keys": (space.size,)},
        lambda: {"keys": compute_wheel_keys(wheel, proteins)},
        what="NAS-Bench-Graph architecture keys",
        check=check,
    )
    keys = np.asarray(arrays["keys"])
    keys.setflags(write=False)
    return keys


class NBGraphSpace(CategoricalSearchSpace[GNNArch]):
    """The NAS-Bench-Graph space: a link pattern and four GNN operations.

    Args:
        proteins: Use the five operations of the ``proteins`` dataset
            (:data:`OPS_PROTEINS`) instead of all nine (:data:`OPS`).

    Attributes:
        proteins: Whether this is the proteins (five-operation) space.
        ops: The operation names, in index order.
    """

    name = "nbgraph"
    memo_codes = True  # frozen dataclass of ints

    def __init__(self, proteins: bool = False) -> None:
        self.proteins = bool(proteins)
        self.ops: tuple[str, ...] = OPS_PROTEINS if self.proteins else OPS
        self._skip = self.ops.index("skip")
        if self.proteins:
            self.name = "nbgraph-proteins"

    def config_key(self) -> tuple[bool]:
        """The proteins flag: the two spaces have different tables."""
        return (self.proteins,)

    # ------------------------------------------------------------------ slots
    @property
    def slot_names(self) -> tuple[str, ...]:
        """``("link", "op1", "op2", "op3", "op4")``."""
        return ("link", *(f"op{i}" for i in range(1, NUM_NODES + 1)))

    @property
    def slot_choices(self) -> tuple[tuple[str, ...], ...]:
        """Link patterns as ``"0-0-1-2"``, then the op names for each node."""
        links = tuple("-".join(str(x) for x in link) for link in LINKS)
        return (links, *((self.ops,) * NUM_NODES))

    # --------------------------------------------------------------- validity
    def _build_valid_mask(self) -> BoolArray:
        """All vectors except the nine whose operations are all ``skip``."""
        mask = np.ones(self.size, dtype=bool)
        all_skip = [0, *([self._skip] * NUM_NODES)]
        links = np.arange(len(LINKS), dtype=np.int64)
        vectors = np.tile(np.asarray(all_skip, dtype=np.int64), (len(LINKS), 1))
        vectors[:, 0] = links
        mask[self.vectors_to_codes(vectors)] = False
        return mask

    def invalid_reason(self, vector: IntArray) -> str | None:
        """Explain why an in-range vector is invalid (all four ops ``skip``)."""
        if all(int(op) == self._skip for op in vector[1:]):
            return (
                "all four computing nodes are 'skip', so the cell computes nothing; "
                "at least one node needs a GNN operation"
            )
        return None

    # ------------------------------------------------------------ conversions
    def encode(self, arch: GNNArch) -> IntArray:
        """Return the choice vector ``[link, op1, op2, op3, op4]``.

        Raises:
            InvalidArchitectureError: ``arch`` is not a valid member of the space.
        """
        if not isinstance(arch, GNNArch):
            raise InvalidArchitectureError(
                f"{self.name}: expected a GNNArch, got {type(arch).__name__}"
            )
        return self.check_vector([arch.link, *arch.ops])

    def decode(self, vector: Sequence[int] | IntArray) -> GNNArch:
        """Return the architecture of a choice vector.

        Raises:
            InvalidArchitectureError: The vector is not a valid member of the space.
        """
        array = self.check_vector(vector)
        return GNNArch(link=int(array[0]), ops=tuple(int(x) for x in array[1:]))

    def to_string(self, arch: GNNArch) -> str:
        """Return ``"link=[0,0,1,2] ops=[gcn,gat,skip,fc]"``."""
        vector = self.encode(arch)
        link = ",".join(str(x) for x in LINKS[int(vector[0])])
        ops = ",".join(self.ops[int(i)] for i in vector[1:])
        return f"link=[{link}] ops=[{ops}]"

    def string_template(self) -> tuple[str, tuple[tuple[str, ...], ...]]:
        """``link=[..] ops=[..]`` as a template over the link and the four ops."""
        links = tuple(",".join(str(x) for x in link) for link in LINKS)
        return "link=[{}] ops=[{},{},{},{}]", (links, *((self.ops,) * NUM_NODES))

    def from_string(self, text: str) -> GNNArch:
        """Parse the form written by :meth:`to_string`.

        Whitespace around tokens is tolerated; op names are case-sensitive.

        Raises:
            InvalidArchitectureError: The string is malformed, names an unknown link
                pattern or operation, or describes an invalid (all-``skip``) cell.
        """
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"{self.name}: expected a string, got {type(text).__name__}"
            )
        match = _STRING_RE.fullmatch(text)
        if match is None:
            raise InvalidArchitectureError(
                f"{self.name}: cannot parse {text!r}; expected the form "
                f"'link=[0,0,1,2] ops=[gcn,gat,skip,fc]'"
            )
        link_tokens = [t.strip() for t in match.group(1).split(",")]
        op_tokens = [t.strip() for t in match.group(2).split(",")]
        try:
            link = tuple(int(t) for t in link_tokens)
        except ValueError as exc:
            raise InvalidArchitectureError(
                f"{self.name}: link {match.group(1)!r} in {text!r} is not a list of "
                f"integers"
            ) from exc
        if link not in LINKS:
            patterns = ", ".join("[" + ",".join(map(str, p)) + "]" for p in LINKS)
            raise InvalidArchitectureError(
                f"{self.name}: link [{','.join(map(str, link))}] in {text!r} is not "
                f"one of the benchmark's link patterns: {patterns}"
            )
        if len(op_tokens) != NUM_NODES:
            raise InvalidArchitectureError(
                f"{self.name}: expected {NUM_NODES} ops in {text!r}, got "
                f"{len(op_tokens)}"
            )
        for token in op_tokens:
            if token not in self.ops:
                raise InvalidArchitectureError(
                    f"{self.name}: unknown op {token!r} in {text!r}; valid ops: "
                    f"{', '.join(self.ops)}"
                )
        return self.decode([LINKS.index(link), *(self.ops.index(t) for t in op_tokens)])

    def to_wheel(self, arch: GNNArch) -> tuple[list[int], list[str]]:
        """Return the wheel's form ``(link, op names)`` of an architecture.

        ``nas_bench_graph.Arch(*space.to_wheel(arch)).valid_hash()`` is the key of the
        architecture in the wheel's tables.

        Raises:
            InvalidArchitectureError: ``arch`` is not a valid member of the space.
        """
        vector = self.encode(arch)
        return list(LINKS[int(vector[0])]), [self.ops[int(i)] for i in vector[1:]]

    def from_wheel(self, link: Sequence[int], ops: Sequence[str]) -> GNNArch:
        """Return the architecture of the wheel's form ``(link, op names)``.

        Raises:
            InvalidArchitectureError: The link is not one of :data:`LINKS`, an op is
                unknown to this space, or the cell is invalid.
        """
        link_t = tuple(int(x) for x in link)
        if link_t not in LINKS:
            raise InvalidArchitectureError(
                f"{self.name}: link {list(link_t)} is not one of the benchmark's link "
                f"patterns {[list(p) for p in LINKS]}"
            )
        if len(ops) != NUM_NODES:
            raise InvalidArchitectureError(
                f"{self.name}: expected {NUM_NODES} ops, got {list(ops)!r}"
            )
        unknown = [op for op in ops if op not in self.ops]
        if unknown:
            raise InvalidArchitectureError(
                f"{self.name}: unknown op {unknown[0]!r}; valid ops: "
                f"{', '.join(self.ops)}"
            )
        return self.decode([LINKS.index(link_t), *(self.ops.index(op) for op in ops)])

    # -------------------------------------------------------------- canonical
    def _build_canonical_codes(self) -> IntArray:
        """Map each valid code to the smallest code with the same wheel key.

        Invalid codes map to themselves. Needs the ``nas-bench-graph`` wheel.
        """
        keys = wheel_keys(self.proteins)
        valid = self.valid_codes
        _, first, inverse = np.unique(
            keys[valid], return_index=True, return_inverse=True
        )
        table = np.arange(self.size, dtype=np.int64)
        # valid is ascending, so the first occurrence of a key is its smallest code.
        table[valid] = valid[first[inverse.reshape(-1)]]
        return table

    # ------------------------------------------------------------- graph view
    @property
    def max_nodes(self) -> int:
        """Six vertices: input, four computing nodes, output."""
        return NUM_NODES + 2

    @property
    def node_types(self) -> tuple[str, ...]:
        """``("input", "output", *ops)``."""
        return ("input", "output", *self.ops)

    def _build_graph_tables(self) -> tuple[NDArray[np.uint8], NDArray[np.int8]]:
        """Adjacency and vertex types of every code (see the module docstring)."""
        per_link = np.zeros(
            (len(LINKS), self.max_nodes, self.max_nodes), dtype=np.uint8
        )
        for index, link in enumerate(LINKS):
            for node, source in enumerate(link, start=1):
                per_link[index, source, node] = 1
            for node in range(1, NUM_NODES + 1):
                if node not in link:
                    per_link[index, node, _OUTPUT] = 1
        vectors = self.codes_to_vectors(np.arange(self.size))
        adjacency = per_link[vectors[:, 0]]
        node_ops = np.empty((self.size, self.max_nodes), dtype=np.int8)
        node_ops[:, _INPUT] = 0
        node_ops[:, _OUTPUT] = 1
        node_ops[:, 1:_OUTPUT] = vectors[:, 1:] + 2
        return adjacency, node_ops

    def __repr__(self) -> str:
        return f"{type(self).__name__}(proteins={self.proteins})"

    def describe(self) -> dict[str, Any]:
        """Summary numbers of the space, plus whether it is the proteins variant."""
        return {**super().describe(), "proteins": self.proteins}
