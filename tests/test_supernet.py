"""The sparse NB201 supernet and its one-shot trainer.

Modules: nasgym.oneshot.nn.supernet and nasgym.oneshot.supernet.

Gradient flow through the sampled ops only, per-edge advantages against finite
differences, batched evaluation against separate forwards, seeded determinism,
checkpoint save/resume, and the error paths (missing CIFAR directory, CUDA without a
GPU, corrupt and mismatched checkpoints). GPU equivalence is marked ``gpu``.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_supernet import tiny_supernet

from nasgym.error import BenchmarkDataMissingError, CorruptDataError, UnknownOptionError
from nasgym.oneshot.datasets import load_cifar
from nasgym.oneshot.nn.supernet import NB201Supernet
from nasgym.oneshot.supernet import Supernet, load_split
from nasgym.oneshot.zero_cost import DeviceUnavailableError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = tiny_supernet(channels=3, eval_batch_size=64, eval_batches=None)
ARCH = (3, 1, 2, 0, 4, 3)


def test_only_sampled_ops_get_gradients() -> None:
    torch.manual_seed(0)
    net = NB201Supernet(C=3, N=1, in_channels=1)
    x = torch.randn(8, 1, 8, 8)
    net(x, [ARCH]).sum().backward()
    for cell in net.op_modules():
        for slot, ops in enumerate(cell):
            for k, op in enumerate(ops):
                grads = [p.grad for p in op.parameters()]
                if k == ARCH[slot]:
                    assert all(g is not None and g.abs().sum() > 0 for g in grads)
                else:  # never run: no gradient at all
                    assert all(g is None for g in grads), (slot, k)
    stem = [p.grad for p in net.net.stem.parameters()]
    assert all(g is not None for g in stem)


def test_edge_advantage_is_the_derivative_of_the_loss_in_the_scale() -> None:
    torch.manual_seed(1)
    net = NB201Supernet(C=3, N=1, in_channels=1).double()
    x = torch.randn(8, 1, 8, 8, dtype=torch.float64)
    y = torch.arange(8) % 10
    scales = torch.ones(1, 6, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(net(x, [ARCH], scales)[0], y)
    (grad,) = torch.autograd.grad(loss, scales)
    eps = 1e-6
    for e in range(6):
        bumped = []
        for sign in (1, -1):
            s = torch.ones(1, 6, dtype=torch.float64)
            s[0, e] += sign * eps
            with torch.no_grad():
                out = net(x, [ARCH], s)[0]
            bumped.append(float(torch.nn.functional.cross_entropy(out, y)))
        numeric = (bumped[0] - bumped[1]) / (2 * eps)
        assert numeric == pytest.approx(float(grad[0, e]), rel=1e-5, abs=1e-9)
    # the zero op (slot 3 is "none") has an exactly zero advantage
    assert float(grad[0, 3]) == 0.0


def test_batched_evaluation_equals_separate_forwards() -> None:
    torch.manual_seed(2)
    net = NB201Supernet(C=3, N=1, in_channels=1)
    x = torch.randn(16, 1, 8, 8)
    choices = [ARCH, (0, 0, 0, 0, 0, 0), (3, 3, 3, 3, 3, 3), (1, 2, 3, 4, 0, 1)]
    with torch.no_grad():
        batched = net(x, choices)
        alone = torch.stack([net(x, [c])[0] for c in choices])
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-5)


def test_training_is_seeded_and_changes_only_after_steps() -> None:
    a, b = Supernet("digits", seed=5, **TINY), Supernet("digits", seed=5, **TINY)
    losses_a = [a.train_step(ARCH) for _ in range(3)]
    losses_b = [b.train_step(ARCH) for _ in range(3)]
    assert losses_a == losses_b
    np.testing.assert_array_equal(a.evaluate([ARCH]), b.evaluate([ARCH]))
    other = Supernet("digits", seed=6, **TINY)
    assert [other.train_step(ARCH) for _ in range(3)] != losses_a
    assert a.weight_steps == 3 and a.images_trained == 48


def test_evaluation_of_several_cells_matches_one_at_a_time() -> None:
    net = Supernet("digits", seed=0, **TINY)
    net.train_step(ARCH)
    cells = [ARCH, (1, 1, 1, 1, 1, 1), (4, 3, 2, 1, 0, 4)]
    together = net.evaluate(cells, max_batch=3)  # one forward for all three
    alone = np.concatenate([net.evaluate([c]) for c in cells])
    np.testing.assert_allclose(together, alone)
    assert together.shape == (3,) and ((0 <= together) & (together <= 100)).all()
    np.testing.assert_allclose(net.evaluate(cells), together)  # CPU default: 1
    with pytest.raises(UnknownOptionError, match="max_batch"):
        net.evaluate(cells, max_batch=0)


def test_checkpoint_resume_continues_exactly(tmp_path: Path) -> None:
    net = Supernet("digits", seed=3, **TINY)
    net.set_schedule(10)
    for _ in range(2):
        net.train_step(ARCH)
    path = net.save_checkpoint(tmp_path / "sn.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sn.pt"]  # no temp left
    expected = [net.train_step(ARCH) for _ in range(3)]
    expected_acc = net.evaluate([ARCH])
    fresh = Supernet("digits", seed=99, **TINY)
    fresh.load_checkpoint(path)
    assert fresh.weight_steps == 2 and fresh.schedule_steps == 10
    assert [fresh.train_step(ARCH) for _ in range(3)] == expected
    np.testing.assert_array_equal(fresh.evaluate([ARCH]), expected_acc)


def test_checkpoint_errors(tmp_path: Path) -> None:
    net = Supernet("digits", seed=0, **TINY)
    with pytest.raises(FileNotFoundError, match="no supernet checkpoint"):
        net.load_checkpoint(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptDataError, match="not a readable supernet checkpoint"):
        net.load_checkpoint(bad)
    wide = Supernet("digits", seed=0, **{**TINY, "channels": 4})
    path = wide.save_checkpoint(tmp_path / "wide.pt")
    with pytest.raises(CorruptDataError, match=r"channels=4 \(this supernet: 3\)"):
        net.load_checkpoint(path)
    torch.save({"version": 1, "config": {}}, tmp_path / "odd.pt")
    with pytest.raises(CorruptDataError, match="different supernet"):
        net.load_checkpoint(tmp_path / "odd.pt")


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceUnavailableError, match="pass device='cpu'"):
        Supernet("digits", **{**TINY, "device": "cuda"})
    auto = Supernet("digits", **{**TINY, "device": "auto"})
    assert auto.device.type == "cpu" and not auto.amp and not auto.channels_last


def test_missing_cifar_directory_names_the_layout(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkDataMissingError, match="data_dir=DIR"):
        load_split("cifar10")
    with pytest.raises(BenchmarkDataMissingError, match="is not a directory"):
        load_split("cifar10", data_dir=tmp_path / "nope")
    with pytest.raises(
        BenchmarkDataMissingError, match=r"lacks data_batch_1.*cifar-10-batches-py"
    ):
        load_split("cifar10", data_dir=tmp_path)
    (tmp_path / "cifar-100-python").mkdir()
    with pytest.raises(BenchmarkDataMissingError, match="lacks train"):
        load_split("cifar100", data_dir=tmp_path)


def _fake_cifar(root: Path, rng: np.random.Generator) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        batch = {
            "data": rng.integers(0, 256, (20, 3072), dtype=np.uint8),
            "labels": (np.arange(20) % 10).tolist(),
        }
        with open(folder / f"data_batch_{i}", "wb") as handle:
            pickle.dump(batch, handle)
    (folder / "test_batch").write_bytes(b"never read")


def test_cifar_reads_training_pickles_only(tmp_path: Path) -> None:
    _fake_cifar(tmp_path, np.random.default_rng(0))
    split = load_cifar("cifar10", tmp_path, seed=1)
    assert split.x_train.shape == (50, 3, 32, 32) and split.x_val.shape[0] == 50
    assert split.num_classes == 10
    np.testing.assert_allclose(split.x_train.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    same = load_cifar("cifar10", tmp_path / "cifar-10-batches-py", seed=1)
    np.testing.assert_array_equal(same.y_val, split.y_val)
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").write_bytes(b"junk")
    with pytest.raises(CorruptDataError, match="data_batch_2 is not a CIFAR"):
        load_cifar("cifar10", tmp_path)


def test_cifar_pickles_are_restricted(tmp_path: Path) -> None:
    # Issue 15.14: batches from a user directory ran any code their pickle named.
    _fake_cifar(tmp_path, np.random.default_rng(0))
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, ...]:
            return (Path.touch, (marker,))

    with open(tmp_path / "cifar-10-batches-py" / "data_batch_3", "wb") as handle:
        pickle.dump({"data": Evil(), "labels": []}, handle)
    with pytest.raises(CorruptDataError, match=r"data_batch_3 .*refusing") as info:
        load_cifar("cifar10", tmp_path)
    assert not marker.exists(), info.value


@pytest.mark.gpu
def test_cuda_matches_cpu_up_to_float_tolerance() -> None:
    cpu = Supernet("digits", seed=0, **TINY)
    gpu = Supernet("digits", seed=0, **{**TINY, "device": "cuda", "amp": False})
    assert gpu.device.type == "cuda" and gpu.channels_last
    for _ in range(3):
        assert gpu.train_step(ARCH) == pytest.approx(cpu.train_step(ARCH), rel=1e-3)
    cells = [ARCH, (1, 1, 1, 1, 1, 1)]
    np.testing.assert_allclose(gpu.evaluate(cells), cpu.evaluate(cells), atol=2.0)
    adv_cpu, _ = cpu.edge_advantages(ARCH)
    adv_gpu, _ = gpu.edge_advantages(ARCH)
    np.testing.assert_allclose(adv_gpu, adv_cpu, rtol=1e-2, atol=1e-4)
    amp = Supernet("digits", seed=0, **{**TINY, "device": "cuda"})
    assert amp.amp and np.isfinite(amp.train_step(ARCH))
