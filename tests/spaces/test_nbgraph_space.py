from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nasgym.error import InvalidArchitectureError
from nasgym.spaces.nbgraph import (
    LINKS,
    OPS,
    OPS_PROTEINS,
    GNNArch,
    NBGraphSpace,
    wheel_keys,
)

SPACE = NBGraphSpace()
PROTEINS = NBGraphSpace(proteins=True)
ROOT = Path(__file__).resolve().parents[2]


@st.composite
def vectors(draw: st.DrawFn, proteins: bool) -> list[int]:
    n_ops = len(OPS_PROTEINS if proteins else OPS)
    link = draw(st.integers(0, len(LINKS) - 1))
    ops = draw(st.lists(st.integers(0, n_ops - 1), min_size=4, max_size=4))
    return [link, *ops]


def valid_vector(space: NBGraphSpace, vector: list[int]) -> None:
    assume(any(op != space.ops.index("skip") for op in vector[1:]))


# ----------------------------------------------------------------------- basics
def test_sizes_and_slots() -> None:
    assert SPACE.size == 9 * 9**4 == 59049
    assert SPACE.num_valid == 59049 - 9
    assert PROTEINS.size == 9 * 5**4 == 5625
    assert PROTEINS.num_valid == 5625 - 9
    assert SPACE.slot_names == ("link", "op1", "op2", "op3", "op4")
    assert SPACE.slot_choices[0][3] == "0-0-1-2"
    assert SPACE.slot_choices[1] == OPS
    assert PROTEINS.slot_choices[4] == OPS_PROTEINS
    assert SPACE.node_types == ("input", "output", *OPS)
    assert SPACE.max_nodes == 6
    assert repr(PROTEINS) == "NBGraphSpace(proteins=True)"
    assert SPACE.name == "nbgraph" and PROTEINS.name == "nbgraph-proteins"


def test_lists_match_wheel() -> None:
    import nas_bench_graph as nbg

    assert [list(link) for link in LINKS] == nbg.link_list
    assert list(OPS) == nbg.gnn_list
    assert list(OPS_PROTEINS) == nbg.gnn_list_proteins


def test_space_module_does_not_import_wheel() -> None:
    code = (
        "import sys, nasgym.spaces.nbgraph as m; "
        "s = m.NBGraphSpace(); s.valid_codes; s.graph_tables; "
        "s.from_string('link=[0,0,1,2] ops=[gcn,gat,skip,fc]'); "
        "assert 'nas_bench_graph' not in sys.modules"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)


def test_known_string_and_wheel_form() -> None:
    arch = GNNArch(link=3, ops=(1, 0, 8, 7))
    text = "link=[0,0,1,2] ops=[gcn,gat,skip,fc]"
    assert SPACE.to_string(arch) == text
    assert SPACE.from_string(text) == arch
    assert (
        SPACE.from_string("  link = [0, 0, 1, 2]   ops = [gcn, gat, skip, fc] ") == arch
    )
    assert SPACE.to_wheel(arch) == ([0, 0, 1, 2], ["gcn", "gat", "skip", "fc"])
    assert SPACE.from_wheel([0, 0, 1, 2], ["gcn", "gat", "skip", "fc"]) == arch
    p_arch = PROTEINS.from_string("link=[0,1,2,3] ops=[gcn,sage,arma,fc]")
    assert p_arch == GNNArch(link=8, ops=(0, 1, 2, 3))


def test_arch_normalises_numpy_and_lists() -> None:
    arch = GNNArch(link=np.int64(2), ops=[np.int64(1), 2, 3, 4])  # type: ignore[arg-type]
    assert arch == GNNArch(2, (1, 2, 3, 4))
    assert hash(arch) == hash(GNNArch(2, (1, 2, 3, 4)))
    assert type(arch.link) is int and all(type(o) is int for o in arch.ops)
    with pytest.raises(InvalidArchitectureError):
        GNNArch(link="x", ops=(1, 2, 3, 4))  # type: ignore[arg-type]
    with pytest.raises(InvalidArchitectureError):
        GNNArch(link=1, ops=(1.5, 2, 3, 4))  # type: ignore[arg-type]


# ------------------------------------------------------------------ round trips
@settings(deadline=None)
@given(st.booleans(), st.data())
def test_round_trips(proteins: bool, data: st.DataObject) -> None:
    space = PROTEINS if proteins else SPACE
    vector = data.draw(vectors(proteins))
    valid_vector(space, vector)
    arch = space.decode(vector)
    assert space.encode(arch).tolist() == vector
    assert space.from_string(space.to_string(arch)) == arch
    assert space.from_wheel(*space.to_wheel(arch)) == arch
    code = space.code(arch)
    assert space.from_code(code) == arch
    assert space.codes_to_vectors(code).tolist() == vector
    assert space.valid_mask[code]
    assert space.is_valid(arch) and space.is_valid(vector)


@settings(deadline=None)
@given(st.booleans(), st.data())
def test_canonical_is_idempotent_member_of_class(
    proteins: bool, data: st.DataObject
) -> None:
    space = PROTEINS if proteins else SPACE
    vector = data.draw(vectors(proteins))
    valid_vector(space, vector)
    arch = space.decode(vector)
    rep = space.canonical(arch)
    assert space.canonical(rep) == rep
    assert space.code(rep) <= space.code(arch)
    keys = wheel_keys(proteins)
    assert keys[space.code(rep)] == keys[space.code(arch)]
    assert space.canonical_hash(rep) == space.canonical_hash(arch)


# ---------------------------------------------------------------------- invalid
@pytest.mark.parametrize("space", [SPACE, PROTEINS], ids=["full", "proteins"])
@pytest.mark.parametrize("link", range(9))
def test_all_skip_is_invalid(space: NBGraphSpace, link: int) -> None:
    skip = space.ops.index("skip")
    vector = [link, skip, skip, skip, skip]
    assert not space.is_valid(vector)
    assert not space.valid_mask[space.vectors_to_codes(np.array(vector))]
    with pytest.raises(
        InvalidArchitectureError, match="all four computing nodes are 'skip'"
    ):
        space.decode(vector)
    with pytest.raises(InvalidArchitectureError, match="skip"):
        space.encode(GNNArch(link, (skip,) * 4))
    link_text = ",".join(map(str, LINKS[link]))
    with pytest.raises(InvalidArchitectureError, match="skip"):
        space.from_string(f"link=[{link_text}] ops=[skip,skip,skip,skip]")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "cannot parse"),
        ("link=[0,0,1,2]", "cannot parse"),
        ("ops=[gcn,gat,skip,fc] link=[0,0,1,2]", "cannot parse"),
        ("link=[0,0,1,2] ops=[gcn,gat,skip,fc] extra", "cannot parse"),
        ("link=(0,0,1,2) ops=[gcn,gat,skip,fc]", "cannot parse"),
        ("link=[0,0,a,2] ops=[gcn,gat,skip,fc]", "not a list of integers"),
        ("link=[0,1,0,0] ops=[gcn,gat,skip,fc]", "not one of the benchmark's link"),
        ("link=[0,0,1] ops=[gcn,gat,skip,fc]", "not one of the benchmark's link"),
        ("link=[0,0,1,2] ops=[gcn,gat,skip]", "expected 4 ops"),
        ("link=[0,0,1,2] ops=[gcn,gat,skip,fc,fc]", "expected 4 ops"),
        ("link=[0,0,1,2] ops=[gcn,GAT,skip,fc]", "unknown op 'GAT'"),
        ("link=[0,0,1,2] ops=[gcn,,skip,fc]", "unknown op ''"),
    ],
)
def test_malformed_strings(text: str, match: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=match):
        SPACE.from_string(text)


def test_proteins_rejects_full_space_ops() -> None:
    with pytest.raises(InvalidArchitectureError, match="unknown op 'gat'"):
        PROTEINS.from_string("link=[0,0,1,2] ops=[gcn,gat,skip,fc]")
    with pytest.raises(InvalidArchitectureError, match="unknown op 'gin'"):
        PROTEINS.from_wheel([0, 0, 1, 2], ["gin", "gcn", "gcn", "gcn"])
    with pytest.raises(InvalidArchitectureError, match="op1"):
        PROTEINS.decode([0, 5, 0, 0, 0])


def test_bad_vectors_and_wheel_forms() -> None:
    with pytest.raises(InvalidArchitectureError, match="link"):
        SPACE.decode([9, 0, 0, 0, 0])
    with pytest.raises(InvalidArchitectureError, match="expected 5 choices"):
        SPACE.decode([0, 0, 0, 0])
    with pytest.raises(InvalidArchitectureError, match="expected 5 choices"):
        SPACE.encode(GNNArch(0, (0, 0, 0)))
    with pytest.raises(InvalidArchitectureError, match="GNNArch"):
        SPACE.encode((0, 0, 0, 0, 0))  # type: ignore[arg-type]
    with pytest.raises(InvalidArchitectureError, match="link patterns"):
        SPACE.from_wheel([0, 1, 0, 0], ["gcn"] * 4)
    with pytest.raises(InvalidArchitectureError, match="expected 4 ops"):
        SPACE.from_wheel([0, 0, 0, 0], ["gcn"] * 3)
    with pytest.raises(InvalidArchitectureError, match="out of range"):
        SPACE.from_code(SPACE.size)


# -------------------------------------------------------------------- canonical
@pytest.mark.parametrize(
    ("space", "dataset", "classes"),
    [(SPACE, "cora", 26206), (PROTEINS, "proteins", 2021)],
    ids=["full", "proteins"],
)
def test_canonical_partition_matches_wheel(
    space: NBGraphSpace, dataset: str, classes: int
) -> None:
    from nas_bench_graph import light_read

    assert space.num_classes == classes
    keys = wheel_keys(space.proteins)
    valid = space.valid_codes
    assert np.all(keys[valid] >= 0)
    invalid = np.flatnonzero(~space.valid_mask)
    assert np.all(keys[invalid] == -1)
    # exactly the keys of the wheel's table, all present
    assert set(np.unique(keys[valid]).tolist()) == set(light_read(dataset))
    canon = space.canonical_codes[valid]
    # same partition: canonical codes and keys determine each other
    pairs = np.unique(np.stack([canon, keys[valid]], axis=1), axis=0)
    assert len(pairs) == classes
    assert np.unique(canon).size == classes
    # representative = smallest code of its class, and is its own representative
    assert np.all(canon <= valid)
    assert np.all(space.canonical_codes[canon] == canon)
    smallest: dict[int, int] = {}
    for code, key in zip(valid.tolist(), keys[valid].tolist(), strict=True):
        smallest.setdefault(key, code)
    assert all(
        smallest[k] == c
        for k, c in zip(keys[valid].tolist(), canon.tolist(), strict=True)
    )
    assert np.array_equal(space.canonical_codes[invalid], invalid)


def test_wheel_keys_match_valid_hash_directly() -> None:
    from nas_bench_graph import Arch

    rng = np.random.default_rng(1)
    for space in (SPACE, PROTEINS):
        keys = wheel_keys(space.proteins)
        for code in space.sample_codes(rng, 300).tolist():
            link, ops = space.to_wheel(space.from_code(code))
            assert Arch(link, ops).valid_hash() == keys[code]
    assert not keys.flags.writeable


def test_known_isomorphism() -> None:
    # With link [0,0,0,0] every node reads the input, so the op order is irrelevant.
    a = SPACE.from_string("link=[0,0,0,0] ops=[gcn,gat,gin,fc]")
    b = SPACE.from_string("link=[0,0,0,0] ops=[fc,gin,gat,gcn]")
    assert SPACE.canonical(a) == SPACE.canonical(b)
    c = SPACE.from_string("link=[0,1,2,3] ops=[gcn,gat,gin,fc]")
    assert SPACE.canonical(a) != SPACE.canonical(c)


# -------------------------------------------------------------------- graph view
@settings(deadline=None)
@given(st.booleans(), st.data())
def test_graph_view(proteins: bool, data: st.DataObject) -> None:
    space = PROTEINS if proteins else SPACE
    vector = data.draw(vectors(proteins))
    valid_vector(space, vector)
    arch = space.decode(vector)
    graph = space.to_networkx(arch)
    assert graph.number_of_nodes() == 6
    assert nx.is_directed_acyclic_graph(graph)
    assert nx.has_path(graph, 0, 5)
    assert graph.nodes[0]["op"] == "input" and graph.nodes[5]["op"] == "output"
    link = LINKS[arch.link]
    for node in range(1, 5):
        assert graph.nodes[node]["op"] == space.ops[arch.ops[node - 1]]
        assert list(graph.predecessors(node)) == [link[node - 1]]
        # every computing node lies on an input -> output path
        assert nx.has_path(graph, node, 5)
        # the output reads exactly the nodes no other node reads
        assert graph.has_edge(node, 5) == (node not in link)
    assert graph.in_degree(0) == 0 and graph.out_degree(5) == 0


def test_graph_tables_shape() -> None:
    adjacency, node_ops = SPACE.graph_tables
    assert adjacency.shape == (SPACE.size, 6, 6) and adjacency.dtype == np.uint8
    assert node_ops.shape == (SPACE.size, 6) and node_ops.dtype == np.int8
    assert node_ops.min() >= 0 and node_ops.max() < len(SPACE.node_types)
    chain = SPACE.from_string("link=[0,1,2,3] ops=[gcn,gcn,gcn,gcn]")
    assert sorted(SPACE.to_networkx(chain).edges) == [
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 5),
    ]


# -------------------------------------------------------------------- neighbours
@settings(deadline=None)
@given(st.booleans(), st.data())
def test_neighbours(proteins: bool, data: st.DataObject) -> None:
    space = PROTEINS if proteins else SPACE
    vector = data.draw(vectors(proteins))
    valid_vector(space, vector)
    arch = space.decode(vector)
    neighbours = space.neighbours(arch)
    base = space.encode(arch)
    n_skip = sum(op == space.ops.index("skip") for op in vector[1:])
    expected = int(space.nvec.sum() - space.num_slots) - (1 if n_skip == 3 else 0)
    assert len(neighbours) == len(set(neighbours)) == expected
    for other in neighbours:
        assert space.is_valid(other)
        assert int(np.sum(space.encode(other) != base)) == 1


def test_neighbours_never_all_skip() -> None:
    arch = SPACE.from_string("link=[0,0,0,0] ops=[skip,skip,skip,gcn]")
    texts = {SPACE.to_string(n) for n in SPACE.neighbours(arch)}
    assert "link=[0,0,0,0] ops=[skip,skip,skip,skip]" not in texts
    assert len(texts) == 8 + 3 * 8 + 7


def test_describe() -> None:
    info = PROTEINS.describe()
    assert info["classes"] == 2021 and info["valid"] == 5616 and info["proteins"]
