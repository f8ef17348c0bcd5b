"""The OFA MobileNetV3 space: canonical form, encodings, edits and L2NAS decoding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasgym.error import InvalidArchitectureError
from nasgym.spaces.ofa import (
    DEPTHS,
    LABEL_HEAD,
    LABEL_PAD,
    LABEL_STEM,
    NUM_LAYERS,
    VECTOR_LENGTH,
    OFASpace,
    apply_edit,
    decode_scores,
    edit_mask,
    edit_table,
    score_features,
)

SPACE = OFASpace()
NVEC = np.asarray(SPACE.nvec)

raw_vectors = st.lists(
    st.integers(0, 10**6), min_size=VECTOR_LENGTH, max_size=VECTOR_LENGTH
).map(lambda xs: np.asarray(xs, dtype=np.int64) % NVEC)


def test_size_and_slots() -> None:
    assert SPACE.size == (9**2 + 9**3 + 9**4) ** 5 * 5
    assert len(SPACE.slot_names) == len(SPACE.nvec) == VECTOR_LENGTH == 46


@given(raw_vectors)
@settings(max_examples=150, deadline=None)
def test_canonical_form_is_idempotent_and_ignores_inactive_layers(
    raw: np.ndarray,
) -> None:
    canon = SPACE.canonical_vectors(raw)[0]
    assert (SPACE.canonical_vectors(canon)[0] == canon).all()
    depths = np.asarray(DEPTHS)[raw[40:45]]
    changed = raw.copy()
    for i in range(NUM_LAYERS):
        if i % 4 >= depths[i // 4]:  # inactive: any value is the same architecture
            changed[i] = (changed[i] + 1) % 3
            changed[NUM_LAYERS + i] = (changed[NUM_LAYERS + i] + 2) % 3
    assert SPACE.key(changed) == SPACE.key(raw)
    assert (SPACE.canonical_vectors(changed)[0] == canon).all()
    arch = SPACE.from_vector(raw)
    assert all(arch.ks[i] == 0 for i in range(NUM_LAYERS) if i % 4 >= depths[i // 4])


@given(raw_vectors)
@settings(max_examples=150, deadline=None)
def test_dict_vector_string_graph_round_trips(raw: np.ndarray) -> None:
    arch = SPACE.from_vector(raw)
    config = SPACE.to_dict(arch)
    assert set(config) == {"ks", "e", "d", "r"} and len(config["ks"]) == 20
    assert SPACE.from_dict(config) == arch
    assert SPACE.from_vector(SPACE.to_vector(arch)) == arch
    assert SPACE.from_string(SPACE.key(arch)) == arch
    graph = SPACE.graph(arch)
    blocks = sum(arch.d)
    assert graph["node_mask"].sum() == blocks + 2
    assert (
        graph["labels"][0] == LABEL_STEM and graph["labels"][blocks + 1] == LABEL_HEAD
    )
    assert (graph["labels"][blocks + 2 :] == LABEL_PAD).all()
    assert graph["adjacency"].sum() == blocks + 1  # a chain
    assert int(graph["resolution"]) == arch.r
    # the graph determines the architecture: rebuild ks/e/d from the block labels
    ks, es = [0] * 20, [0] * 20
    for v in range(1, blocks + 1):
        stage, label = int(graph["stage"][v]), int(graph["labels"][v]) - 2
        pos = sum(1 for u in range(1, v) if graph["stage"][u] == stage)
        ks[stage * 4 + pos], es[stage * 4 + pos] = (
            (3, 5, 7)[label // 3],
            (3, 4, 6)[label % 3],
        )
    assert (tuple(ks), tuple(es)) == (arch.ks, arch.e)


@given(raw_vectors)
@settings(max_examples=100, deadline=None)
def test_edit_masks_match_brute_force(raw: np.ndarray) -> None:
    row = SPACE.canonical_vectors(raw)[0].tolist()
    key = SPACE.key(np.asarray(row))
    mask = edit_mask(row, 5)
    table = edit_table(5)
    assert mask.size == len(table) == 135
    for a, edit in enumerate(table):
        target = apply_edit(row, edit)
        assert (target is not None) == bool(mask[a])
        if target is not None:
            assert SPACE.key(np.asarray(target)) != key  # every legal edit changes it
            assert (SPACE.canonical_vectors(target)[0] == target).all()
    # brute force: every single-entry change of the canonical vector that changes the
    # architecture and keeps it canonical is reachable by exactly one unmasked edit
    reached = {
        SPACE.key(np.asarray(apply_edit(row, e)))
        for e, m in zip(table, mask, strict=True)
        if m
    }
    for slot in [*range(NUM_LAYERS * 2), 45]:
        for value in range(NVEC[slot]):
            other = list(row)
            other[slot] = value
            if other != SPACE.canonical_vectors(other)[0].tolist():
                continue
            if SPACE.key(np.asarray(other)) != key:
                assert SPACE.key(np.asarray(other)) in reached


def test_grow_copies_the_last_layer_and_shrink_inverts_it() -> None:
    arch = SPACE.from_dict({"ks": [5] * 20, "e": [4] * 20, "d": [2] * 5, "r": 192})
    row = SPACE.to_vector(arch).tolist()
    grown = apply_edit(row, edit_table(5)[120])
    assert grown is not None
    assert SPACE.from_vector(grown).d[0] == 3 and SPACE.from_vector(grown).ks[2] == 5
    assert apply_edit(grown, edit_table(5)[125]) == row
    assert apply_edit(row, edit_table(5)[125]) is None  # depth 2 cannot shrink


def test_l2nas_decoding_is_argmax_and_ignores_inactive_layers() -> None:
    rng = np.random.default_rng(0)
    scores = rng.random((50, 140))
    decoded = decode_scores(scores, 5)
    assert (SPACE.canonical_vectors(decoded) == decoded).all()
    slots = scores[:, :135].reshape(50, 45, 3).argmax(axis=2)
    assert (decoded[:, 40:45] == slots[:, 40:45]).all()
    assert (decoded[:, 45] == scores[:, 135:].argmax(axis=1)).all()
    # re-encoding the decoded choice as scores decodes to the same architecture
    again = decode_scores(score_features(decoded, 5).astype(np.float64), 5)
    assert (again == decoded).all()
    with pytest.raises(InvalidArchitectureError, match="columns"):
        decode_scores(scores[:, :139], 5)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5}, "missing"),
        ({"ks": [3] * 19, "e": [3] * 20, "d": [2] * 5, "r": [160]}, "20 values"),
        ({"ks": [4] * 20, "e": [3] * 20, "d": [2] * 5, "r": [160]}, "kernel 4"),
        ({"ks": [3] * 20, "e": [3] * 20, "d": [5] * 5, "r": [160]}, "depth 5"),
        ({"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5, "r": [161]}, "resolution 161"),
        ({"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5, "r": [160], "w": 1}, "w"),
    ],
)
def test_bad_configs_are_rejected(config: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=match):
        SPACE.from_dict(config)  # type: ignore[arg-type]


def test_inactive_values_are_ignored_in_dicts_and_bad_strings_rejected() -> None:
    config = {"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5, "r": [160]}
    assert SPACE.from_dict({**config, "ks": [3, 3, 9, 9] * 5}) == SPACE.from_dict(
        config
    )
    with pytest.raises(InvalidArchitectureError, match="cannot parse"):
        SPACE.from_string("160|k3e3")
    with pytest.raises(InvalidArchitectureError, match="range"):
        SPACE.check_vectors(np.full(46, 3))
    with pytest.raises(InvalidArchitectureError, match="resolutions"):
        OFASpace([])


def test_resolutions_are_configurable() -> None:
    space = OFASpace([224, 128])
    assert space.resolutions == (128, 224) and space.nvec[-1] == 2
    arch = space.from_dict({"ks": [7] * 20, "e": [6] * 20, "d": [4] * 5, "r": 128})
    assert space.key(arch).startswith("128|")
