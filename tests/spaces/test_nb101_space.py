"""NB101 cell space: values, pruning/validity, the official hash, edits, samplers.

The hash is checked against every official hash in EC-NAS-Bench's graph files
(data-marked); the edit mask against an independent networkx implementation of the
four edit rules.
"""

from __future__ import annotations

import collections
import itertools
import json
import lzma
import tarfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasgym.error import InvalidArchitectureError, UnknownOptionError
from nasgym.spaces import nb101
from nasgym.spaces.nb101 import (
    EDGE_TOGGLE,
    EDIT_ACTIONS,
    INTERIOR_OPS,
    NUM_EDIT_ACTIONS,
    OP_CHANGE,
    OPS,
    VERTEX_INSERT,
    VERTEX_REMOVE,
    NB101Cell,
    apply_edit,
    describe_edit,
    edit_mask,
    from_graph_arrays,
    from_naslib,
    graph_arrays,
    graph_fingerprint,
    invalid_reason,
    is_pruned,
    is_valid,
    nb101_hash,
    neighbours,
    prune,
    sample,
    to_naslib,
)

try:
    from conftest import missing_data
except ImportError:  # pragma: no cover
    from tests.conftest import missing_data

C3, C1, MP = INTERIOR_OPS
ECNAS = "ec-nas-bench/ec_nasbench_energy_results_and_graphs.tar.xz"
GRAPHS = "ecnas/vendors/ec_nasbench/nasbench/data/graphs/generated_graphs_{}.json"


def cell(rows: list[str], *interior: str) -> NB101Cell:
    """A cell from rows of '0'/'1' strings and interior ops."""
    matrix = tuple(tuple(int(c) for c in row) for row in rows)
    return NB101Cell(matrix, ("input", *interior, "output"))


# --------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------
@st.composite
def cells(draw: st.DrawFn, min_vertices: int = 2) -> NB101Cell:
    """Any well-labelled upper-triangular cell (maybe unpruned or invalid)."""
    n = draw(st.integers(min_vertices, 7))
    bits = draw(st.lists(st.booleans(), min_size=n * (n - 1) // 2, max_size=21))
    rows = [[0] * n for _ in range(n)]
    for k, (u, w) in enumerate(itertools.combinations(range(n), 2)):
        rows[u][w] = int(bits[k])
    ops = draw(st.lists(st.sampled_from(INTERIOR_OPS), min_size=n - 2, max_size=n - 2))
    return NB101Cell(tuple(map(tuple, rows)), ("input", *ops, "output"))


@st.composite
def connected_cells(draw: st.DrawFn) -> NB101Cell:
    c = draw(cells())
    if nb101._prune_or_none(c) is None:  # add the direct edge to connect it
        rows = [list(r) for r in c.matrix]
        rows[0][-1] = 1
        c = NB101Cell(tuple(map(tuple, rows)), c.ops)
    return c


# --------------------------------------------------------------------------
# the value type
# --------------------------------------------------------------------------
def test_cell_is_an_immutable_hashable_value() -> None:
    a = cell(["011", "001", "000"], C3)
    b = NB101Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])  # type: ignore[arg-type]
    assert a == b and hash(a) == hash(b) and isinstance(b.matrix, tuple)
    assert isinstance(b.ops, tuple)
    with pytest.raises(AttributeError):
        a.ops = ()  # type: ignore[misc]
    assert a.num_vertices == 3 and a.num_edges == 3
    assert a.edges() == [(0, 1), (0, 2), (1, 2)]
    assert a.op_indices == (0, 1, 4)
    np.testing.assert_array_equal(a.to_numpy(), np.array(a.matrix, dtype=np.uint8))
    assert NB101Cell.from_numpy(a.to_numpy(), a.ops) == a
    assert len({a, b}) == 1
    assert "011001000" in str(a)


@pytest.mark.parametrize(
    ("matrix", "ops", "match"),
    [
        ([[0]], ["input"], "2 to 7"),
        ([[0] * 8] * 8, ["input"] + [C3] * 6 + ["output"], "2 to 7"),
        ([[0, 1]], ["input", "output"], "2x2"),
        ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),
        ([[0, True], [0, 0]], ["input", "output"], "ints"),
        ([[0, 1.0], [0, 0]], ["input", "output"], "ints"),
        ([[0, 1], [0, 0]], ["input", "conv5x5"], "unknown NB101 op"),
        ([[0, 1], [0, 0]], "io", "sequence of labels"),
        (5, ["input", "output"], "sequence of rows"),
    ],
)
def test_cell_rejects_bad_structure(matrix: object, ops: object, match: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=match):
        NB101Cell(matrix, ops)  # type: ignore[arg-type]


def test_from_numpy_rejects_non_2d() -> None:
    with pytest.raises(InvalidArchitectureError, match="2-D"):
        NB101Cell.from_numpy(np.zeros(4), ["input", "output"])


def test_to_networkx() -> None:
    a = cell(["0110", "0001", "0001", "0000"], C3, MP)
    g = a.to_networkx()
    assert sorted(g.edges) == a.edges()
    assert [g.nodes[v]["op"] for v in range(4)] == list(a.ops)
    assert nx.is_directed_acyclic_graph(g)


# --------------------------------------------------------------------------
# pruning and validity
# --------------------------------------------------------------------------
def test_prune_removes_vertices_off_every_path() -> None:
    # vertex 2 has no in-edge, vertex 3 no edge: both go, 1 and 4 stay
    a = cell(
        ["010010", "000001", "000001", "000000", "000001", "000000"], C3, C1, MP, C3
    )
    p = prune(a)
    assert p.ops == ("input", C3, C3, "output")
    assert p.matrix == ((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 1), (0, 0, 0, 0))
    assert prune(p) is p and is_pruned(p) and not is_pruned(a)


def test_prune_errors() -> None:
    with pytest.raises(InvalidArchitectureError, match="does not reach"):
        prune(cell(["010", "000", "000"], C3))
    with pytest.raises(InvalidArchitectureError, match="upper-triangular"):
        prune(cell(["001", "100", "000"], C3))


@pytest.mark.parametrize(
    ("c", "reason"),
    [
        (cell(["01", "00"]), None),
        (NB101Cell(((0, 1), (0, 0)), ("output", "input")), "vertex 0 must be"),
        (NB101Cell(((0, 1), (0, 0)), ("input", C3)), "must be 'output'"),
        (
            NB101Cell(((0, 1, 1), (0, 0, 1), (0, 0, 0)), ("input", "input", "output")),
            "interior vertex 1",
        ),
        (cell(["011", "001", "010"], C3), "not strictly upper-triangular"),
        (cell(["010", "000", "000"], C3), "does not reach"),
        # 10 edges, but 2 vertices are dangling: valid after pruning (official)
        (
            cell(
                [
                    "0111111",
                    "0011000",
                    "0001001",
                    "0000001",
                    "0000000",
                    "0000000",
                    "0000000",
                ],
                C3,
                C3,
                C3,
                C3,
                C3,
            ),
            None,
        ),
        (
            cell(
                [
                    "0111111",
                    "0011111",
                    "0001001",
                    "0000001",
                    "0000000",
                    "0000000",
                    "0000000",
                ],
                C3,
                C3,
                C3,
                C3,
                C3,
            ),
            "10 edges after pruning",
        ),
    ],
)
def test_invalid_reason(c: NB101Cell, reason: str | None) -> None:
    got = invalid_reason(c)
    if reason is None:
        assert got is None and is_valid(c)
    else:
        assert got is not None and reason in got and not is_valid(c)


def reference_prune(c: NB101Cell) -> NB101Cell | None:
    g = c.to_networkx()
    out = c.num_vertices - 1
    if out not in nx.descendants(g, 0):
        return None
    keep = sorted(({0} | nx.descendants(g, 0)) & ({out} | nx.ancestors(g, out)))
    matrix = tuple(tuple(int(g.has_edge(u, w)) for w in keep) for u in keep)
    return NB101Cell(matrix, tuple(c.ops[v] for v in keep))


@settings(max_examples=300, deadline=None)
@given(cells())
def test_prune_and_validity_match_a_networkx_reference(c: NB101Cell) -> None:
    expected = reference_prune(c)
    if expected is None:
        assert invalid_reason(c) == "the input does not reach the output"
        with pytest.raises(InvalidArchitectureError):
            prune(c)
        return
    assert prune(c) == expected
    assert is_valid(c) == (expected.num_edges <= 9)


# --------------------------------------------------------------------------
# the official hash
# --------------------------------------------------------------------------
def test_hash_format_and_pruning() -> None:
    a = cell(["0110", "0001", "0001", "0000"], C3, MP)
    h = nb101_hash(a)
    assert len(h) == 32 and all(ch in "0123456789abcdef" for ch in h)
    # vertex 3 has no out-edge and vertex 4 no edge at all: pruned away
    padded = cell(
        ["011000", "000101", "000101", "000000", "000000", "000000"], C3, MP, C1, C1
    )
    assert prune(padded).num_vertices == 4
    assert nb101_hash(padded) == nb101_hash(prune(padded))
    with pytest.raises(InvalidArchitectureError):
        nb101_hash(cell(["010", "000", "000"], C3))
    with pytest.raises(InvalidArchitectureError, match="cannot hash"):
        nb101_hash(
            NB101Cell(((0, 1, 1), (0, 0, 1), (0, 0, 0)), ("input", "output", "output"))
        )


def test_hash_does_not_check_the_edge_limit() -> None:
    full = cell(["0" * (i + 1) + "1" * (6 - i) for i in range(7)], C3, C3, C3, C3, C3)
    assert full.num_edges == 21 and not is_valid(full)
    assert len(nb101_hash(full)) == 32


def test_graph_fingerprint_matches_the_documented_algorithm() -> None:
    import hashlib

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    # the smallest cell by hand: input -> output
    h0 = md5(str((1, 0, -1)))
    h1 = md5(str((0, 1, -2)))
    for _ in range(2):
        h0, h1 = md5("|" + h1 + "|" + h0), md5(h0 + "||" + h1)
    assert graph_fingerprint([[0, 1], [0, 0]], [-1, -2]) == md5(str(sorted([h0, h1])))
    assert nb101_hash(cell(["01", "00"])) == md5(str(sorted([h0, h1])))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # op order along a chain (direction matters)
        (
            cell(["0100", "0010", "0001", "0000"], C3, C1),
            cell(["0100", "0010", "0001", "0000"], C1, C3),
        ),
        # two parallel chains: (c3 -> c1, c1 -> c3) vs (c3 -> c3, c1 -> c1)
        (
            cell(
                ["011000", "000100", "000010", "000001", "000001", "000000"],
                C3,
                C1,
                C1,
                C3,
            ),
            cell(
                ["011000", "000100", "000010", "000001", "000001", "000000"],
                C3,
                C1,
                C3,
                C1,
            ),
        ),
        # same vertex/edge counts, skip from input vs skip to output
        (
            cell(["01100", "00100", "00010", "00001", "00000"], C3, C3, C3),
            cell(["01000", "00110", "00010", "00001", "00000"], C3, C3, C3),
        ),
        # same ops and degrees: branches (c3 -> c1, mp -> mp) vs (c3 -> mp, mp -> c1)
        (
            cell(
                [
                    "0110000",
                    "0001000",
                    "0000100",
                    "0000010",
                    "0000010",
                    "0000001",
                    "0000000",
                ],
                C3,
                MP,
                C1,
                MP,
                C3,
            ),
            cell(
                [
                    "0110000",
                    "0001000",
                    "0000100",
                    "0000010",
                    "0000010",
                    "0000001",
                    "0000000",
                ],
                C3,
                MP,
                MP,
                C1,
                C3,
            ),
        ),
    ],
)
def test_hash_differs_for_non_isomorphic_pairs(a: NB101Cell, b: NB101Cell) -> None:
    assert not nx.is_isomorphic(
        a.to_networkx(), b.to_networkx(), node_match=lambda x, y: x["op"] == y["op"]
    )
    assert nb101_hash(a) != nb101_hash(b)


def test_hash_equal_for_symmetric_relabelling() -> None:
    a = cell(["0110", "0001", "0001", "0000"], C3, MP)
    b = cell(["0110", "0001", "0001", "0000"], MP, C3)
    assert nb101_hash(a) == nb101_hash(b)


@settings(max_examples=200, deadline=None)
@given(connected_cells(), st.data())
def test_hash_is_invariant_under_topological_relabelling(
    c: NB101Cell, data: st.DataObject
) -> None:
    n = c.num_vertices
    g = c.to_networkx()
    order = [0]
    placed = {0}
    while len(order) < n - 1:
        ready = sorted(
            v
            for v in range(1, n - 1)
            if v not in placed and all(u in placed for u in g.predecessors(v))
        )
        v = data.draw(st.sampled_from(ready))
        order.append(v)
        placed.add(v)
    order.append(n - 1)
    matrix = tuple(
        tuple(c.matrix[order[i]][order[j]] for j in range(n)) for i in range(n)
    )
    relabelled = NB101Cell(matrix, tuple(c.ops[v] for v in order))
    assert nb101._is_upper_triangular(relabelled.matrix)
    assert nb101_hash(relabelled) == nb101_hash(c)


def _ecnas_graphs(root: Path) -> dict[str, list[tuple[str, Any]]]:
    archive = root / ECNAS
    if not archive.is_file():
        missing_data(f"{archive} is missing")
    out: dict[str, list[tuple[str, Any]]] = {}
    with tarfile.open(archive, "r:xz") as tar:
        for space in ("4V9E", "5V9E"):
            handle = tar.extractfile(GRAPHS.format(space))
            assert handle is not None
            out[space] = list(json.load(handle).items())
    return out


@pytest.mark.data
def test_hash_reproduces_every_official_ecnas_hash(data_root: Path) -> None:
    graphs = _ecnas_graphs(data_root)
    labels = {-1: "input", -2: "output", 0: C3, 1: C1, 2: MP}
    reproduced = 0
    for space, entries in graphs.items():
        for official, (matrix, codes) in entries:
            c = NB101Cell.from_numpy(np.array(matrix), [labels[x] for x in codes])
            assert is_valid(c) and is_pruned(c)
            assert nb101_hash(c) == official, (space, official)
            reproduced += 1
    assert (len(graphs["4V9E"]), len(graphs["5V9E"])) == (91, 2532)
    assert reproduced == 2623


# --------------------------------------------------------------------------
# edit actions
# --------------------------------------------------------------------------
def test_action_table_layout() -> None:
    kinds = collections.Counter(a.kind for a in EDIT_ACTIONS)
    assert NUM_EDIT_ACTIONS == 104
    assert kinds == {
        OP_CHANGE: 15,
        EDGE_TOGGLE: 21,
        VERTEX_REMOVE: 5,
        VERTEX_INSERT: 63,
    }
    assert EDIT_ACTIONS[0] == (OP_CHANGE, 1, -1, C3)
    assert EDIT_ACTIONS[14] == (OP_CHANGE, 5, -1, MP)
    assert EDIT_ACTIONS[15] == (EDGE_TOGGLE, 0, 1, None)
    assert EDIT_ACTIONS[35] == (EDGE_TOGGLE, 5, 6, None)
    assert EDIT_ACTIONS[36] == (VERTEX_REMOVE, 1, -1, None)
    assert EDIT_ACTIONS[41] == (VERTEX_INSERT, 0, 1, C3)
    assert EDIT_ACTIONS[103] == (VERTEX_INSERT, 5, 6, MP)
    assert len({describe_edit(i) for i in range(104)}) == 104
    assert describe_edit(40) == "VERTEX_REMOVE(v5)"
    for bad in (-1, 104, 1.0, True, "3"):
        with pytest.raises(InvalidArchitectureError):
            describe_edit(bad)  # type: ignore[arg-type]


def test_edit_examples() -> None:
    diamond = cell(["0110", "0001", "0001", "0000"], C3, MP)
    # op change
    assert apply_edit(diamond, 1) == cell(["0110", "0001", "0001", "0000"], C1, MP)
    assert apply_edit(diamond, 0) is None  # same op
    # toggling 1 -> 3 off prunes vertex 1
    off = apply_edit(diamond, EDIT_ACTIONS.index((EDGE_TOGGLE, 1, 3, None)))
    assert EDIT_ACTIONS.index((EDGE_TOGGLE, 1, 3, None)) == 22
    assert off == cell(["010", "001", "000"], MP)
    assert apply_edit(diamond, 15 + 5) is None  # pair (0, 6): no vertex 6
    # removal regenerates 0 -> 3 (pred -> succ)
    assert apply_edit(diamond, 36) == cell(["011", "001", "000"], MP)
    assert apply_edit(diamond, 38) is None  # v3 is the output
    # insertion on 0 -> 2: new vertex 1, others shift up
    ins = apply_edit(diamond, 41 + 3 * 1 + 2)  # pair (0, 2), maxpool
    assert EDIT_ACTIONS[41 + 3 + 2] == (VERTEX_INSERT, 0, 2, MP)
    assert ins == cell(["01100", "00010", "00001", "00001", "00000"], MP, C3, MP)
    assert apply_edit(diamond, 41 + 3 * 2) is None  # no edge 0 -> 3


def test_vertex_removal_respects_the_edge_limit() -> None:
    # removing v3 (preds 1, 2; succs 4, 5, 6) deletes 5 edges and adds 6: 10 > 9
    c = cell(
        ["0110000", "0001000", "0001000", "0000111", "0000001", "0000001", "0000000"],
        C3, C3, C3, C3, C3,
    )  # fmt: skip
    assert is_valid(c) and c.num_edges == 9
    assert EDIT_ACTIONS[38] == (VERTEX_REMOVE, 3, -1, None)
    assert apply_edit(c, 38) is None
    assert not edit_mask(c)[38]
    assert apply_edit(c, 36) is not None  # removing v1 (0 -> 3 regenerated) is fine


def test_insert_needs_room() -> None:
    chain7 = cell(
        [("0" * (i + 1) + "1").ljust(7, "0")[:7] for i in range(7)], C3, C3, C3, C3, C3
    )
    assert chain7.num_vertices == 7 and is_valid(chain7)
    assert not edit_mask(chain7)[41:].any()


def test_apply_edit_rejects_uneditable_cells() -> None:
    with pytest.raises(InvalidArchitectureError, match="upper-triangular"):
        apply_edit(cell(["011", "001", "010"], C3), 0)
    with pytest.raises(InvalidArchitectureError, match="labels"):
        edit_mask(NB101Cell(((0, 1), (0, 0)), ("output", "input")))


def reference_edit(c: NB101Cell, index: int) -> NB101Cell | None:
    """An independent networkx version of docs/methods/cassimon.md#edit-actions."""
    kind, u, w, op = EDIT_ACTIONS[index]
    n = c.num_vertices
    g = c.to_networkx()
    h = g.copy()
    if kind == OP_CHANGE:
        if not 1 <= u <= n - 2 or c.ops[u] == op:
            return None
        h.nodes[u]["op"] = op
    elif kind == EDGE_TOGGLE:
        if w >= n:
            return None
        if h.has_edge(u, w):
            h.remove_edge(u, w)
        else:
            h.add_edge(u, w)
    elif kind == VERTEX_REMOVE:
        if not 1 <= u <= n - 2:
            return None
        h.add_edges_from(itertools.product(g.predecessors(u), g.successors(u)))
        h.remove_node(u)
    else:
        if n >= 7 or w >= n or not g.has_edge(u, w):
            return None
        h.remove_edge(u, w)
        h.add_node(u + 0.5, op=op)
        h.add_edges_from([(u, u + 0.5), (u + 0.5, w)])
    order = sorted(h.nodes)
    relabelled = NB101Cell(
        tuple(tuple(int(h.has_edge(a, b)) for b in order) for a in order),
        tuple(h.nodes[v]["op"] for v in order),
    )
    result = reference_prune(relabelled)
    if result is None or result.num_edges > 9:
        return None
    return result


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells())
def test_edit_mask_equals_brute_force(c: NB101Cell) -> None:
    reference = reference_prune(c)
    current = nb101_hash(reference) if reference is not None else None
    mask = edit_mask(c)
    assert mask.shape == (104,) and mask.dtype == np.bool_
    for i in range(NUM_EDIT_ACTIONS):
        expected = reference_edit(c, i)
        got = apply_edit(c, i)
        assert got == expected, (i, describe_edit(i))
        assert mask[i] == (expected is not None and nb101_hash(expected) != current)
        if mask[i]:
            assert got is not None and is_valid(got) and is_pruned(got)
    assert [i for i, _ in neighbours(c)] == np.flatnonzero(mask).tolist()


def test_edit_mask_returns_a_fresh_array() -> None:
    c = cell(["01", "00"])
    m = edit_mask(c)
    m[:] = False
    assert edit_mask(c).any()


# --------------------------------------------------------------------------
# samplers
# --------------------------------------------------------------------------
def test_bananas_sampler() -> None:
    drawn = [sample(np.random.default_rng(7)) for _ in range(2)]
    assert drawn[0] == drawn[1]  # reproducible
    rng = np.random.default_rng(0)
    cells_ = [sample(rng, "bananas") for _ in range(300)]
    assert all(is_valid(c) and is_pruned(c) for c in cells_)
    assert max(c.num_edges for c in cells_) <= 9
    assert len({nb101_hash(c) for c in cells_}) > 100


def test_uniform_sampler() -> None:
    population = [cell(["01", "00"]), cell(["011", "001", "000"], C3)]
    rng = np.random.default_rng(0)
    counts = collections.Counter(
        sample(rng, "uniform", population=population) for _ in range(400)
    )
    assert set(counts) == set(population) and min(counts.values()) > 150
    with pytest.raises(ValueError, match="population"):
        sample(rng, "uniform")
    with pytest.raises(ValueError, match="empty"):
        sample(rng, "uniform", population=[])


def test_nb101_dist_sampler_follows_the_histogram() -> None:
    hist = np.zeros((8, 10))
    hist[7, 9], hist[7, 6], hist[5, 6] = 2, 1, 1
    rng = np.random.default_rng(1)
    drawn = [sample(rng, "nb101-dist", histogram=hist) for _ in range(800)]
    counts = collections.Counter((c.num_vertices, c.num_edges) for c in drawn)
    assert set(counts) == {(7, 9), (7, 6), (5, 6)}
    assert 330 < counts[(7, 9)] < 470
    assert all(is_valid(c) and is_pruned(c) for c in drawn)
    # the only 7-vertex, 6-edge cell is the chain
    assert {c.matrix for c in drawn if c.num_edges == 6 and c.num_vertices == 7} == {
        cell(
            [("0" * (i + 1) + "1").ljust(7, "0")[:7] for i in range(7)], *[C3] * 5
        ).matrix
    }
    mapped = sample(rng, "nb101-dist", histogram={(3, 2): 1})
    assert (mapped.num_vertices, mapped.num_edges) == (3, 2)


@pytest.mark.parametrize(
    ("histogram", "match"),
    [
        (np.zeros((8, 10)), "empty"),
        (np.zeros((7, 10)), "shape"),
        ({(7, 3): 1}, "no valid cell"),
        ({(9, 3): 1}, "out of range"),
        ({(3, 2): -1}, "non-negative"),
    ],
)
def test_nb101_dist_rejects_bad_histograms(histogram: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sample(np.random.default_rng(0), "nb101-dist", histogram=histogram)  # type: ignore[arg-type]


def test_sampler_errors() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(UnknownOptionError, match="bananas"):
        sample(rng, "random")
    with pytest.raises(ValueError, match="histogram"):
        sample(rng, "nb101-dist")


def _all_pruned_by_count(n: int) -> Iterator[int]:
    pairs = list(itertools.combinations(range(n), 2))
    for mask in range(1 << len(pairs)):
        rows = [[0] * n for _ in range(n)]
        for k, (u, w) in enumerate(pairs):
            rows[u][w] = mask >> k & 1
        c = NB101Cell(tuple(map(tuple, rows)), ("input", *[C3] * (n - 2), "output"))
        p = reference_prune(c)
        if p is not None and p.num_vertices == n and p.num_edges <= 9:
            yield p.num_edges


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_full_dag_enumeration_matches_brute_force(n: int) -> None:
    expected = collections.Counter(_all_pruned_by_count(n))
    got = {e: len(m) for e, m in nb101._full_dags(n).items()}
    assert got == dict(expected)


# --------------------------------------------------------------------------
# fixed-shape arrays and NASLib keys
# --------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(cells())
def test_graph_arrays_round_trip(c: NB101Cell) -> None:
    adjacency, op_index = graph_arrays(c)
    assert adjacency.shape == (7, 7) and adjacency.dtype == np.uint8
    assert op_index.shape == (7,) and op_index.dtype == np.int8
    n = c.num_vertices
    assert (op_index[n:] == -1).all() and not adjacency[n:].any()
    assert [OPS[i] for i in op_index[:n]] == list(c.ops)
    assert from_graph_arrays(adjacency, op_index) == c


def test_from_graph_arrays_errors() -> None:
    adjacency, op_index = graph_arrays(cell(["01", "00"]))
    with pytest.raises(InvalidArchitectureError, match="expected"):
        from_graph_arrays(adjacency[:6], op_index)
    bad = op_index.copy()
    bad[1], bad[3] = -1, 4
    with pytest.raises(InvalidArchitectureError, match="padding"):
        from_graph_arrays(adjacency, bad)
    edged = adjacency.copy()
    edged[1, 5] = 1
    with pytest.raises(InvalidArchitectureError, match="padding vertices"):
        from_graph_arrays(edged, op_index)


@settings(max_examples=100, deadline=None)
@given(cells())
def test_naslib_round_trip(c: NB101Cell) -> None:
    key = to_naslib(c)
    n = c.num_vertices
    assert len(key) == n * n + n
    assert from_naslib(key) == c
    assert from_naslib(str(key)) == c


def test_naslib_codes() -> None:
    c = cell(["01110", "00001", "00001", "00001", "00000"], C3, C1, MP)
    assert to_naslib(c)[-5:] == (0, 4, 3, 2, 1)
    for bad in ("(0, 1, 2)", "(a, b)", (0,) * 55 + (9,)):
        with pytest.raises(InvalidArchitectureError):
            from_naslib(bad)


@lru_cache(maxsize=1)
def _naslib_keys(root: Path) -> dict[str, dict[str, float]]:
    path = root / "naslib-zc" / "zc_nasbench101.json.xz"
    if not path.is_file():
        missing_data(f"{path} is missing")
    with lzma.open(path, "rt") as handle:
        data: dict[str, dict[str, float]] = json.load(handle)["nasbench101"]["cifar10"]
    return data


@pytest.mark.data
def test_naslib_keys_parse_as_unpruned_valid_cells(data_root: Path) -> None:
    entries = _naslib_keys(data_root)
    assert len(entries) == 500
    pruned_sizes: collections.Counter[int] = collections.Counter()
    conv3, others, params = [], [], []
    for key, values in entries.items():
        c = from_naslib(key)
        assert c.num_vertices == 7 and is_valid(c)
        assert str(to_naslib(c)).replace(" ", "") == key.replace(" ", "")
        p = prune(c)
        pruned_sizes[p.num_vertices] += 1
        conv3.append(p.ops.count(C3))
        others.append(p.ops.count(C1) + p.ops.count(MP))
        params.append(values["params"])
    assert sum(pruned_sizes.values()) == 500 and pruned_sizes[7] < 500
    # op-code convention: code 4 (conv3x3) is the op that costs parameters
    design = np.column_stack([np.ones(500), conv3, others])
    coef = np.linalg.lstsq(design, np.array(params), rcond=None)[0]
    assert coef[1] > 3 * abs(coef[2])
