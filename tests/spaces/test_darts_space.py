"""The DARTS (NB301) search space: genotypes, conversions, edit actions, samplers.

Pure NumPy; no benchmark data is needed. The brute-force references below are written
independently of the vectorised code in :mod:`nasgym.spaces.darts`.
"""

from __future__ import annotations

import dataclasses
import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasgym.error import InvalidActionError, InvalidArchitectureError
from nasgym.spaces import darts as d
from nasgym.spaces.darts import OPS, DartsGenotype

PROPS = settings(max_examples=60, deadline=None)

# The DARTS (second order) genotype published in the DARTS paper.
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), "
    "('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), "
    "('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)


@st.composite
def cells(draw: st.DrawFn) -> tuple[tuple[str, int], ...]:
    pairs: list[tuple[str, int]] = []
    for m in range(4):
        first = draw(st.integers(0, m + 1))
        second = draw(st.sampled_from([s for s in range(m + 2) if s != first]))
        for src in (first, second):
            pairs.append((OPS[draw(st.integers(0, 6))], src))
    return tuple(pairs)


@st.composite
def genotypes(draw: st.DrawFn) -> DartsGenotype:
    return DartsGenotype(draw(cells()), draw(cells()))


@st.composite
def any_genotypes(draw: st.DrawFn) -> DartsGenotype:
    """Well-formed genotypes that may break the wiring rules."""
    pair = st.tuples(st.sampled_from(OPS), st.integers(0, 5))
    cell = st.lists(pair, min_size=8, max_size=8).map(tuple)
    return DartsGenotype(draw(cell), draw(cell))


def swap_node(g: DartsGenotype, cell: int, node: int) -> DartsGenotype:
    pairs = list(g.cells[cell])
    pairs[2 * node], pairs[2 * node + 1] = pairs[2 * node + 1], pairs[2 * node]
    new = [g.normal, g.reduce]
    new[cell] = tuple(pairs)
    return DartsGenotype(new[0], new[1])


# -------------------------------------------------------------------- basics
def test_constants() -> None:
    assert len(OPS) == 7 and "none" not in OPS
    assert d.L2NAS_OPS[0] == "none" and d.L2NAS_OPS[1:] == OPS
    assert d.NUM_EDITS == 208 == len(d.EDIT_TABLE)
    assert d.NUM_OP_CHANGES == 112 and d.NUM_REWIRES == 96
    assert len(d.CANDIDATE_EDGES) == 14
    assert [e for e, (m, s) in enumerate(d.CANDIDATE_EDGES) if s == 0] == [0, 2, 5, 9]
    assert d.MAX_SOURCE == (1, 1, 2, 2, 3, 3, 4, 4)
    assert len(d.VERTEX_NAMES) == 30 and d.VERTEX_NAMES[4] == "normal/S0"
    assert d.LABEL_NAMES[d.LABEL_SUM] == "SUM" and d.LABEL_NAMES[d.LABEL_PAD] == "PAD"


def test_edit_table_round_trip() -> None:
    for action, edit in enumerate(d.EDIT_TABLE):
        assert d.decode_edit(action) == edit
        assert d.encode_edit(*edit) == action
    assert d.EDIT_TABLE[0] == d.Edit(d.OP_CHANGE, 0, 0, 0)
    assert d.EDIT_TABLE[111] == d.Edit(d.OP_CHANGE, 1, 7, 6)
    assert d.EDIT_TABLE[112] == d.Edit(d.REWIRE, 0, 0, 0)
    assert d.EDIT_TABLE[207] == d.Edit(d.REWIRE, 1, 7, 5)
    for bad in (-1, 208, 3.0, True, "1"):
        with pytest.raises(InvalidActionError):
            d.decode_edit(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidActionError):
        d.encode_edit(d.REWIRE, 0, 0, 6)
    with pytest.raises(InvalidActionError):
        d.encode_edit("SWAP", 0, 0, 0)


def test_immutable_and_normalised() -> None:
    g = d.from_genotype_str(DARTS_V2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.normal = g.reduce  # type: ignore[misc]
    lists = DartsGenotype(
        [list(p) for p in g.normal],  # type: ignore[arg-type]
        [(op, np.int64(src)) for op, src in g.reduce],  # type: ignore[arg-type]
    )
    assert lists == g and hash(lists) == hash(g)
    assert isinstance(lists.normal, tuple) and type(lists.reduce[0][1]) is int
    assert pickle.loads(pickle.dumps(g)) == g
    assert g.cells == (g.normal, g.reduce)


# -------------------------------------------------------------------- validity
def test_form_errors() -> None:
    good = d.from_genotype_str(DARTS_V2)
    with pytest.raises(InvalidArchitectureError, match="7 pairs"):
        DartsGenotype(good.normal[:7], good.reduce)
    with pytest.raises(InvalidArchitectureError, match="unknown op 'none'"):
        DartsGenotype((("none", 0), *good.normal[1:]), good.reduce)
    with pytest.raises(InvalidArchitectureError, match="out of range"):
        DartsGenotype(good.normal, (*good.reduce[:7], ("skip_connect", 6)))
    with pytest.raises(InvalidArchitectureError, match="integer"):
        DartsGenotype(good.normal, (*good.reduce[:7], ("skip_connect", True)))
    with pytest.raises(InvalidArchitectureError, match="pair"):
        DartsGenotype(good.normal, (*good.reduce[:7], "skip_connect"))  # type: ignore[arg-type]
    with pytest.raises(InvalidArchitectureError, match="sequence"):
        DartsGenotype(good.normal, 5)  # type: ignore[arg-type]


def test_validity_reasons() -> None:
    good = d.from_genotype_str(DARTS_V2)
    assert good.is_valid and good.errors() == () and good.validate() is good
    normal = list(good.normal)
    normal[1] = ("sep_conv_3x3", 2)  # node 0 may only read inputs 0 and 1
    normal[5] = ("skip_connect", 1)  # node 2 then reads input 1 twice
    normal[4] = ("sep_conv_3x3", 1)
    bad = DartsGenotype(tuple(normal), good.reduce)
    reasons = bad.errors()
    assert len(reasons) == 2
    assert "normal node 0" in reasons[0] and "input 2" in reasons[0]
    assert "normal node 2" in reasons[1] and "distinct" in reasons[1]
    assert not bad.is_valid
    with pytest.raises(InvalidArchitectureError, match=r"normal node 0.*normal node 2"):
        bad.validate()
    assert not d.valid_mask(bad.to_array()).any()


@PROPS
@given(any_genotypes())
def test_valid_mask_matches_rules(g: DartsGenotype) -> None:
    def rule(cell: tuple[tuple[str, int], ...]) -> bool:
        return all(
            cell[2 * m][1] != cell[2 * m + 1][1]
            and max(cell[2 * m][1], cell[2 * m + 1][1]) <= m + 1
            for m in range(4)
        )

    expected = rule(g.normal) and rule(g.reduce)
    assert g.is_valid == expected == bool(d.valid_mask(g.to_array())[0])


def test_random_arrays_validity() -> None:
    rng = np.random.default_rng(5)
    arr = d.sample_bananas_array(3000, rng)
    rows = np.arange(0, 3000, 2)  # perturb one input of every other row
    arr[rows, rng.integers(0, 2, rows.size), rng.integers(0, 8, rows.size), 1] = (
        rng.integers(0, 6, rows.size)
    )
    mask = d.valid_mask(arr)
    genos = d.array_to_genotypes(arr, validate=False)
    assert [g.is_valid for g in genos] == mask.tolist()
    assert 0 < mask.sum() < len(mask)
    with pytest.raises(InvalidArchitectureError, match="row"):
        d.as_array(arr)


def test_as_array_errors() -> None:
    arr = d.sample_bananas_array(4, 0)
    assert d.as_array(arr).dtype == np.int8
    assert d.as_array(arr[0]).shape == (1, 2, 8, 2)
    assert d.as_array([]).shape == (0, 2, 8, 2)
    assert d.genotypes_to_array([]).shape == (0, 2, 8, 2)
    with pytest.raises(InvalidArchitectureError, match="shape"):
        d.as_array(arr[:, :, :7])
    with pytest.raises(InvalidArchitectureError, match="integers"):
        d.as_array(arr.astype(float))
    over = arr.copy()
    over[2, 1, 3, 0] = 7
    with pytest.raises(InvalidArchitectureError, match="row 2"):
        d.as_array(over)
    with pytest.raises(InvalidArchitectureError, match=r"\(2, 8, 2\)"):
        d.from_array(arr)


# -------------------------------------------------------------------- canonical form
@PROPS
@given(genotypes(), st.integers(0, 1), st.integers(0, 3))
def test_swapping_a_nodes_pairs_keeps_the_key(
    g: DartsGenotype, cell: int, node: int
) -> None:
    swapped = swap_node(g, cell, node)
    assert swapped.key() == g.key()
    assert swapped.canonical() == g.canonical()
    assert g.canonical().canonical() == g.canonical()
    assert DartsGenotype.from_key(g.key()) == g.canonical()
    assert len(g.key()) == 33 and g.key()[16] == "|"
    assert np.array_equal(
        d.onehot_features(g.to_array()), d.onehot_features(swapped.to_array())
    )


@PROPS
@given(genotypes(), st.integers(0, 1), st.integers(0, 7), st.integers(1, 6))
def test_changing_an_op_changes_the_key(
    g: DartsGenotype, cell: int, pair: int, shift: int
) -> None:
    op, src = g.cells[cell][pair]
    pairs = list(g.cells[cell])
    pairs[pair] = (OPS[(OPS.index(op) + shift) % 7], src)
    new = [g.normal, g.reduce]
    new[cell] = tuple(pairs)
    assert DartsGenotype(new[0], new[1]).key() != g.key()


def test_vectorised_canonical_form() -> None:
    arr = d.sample_bananas_array(500, 11)
    genos = d.array_to_genotypes(arr)
    canon = d.canonicalize_array(arr)
    assert [g.canonical() for g in genos] == d.array_to_genotypes(canon)
    assert d.array_keys(arr) == [g.key() for g in genos]
    feats = d.onehot_features(arr)
    assert feats.shape == (500, 2 * 8 * 13)
    assert np.array_equal(feats.sum(axis=1), np.full(500, 32.0))
    for bad in ("", "0" * 33, "7" * 16 + "|" + "0" * 16):
        with pytest.raises(InvalidArchitectureError):
            DartsGenotype.from_key(bad)


# -------------------------------------------------------------------- conversions
def test_known_genotype_string() -> None:
    g = d.from_genotype_str(DARTS_V2)
    assert g.normal[7] == ("dil_conv_3x3", 2) and g.reduce[0] == ("max_pool_3x3", 0)
    assert d.to_genotype_str(g) == DARTS_V2 == str(g)
    ranged = DARTS_V2.replace("[2, 3, 4, 5]", "range(2, 6)")
    assert d.from_genotype_str(ranged) == g
    positional = DARTS_V2.replace("normal=", "").replace("normal_concat=", "")
    assert d.from_genotype_str(positional) == g
    assert d.from_genotype_str("genotypes." + DARTS_V2) == g
    assert d.to_naslib(g)[0][:2] == ((0, 3), (1, 3))
    assert d.to_naslib_str(g).startswith("[[(0, 3), (1, 3), (0, 3),")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("Genotype(normal=[('sep_conv_3x3', 0)", "syntax"),
        ("Foo(normal=[], reduce=[])", "Genotype"),
        ("[1, 2]", "Genotype"),
        ("Genotype(normal=x, reduce=[])", "literals"),
        ("Genotype(normal=[], normal=[], reduce=[])", "repeated|syntax"),
        ("Genotype(normal=__import__('os'), reduce=[])", "literals"),
        ("Genotype(normal=[])", "both"),
        ("Genotype(1, 2, 3, 4, 5)", "too many"),
    ],
)
def test_malformed_genotype_strings(text: str, match: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=match):
        d.from_genotype_str(text)


def test_genotype_string_content_errors() -> None:
    with pytest.raises(InvalidArchitectureError, match=r"concat"):
        d.from_genotype_str(DARTS_V2.replace("[2, 3, 4, 5]", "[2, 3, 4]", 1))
    with pytest.raises(InvalidArchitectureError, match="unknown op 'none'"):
        d.from_genotype_str(DARTS_V2.replace("'dil_conv_3x3'", "'none'"))
    invalid = DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 0)")
    with pytest.raises(InvalidArchitectureError, match=r"normal node 3.*distinct"):
        d.from_genotype_str(invalid)
    with pytest.raises(InvalidArchitectureError):
        d.from_genotype_str(42)  # type: ignore[arg-type]


@PROPS
@given(genotypes())
def test_string_round_trips(g: DartsGenotype) -> None:
    assert d.from_genotype_str(d.to_genotype_str(g)) == g
    assert d.from_naslib(d.to_naslib(g)) == g
    assert d.from_naslib(d.to_naslib_str(g)) == g
    assert d.from_array(g.to_array()) == g


def test_naslib_errors() -> None:
    g = d.from_genotype_str(DARTS_V2)
    compact = [list(cell) for cell in d.to_naslib(g)]
    for bad in ("[[", "[[(0, 1)]]", "not python", [compact[0]], 7):
        with pytest.raises(InvalidArchitectureError):
            d.from_naslib(bad)  # type: ignore[arg-type]
    compact[0][7] = (2, 7)  # op index 7 does not exist
    with pytest.raises(InvalidArchitectureError, match="op outside"):
        d.from_naslib(compact)
    compact[0][7] = (0, 2)  # node 3 reads input 0 twice? pair 6 reads 0
    compact[0][6] = (0, 2)
    with pytest.raises(InvalidArchitectureError, match="distinct"):
        d.from_naslib(compact)


# -------------------------------------------------------------------- node graph view
@PROPS
@given(genotypes())
def test_node_graph_round_trip(g: DartsGenotype) -> None:
    adj, labels, flags = d.to_node_graph(g)
    assert adj.shape == (30, 30) and adj.dtype == np.uint8
    assert labels.dtype == np.int8 and flags.dtype == np.uint8
    assert not np.tril(adj).any()  # fixed topological order
    assert adj.sum() == 2 * (8 + 8 + 4)
    assert not adj[:15, 15:].any() and not adj[15:, :15].any()
    assert np.array_equal(flags, np.repeat([0, 1], 15))
    for c in range(2):
        base = 15 * c
        assert labels[base] == d.LABEL_IN0 and labels[base + 14] == d.LABEL_OUT
        for j, (op, src) in enumerate(g.cells[c]):
            v = base + d.OP_VERTEX[j]
            assert labels[v] == d.LABEL_OP0 + OPS.index(op)
            assert np.flatnonzero(adj[:, v]).tolist() == [base + d.SOURCE_VERTEX[src]]
            assert np.flatnonzero(adj[v]).tolist() == [base + d.SUM_VERTEX[j // 2]]
    assert d.from_node_graph(adj, labels, flags) == g


def test_node_graph_batch_and_errors() -> None:
    arr = d.sample_bananas_array(50, 3)
    adjs, labels, flags = d.node_graphs(arr)
    for i, g in enumerate(d.array_to_genotypes(arr)):
        one = d.to_node_graph(g)
        assert np.array_equal(adjs[i], one[0]) and np.array_equal(labels[i], one[1])
        assert np.array_equal(flags[i], one[2])
    adj, lab, flag = adjs[0].copy(), labels[0].copy(), flags[0].copy()
    extra = adj.copy()
    extra[0, 14] = 1  # IN0 -> OUT
    with pytest.raises(InvalidArchitectureError, match=r"unexpected edges.*normal/IN0"):
        d.from_node_graph(extra, lab)
    two = adj.copy()
    two[0, 2] = two[1, 2] = 1  # O_0 with two predecessors
    with pytest.raises(InvalidArchitectureError, match="exactly one predecessor"):
        d.from_node_graph(two, lab)
    wrong = lab.copy()
    wrong[d.OP_VERTEX[3]] = d.LABEL_SUM
    with pytest.raises(InvalidArchitectureError, match="not an op label"):
        d.from_node_graph(adj, wrong)
    sums = lab.copy()
    sums[d.SUM_VERTEX[1]] = d.LABEL_OUT
    with pytest.raises(InvalidArchitectureError, match="wrong labels"):
        d.from_node_graph(adj, sums)
    with pytest.raises(InvalidArchitectureError, match="cell flags"):
        d.from_node_graph(adj, lab, 1 - flag)
    with pytest.raises(InvalidArchitectureError, match=r"\(30, 30\)"):
        d.from_node_graph(adj[:29, :29], lab)
    with pytest.raises(InvalidArchitectureError, match="0/1"):
        d.from_node_graph(adj * 2, lab)
    cross = np.zeros_like(adj)
    cross[:15, :15] = adj[:15, :15]
    cross[15:, 15:] = adj[15:, 15:]
    cross[15 + d.SOURCE_VERTEX[0], 15 + d.OP_VERTEX[0]] = 0
    cross[d.SOURCE_VERTEX[0], 15 + d.OP_VERTEX[0]] = 1  # reduce O_0 fed by normal IN0
    with pytest.raises(InvalidArchitectureError, match="reduce cell"):
        d.from_node_graph(cross, lab)


# -------------------------------------------------------------------- edit actions
def brute_force_mask(g: DartsGenotype) -> list[bool]:
    """The definition: the action yields a valid genotype with a different key."""
    out = []
    for edit in d.EDIT_TABLE:
        pairs = [list(g.normal), list(g.reduce)]
        op, src = pairs[edit.cell][edit.pair]
        if edit.kind == d.OP_CHANGE:
            pairs[edit.cell][edit.pair] = (OPS[edit.value], src)
        else:
            pairs[edit.cell][edit.pair] = (op, edit.value)
        new = DartsGenotype(tuple(pairs[0]), tuple(pairs[1]))
        out.append(new.is_valid and new.key() != g.key())
    return out


@PROPS
@given(genotypes())
def test_edit_mask_matches_brute_force(g: DartsGenotype) -> None:
    mask = d.edit_mask(g)
    assert mask.dtype == np.bool_ and mask.shape == (208,)
    assert mask.tolist() == brute_force_mask(g)
    assert mask.sum() == 120  # 16 pairs x 6 other ops + 2 x (0+1+2+3) x 2 rewires
    assert not mask[
        [d.encode_edit(d.REWIRE, c, j, 5) for c in (0, 1) for j in range(6)]
    ].any()
    neighbours = d.neighbours(g)
    assert len({n.key() for n in neighbours}) == 120
    assert all(n.is_valid for n in neighbours)
    for action in np.flatnonzero(mask)[:10]:
        assert (
            d.apply_edit(g, int(action))
            == neighbours[list(np.flatnonzero(mask)).index(action)]
        )


@PROPS
@given(any_genotypes())
def test_edit_mask_on_invalid_genotypes(g: DartsGenotype) -> None:
    assert d.edit_mask(g).tolist() == brute_force_mask(g)


def test_edit_masks_batch() -> None:
    rng = np.random.default_rng(2)
    valid = d.sample_bananas_array(100, 1)
    messy = np.stack(
        [rng.integers(0, 7, (40, 2, 8)), rng.integers(0, 6, (40, 2, 8))], -1
    )
    arr = np.concatenate([valid, messy.astype(np.int8)])
    masks = d.edit_masks(arr)
    for row, g in zip(masks, d.array_to_genotypes(arr, validate=False), strict=True):
        assert np.array_equal(row, d.edit_mask(g))


def test_apply_and_describe_edit() -> None:
    g = d.from_genotype_str(DARTS_V2)
    a = d.encode_edit(d.OP_CHANGE, 0, 3, OPS.index("dil_conv_5x5"))
    assert d.describe_edit(a, g) == (
        "OP_CHANGE normal pair 3 (node 1): sep_conv_3x3 -> dil_conv_5x5"
    )
    assert d.describe_edit(a) == "OP_CHANGE normal pair 3 (node 1): -> dil_conv_5x5"
    new = d.apply_edit(g, a)
    assert new.normal[3] == ("dil_conv_5x5", 1) and new.reduce == g.reduce
    assert new.normal[:3] == g.normal[:3] and new.normal[4:] == g.normal[4:]
    r = d.encode_edit(d.REWIRE, 1, 7, 3)  # reduce node 3 reads 2 and 1 -> 2 and 3
    assert d.describe_edit(r, g) == "REWIRE reduce pair 7 (node 3): input 1 -> input 3"
    assert d.apply_edit(g, r).reduce[7] == ("max_pool_3x3", 3)
    same_op = d.encode_edit(d.OP_CHANGE, 0, 0, OPS.index("sep_conv_3x3"))
    with pytest.raises(InvalidActionError, match="masked"):
        d.apply_edit(g, same_op)
    sibling = d.encode_edit(d.REWIRE, 0, 1, 0)  # node 0 would read input 0 twice
    with pytest.raises(InvalidActionError, match="masked"):
        d.apply_edit(g, sibling)
    assert not d.apply_edit(g, sibling, check=False).is_valid
    with pytest.raises(InvalidActionError):
        d.apply_edit(g, 208)


# -------------------------------------------------------------------- samplers
def test_bananas_sampler() -> None:
    arr = d.sample_bananas_array(20000, 7)
    assert arr.dtype == np.int8 and arr.shape == (20000, 2, 8, 2)
    assert d.valid_mask(arr).all()
    assert np.array_equal(arr, d.sample_bananas_array(20000, 7))
    assert not np.array_equal(arr, d.sample_bananas_array(20000, 8))
    rng = np.random.default_rng(3)
    first, second = d.sample_bananas(rng), d.sample_bananas(rng)
    assert first != second
    assert d.sample_bananas(9) == d.from_array(d.sample_bananas_array(1, 9)[0])
    # node 0 always reads inputs 0 and 1, in either order
    assert (np.sort(arr[:, :, 0:2, 1], axis=-1) == [0, 1]).all()
    # ops are uniform; node 3's ordered input pairs cover all 5 * 4 = 20 uniformly
    counts = np.bincount(arr[..., 0].ravel(), minlength=7) / arr[..., 0].size
    assert np.abs(counts - 1 / 7).max() < 0.01
    ordered = arr[:, :, 6, 1].astype(int) * 6 + arr[:, :, 7, 1]
    freq = np.bincount(ordered.ravel(), minlength=36)
    pairs = [a * 6 + b for a, b in itertools.permutations(range(5), 2)]
    assert (freq[pairs] > 0).all() and freq.sum() == freq[pairs].sum()
    assert np.abs(freq[pairs] / freq.sum() - 1 / 20).max() < 0.01


# -------------------------------------------------------------------- L2NAS decoding
def test_decode_hand_made_scores() -> None:
    scores = np.zeros((2, 14, 8))
    # normal node 0: edges 0, 1 (inputs 0, 1): always both kept; ops by argmax
    scores[0, 0, 1 + OPS.index("sep_conv_3x3")] = 0.9
    scores[0, 1, 1 + OPS.index("skip_connect")] = 0.8
    # normal node 1 (edges 2, 3, 4 = inputs 0, 1, 2): a huge 'none' on input 0 does
    # not count; input 2 (0.7) beats input 1 (0.6)
    scores[0, 2, 0] = 5.0
    scores[0, 2, 1 + OPS.index("max_pool_3x3")] = 0.1
    scores[0, 3, 1 + OPS.index("dil_conv_5x5")] = 0.6
    scores[0, 4, 1 + OPS.index("avg_pool_3x3")] = 0.7
    # normal node 3 (edges 9..13 = inputs 0..4): inputs 4 and 1 win, strongest first
    scores[0, 13, 1 + OPS.index("sep_conv_5x5")] = 0.95
    scores[0, 10, 1 + OPS.index("dil_conv_3x3")] = 0.5
    scores[0, 10, 1 + OPS.index("sep_conv_3x3")] = 0.4
    g = d.decode_scores(scores)
    assert g.normal[0:2] == (("sep_conv_3x3", 0), ("skip_connect", 1))
    assert g.normal[2:4] == (("avg_pool_3x3", 2), ("dil_conv_5x5", 1))
    # node 2: all-zero scores tie: the lowest inputs win, op ties take the first op
    assert g.normal[4:6] == (("max_pool_3x3", 0), ("max_pool_3x3", 1))
    assert g.normal[6:8] == (("sep_conv_5x5", 4), ("dil_conv_3x3", 1))
    assert g.reduce == (("max_pool_3x3", 0), ("max_pool_3x3", 1)) * 4
    assert g.is_valid


def test_decode_inverts_one_hot_and_batches() -> None:
    arr = d.sample_bananas_array(300, 4)
    genos = d.array_to_genotypes(arr)
    onehots = np.stack([d.encode_scores(g) for g in genos])
    assert onehots.shape == (300, 2, 14, 8)
    assert np.array_equal(onehots.sum(axis=-1), np.ones((300, 2, 14)))
    assert (onehots[..., 1:].sum(axis=(-1, -2)) == 8).all()
    decoded = d.decode_scores_array(onehots)
    assert d.array_keys(decoded) == [g.key() for g in genos]
    noisy = np.random.default_rng(0).normal(size=(300, 2, 14, 8))
    batch = d.decode_scores_array(noisy)
    assert d.valid_mask(batch).all()
    for i in range(0, 300, 37):
        assert d.decode_scores(noisy[i]) == d.from_array(batch[i])


def test_decode_errors() -> None:
    with pytest.raises(InvalidActionError, match="shape"):
        d.decode_scores(np.zeros((2, 14, 7)))
    with pytest.raises(InvalidActionError, match="one"):
        d.decode_scores(np.zeros((1, 2, 14, 8)))
    bad = np.zeros((2, 14, 8))
    bad[1, 3, 2] = np.nan
    with pytest.raises(InvalidActionError, match="finite"):
        d.decode_scores(bad)
    invalid = DartsGenotype((("skip_connect", 0),) * 8, (("skip_connect", 0),) * 8)
    with pytest.raises(InvalidArchitectureError):
        d.encode_scores(invalid)
