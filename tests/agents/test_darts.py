"""DARTS, DARTS-2 and GDAS on the dense NB201 supernet (nasgym_agents.darts).

Gradient isolation of the bilevel steps, the second-order architecture gradient
against finite differences of the unrolled validation loss, GDAS's single op per edge
and its straight-through gradients, the temperature schedule, seeded determinism,
exact checkpoint resume, the NB201 table look-up, the command line and its errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from nasgym.error import CorruptDataError, UnknownOptionError
from nasgym.oneshot.device import DeviceUnavailableError
from nasgym_agents.darts import METHODS, DartsConfig, DartsSearch
from nasgym_agents.darts.standalone import (
    cell_summary,
    format_report,
    main,
    nb201_lookup,
    search_report,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**overrides: Any) -> DartsConfig:
    """A tiny search: two channels, one cell per stage, 8x8 digits, batch 16."""
    settings: dict[str, Any] = {
        "steps": 6,
        "dataset": "digits",
        "channels": 2,
        "num_cells": 1,
        "image_size": 8,
        "batch_size": 16,
        "device": "cpu",
        **overrides,
    }
    return DartsConfig(**settings)


def _weights(search: DartsSearch) -> list[torch.Tensor]:
    return [p.detach().clone() for p in search.weight_parameters()]


@pytest.mark.parametrize("method", METHODS)
def test_alpha_step_moves_only_alpha_and_weight_step_only_weights(
    method: str,
) -> None:
    search = DartsSearch(tiny(method=method))
    search.search_step()  # a momentum buffer exists from here on
    xv, yv = search._batch("val")
    xt, yt = search._batch("train")
    before_w, before_a = _weights(search), search.alpha.detach().clone()
    search.alpha_step(xv, yv, xt, yt)
    assert all(p.grad is None for p in search.weight_parameters())
    assert search.alpha.grad is not None
    assert bool(torch.isfinite(search.alpha.grad).all())
    assert float(search.alpha.grad.abs().sum()) > 0
    assert all(
        torch.equal(a, b) for a, b in zip(before_w, _weights(search), strict=True)
    )
    assert not torch.equal(before_a, search.alpha.detach())

    before_w, before_a = _weights(search), search.alpha.detach().clone()
    search.weight_step(xt, yt)
    assert search.alpha.grad is None
    assert any(p.grad is not None for p in search.weight_parameters())
    assert torch.equal(before_a, search.alpha.detach())
    assert not all(
        torch.equal(a, b) for a, b in zip(before_w, _weights(search), strict=True)
    )


def _double(search: DartsSearch) -> None:
    search.model.double()
    with torch.no_grad():
        search.alpha.data = search.alpha.data.double()
    for buf in search.w_optimizer.state.values():
        if "momentum_buffer" in buf:
            buf["momentum_buffer"] = buf["momentum_buffer"].double()
    search.x_train, search.x_val = search.x_train.double(), search.x_val.double()


def test_second_order_gradient_matches_finite_differences() -> None:
    # In float64 with a small radius the Hessian-vector difference is exact enough
    # (the tiny net is very curved: ReLU kinks lie within 1e-4 of its weights).
    search = DartsSearch(tiny(method="darts2", unrolled_eps=1e-6))
    search.search_step()
    _double(search)
    xv, yv = search._batch("val")
    xt, yt = search._batch("train")
    cfg = search.config
    xi, mu, lam = cfg.w_lr_at(search.step), cfg.w_momentum, cfg.w_weight_decay
    names = [n for n, _ in search.model.named_parameters()]
    params = [p.detach() for _, p in search.model.named_parameters()]
    buffers = [
        search.w_optimizer.state[p]["momentum_buffer"]
        for p in search.model.parameters()
    ]

    def unrolled_val_loss(alpha: torch.Tensor) -> float:
        w = [p.clone().requires_grad_() for p in params]
        weights = F.softmax(alpha, dim=-1)
        train = search._train_loss_at(dict(zip(names, w, strict=True)), xt, yt, weights)
        grads = torch.autograd.grad(train, w)
        moved = {
            n: (p - xi * (mu * b + g + lam * p)).detach()
            for n, p, b, g in zip(names, params, buffers, grads, strict=True)
        }
        return float(search._train_loss_at(moved, xv, yv, weights))

    _, got = search.unrolled_alpha_grad(xv, yv, xt, yt)
    base = search.alpha.detach().clone()
    h = 1e-5
    fd = torch.zeros_like(base)
    for e in range(base.shape[0]):
        for o in range(base.shape[1]):
            plus, minus = base.clone(), base.clone()
            plus[e, o] += h
            minus[e, o] -= h
            fd[e, o] = (unrolled_val_loss(plus) - unrolled_val_loss(minus)) / (2 * h)
    scale = float(fd.abs().max())
    np.testing.assert_allclose(got.numpy(), fd.numpy(), rtol=1e-4, atol=1e-5 * scale)
    # The second-order term matters here: the first-order gradient is different.
    first = torch.autograd.grad(
        search._train_loss_at(
            dict(search.model.named_parameters()), xv, yv, F.softmax(search.alpha, -1)
        ),
        [search.alpha],
    )[0]
    assert float((first - fd).abs().max()) > 100 * 1e-5 * scale


def test_gdas_runs_exactly_one_op_per_edge_with_straight_through_gradients() -> None:
    search = DartsSearch(tiny(method="gdas"))
    calls: dict[tuple[int, int], list[int]] = {}
    handles = []
    for c, cell in enumerate(search.model.cells()):
        for e, ops in enumerate(cell.edges):
            assert isinstance(ops, torch.nn.ModuleList)
            for o, op in enumerate(ops):

                def hook(
                    *_: Any, key: tuple[int, int] = (c, e), op_index: int = o
                ) -> None:
                    calls.setdefault(key, []).append(op_index)

                handles.append(op.register_forward_hook(hook))
    xv, yv = search._batch("val")
    xt, yt = search._batch("train")
    search.alpha_step(xv, yv, xt, yt)
    cells = len(search.model.cells())
    assert cells == 3
    assert sorted(calls) == [(c, e) for c in range(cells) for e in range(6)]
    assert all(len(v) == 1 for v in calls.values())
    picks = [calls[(0, e)][0] for e in range(6)]
    assert all(calls[(c, e)] == [picks[e]] for c in range(cells) for e in range(6))
    assert search.alpha.grad is not None
    assert bool((search.alpha.grad != 0).all()), search.alpha.grad
    for h in handles:
        h.remove()


def test_gdas_sample_is_one_hot_forward_and_softmax_backward() -> None:
    search = DartsSearch(tiny(method="gdas"))
    hard, picks = search.sample_gdas(tau=1.0)
    expected = F.one_hot(torch.tensor(picks), 5).float()
    assert torch.allclose(hard.detach(), expected, atol=1e-6)
    (grad,) = torch.autograd.grad(hard[0, picks[0]], [search.alpha])
    assert bool((grad[0] != 0).all()) and bool((grad[1:] == 0).all())


def test_tau_schedule_is_linear_from_max_to_min() -> None:
    cfg = tiny(method="gdas", steps=11, tau_max=10.0, tau_min=0.1)
    taus = [cfg.tau(s) for s in range(11)]
    assert taus[0] == 10.0 and taus[-1] == pytest.approx(0.1)
    assert np.allclose(np.diff(taus), -0.99)
    search = DartsSearch(cfg)
    logged = [log.tau for log in search.run().history]
    assert logged == pytest.approx(taus)


@pytest.mark.parametrize("method", METHODS)
def test_seeded_determinism(method: str) -> None:
    runs = [DartsSearch(tiny(method=method, seed=s)) for s in (3, 3, 4)]
    for run in runs:
        run.run(4)
    a, b, c = (r.alpha.detach() for r in runs)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("method", METHODS)
def test_checkpoint_resume_is_exact(method: str, tmp_path: Path) -> None:
    straight = DartsSearch(tiny(method=method))
    straight.run(6)
    first = DartsSearch(tiny(method=method))
    first.run(3, checkpoint=tmp_path / "ck.pt")
    resumed = DartsSearch(tiny(method=method))
    resumed.load_checkpoint(tmp_path / "ck.pt")
    assert resumed.step == 3
    resumed.run(6)
    assert torch.equal(straight.alpha.detach(), resumed.alpha.detach())
    for (name, p), q in zip(
        straight.model.state_dict().items(),
        resumed.model.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(p, q), name


def test_bad_checkpoints_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptDataError, match="not a readable DARTS/GDAS"):
        DartsSearch(tiny()).load_checkpoint(bad)
    good = tmp_path / "ck.pt"
    DartsSearch(tiny(method="gdas")).save_checkpoint(good)
    with pytest.raises(CorruptDataError, match=r"other settings.*method"):
        DartsSearch(tiny(method="darts")).load_checkpoint(good)


def test_error_paths() -> None:
    with pytest.raises(UnknownOptionError, match="unknown supernet dataset 'imagenet'"):
        DartsSearch(tiny(dataset="imagenet"))
    with pytest.raises(UnknownOptionError, match="unknown search method 'enas'"):
        DartsSearch(tiny(method="enas"))
    with pytest.raises(UnknownOptionError, match="tau_min"):
        DartsSearch(tiny(tau_min=20.0))
    with pytest.raises(UnknownOptionError, match="steps must be a positive int"):
        DartsSearch(tiny(steps=0))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(DeviceUnavailableError, match="device='cpu'"):
        DartsSearch(tiny(device="cuda"))


@pytest.mark.gpu
def test_cuda_matches_cpu_without_amp_and_runs_with_amp() -> None:
    cpu = DartsSearch(tiny(method="darts"))
    gpu = DartsSearch(tiny(method="darts", device="cuda", amp=False))
    cpu.run(3)
    gpu.run(3)
    assert torch.allclose(cpu.alpha.detach(), gpu.alpha.detach().cpu(), atol=1e-4)
    for method in METHODS:
        amp = DartsSearch(tiny(method=method, device="cuda", amp=True))
        amp.run(3)
        assert bool(torch.isfinite(amp.alpha).all())
        assert 0.0 <= amp.evaluate() <= 100.0


def test_evaluate_and_cell_summary() -> None:
    search = DartsSearch(tiny())
    search.run(2)
    acc = search.evaluate()
    assert 0.0 <= acc <= 100.0
    assert search.evaluate(search.derive()) == acc
    summary = cell_summary((1, 1, 4, 0, 1, 1))
    assert summary == {
        "skip_edges": 4,
        "pool_edges": 1,
        "none_edges": 1,
        "parameter_free_edges": 6,
        "collapsed": True,
    }
    assert not cell_summary((3, 1, 1, 1, 1, 1))["collapsed"]


@pytest.mark.data
def test_nb201_lookup_reports_all_three_datasets(nb201_table: Path) -> None:
    from nasgym.benchmarks.nb201 import NB201Benchmark
    from nasgym.spaces.nb201 import NB201Space

    arch = (3, 3, 3, 3, 3, 3)
    got = nb201_lookup(arch, str(nb201_table))
    assert got is not None
    assert sorted(got) == ["ImageNet16-120", "cifar10", "cifar100"]
    code = int(NB201Space().vectors_to_codes(np.asarray([list(arch)]))[0])
    for dataset, acc in got.items():
        table = NB201Benchmark(dataset, path=str(nb201_table)).table("test@200")
        assert acc["test@200"] == float(table[code])
    assert got["cifar10"]["test@200"] > 90.0  # the all-3x3 cell is a good one


def test_search_report_and_cli_resume(tmp_path: Path, capsys: Any) -> None:
    report = search_report(tiny(method="gdas", steps=3))
    assert report["steps"] == 3 and report["method"] == "gdas"
    assert len(report["arch_ops"]) == 6 and report["search_s"] > 0
    assert "derived cell" in format_report(report)
    args = [
        "--method",
        "darts",
        "--steps",
        "4",
        "--channels",
        "2",
        "--image-size",
        "8",
        "--batch-size",
        "16",
        "--log-every",
        "2",
    ]
    ck, out = tmp_path / "ck.pt", tmp_path / "r.json"
    # An interrupted run: 2 of its 4 steps done, then the command line resumes it.
    cfg = tiny(method="darts", steps=4, image_size=8, channels=2)
    DartsSearch(cfg).run(2, checkpoint=ck)
    assert main([*args, "--checkpoint", str(ck), "--json", str(out)]) == 0
    resumed = json.loads(out.read_text())
    assert resumed["resumed_from"] == 2 and resumed["steps"] == 4
    assert main([*args, "--json", str(tmp_path / "s.json")]) == 0
    assert "step 4/4: train loss" in capsys.readouterr().err  # progress
    straight = json.loads((tmp_path / "s.json").read_text())
    assert straight["probabilities"] == resumed["probabilities"]
    assert straight["arch"] == resumed["arch"]
    # Other settings (here: the number of steps, which sets the schedules) refuse.
    assert main([*args[:3], "5", *args[4:], "--checkpoint", str(ck)]) == 2
    assert "other settings (steps)" in capsys.readouterr().err
    assert main([*args, "--checkpoint", str(ck)]) == 0
    assert main(["--dataset", "imagenet", "--steps", "1"]) == 2
    assert "unknown supernet dataset 'imagenet'" in capsys.readouterr().err


KEPT = ((1, 3), (0, 2, 4), (3,), (1, 2, 3, 4), (4, 1), (0, 1, 2, 3, 4))


@pytest.mark.parametrize("method", METHODS)
def test_candidates_restrict_ops_alpha_and_derived_cell(method: str) -> None:
    from nasgym_agents.darts import PrunedOp

    search = DartsSearch(tiny(method=method, candidates=KEPT))
    full = DartsSearch(tiny(method=method))
    for cell, full_cell in zip(search.model.cells(), full.model.cells(), strict=True):
        for slot, kept in enumerate(KEPT):
            for k in range(5):
                op, full_op = cell.edges[slot][k], full_cell.edges[slot][k]  # type: ignore[index]
                if k in kept:
                    # the kept ops start with the full supernet's weights
                    for p, q in zip(op.parameters(), full_op.parameters(), strict=True):
                        assert torch.equal(p, q)
                else:
                    assert isinstance(op, PrunedOp)
    assert sum(p.numel() for p in search.weight_parameters()) < sum(
        p.numel() for p in full.weight_parameters()
    )
    result = search.run()
    mask = np.zeros((6, 5), dtype=bool)
    for slot, kept in enumerate(KEPT):
        mask[slot, list(kept)] = True
    assert all(op in KEPT[slot] for slot, op in enumerate(result.arch))
    assert np.all(result.probabilities[~mask] == 0.0)
    assert np.allclose(result.probabilities.sum(axis=1), 1.0)
    assert all(log.arch[s] in KEPT[s] for log in result.history for s in range(6))
    if method == "gdas":
        for _ in range(20):
            _, picks = search.sample_gdas(1.0)
            assert all(p in KEPT[s] for s, p in enumerate(picks))
    search.evaluate()  # the derived cell runs
    with pytest.raises(Exception, match="pruned from the supernet"):
        search.evaluate((0, 1, 0, 0, 0, 0))  # edge 0 kept only ops 1 and 3


def test_candidates_checkpoint_resume_and_mismatch(tmp_path: Path) -> None:
    straight = DartsSearch(tiny(candidates=KEPT))
    straight.run(6)
    first = DartsSearch(tiny(candidates=KEPT))
    first.run(3, checkpoint=tmp_path / "ck.pt")
    resumed = DartsSearch(tiny(candidates=KEPT))
    resumed.load_checkpoint(tmp_path / "ck.pt")
    resumed.run(6)
    assert torch.equal(straight.alpha.detach(), resumed.alpha.detach())
    with pytest.raises(CorruptDataError, match="candidates"):
        DartsSearch(tiny()).load_checkpoint(tmp_path / "ck.pt")


@pytest.mark.parametrize(
    ("candidates", "match"),
    [
        (((1,),) * 5, "each of the 6 edges"),
        (((1,),) * 5 + ((),), r"candidates\[5\] must be a non-empty"),
        (((1,),) * 5 + ((5,),), r"candidates\[5\] must be a non-empty"),
        (((1,),) * 5 + ((2, 2),), "repeats an op"),
    ],
)
def test_bad_candidates_are_clear_errors(candidates: Any, match: str) -> None:
    with pytest.raises(UnknownOptionError, match=match):
        DartsSearch(tiny(candidates=candidates))
