"""nasgym.extend on real third-party data: the AnalogNAS-Bench tutorial module.

Needs the ``analog-nasbench`` wheel (a real install) and, for the partial-table and
encoding checks, the NB201 files under ``NASGYM_DATA_DIR``.
"""

from __future__ import annotations

import importlib.util
import io
import json
import lzma
import os
import pickle
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from conftest import missing_data  # type: ignore[import-not-found]
from nasgym.extend import Metric, TableBenchmark, register_benchmark_envs
from nasgym.spaces.nb201 import NB201Arch, NB201Space

pytestmark = pytest.mark.data
TUTORIAL = (
    Path(__file__).resolve().parents[1] / "docs" / "tutorials" / "own-benchmark.md"
)


@pytest.fixture(scope="module")
def tutorial() -> Iterator[dict[str, Any]]:
    """The namespace of the tutorial's python blocks, run in order."""
    if importlib.util.find_spec("analognasbench") is None:
        missing_data("the analog-nasbench wheel is not installed")
    blocks = re.findall(r"^```python\n(.*?)^```", TUTORIAL.read_text(), re.S | re.M)
    namespace: dict[str, Any] = {"__name__": "analognas_tutorial"}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            for i, block in enumerate(blocks[:4]):  # loader, space, benchmark, ids
                exec(compile(block, f"{TUTORIAL.name}[{i}]", "exec"), namespace)
        finally:
            os.chdir(cwd)
    yield namespace


def test_safe_loader_reads_every_cell_and_refuses_other_code(
    tutorial: dict[str, Any],
) -> None:
    data = tutorial["load_analognas"]()
    assert len(data) == NB201Space().size  # the whole NB201 space (the wheel's README)
    bench = tutorial["build_benchmark"]()
    finite = [
        all(
            np.isfinite(float(getattr(r, f)))
            for f in ("baseline_accuracy", "analog_accuracy")
        )
        for r in data.values()
    ]
    assert bench.num_measured == sum(finite) and bench.space is bench.full_space
    assert (bench.reward_split, bench.metric_split("analog")) == ("test", "test")
    hostile = pickle.dumps(os.getcwd)  # any global outside the two classes
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        tutorial["_SafeUnpickler"](io.BytesIO(hostile)).load()


def test_encoding_matches_nas_bench_201(
    tutorial: dict[str, Any], data_root: Path
) -> None:
    """The tutorial's slot/op order: digital accuracy tracks NB201's CIFAR-10 test."""
    import pandas as pd
    from scipy.stats import spearmanr

    csv = data_root / "nas-bench-201" / "nats_bench.csv.xz"
    if not csv.is_file():
        missing_data(f"{csv} is missing")
    frame = pd.read_csv(csv)
    nb201 = NB201Space()
    reference = dict(
        zip(
            (nb201.code(NB201Arch.from_str(s)) for s in frame["ArchitectureString"]),
            frame["CIFAR10TestAccuracy200Epochs"],
            strict=True,
        )
    )
    data = tutorial["load_analognas"]()
    ours = [r.baseline_accuracy for r in data.values()]
    theirs = [reference[nb201.code(NB201Arch.from_naslib(k))] for k in data]
    assert spearmanr(ours, theirs).statistic > 0.95


def test_registered_search_runs_on_the_real_table(tutorial: dict[str, Any]) -> None:
    ids = tutorial["IDS"]
    env = gym.make(ids["Query"], max_queries=25)
    env.action_space.seed(2)
    env.reset(seed=2)
    truncated = False
    while not truncated:
        *_, truncated, info = env.step(env.action_space.sample())
    bench = env.unwrapped.benchmark
    assert info["queries"] == 25 and info["regret"] >= 0.0
    assert info["best_test_accuracy"] == bench.query(
        bench.space.from_string(info["best_arch"])
    )


def naslib_partial(tutorial: dict[str, Any], data_root: Path) -> TableBenchmark:
    """A real partial table: NAS-Bench-Suite-Zero's 491 measured NB201 cells."""
    path = data_root / "naslib-zc" / "zc_nasbench201.json.xz"
    if not path.is_file():
        missing_data(f"{path} is missing")
    records = json.loads(lzma.open(path).read())["nasbench201"]["cifar10"]
    # NASLib's edge and op order, the AnalogNAS tutorial space's choice vectors
    vectors = np.array(
        [json.loads(k.replace("(", "[").replace(")", "]")) for k in records]
    )
    accuracy = np.array([r["val_accuracy"] for r in records.values()])
    return TableBenchmark(
        tutorial["SPACE"],
        {"val": Metric("valid", accuracy)},
        dataset="cifar10",
        vectors=vectors,
        reward_metric="val",
        report_metric="val",
    )


def test_partial_real_table_only_reaches_measured_cells(
    tutorial: dict[str, Any], data_root: Path
) -> None:
    bench = naslib_partial(tutorial, data_root)
    space = bench.space
    assert (
        bench.num_measured
        == space.num_valid
        == len({tuple(v) for v in space.codes_to_vectors(space.valid_codes).tolist()})
    )
    assert bench.num_measured < bench.full_space.num_valid
    measured = set(space.valid_codes.tolist())
    unmeasured = int(np.flatnonzero(~space.valid_mask)[0])
    ids = register_benchmark_envs("test/NaslibPartial", bench)
    env = gym.make(ids["Query"], horizon=300)
    env.reset(seed=0)
    _, reward, *_, info = env.step(space.codes_to_vectors(unmeasured))
    assert (
        reward == 0.0
        and f"{bench.num_measured} of 15,625 cells" in info["invalid_action"]
    )
    env.action_space.seed(0)
    for _ in range(300):
        *_, info = env.step(env.action_space.sample())
        assert info["invalid_action"] is not None or info["arch_code"] in measured
    for mode in ("Edit", "Continuous"):
        walker = gym.make(ids[mode], horizon=50)
        walker.action_space.seed(1)
        _, info = walker.reset(seed=1)
        for _ in range(50):
            action = walker.action_space.sample()
            if mode == "Edit":
                legal = np.flatnonzero(walker.unwrapped.action_masks())
                if legal.size == 0:
                    break
                action = int(legal[action % legal.size])
            *_, info = walker.step(action)
            assert info["arch_code"] in measured
