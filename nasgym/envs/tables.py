"""Per-code lookup tables shared by every env over the same search space.

Built lazily, once per space configuration per process, and read-only: graph
observations, legal-edit masks and architecture strings. Single envs and vector envs
both serve observations and masks from here instead of recomputing them per step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from nasgym.spaces.base import BoolArray, CategoricalSearchSpace, IntArray

T = TypeVar("T")
_TABLES: dict[tuple[Any, ...], Any] = {}


def _shared(space: CategoricalSearchSpace[Any], name: str, build: Callable[[], T]) -> T:
    key = (type(space), space.config_key(), name)
    if key not in _TABLES:
        _TABLES[key] = build()
    value: T = _TABLES[key]
    return value


def graph_obs_tables(
    space: CategoricalSearchSpace[Any],
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Read-only float32 ``(adjacency, one-hot ops, node mask)`` of every code.

    A final extra row (index ``-1``) holds the all-zero observation of "no
    architecture yet".
    """

    def build() -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        adjacency, node_ops = space.graph_tables
        types = len(space.node_types)
        eye = np.concatenate(
            [np.eye(types, dtype=np.float32), np.zeros((1, types), np.float32)]
        )
        empty_ops = np.full((1, space.max_nodes), -1, dtype=node_ops.dtype)
        all_ops = np.concatenate([node_ops, empty_ops])
        adj = np.concatenate(
            [adjacency, np.zeros((1, *adjacency.shape[1:]), adjacency.dtype)]
        ).astype(np.float32)
        tables = (adj, eye[all_ops], (all_ops >= 0).astype(np.float32))
        for table in tables:
            table.setflags(write=False)
        return tables

    return _shared(space, "graph_obs", build)


def edit_mask_table(space: CategoricalSearchSpace[Any]) -> BoolArray:
    """Read-only legal-edit masks of every code, shape ``(size, num_edits)``."""

    def build() -> BoolArray:
        table = np.zeros((space.size, space.num_edits), dtype=bool)
        codes = space.valid_codes
        for start in range(0, codes.size, 8192):
            chunk = codes[start : start + 8192]
            table[chunk] = space.edit_masks(chunk)
        table.setflags(write=False)
        return table

    return _shared(space, "edit_masks", build)


def arch_string_table(space: CategoricalSearchSpace[Any]) -> NDArray[np.object_]:
    """Read-only object array ``code -> string form`` (``None`` for invalid codes).

    Its last extra entry (index ``-1``) is ``None`` for "no architecture".
    """

    def build() -> NDArray[np.object_]:
        table = np.full(space.size + 1, None, dtype=object)
        codes = space.valid_codes
        table[codes] = space.strings_of(codes)
        table.setflags(write=False)
        return table

    return _shared(space, "arch_string_table", build)


def arch_names(
    space: CategoricalSearchSpace[Any], codes: IntArray
) -> NDArray[np.object_]:
    """String forms of ``codes`` as a new object array (``None`` where a code is -1)."""
    names: NDArray[np.object_] = arch_string_table(space)[codes]
    return names


#: Spaces up to this many codes get a :func:`query_code_table` (NB201: 15,625).
QUERY_TABLE_MAX_CODES = 1 << 18


def query_code_table(space: CategoricalSearchSpace[Any]) -> dict[tuple[int, ...], int]:
    """``{choices per slot: code}`` of every valid code (a Query action's lookup).

    Empty for spaces over :data:`QUERY_TABLE_MAX_CODES` codes; a caller falls back to
    computing the code (and the error of an invalid action) when a key is missing.
    """

    def build() -> dict[tuple[int, ...], int]:
        if space.size > QUERY_TABLE_MAX_CODES:
            return {}
        codes = np.asarray(space.valid_codes, dtype=np.int64)
        radix = np.asarray(space._radix, dtype=np.int64)
        nvec = np.asarray(space.nvec, dtype=np.int64)
        digits = (codes[:, None] // radix[None, :]) % nvec[None, :]
        return dict(zip(map(tuple, digits.tolist()), codes.tolist(), strict=True))

    return _shared(space, "query_code_table", build)
