"""The NB301 surrogate: file checks, encoding, batching, and the real-data check.

Tests marked ``data`` use the staged YAHPO surrogate under ``NASGYM_DATA_DIR`` and the
500 NB301 architectures with real validation accuracy from NAS-Bench-Suite-Zero. The
other tests build a small synthetic surrogate (random weights, an encoding derived from
the hyperparameter names) in ``tmp_path``; they need the ``onnx`` package.
"""

from __future__ import annotations

import json
import lzma
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nasgym.benchmarks import nb301
from nasgym.benchmarks.nb301 import (
    CONFIG_SPACE_FILE,
    ENCODING_FILE,
    MODEL_FILE,
    NA_VALUE,
    REQUIRED_FILES,
    SURROGATE_SUBDIR,
    X_CAT_NAMES,
    NB301Surrogate,
    edge_name,
    genotype_config,
    inputs_name,
)
from nasgym.error import (
    BenchmarkDataMissingError,
    CorruptDataError,
    InvalidArchitectureError,
    UnknownOptionError,
)
from nasgym.spaces import darts as d

try:  # the conftest module as pytest imported it (rootdir/tests on sys.path)
    from conftest import missing_data  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - tests/ became a package
    from tests.conftest import missing_data

# Spearman rank correlation between the surrogate (epoch 98) and the real NB301
# validation accuracy of the 500 NAS-Bench-Suite-Zero architectures. Measured: 0.905.
# Deliberately wrong encodings measured on the same data: ops permuted 0.17 / 0.34,
# normal and reduce swapped 0.52, inactive edges given an op instead of "#na#" 0.49,
# x_cat columns in encoding.json's (alphabetical) order 0.80. The bound sits above all
# of them and well below the measurement (the data and model are fixed, so the value is
# deterministic; it only moves if the encoding changes).
MIN_SPEARMAN = 0.85


# --------------------------------------------------------------------------- helpers
def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho with average ranks for ties (numpy only)."""

    def ranks(x: np.ndarray) -> np.ndarray:
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x), dtype=float)
        _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
        return (np.bincount(inverse, weights=r) / counts)[inverse]

    return float(np.corrcoef(ranks(np.asarray(a)), ranks(np.asarray(b)))[0, 1])


def test_spearman_helper() -> None:
    assert spearman(np.array([1, 2, 3, 4.0]), np.array([10, 20, 30, 40.0])) == 1.0
    assert spearman(np.array([1, 2, 3, 4.0]), np.array([4, 3, 2, 1.0])) == -1.0
    # ties: x ranks (1.5, 1.5, 3), y ranks (1, 2, 3) -> rho = 0.866...
    assert spearman(np.array([1, 1, 2.0]), np.array([1, 2, 3.0])) == pytest.approx(
        np.sqrt(3) / 2
    )


def reference_x_cat(
    g: d.DartsGenotype, encoding: dict[str, dict[str, int]]
) -> list[int]:
    """YAHPO's way: a configuration dict, missing (inactive) names become '#na#'."""
    config = genotype_config(g)
    return [encoding[name][config.get(name, NA_VALUE)] for name in X_CAT_NAMES]


def synthetic_encoding() -> dict[str, dict[str, int]]:
    encoding: dict[str, dict[str, int]] = {}
    for c in range(2):
        for e in range(14):
            values = [NA_VALUE, *sorted(d.OPS)]
            encoding[edge_name(c, e)] = {v: i for i, v in enumerate(values)}
        for m in range(1, 4):
            pairs = [f"{a}_{b}" for a in range(m + 2) for b in range(a + 1, m + 2)]
            encoding[inputs_name(c, m)] = {
                v: i for i, v in enumerate([NA_VALUE, *pairs])
            }
    return encoding


def synthetic_config_space() -> dict[str, Any]:
    hps: list[dict[str, Any]] = []
    conditions: list[dict[str, Any]] = []
    for c in range(2):
        for m in range(4):
            pairs = [f"{a}_{b}" for a in range(m + 2) for b in range(a + 1, m + 2)]
            if m:
                hps.append({"name": inputs_name(c, m), "choices": pairs})
            for s in range(m + 2):
                name = edge_name(c, d.EDGE_OFFSET[m] + s)
                hps.append({"name": name, "choices": list(d.OPS)})
                if m:
                    values = [p for p in pairs if str(s) in p.split("_")]
                    conditions.append(
                        {
                            "child": name,
                            "parent": inputs_name(c, m),
                            "type": "IN",
                            "values": values,
                        }
                    )
    hps.append({"name": "epoch", "lower": 1, "upper": 98})
    return {"hyperparameters": hps, "conditions": conditions, "forbiddens": []}


def synthetic_model(path: Path, seed: int = 0) -> None:
    """A tiny ONNX model with the surrogate's interface and a fixed batch of 1."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w_cat = numpy_helper.from_array(rng.normal(size=(34, 2)).astype(np.float32), "w")
    w_cont = numpy_helper.from_array(rng.normal(size=(1, 2)).astype(np.float32), "v")
    nodes = [
        helper.make_node("Cast", ["x_cat"], ["xf"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["xf", "w"], ["a"]),
        helper.make_node("MatMul", ["x_cont", "v"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "synthetic_nb301",
        [
            helper.make_tensor_value_info("x_cat", TensorProto.INT32, [1, 34]),
            helper.make_tensor_value_info("x_cont", TensorProto.FLOAT, [1, 1]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        initializer=[w_cat, w_cont],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))


@pytest.fixture
def synthetic_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "v1_iaml_ex"
    directory.mkdir()
    synthetic_model(directory / MODEL_FILE)
    (directory / ENCODING_FILE).write_text(json.dumps(synthetic_encoding()))
    (directory / CONFIG_SPACE_FILE).write_text(json.dumps(synthetic_config_space()))
    return directory


# --------------------------------------------------------------------------- encoding
def test_x_cat_names() -> None:
    assert len(X_CAT_NAMES) == 34 == len(set(X_CAT_NAMES))
    prefix = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
    assert X_CAT_NAMES[0] == prefix + "edge_normal_0"
    assert X_CAT_NAMES[13] == prefix + "edge_normal_13"
    assert X_CAT_NAMES[14] == prefix + "edge_reduce_0"
    assert X_CAT_NAMES[28] == prefix + "inputs_node_normal_3"
    assert X_CAT_NAMES[33] == prefix + "inputs_node_reduce_5"


def test_genotype_config() -> None:
    g = d.from_naslib(  # (input, op index) pairs
        "[[(0, 4), (1, 1), (2, 3), (0, 2), (1, 0), (3, 5), (4, 6), (2, 6)], "
        "[(1, 0), (0, 0), (1, 2), (2, 2), (0, 1), (3, 1), (3, 3), (1, 4)]]"
    )
    config = genotype_config(g)
    assert len(config) == 2 * (8 + 3)
    p = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
    assert config[p + "edge_normal_0"] == "sep_conv_5x5"
    assert config[p + "edge_normal_1"] == "avg_pool_3x3"
    assert config[p + "edge_normal_2"] == "skip_connect"  # node 1 (edges 2..4) input 0
    assert config[p + "edge_normal_4"] == "sep_conv_3x3"  # node 1 input 2
    assert p + "edge_normal_3" not in config  # inactive: node 1 does not read input 1
    assert config[p + "inputs_node_normal_3"] == "0_2"
    assert config[p + "inputs_node_normal_4"] == "1_3"
    assert config[p + "inputs_node_normal_5"] == "2_4"
    assert config[p + "edge_normal_13"] == "dil_conv_5x5"  # node 3 (edges 9..13)
    assert config[p + "edge_normal_11"] == "dil_conv_5x5"
    assert config[p + "inputs_node_reduce_3"] == "1_2"
    assert config[p + "inputs_node_reduce_4"] == "0_3"
    assert config[p + "inputs_node_reduce_5"] == "1_3"
    assert config[p + "edge_reduce_12"] == "sep_conv_3x3"
    assert config[p + "edge_reduce_10"] == "sep_conv_5x5"
    with pytest.raises(InvalidArchitectureError):
        genotype_config(d.DartsGenotype((("skip_connect", 0),) * 8, g.reduce))


def test_synthetic_encode_matches_reference(synthetic_dir: Path) -> None:
    surrogate = NB301Surrogate(synthetic_dir, verify=False)
    arr = d.sample_bananas_array(300, 0)
    x = surrogate.encode(arr)
    assert x.dtype == np.int32 and x.shape == (300, 34)
    encoding = synthetic_encoding()
    genos = d.array_to_genotypes(arr)
    assert x.tolist() == [reference_x_cat(g, encoding) for g in genos]
    # each node has 2 active edges out of its candidates: 6 inactive edges per cell
    assert ((x[:, :28] == 0).sum(axis=1) == 12).all()
    # swapping a node's pairs changes nothing
    swapped = arr.copy()
    swapped[:, :, [4, 5]] = arr[:, :, [5, 4]]
    assert np.array_equal(surrogate.encode(swapped), x)


def test_synthetic_batch_equals_single(synthetic_dir: Path) -> None:
    pytest.importorskip("onnx")
    surrogate = NB301Surrogate(synthetic_dir, batch_size=64, verify=False)
    assert surrogate.batched
    arr = d.sample_bananas_array(150, 1)
    epochs = np.linspace(1, 98, 150)
    acc, runtime = surrogate.predict(arr, epochs)
    assert acc.dtype == np.float64 and acc.shape == runtime.shape == (150,)
    for i in range(0, 150, 17):
        one = surrogate.predict_one(d.from_array(arr[i]), float(epochs[i]))
        assert one == (acc[i], runtime[i])
    again = pickle.loads(pickle.dumps(surrogate)).predict(arr, epochs)
    assert np.array_equal(again[0], acc) and np.array_equal(again[1], runtime)


def test_unbatched_fallback(
    synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = NB301Surrogate(synthetic_dir, verify=False)
    monkeypatch.setattr(nb301, "_batched_model_bytes", lambda raw, path: None)
    looped = NB301Surrogate(synthetic_dir, verify=False)
    assert batched.batched and not looped.batched
    arr = d.sample_bananas_array(20, 2)
    assert np.array_equal(batched.predict(arr)[0], looped.predict(arr)[0])


def test_predict_argument_errors(synthetic_dir: Path) -> None:
    surrogate = NB301Surrogate(synthetic_dir, verify=False)
    arr = d.sample_bananas_array(5, 3)
    for epoch in (0, 99, [50] * 4, np.ones((5, 1))):
        with pytest.raises(UnknownOptionError, match="epoch"):
            surrogate.predict(arr, epoch)
    bad = arr.copy()
    bad[3, 0, 1, 1] = bad[3, 0, 0, 1]  # node 0 reads one input twice
    with pytest.raises(InvalidArchitectureError, match="row 3"):
        surrogate.predict(bad)
    with pytest.raises(InvalidArchitectureError):
        surrogate.predict_one(arr[0])
    acc, _ = surrogate.predict([])
    assert acc.shape == (0,)
    with pytest.raises(ValueError, match="batch_size"):
        NB301Surrogate(synthetic_dir, batch_size=0, verify=False)


# ------------------------------------------------------------------ missing / corrupt
def test_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BenchmarkDataMissingError) as info:
        NB301Surrogate(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message
    assert all(name in message for name in REQUIRED_FILES)
    monkeypatch.delenv("NASGYM_DATA_DIR", raising=False)
    with pytest.raises(BenchmarkDataMissingError, match="NASGYM_DATA_DIR is not set"):
        NB301Surrogate()
    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path))
    with pytest.raises(BenchmarkDataMissingError) as info:
        NB301Surrogate()
    assert str(tmp_path / SURROGATE_SUBDIR) in str(info.value)


def test_one_missing_file(synthetic_dir: Path) -> None:
    (synthetic_dir / CONFIG_SPACE_FILE).unlink()
    with pytest.raises(BenchmarkDataMissingError, match=r"missing in .*: config_space"):
        NB301Surrogate(synthetic_dir / MODEL_FILE, verify=False)


def test_found_through_data_dir(
    synthetic_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = synthetic_dir.parent / "data"
    shutil.copytree(synthetic_dir, root / SURROGATE_SUBDIR)
    monkeypatch.setenv("NASGYM_DATA_DIR", str(root))
    assert NB301Surrogate(verify=False).path == (root / SURROGATE_SUBDIR).resolve()


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_corrupt_synthetic_files(synthetic_dir: Path) -> None:
    truncate(synthetic_dir / MODEL_FILE)
    with pytest.raises(CorruptDataError, match=MODEL_FILE):
        NB301Surrogate(synthetic_dir, verify=False)


@pytest.mark.parametrize("name", [ENCODING_FILE, CONFIG_SPACE_FILE])
def test_corrupt_json(synthetic_dir: Path, name: str) -> None:
    truncate(synthetic_dir / name)
    with pytest.raises(CorruptDataError, match=name):
        NB301Surrogate(synthetic_dir, verify=False)


def test_json_not_matching_the_space(synthetic_dir: Path) -> None:
    space = synthetic_config_space()
    space["conditions"][0]["values"] = ["0_1"]
    (synthetic_dir / CONFIG_SPACE_FILE).write_text(json.dumps(space))
    with pytest.raises(CorruptDataError, match="not active exactly when"):
        NB301Surrogate(synthetic_dir, verify=False)
    (synthetic_dir / CONFIG_SPACE_FILE).write_text(json.dumps(synthetic_config_space()))
    encoding = synthetic_encoding()
    del encoding[edge_name(1, 7)]["sep_conv_5x5"]
    (synthetic_dir / ENCODING_FILE).write_text(json.dumps(encoding))
    with pytest.raises(CorruptDataError, match=r"no code for .*edge_reduce_7"):
        NB301Surrogate(synthetic_dir, verify=False)


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real_dir(data_root: Path) -> Path:
    directory = data_root / SURROGATE_SUBDIR
    if not all((directory / name).is_file() for name in REQUIRED_FILES):
        missing_data(f"{directory} lacks {', '.join(REQUIRED_FILES)}")
    return directory


@pytest.fixture(scope="module")
def surrogate(real_dir: Path) -> NB301Surrogate:
    return NB301Surrogate(real_dir)


@pytest.fixture(scope="module")
def zc_nb301(data_root: Path) -> dict[str, dict[str, float]]:
    path = data_root / "naslib-zc" / "zc_nasbench301.json.xz"
    if not path.is_file():
        missing_data(f"{path} is missing")
    with lzma.open(path) as handle:
        rows: dict[str, dict[str, float]] = json.load(handle)["nasbench301"]["cifar10"]
    return rows


@pytest.mark.data
def test_real_encoding_matches_reference(
    surrogate: NB301Surrogate, real_dir: Path
) -> None:
    encoding = json.loads((real_dir / ENCODING_FILE).read_text())
    arr = d.sample_bananas_array(300, 5)
    expected = [reference_x_cat(g, encoding) for g in d.array_to_genotypes(arr)]
    assert surrogate.encode(arr).tolist() == expected
    assert surrogate.batched  # the onnx package is installed in the dev setup


@pytest.mark.data
def test_real_naslib_keys_round_trip(zc_nb301: dict[str, dict[str, float]]) -> None:
    assert len(zc_nb301) == 500
    genos = [d.from_naslib(key) for key in zc_nb301]
    assert [d.to_naslib_str(g) for g in genos] == list(zc_nb301)
    assert len({g.key() for g in genos}) == 500


@pytest.mark.data
def test_rank_correlation_with_real_accuracy(
    surrogate: NB301Surrogate, zc_nb301: dict[str, dict[str, float]]
) -> None:
    arr = d.as_array([d.from_naslib(key) for key in zc_nb301])
    real = np.asarray([row["val_accuracy"] for row in zc_nb301.values()])
    predicted, runtime = surrogate.predict(arr)
    rho = spearman(predicted, real)
    assert rho >= MIN_SPEARMAN, f"Spearman {rho:.3f} < {MIN_SPEARMAN}"
    assert (runtime > 0).all()
    # The check can tell a wrong op order apart.
    wrong = arr.copy()
    wrong[..., 0] = np.asarray([6, 5, 4, 3, 2, 1, 0])[arr[..., 0]]
    assert spearman(surrogate.predict(wrong)[0], real) < 0.6


@pytest.mark.data
def test_real_batch_equals_single_and_is_deterministic(
    surrogate: NB301Surrogate, real_dir: Path
) -> None:
    arr = d.sample_bananas_array(1000, 6)
    epochs = np.arange(1000) % 98 + 1
    acc, runtime = surrogate.predict(arr, epochs)
    for i in range(0, 1000, 50):
        single = surrogate.predict_one(d.from_array(arr[i]), float(epochs[i]))
        assert single == (acc[i], runtime[i])
    other = NB301Surrogate(real_dir, batch_size=7, intra_op_threads=2)
    again = other.predict(arr, epochs)
    assert np.array_equal(again[0], acc) and np.array_equal(again[1], runtime)
    assert np.array_equal(surrogate.predict(arr, epochs)[0], acc)


@pytest.mark.data
def test_real_prediction_ranges(surrogate: NB301Surrogate) -> None:
    # docs/data.md#nas-bench-301: 2,000 random configurations through yahpo-gym at
    # epoch 98 gave
    # val_accuracy min 92.44, mean 94.40, max 95.71 and mean runtime 5,929 s.
    acc, runtime = surrogate.predict(d.sample_bananas_array(2000, 7))
    assert 94.2 < acc.mean() < 94.6 and 91.5 < acc.min() and acc.max() < 96.5
    assert 5000 < runtime.mean() < 7000
    early, _ = surrogate.predict(d.sample_bananas_array(200, 7), epoch=5)
    assert early.mean() < acc[:200].mean()


@pytest.mark.data
def test_corrupt_real_model(real_dir: Path, tmp_path: Path) -> None:
    for name in REQUIRED_FILES:
        shutil.copy(real_dir / name, tmp_path / name)
    truncate(tmp_path / MODEL_FILE)
    with pytest.raises(CorruptDataError, match=MODEL_FILE):
        NB301Surrogate(tmp_path)
    (tmp_path / MODEL_FILE).write_bytes(b"not an onnx model at all")
    with pytest.raises(CorruptDataError, match=MODEL_FILE):
        NB301Surrogate(tmp_path)


# ------------------------------------------------- published digests (issue 15.1)
def copy_real(real_dir: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in REQUIRED_FILES:
        shutil.copy(real_dir / name, dest / name)
        (dest / name).chmod(0o644)
    return dest


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    # A weight of the first deep layer (measured: predictions move by up to 6.3
    # points); the model still parses and loads.
    data[int(len(data) * 0.3)] ^= 0x40
    path.write_bytes(bytes(data))


def swap_two_codes(path: Path) -> None:
    encoding = json.loads(path.read_text())
    table = encoding[edge_name(0, 0)]
    table["skip_connect"], table["sep_conv_3x3"] = (
        table["sep_conv_3x3"],
        table["skip_connect"],
    )
    path.write_text(json.dumps(encoding))


def test_synthetic_files_need_verify_false(synthetic_dir: Path) -> None:
    with pytest.raises(CorruptDataError, match="not the published one") as err:
        NB301Surrogate(synthetic_dir)
    assert "verify=False" in str(err.value)
    assert str(err.value).endswith("see docs/data.md#nas-bench-301")
    own = NB301Surrogate(synthetic_dir, verify=False)
    assert not own.verified and "verify=False" in repr(own)
    assert own.provenance()["sha256"][MODEL_FILE] == nb301.sha256_file(
        synthetic_dir / MODEL_FILE
    )
    assert not pickle.loads(pickle.dumps(own)).verified


@pytest.mark.data
def test_real_files_match_published_digests(surrogate: NB301Surrogate) -> None:
    assert surrogate.verified
    assert surrogate.provenance()["sha256"] == nb301.SURROGATE_SHA256


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "damage"),
    [(MODEL_FILE, flip_one_byte), (ENCODING_FILE, swap_two_codes)],
    ids=["onnx-byte-flip", "encoding-swap"],
)
def test_silent_damage_is_refused(
    real_dir: Path,
    surrogate: NB301Surrogate,
    tmp_path: Path,
    name: str,
    damage: Any,
) -> None:
    damaged = copy_real(real_dir, tmp_path / "v1_iaml_ex")
    damage(damaged / name)
    with pytest.raises(CorruptDataError, match=f"{name}.*not the published one"):
        NB301Surrogate(damaged)
    # The damage is silent without the check: the files load and predict otherwise.
    loose = NB301Surrogate(damaged, verify=False)
    arr = d.sample_bananas_array(200, 3)
    assert not np.array_equal(loose.predict(arr)[0], surrogate.predict(arr)[0])


@pytest.mark.data
def test_env_with_own_surrogate_says_so(real_dir: Path, tmp_path: Path) -> None:
    import gymnasium as gym

    import nasgym  # noqa: F401  (registers the envs)

    own = copy_real(real_dir, tmp_path / "own")
    swap_two_codes(own / ENCODING_FILE)
    with pytest.raises(CorruptDataError, match="verify_surrogate=False"):
        gym.make("nasgym/NB301Query-v0", path=own)
    env = gym.make("nasgym/NB301Query-v0", path=own, verify_surrogate=False)
    _, info = env.reset(seed=0)
    assert info["surrogate"]["verified"] is False
    assert info["surrogate"]["path"] == str(own)
    published = gym.make("nasgym/NB301Query-v0", path=real_dir)
    _, info = published.reset(seed=0)
    assert "surrogate" not in info
    assert published.unwrapped.surrogate_provenance["verified"] is True  # type: ignore[attr-defined]


@pytest.mark.data
@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "byte-flip"])
def test_data_status_reports_damaged_files(
    real_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    from nasgym.datastore import _nb301_status, format_status

    directory = copy_real(real_dir, tmp_path / SURROGATE_SUBDIR)
    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path))
    assert _nb301_status()["present"]
    model = directory / MODEL_FILE
    if damage == "truncated":
        truncate(model)
    elif damage == "empty":
        model.write_bytes(b"")
    elif damage == "garbage":
        model.write_bytes(b"\x00garbage" * 100)
    else:
        flip_one_byte(model)
    row = _nb301_status()
    assert not row["present"]
    assert MODEL_FILE in row["error"] and "not the published one" in row["error"]
    text = format_status([row])
    assert "corrupt" in text and "docs/data.md#nas-bench-301" in text


@pytest.mark.data
def test_one_genotype_encoding_equals_the_array_path(surrogate: NB301Surrogate) -> None:
    # encode() of one genotype (or one array) takes a Python path; rows must equal
    # the NumPy path of a batch, valid or not (validate=False), and errors too.
    rng = np.random.default_rng(7)
    valid = d.sample_bananas_array(300, 11)
    noisy = valid.copy()
    # inputs anywhere the array path can index (node 3's last edge is 13)
    highs = np.repeat([d.NUM_SOURCES] * 3 + [d.NUM_SOURCES - 1], 2)
    noisy[..., 1] = rng.integers(0, highs, size=noisy[..., 1].shape)
    for arr in (valid, noisy):
        batch = surrogate.encode(arr, validate=False)
        for i, one in enumerate(arr):
            assert surrogate._encode_one(one) in (None, batch[i].tolist())
            assert surrogate.encode(one, validate=False).tolist() == [batch[i].tolist()]
            assert surrogate.encode(one[None], validate=False).tolist() == [
                batch[i].tolist()
            ]
            genotype = d.from_array(one, validate=False)
            assert surrogate.encode(genotype, validate=False).tolist() == [
                batch[i].tolist()
            ]
            if not genotype.is_valid:
                with pytest.raises(InvalidArchitectureError):
                    surrogate.encode(genotype)
    for one in valid[:20]:
        assert surrogate._encode_one(one) is not None
        assert surrogate._encode_one(d.from_array(one)) is not None
    acc, runtime = surrogate.predict(valid[:50], 98)
    singles = [surrogate.predict_one(d.from_array(a), 98) for a in valid[:50]]
    assert singles == list(zip(acc.tolist(), runtime.tolist(), strict=True))
