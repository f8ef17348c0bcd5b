"""The OFA predictor, Note10 latency, FLOPs/params and the published nets (data)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy.stats import spearmanr

from nasgym.benchmarks.ofa import (
    DOCS,
    LATENCY_RESOLUTIONS,
    PREDICTOR_RESOLUTIONS,
    OFABenchmark,
    decode_net_config,
    import_ofa,
    load_table,
)
from nasgym.error import BenchmarkDataMissingError, CorruptDataError
from nasgym.spaces.ofa import OFASpace

pytestmark = pytest.mark.data


def _vec(bench: OFABenchmark, config: dict[str, Any]) -> np.ndarray:
    return bench.space.vector_of_dict(config)[None]


def test_range_and_extremes_match_the_documented_checks(ofa_bench: Any) -> None:
    # The data's own checks: 2,000 uniform samples give 0.759 / 0.800 / 0.831
    # (min / mean / max); all 7/6/4 at 224 gives 0.836; all 3/3/2 at 160 gives 0.753.
    sample = ofa_bench.sample_top1
    assert sample.size == 2000
    assert abs(sample.min() - 75.9) < 0.6
    assert abs(sample.mean() - 80.0) < 0.2
    assert abs(sample.max() - 83.1) < 0.6
    top = {"ks": [7] * 20, "e": [6] * 20, "d": [4] * 5, "r": [224]}
    low = {"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5, "r": [160]}
    assert ofa_bench.top1(_vec(ofa_bench, top))[0] == pytest.approx(83.6, abs=0.05)
    assert ofa_bench.top1(_vec(ofa_bench, low))[0] == pytest.approx(75.3, abs=0.05)
    # the reference optimum beats every sample and is the predictor's value of its key
    assert ofa_bench.optimum > sample.max()
    key_vec = ofa_bench.space.to_vector(
        ofa_bench.space.from_string(ofa_bench.optimum_key)
    )
    assert ofa_bench.top1(key_vec[None])[0] == pytest.approx(ofa_bench.optimum)


def _ofa_predictor_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``ofa/tutorial/accuracy_predictor.py`` of the installed ``ofa`` wheel.

    The wheel's ``ofa.utils`` imports torchvision, which the predictor does not use
    (it only needs ``download_url``, never called with ``pretrained=False``), so a
    stand-in ``ofa.utils`` is put in ``sys.modules`` for the import.
    """
    spec = importlib.util.find_spec("ofa")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the ofa package is not installed")
    path = Path(spec.submodule_search_locations[0]) / "tutorial/accuracy_predictor.py"
    stub = types.ModuleType("ofa.utils")
    stub.download_url = None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ofa.utils", stub)
    module_spec = importlib.util.spec_from_file_location("_ofa_acc", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_numpy_predictor_matches_the_ofa_package(
    ofa_bench: Any, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    predictor_mod = _ofa_predictor_module(monkeypatch)
    reference = predictor_mod.AccuracyPredictor(pretrained=False, device="cpu")
    state = torch.load(
        data_root / "ofa" / "acc_predictor.pth", map_location="cpu", weights_only=True
    )
    reference.model.load_state_dict(state)
    vectors = ofa_bench.space.sample_vectors(64, np.random.default_rng(1))
    configs = [ofa_bench.space.to_dict(ofa_bench.space.from_vector(v)) for v in vectors]
    expected = reference.predict_accuracy(configs).numpy().ravel() * 100
    np.testing.assert_allclose(ofa_bench.top1(vectors), expected, atol=1e-4)


def _reference_latency(config: dict[str, Any], lut: dict[str, Any]) -> float:
    """Walk the width-1.2 layer list and look every layer up in the YAML (by key)."""
    r = config["r"][0]
    size = (r + 1) // 2
    total = lut[f"Conv-input:{r}x{r}x3-output:{size}x{size}x24"]["mean"]
    total += lut[
        f"expanded_conv-input:{size}x{size}x24-output:{size}x{size}x24-expand:24-"
        f"kernel:3-stride:1-idskip:1-se:0-hs:0"
    ]["mean"]
    c_in = 24
    for s, (width, stride, se, hs) in enumerate(
        zip(
            (32, 48, 96, 136, 192),
            (2, 2, 2, 1, 2),
            (0, 1, 0, 1, 1),
            (0, 0, 1, 1, 1),
            strict=True,
        )
    ):
        for j in range(config["d"][s]):
            k, e = config["ks"][s * 4 + j], config["e"][s * 4 + j]
            st = stride if j == 0 else 1
            out = (size - 1) // st + 1
            mid = c_in * e  # every width here times {3, 4, 6} is a multiple of 8
            total += lut[
                f"expanded_conv-input:{size}x{size}x{c_in}-output:{out}x{out}x{width}-"
                f"expand:{mid}-kernel:{k}-stride:{st}-idskip:{int(j > 0)}-se:{se}-"
                f"hs:{hs}"
            ]["mean"]
            size, c_in = out, width
    total += lut[f"Conv_1-input:{size}x{size}x192-output:{size}x{size}x1152"]["mean"]
    total += lut[f"AvgPool2D-input:{size}x{size}x1152-output:1x1x1152"]["mean"]
    total += lut["Conv_2-input:1x1x1152-output:1x1x1536"]["mean"]
    total += lut["Logits-input:1x1x1536-output:1000"]["mean"]
    return float(total)


def test_latency_is_the_table_summed_over_active_blocks(
    ofa_bench: Any, data_root: Path
) -> None:
    luts = {
        r: yaml.safe_load(
            (data_root / "ofa" / f"note10-latency/{r}_lookup_table.yaml").read_text()
        )
        for r in LATENCY_RESOLUTIONS
    }
    vectors = ofa_bench.space.sample_vectors(40, np.random.default_rng(2))
    got = ofa_bench.latency_ms(vectors)
    for v, value in zip(vectors, got, strict=True):
        config = ofa_bench.space.to_dict(ofa_bench.space.from_vector(v))
        assert value == pytest.approx(_reference_latency(config, luts[config["r"][0]]))
    lo, hi = ofa_bench.cost_bounds("latency")
    assert lo <= got.min() and got.max() <= hi


def test_flops_and_params_follow_the_layer_list(ofa_bench: Any) -> None:
    low = {"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5, "r": [160]}
    v = _vec(ofa_bench, low)
    # hand count of the stem at 160: 80x80 output, 3 -> 24 channels, 3x3 kernel
    stem = 80 * 80 * 3 * 24 * 9 / 1e6
    assert ofa_bench.flops_m(v)[0] > stem
    more = {**low, "d": [4] * 5}
    assert ofa_bench.flops_m(_vec(ofa_bench, more))[0] > ofa_bench.flops_m(v)[0]
    assert ofa_bench.params_m(_vec(ofa_bench, {**low, "r": [224]}))[0] == (
        pytest.approx(ofa_bench.params_m(v)[0])
    )  # parameters do not depend on the resolution
    # classifier + feature mix alone hold 1536 * 1000 + 1000 + 1152 * 1536 weights
    assert ofa_bench.params_m(v)[0] > (1536 * 1000 + 1000 + 1152 * 1536) / 1e6


def _published(root: Path) -> list[dict[str, Any]]:
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        net = json.loads((folder / "net.config").read_text())
        res = int(json.loads((folder / "run.config").read_text())["image_size"])
        config, why = decode_net_config(net, res)
        top1 = float(re.search(r"top1-([\d.]+)", folder.name).group(1))  # type: ignore[union-attr]
        lat = re.search(r"^note10_lat-(\d+)ms", folder.name)
        rows.append(
            {
                "name": folder.name,
                "family": net["name"],
                "config": config,
                "why": why,
                "top1": top1,
                "target_ms": float(lat.group(1)) if lat else None,
            }
        )
    return rows


def test_published_specialized_nets_rank_like_the_predictor(
    ofa_table: Path, data_root: Path
) -> None:
    bench = OFABenchmark(OFASpace(PREDICTOR_RESOLUTIONS), path=ofa_table)
    rows = _published(data_root / "ofa" / "specialized")
    mbv3 = [r for r in rows if r["family"] == "MobileNetV3"]
    assert len(rows) == 50 and len(mbv3) == 34
    decoded = [r for r in mbv3 if r["config"] is not None]
    left = [r for r in rows if r["config"] is None]
    assert len(decoded) + len(left) == 50 and all(r["why"] for r in left)
    # every MobileNetV3 net left out is left out for its resolution only
    assert all("resolution" in r["why"] for r in left if r["family"] == "MobileNetV3")
    vectors = np.stack([bench.space.vector_of_dict(r["config"]) for r in decoded])
    predicted = bench.top1(vectors)
    assert spearmanr(predicted, [r["top1"] for r in decoded])[0] > 0.8
    note10 = [
        (r, v)
        for r, v in zip(decoded, vectors, strict=True)
        if r["target_ms"] is not None and r["config"]["r"][0] in LATENCY_RESOLUTIONS
    ]
    assert len(note10) >= 5
    latency = bench.latency_ms(np.stack([v for _, v in note10]))
    assert spearmanr(latency, [r["target_ms"] for r, _ in note10])[0] > 0.8


def test_corrupt_and_missing_sources_give_clear_errors(
    tmp_path: Path, data_root: Path
) -> None:
    with pytest.raises(BenchmarkDataMissingError, match=re.escape(DOCS)):
        import_ofa(tmp_path)
    copy = tmp_path / "ofa"
    shutil.copytree(data_root / "ofa" / "note10-latency", copy / "note10-latency")
    (copy / "acc_predictor.pth").write_bytes(b"not a torch file")
    with pytest.raises(CorruptDataError, match="sha256") as info:
        import_ofa(copy)
    assert str(info.value).endswith(DOCS)


def test_corrupt_or_absent_table_is_reported(
    tmp_path: Path, ofa_table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "ofa.npz"
    bad.write_bytes(ofa_table.read_bytes()[:1000])
    with pytest.raises(CorruptDataError, match=re.escape(DOCS)):
        load_table(bad)
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("NASGYM_DATA_DIR", raising=False)
    with pytest.raises(BenchmarkDataMissingError, match="nasgym data import ofa") as e:
        load_table()
    assert str(e.value).endswith(DOCS)


def test_data_status_lists_ofa(
    ofa_table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nasgym.datastore import format_status, status

    monkeypatch.setenv("NASGYM_CACHE_DIR", str(ofa_table.parent))
    (row,) = [r for r in status() if r["name"] == "ofa"]
    assert row["present"] and row["path"] == str(ofa_table)
    assert "latency (ms)" in row["costs"]
    assert "ofa" in format_status(status())
