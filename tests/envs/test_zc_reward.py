"""The ``zc:<proxy>`` training-free reward backend of the NB201 envs.

Most tests use ``zc:flops`` (closed form, microseconds per cell) on a fake NB201
table, so they need no data; the scores, the normalisation and the cache are the
same code for every proxy. Network proxies are checked on a narrow network
(``C=4, N=1``) through :class:`ZeroCostReward` directly.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import nasgym  # noqa: F401  (registers the envs)
from nasgym import zc_reward, zero_cost
from nasgym.benchmarks.fake import FakeBenchmark
from nasgym.error import UnknownOptionError
from nasgym.oneshot.zc_reward import ZeroCostReward
from nasgym.spaces.nb201 import NB201Space
from nasgym_agents.baselines.common import valid_accuracy

SPACE = NB201Space()
FAKE = FakeBenchmark(SPACE, seed=0)
#: A narrow network and a small reference sample keep network proxies fast.
TINY: dict[str, Any] = {"C": 4, "N": 1, "reference_size": 4}
IDS = ("nasgym/NB201Edit-v0", "nasgym/NB201Query-v0", "nasgym/NB201Continuous-v0")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh score cache (disk and memory) for every test."""
    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path))
    zc_reward.clear_memory()
    yield tmp_path / "zc"
    zc_reward.clear_memory()


def make(env_id: str = "nasgym/NB201Query-v0", **kwargs: Any) -> gym.Env[Any, Any]:
    kwargs.setdefault("reward_metric", "zc:flops")
    return gym.make(env_id, benchmark=FAKE, **kwargs)


def flops_value(code: int, reward: ZeroCostReward) -> float:
    """The documented normalisation, by hand."""
    t = math.log(zero_cost.nb201_flops(SPACE.from_code(code)))
    return 0.5 * math.erfc(-(t - reward.mu) / reward.sigma / math.sqrt(2.0))


def query(env: gym.Env[Any, Any], code: int) -> tuple[float, dict[str, Any]]:
    _, reward, _, _, info = env.step(SPACE.codes_to_vectors(code))
    return float(reward), info


# ------------------------------------------------------------------- checkers
@pytest.mark.parametrize("env_id", IDS)
def test_check_env(env_id: str) -> None:
    env = make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env.unwrapped)
        warnings.filterwarnings(
            "ignore", message=r".*unconventional shape.*", category=UserWarning
        )
        sb3_check_env(env.unwrapped, warn=True, skip_render_check=True)


# -------------------------------------------------------------------- rewards
def test_rewards_are_the_normalised_proxy_scores() -> None:
    env = make(max_queries=40)
    env.reset(seed=0)
    signal = env.unwrapped.zc_reward
    assert isinstance(signal, ZeroCostReward)
    # mu and sigma are the mean and std of log(flops) over the reference sample.
    ref = np.log(
        [
            zero_cost.nb201_flops(SPACE.from_code(int(c)))
            for c in zc_reward.reference_codes()
        ]
    )
    assert signal.mu == pytest.approx(ref.mean()) and signal.sigma == pytest.approx(
        ref.std()
    )
    codes = np.random.default_rng(1).choice(SPACE.size, 30, replace=False)
    rewards, scores = [], []
    for code in codes:
        reward, info = query(env, int(code))
        arch = SPACE.from_code(int(code))
        assert info["zc_score"] == zero_cost.nb201_flops(arch)
        assert (
            info["zc_value"]
            == reward
            == pytest.approx(flops_value(int(code), signal), rel=1e-12)
        )
        assert 0.0 <= reward <= 1.0
        # The benchmark's accuracies stay in info, for evaluation only.
        assert info["valid_accuracy"] == FAKE.table("valid")[code]
        assert info["test_accuracy"] == FAKE.table("test")[code]
        rewards.append(reward)
        scores.append(info["zc_score"])
    order = np.argsort(scores, kind="stable")
    assert np.all(np.diff(np.asarray(rewards)[order]) >= 0)
    distinct = np.unique(scores).size
    assert np.unique(rewards).size == distinct  # strictly increasing map
    # The incumbent is the best cell by the proxy, not by validation accuracy.
    best = int(codes[int(np.argmax(scores))])
    assert info["best_arch"] == SPACE.from_code(best).to_str()
    assert info["best_valid_accuracy"] == FAKE.table("valid")[best]
    assert info["best_test_accuracy"] == FAKE.table("test")[best]
    assert info["regret"] == pytest.approx(
        FAKE.optimum("test") - FAKE.table("test")[best]
    )


def test_shaping_applies_to_the_value() -> None:
    code = 1234
    env = make(reward="power", alpha=3.0)
    env.reset(seed=0)
    reward, info = query(env, code)
    assert 0.0 < info["zc_value"] < 1.0
    assert reward == pytest.approx(info["zc_value"] ** 3)
    env = make(reward="improvement")
    env.reset(seed=0)
    first, info = query(env, code)
    assert first == pytest.approx(info["zc_value"])  # no best before
    again, _ = query(env, code)
    assert again == 0.0


def test_dead_cell() -> None:
    assert SPACE.from_code(0).ops == (0,) * 6  # every edge `none`
    env = make()
    env.reset(seed=0)
    reward, info = query(env, 0)
    # The stem, the reduction blocks and the classifier still cost FLOPs.
    assert info["zc_score"] == zero_cost.nb201_flops(SPACE.from_code(0)) > 0
    assert reward == info["zc_value"] > 0.0
    # SynFlow of a dead cell is 0, and 0 maps to the lowest value.
    signal = ZeroCostReward("synflow", **TINY)
    assert signal.score(0) == 0.0 and signal.value(0) == 0.0


def test_observation_does_not_leak_accuracy() -> None:
    """The continuous top-K history is ranked by the proxy, not by accuracy."""
    env = make("nasgym/NB201Continuous-v0", top_k=3)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(12):
        env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
    core = env.unwrapped._core
    kept = core.topk_codes[0]
    signal = env.unwrapped.zc_reward
    values = signal.values(kept)
    assert np.all(np.diff(values) <= 0)
    seen = np.flatnonzero(core.visited[0])
    assert values[0] == signal.values(seen).max()


# ---------------------------------------------------------------- determinism
@pytest.mark.parametrize("env_id", IDS)
def test_seeded_runs_are_deterministic(env_id: str) -> None:
    def run() -> list[tuple[float, float, str | None]]:
        env = make(env_id, horizon=15)
        env.action_space.seed(3)
        out = []
        env.reset(seed=5)
        for _ in range(25):
            action = env.action_space.sample()
            if env_id.endswith("Edit-v0"):
                mask = env.unwrapped.action_masks()
                action = int(np.flatnonzero(mask)[action % mask.sum()])
            _, reward, _, truncated, info = env.step(action)
            out.append((reward, info["zc_score"], info["best_arch"]))
            if truncated:
                env.reset()
        return out

    first = run()
    zc_reward.clear_memory()  # the second run reads the disk cache
    assert run() == first


@pytest.mark.parametrize("env_id", IDS)
def test_vector_env_equals_single_envs(env_id: str) -> None:
    n, steps = 3, 24
    vec = gym.make_vec(
        env_id, num_envs=n, benchmark=FAKE, reward_metric="zc:flops", horizon=7
    )
    singles = [make(env_id, horizon=7) for _ in range(n)]
    _, vinfo = vec.reset(seed=10)
    for i, env in enumerate(singles):
        env.reset(seed=10 + i)
    rng = np.random.default_rng(0)
    single_space = singles[0].action_space
    ended = np.zeros(n, dtype=bool)
    for _ in range(steps):
        actions = []
        for env in singles:
            if env_id.endswith("Edit-v0"):
                mask = env.unwrapped.action_masks()
                actions.append(int(rng.choice(np.flatnonzero(mask))))
            elif isinstance(single_space, gym.spaces.Box):
                actions.append(
                    rng.uniform(-1, 1, single_space.shape).astype(np.float32)
                )
            else:
                actions.append(rng.integers(0, single_space.nvec))
        _, vrew, _, vtrunc, vinfo = vec.step(np.stack(actions))
        for i, env in enumerate(singles):
            if ended[i]:
                env.reset()
                reward, truncated, info = 0.0, False, env.unwrapped.search_info()
            else:
                _, reward, _, truncated, info = env.step(actions[i])
            assert vrew[i] == reward
            assert vtrunc[i] == truncated
            for key in ("zc_score", "zc_value", "regret", "valid_accuracy"):
                a, b = vinfo[key][i], info[key]
                assert (math.isnan(a) and math.isnan(b)) or a == b, key
            assert vinfo["best_arch"][i] == info["best_arch"]
        ended = vtrunc.copy()
    vec.close()


# ---------------------------------------------------------------------- cache
def test_scores_are_cached_on_disk_and_reused(cache: Path) -> None:
    env = make(max_queries=20)
    env.reset(seed=0)
    codes = [11, 222, 3333]
    first = [query(env, c)[1]["zc_score"] for c in codes]
    store = env.unwrapped.zc_reward.store
    assert store.computed == len({*zc_reward.reference_codes().tolist(), *codes})
    env.close()  # writes the cache file
    files = list(cache.glob("nb201-flops-cifar10-*.npz"))
    assert files == [store.path]
    zc_reward.clear_memory()
    again = make(max_queries=20)
    again.reset(seed=0)
    assert [query(again, c)[1]["zc_score"] for c in codes] == first
    assert again.unwrapped.zc_reward.store.computed == 0  # all read from disk
    # Other settings use another file: the key includes the seed and the dataset.
    ZeroCostReward("flops", dataset="ImageNet16-120").flush()
    assert len(list(cache.glob("*.npz"))) == 2


def test_network_proxy_matches_zero_cost_and_is_keyed_by_settings() -> None:
    signal = ZeroCostReward("synflow", **TINY, seed=1)
    arch = SPACE.from_code(4321)
    batch = (np.zeros((2, 3, 32, 32), np.float32), np.zeros(2, np.int64))
    expected = zero_cost.score(arch, "synflow", batch=batch, seed=1, C=4, N=1)
    assert signal.score(4321) == expected
    other = ZeroCostReward("synflow", **TINY, seed=2)
    assert other.store is not signal.store and other.score(4321) != expected
    # Data-dependent proxies see the documented image batch.
    naswot = ZeroCostReward("naswot", **TINY, images="digits", batch_size=8)
    from nasgym.oneshot.datasets import load_images

    images, labels = load_images("digits", size=32, seed=0).batch(8, seed=0)
    want = zero_cost.score(arch, "naswot", batch=(images, labels), C=4, N=1)
    assert naswot.score(4321) == pytest.approx(want, rel=1e-12)
    assert naswot.settings.images == "digits" and signal.settings.images is None


def test_batch_from_a_local_cifar_directory(tmp_path: Path) -> None:
    import pickle

    folder = tmp_path / "cifar" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        batch = {
            "data": rng.integers(0, 256, (20, 3072), dtype=np.uint8),
            "labels": [k % 10 for k in range(20)],
        }
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch))
    root = str(tmp_path / "cifar")
    signal = ZeroCostReward("naswot", **TINY, images=root, batch_size=8)
    assert signal.settings.images is not None
    assert signal.settings.images.startswith(f"cifar-dir:{folder.resolve()}:")
    from nasgym.oneshot.datasets import load_cifar

    images, labels = load_cifar("cifar10", root, seed=0).batch(8, seed=0)
    want = zero_cost.score(
        SPACE.from_code(77), "naswot", batch=(images, labels), C=4, N=1
    )
    assert signal.score(77) == pytest.approx(want, rel=1e-12)
    env = make(reward_metric="zc:flops", zc_images=root)  # accepted, unused by flops
    assert env.unwrapped.zc_reward.settings.images is None
    with pytest.raises(UnknownOptionError, match="ImageNet16-120 reader"):
        ZeroCostReward("naswot", dataset="ImageNet16-120", images=root)
    with pytest.raises(UnknownOptionError, match="torchvision-format CIFAR"):
        ZeroCostReward("naswot", images=str(tmp_path / "nowhere"))


def test_concurrent_writers_merge() -> None:
    a = ZeroCostReward("flops")
    a.score(100)
    a.flush()
    # A second process: its own memory store, the same file.
    zc_reward._STORES.clear()
    b = ZeroCostReward("flops")
    assert b.store is not a.store and b.store.known[100]
    b.score(200)
    a.score(300)
    b.flush()
    a.flush()  # merges 200 from the file before replacing it
    zc_reward._STORES.clear()
    c = ZeroCostReward("flops").store
    assert c.known[[100, 200, 300]].all()


def test_corrupt_cache_is_reported_and_rebuilt(cache: Path) -> None:
    signal = ZeroCostReward("flops")
    signal.score(77)
    path = signal.flush()
    assert path is not None
    path.write_bytes(b"not a zip file")
    zc_reward.clear_memory()
    with pytest.warns(RuntimeWarning, match="unusable.*recomputing"):
        rebuilt = ZeroCostReward("flops")
    assert not rebuilt.store.known[77]
    assert rebuilt.score(77) == signal.score(77)
    rebuilt.flush()
    zc_reward.clear_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ZeroCostReward("flops").store.known[77]


# --------------------------------------------------------------------- errors
def test_unknown_proxy_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownOptionError, match=r"'zc:synflow'.*'zc:naswot'"):
        make(reward_metric="zc:zen")
    with pytest.raises(UnknownOptionError, match="synflow"):
        ZeroCostReward("zen")


def test_bad_zc_options() -> None:
    with pytest.raises(UnknownOptionError, match="only apply to a zero-cost"):
        gym.make("nasgym/NB201Query-v0", benchmark=FAKE, zc_seed=3)
    with pytest.raises(UnknownOptionError, match="mnist5k"):
        make(zc_images="cifar10")
    with pytest.raises(UnknownOptionError, match="zc_batch_size"):
        make(reward_metric="zc:snip", zc_batch_size=1)
    with pytest.raises(UnknownOptionError, match="zc_seed"):
        make(zc_seed=-1)
    with pytest.raises(UnknownOptionError, match="device"):
        make(zc_device="tpu")


def test_cuda_without_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(zero_cost.DeviceUnavailableError, match="device='cpu'"):
        make(zc_device="cuda")


def test_baselines_use_the_proxy_as_fitness() -> None:
    env = make()
    env.reset(seed=0)
    _, info = query(env, 999)
    assert valid_accuracy(info) == 100.0 * info["zc_value"]
    assert valid_accuracy({"valid_accuracy": 70.0, "invalid_action": None}) == 70.0


@pytest.mark.gpu
def test_cuda_scores_match_cpu() -> None:
    cpu = ZeroCostReward("synflow", **TINY)
    gpu = ZeroCostReward("synflow", **TINY, device="cuda")
    assert gpu.settings.device == "cuda" and gpu.store is not cpu.store
    for code in (5, 4321, 15000):
        assert gpu.score(code) == pytest.approx(cpu.score(code), rel=1e-6)
    env = make(zc_device="cuda")
    env.reset(seed=0)
    _, info = query(env, 4321)
    assert info["zc_score"] == zero_cost.nb201_flops(SPACE.from_code(4321))


# ------------------------------------------------------------------ real data
@pytest.mark.data
def test_real_nb201_table_with_a_zc_reward(nb201_table: Path) -> None:
    from nasgym.benchmarks.nb201 import NB201Benchmark

    bench = NB201Benchmark("cifar100", path=nb201_table)
    env = gym.make(
        "nasgym/NB201Query-v0",
        dataset="cifar100",
        benchmark=bench,
        reward_metric="zc:flops",
        max_queries=10,
    )
    env.reset(seed=0)
    assert env.unwrapped.zc_reward.settings.dataset == "cifar100"
    for code in (6111, 42, 9000):
        _, info = query(env, code)
        assert info["valid_accuracy"] == bench.table("valid@12")[code]
        assert info["test_accuracy"] == bench.table("test@200")[code]
        arch = SPACE.from_code(code)
        assert info["zc_score"] == zero_cost.nb201_flops(arch, num_classes=100)
    assert info["regret"] == pytest.approx(
        bench.optimum("test@200") - info["best_test_accuracy"]
    )


# ------------------------------------------------------------------------ CLI
def test_precompute_command_fills_the_cache(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nasgym.cli import main

    assert main(["data", "zc", "nb201", "--proxy", "flops", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "15,625" in out and "nb201-flops-cifar10-" in out
    zc_reward.clear_memory()
    env = make()
    store = env.unwrapped.zc_reward.store
    assert store.known.all() and store.computed == 0
    codes = np.arange(0, SPACE.size, 997)
    expected = [zero_cost.nb201_flops(SPACE.from_code(int(c))) for c in codes]
    assert store.scores[codes].tolist() == expected
    assert main(["data", "zc", "nb201", "--proxy", "flops", "--no-progress"]) == 0
    assert "0 cells computed" in capsys.readouterr().out  # all cached now
    assert main(["data", "zc", "nb201", "--proxy", "flops", "--device", "tpu"]) == 1
    assert "device" in capsys.readouterr().err


@pytest.mark.slow
def test_freenas_command(capsys: pytest.CaptureFixture[str]) -> None:
    from nasgym.cli import main

    assert main(["freenas", "--dataset", "ImageNet16-120"]) == 0
    out = capsys.readouterr().out
    assert "1 supernet pass" in out and "wall-clock" in out
    cell = out.split("cell", 1)[1].split()[0]
    assert SPACE.from_string(cell).ops == (3,) * 6  # all nor_conv_3x3 (docs)
