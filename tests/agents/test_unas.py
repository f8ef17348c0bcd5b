"""UNAS on the NB201 supernet (nasgym_agents.unas).

Unbiasedness of both gradient estimators against the exact gradient of a small
categorical problem with a non-differentiable loss (and the bias that appears without
the REBAR correction term), the conditional Gumbel relaxation, the latency term on
the measured HW-NAS-Bench-360 table (surrogate fit, the ramp moving the distribution
toward the target), gradient isolation, seeded determinism, exact checkpoint resume,
the wall-clock budget, the report, the command line and the error paths.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from nasgym.error import CorruptDataError, UnknownOptionError
from nasgym.oneshot.device import DeviceUnavailableError
from nasgym_agents.unas import (
    ESTIMATORS,
    LatencyTable,
    LinearLatencySurrogate,
    UnasConfig,
    UnasSearch,
    exact_gradient,
    rebar_estimate,
    reinforce_estimate,
    run_unas,
)
from nasgym_agents.unas.estimators import (
    conditional_gumbel,
    entropy,
    gumbel_sample,
    log_prob,
)
from nasgym_agents.unas.latency import penalty_weight
from nasgym_agents.unas.standalone import format_report, main

try:
    from conftest import missing_data  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover
    from tests.conftest import missing_data

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**overrides: Any) -> UnasConfig:
    """A tiny search without the latency term (no tables needed)."""
    settings: dict[str, Any] = {
        "steps": 6,
        "dataset": "digits",
        "channels": 2,
        "num_cells": 1,
        "image_size": 8,
        "batch_size": 16,
        "device": "cpu",
        "latency_weight": 0.0,
        **overrides,
    }
    return UnasConfig(**settings)


# -- the estimators on a small categorical problem --------------------------------

TABLE = torch.tensor([[0.3, 2.0, -1.0], [1.5, -0.5, 0.7]], dtype=torch.float64)


def f_discrete(z: tuple[int, ...] | list[int]) -> float:
    """Non-differentiable in z: a product of table entries plus an indicator."""
    return float(TABLE[0, z[0]] * TABLE[1, z[1]]) + float(z[0] == z[1])


def f_relaxed(w: torch.Tensor) -> torch.Tensor:
    """A smooth extension to the simplex (not f's multilinear one)."""
    return (w[0] * TABLE[0]).sum() * (w[1] * TABLE[1]).sum()


LOGITS = torch.tensor([[0.4, -0.3, 0.1], [-0.8, 0.5, 0.2]], dtype=torch.float64)


def _mean_gradient(
    sample: Any, n: int
) -> tuple[torch.Tensor, torch.Tensor]:  # mean and standard error
    grads = []
    for _ in range(n):
        leaf = LOGITS.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(sample(leaf), [leaf])
        grads.append(g)
    stacked = torch.stack(grads)
    return stacked.mean(0), stacked.std(0) / math.sqrt(n)


def _discrete_tensor(z: list[int]) -> torch.Tensor:
    return torch.tensor(f_discrete(z), dtype=torch.float64)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimators_are_unbiased_for_a_non_differentiable_loss(estimator: str) -> None:
    _, exact = exact_gradient(LOGITS, f_discrete)
    gen = torch.Generator().manual_seed(11)
    baseline = [0.0]

    def sample(leaf: torch.Tensor) -> torch.Tensor:
        if estimator == "rebar":
            est = rebar_estimate(leaf, _discrete_tensor, f_relaxed, gen, tau=0.5)
        else:
            est = reinforce_estimate(leaf, _discrete_tensor, gen, baseline=baseline[0])
            baseline[0] = 0.9 * baseline[0] + 0.1 * est.f_z
        return est.surrogate

    mean, se = _mean_gradient(sample, 6000)
    assert float(exact.abs().max()) > 0.1  # a non-trivial gradient
    z_scores = ((mean - exact) / se).abs()
    assert float(z_scores.max()) < 4.5, (mean, exact, se)
    assert float((mean - exact).abs().max()) < 0.03


def test_rebar_without_its_correction_term_is_biased() -> None:
    # The same construction minus d f(zeta_tilde): the control variate's bias stays
    # (a relaxation far from f makes it large); with the term it is unbiased.
    _, exact = exact_gradient(LOGITS, f_discrete)

    def relaxed(w: torch.Tensor) -> torch.Tensor:
        return 3.0 * f_relaxed(w) + 2.0 * w[0, 0]

    def run(correct: bool) -> torch.Tensor:
        gen = torch.Generator().manual_seed(11)

        def sample(leaf: torch.Tensor) -> torch.Tensor:
            if correct:
                return rebar_estimate(leaf, _discrete_tensor, relaxed, gen).surrogate
            z, s = gumbel_sample(leaf, gen)
            zeta = F.softmax(s, dim=-1)
            tilde = F.softmax(conditional_gumbel(leaf, z, gen), dim=-1)
            control = relaxed(tilde).detach()
            return log_prob(leaf, z) * (f_discrete(z) - control) + relaxed(zeta)

        mean, se = _mean_gradient(sample, 4000)
        return ((mean - exact) / se).abs().max()

    assert float(run(correct=False)) > 10.0
    assert float(run(correct=True)) < 4.5


def test_conditional_gumbel_keeps_the_argmax_and_the_joint_law() -> None:
    gen = torch.Generator().manual_seed(5)
    plain, conditional = (
        torch.zeros(2, 3, dtype=torch.float64),
        torch.zeros(2, 3, dtype=torch.float64),
    )
    n = 6000
    for _ in range(n):
        z, s = gumbel_sample(LOGITS, gen)
        tilde = conditional_gumbel(LOGITS, z, gen)
        assert tilde.argmax(dim=-1).tolist() == z
        plain += F.softmax(s, dim=-1)
        conditional += F.softmax(tilde, dim=-1)
    # z ~ q then s ~ r(s | z) is the unconditional Gumbel law: equal means.
    assert torch.allclose(plain / n, conditional / n, atol=0.015)


def test_entropy_log_prob_and_the_penalty_ramp() -> None:
    flat = torch.zeros(6, 5)
    assert float(entropy(flat)) == pytest.approx(6 * math.log(5))
    assert float(log_prob(flat, [0] * 6)) == pytest.approx(6 * math.log(0.2))
    ramp = [penalty_weight(s, weight=0.4, ramp_steps=4) for s in range(6)]
    assert ramp == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.4])
    assert penalty_weight(0, weight=0.4, ramp_steps=0) == 0.4
    cfg = tiny(steps=10, latency_weight=1.0)
    assert cfg.resolved_ramp_steps == 5 and cfg.c_at(5) == 1.0
    assert cfg.arch_lr_at(0) == pytest.approx(1e-3)
    assert cfg.arch_lr_at(10) == pytest.approx(1e-4)


# -- the latency term on the real table ---------------------------------------------


@pytest.fixture(scope="module")
def latency_table(data_root: Path, nb201_table: Path) -> LatencyTable:
    """Pi 5 (LiteRT) latencies, HW-NAS-Bench-360 imported beside the NB201 table."""
    from nasgym.benchmarks import hw360
    from nasgym.datastore import import_data

    source = data_root / "hw-nas-bench-360"
    if not (source / hw360.SOURCE_FILE).is_file():
        missing_data(f"{source / hw360.SOURCE_FILE} is not a file")
    import_data("hw-nas-bench-360", source)
    return LatencyTable.load("pi5-litert", nb201_path=str(nb201_table))


@pytest.mark.data
def test_latency_table_and_surrogate_fit(latency_table: LatencyTable) -> None:
    values = latency_table.values
    assert values.shape == (15625,) and float(values.min()) >= 0.0
    # The all-3x3-conv cell is the slowest kind; all-skip is fast.
    assert latency_table.latency((3,) * 6) > 5 * latency_table.latency((1,) * 6)
    surrogate = LinearLatencySurrogate.fit_table(latency_table, seed=0)
    fit = surrogate.fit
    assert (fit.samples, fit.train_size, fit.test_size) == (10_000, 8000, 2000)
    assert fit.test_r2 > 0.7 and fit.test_spearman > 0.8
    assert fit.test_rmse_ms < float(values.std())
    # The relaxation of a one-hot cell is the surrogate's prediction for it.
    arch = np.array([[3, 1, 0, 2, 4, 3]])
    one_hot = F.one_hot(torch.tensor(arch[0]), 5).double()
    assert float(surrogate.relaxed(one_hot)) == pytest.approx(
        float(surrogate.predict(arch)[0])
    )
    uniform = np.full((6, 5), 0.2)
    assert latency_table.expected(uniform) == pytest.approx(float(values.mean()))
    with pytest.raises(UnknownOptionError, match="latency_fit_samples"):
        LinearLatencySurrogate.fit_table(latency_table, samples=5)
    with pytest.raises(UnknownOptionError, match="unknown HW-NAS-Bench-360"):
        LatencyTable.load("pi4")


def _latency_run(
    table: LatencyTable, estimator: str, weight: float, steps: int = 200
) -> list[float]:
    """Adam on q alone: a task term that rewards 3x3 convs (which are slow) plus the
    ramped latency penalty (target 3 ms, ramp 100 steps); E_q[latency] every 25 steps.
    """
    surrogate = LinearLatencySurrogate.fit_table(table, seed=0)
    target, ramp, reward = 3.0, 100, 0.5
    logits = torch.zeros(6, 5, dtype=torch.float64)
    logits[:, 3] = 1.0
    logits.requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=0.05)
    gen = torch.Generator().manual_seed(0)
    baseline, trace = 0.0, []
    for step in range(steps):
        if step % 25 == 0:
            trace.append(table.expected(F.softmax(logits.detach(), dim=-1).numpy()))
        c = penalty_weight(step, weight=weight, ramp_steps=ramp)

        def discrete(z: list[int], c: float = c) -> torch.Tensor:
            penalty = c * max(0.0, table.latency(z) - target)
            return torch.tensor(penalty - reward * z.count(3), dtype=torch.float64)

        def relaxed(w: torch.Tensor, c: float = c) -> torch.Tensor:
            penalty = c * torch.relu(surrogate.relaxed(w) - target)
            return penalty - reward * w[:, 3].sum()

        if estimator == "rebar":
            est = rebar_estimate(logits, discrete, relaxed, gen)
        else:
            est = reinforce_estimate(logits, discrete, gen, baseline=baseline)
            baseline = 0.9 * baseline + 0.1 * est.f_z
        opt.zero_grad()
        est.surrogate.backward()  # type: ignore[no-untyped-call]
        opt.step()
    trace.append(table.expected(F.softmax(logits.detach(), dim=-1).numpy()))
    return trace


@pytest.mark.data
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_latency_penalty_moves_the_cells_toward_the_target_as_c_ramps(
    latency_table: LatencyTable, estimator: str
) -> None:
    # Without the penalty the task term drives q to the slowest (all-3x3) cells.
    idle = _latency_run(latency_table, estimator, weight=0.0)
    assert idle[-1] > 12.0
    # With it, E_q[latency] first rises while c is small, then falls toward the
    # target as c ramps up, and stays there.
    ramped = _latency_run(latency_table, estimator, weight=0.3)
    peak = int(np.argmax(ramped))
    assert 0 < peak < len(ramped) - 3, ramped
    assert all(b <= a + 0.3 for a, b in itertools.pairwise(ramped[peak:])), ramped
    assert abs(ramped[-1] - 3.0) < 2.0
    assert abs(ramped[-1] - 3.0) < 0.25 * abs(idle[-1] - 3.0)
    # A steeper ramp reaches low latency sooner and ends lower.
    strong = _latency_run(latency_table, estimator, weight=1.0)
    first = [
        next(i for i, v in enumerate(t) if i > 0 and v < 6.0) for t in (ramped, strong)
    ]
    assert first[1] < first[0], (ramped, strong)
    assert strong[-1] < ramped[-1]


@pytest.mark.data
def test_search_uses_measured_latency_for_samples_and_ramps_c(
    latency_table: LatencyTable, tmp_path: Path
) -> None:
    cfg = tiny(latency_weight=0.5, latency_ramp_steps=4, latency_fit_samples=500)
    search = UnasSearch(cfg, latency=latency_table)
    result = search.run()
    assert search.surrogate is not None and search.surrogate.fit.train_size == 400
    assert [log.c for log in result.history] == pytest.approx(
        [0.0, 0.125, 0.25, 0.375, 0.5, 0.5]
    )
    for log in result.history:
        assert log.latency_ms == latency_table.latency(log.sample)
        gap = log.train_loss + 0.5 * abs(log.val_loss - log.train_loss)
        penalty = log.c * max(0.0, log.latency_ms - cfg.latency_target_ms)
        assert log.objective == pytest.approx(gap + penalty, rel=1e-5)
    # Resume is exact with the latency term on, too.
    first = UnasSearch(cfg, latency=latency_table)
    first.run(3, checkpoint=tmp_path / "ck.pt")
    resumed = UnasSearch(cfg, latency=latency_table)
    resumed.load_checkpoint(tmp_path / "ck.pt")
    resumed.run()
    assert torch.equal(resumed.alpha.detach(), search.alpha.detach())


@pytest.mark.data
@pytest.mark.parametrize(
    ("estimator", "steps"),
    [("reinforce", 100), pytest.param("rebar", 60, marks=pytest.mark.slow)],
)
def test_latency_term_lowers_the_searched_distributions_latency(
    latency_table: LatencyTable, estimator: str, steps: int
) -> None:
    # A tiny supernet search with a large architecture learning rate, so q moves.
    def expected_latency(weight: float) -> float:
        cfg = tiny(
            estimator=estimator,
            steps=steps,
            arch_lr=0.05,
            arch_lr_min=0.005,
            latency_weight=weight,
            latency_fit_samples=500,
        )
        search = UnasSearch(cfg, latency=latency_table)
        search.run()
        return latency_table.expected(search.probabilities())

    without, with_term = expected_latency(0.0), expected_latency(1.0)
    assert with_term < 0.8 * without, (without, with_term)


# -- the search ----------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_arch_step_moves_only_alpha_and_weight_step_only_weights(
    estimator: str,
) -> None:
    search = UnasSearch(tiny(estimator=estimator))
    search.search_step()
    weights = [p.detach().clone() for p in search.model.parameters()]
    alpha = search.alpha.detach().clone()
    search.arch_step()
    assert all(p.grad is None for p in search.model.parameters())
    assert search.alpha.grad is not None and float(search.alpha.grad.abs().sum()) > 0
    assert all(
        torch.equal(a, p)
        for a, p in zip(weights, search.model.parameters(), strict=True)
    )
    assert not torch.equal(alpha, search.alpha.detach())
    alpha = search.alpha.detach().clone()
    search.weight_step()
    assert search.alpha.grad is None
    assert torch.equal(alpha, search.alpha.detach())
    assert not all(
        torch.equal(a, p)
        for a, p in zip(weights, search.model.parameters(), strict=True)
    )


def test_reinforce_baseline_is_a_bias_corrected_ema_of_past_losses() -> None:
    search = UnasSearch(tiny(estimator="reinforce", baseline_decay=0.5))
    assert search.baseline == 0.0
    logs = [search.search_step() for _ in range(3)]
    f = [log.objective for log in logs]
    ema = 0.5 * (0.5 * (0.5 * f[0]) + 0.5 * f[1]) + 0.5 * f[2]
    assert search.baseline == pytest.approx(ema / (1 - 0.5**3))
    assert all(math.isfinite(log.entropy) for log in logs)
    assert logs[-1].entropy < 6 * math.log(5)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_seeded_determinism(estimator: str) -> None:
    runs = [UnasSearch(tiny(estimator=estimator, seed=s)) for s in (3, 3, 4)]
    for run in runs:
        run.run(4)
    a, b, c = (r.alpha.detach() for r in runs)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_checkpoint_resume_is_exact(estimator: str, tmp_path: Path) -> None:
    straight = UnasSearch(tiny(estimator=estimator))
    straight.run()
    first = UnasSearch(tiny(estimator=estimator))
    first.run(3, checkpoint=tmp_path / "ck.pt")
    resumed = UnasSearch(tiny(estimator=estimator))
    resumed.load_checkpoint(tmp_path / "ck.pt")
    assert resumed.step == 3
    resumed.run()
    assert torch.equal(straight.alpha.detach(), resumed.alpha.detach())
    assert straight.baseline == resumed.baseline
    for (name, p), q in zip(
        straight.model.state_dict().items(),
        resumed.model.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(p, q), name


def test_bad_checkpoints_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptDataError, match="not a readable UNAS checkpoint"):
        UnasSearch(tiny()).load_checkpoint(bad)
    good = tmp_path / "ck.pt"
    UnasSearch(tiny(estimator="reinforce")).save_checkpoint(good)
    with pytest.raises(CorruptDataError, match=r"other settings.*estimator"):
        UnasSearch(tiny(estimator="rebar")).load_checkpoint(good)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"dataset": "imagenet"}, "unknown supernet dataset 'imagenet'"),
        ({"estimator": "relax"}, "unknown UNAS estimator 'relax'"),
        ({"steps": 0}, "steps must be a positive int"),
        ({"tau": 0.0}, "tau must be positive"),
        ({"gap_lambda": -1.0}, "gap_lambda must be a finite number >= 0"),
        ({"baseline_decay": 1.0}, r"baseline_decay must be in \[0, 1\)"),
        ({"arch_lr_min": 1.0}, "arch_lr_min .* must not exceed arch_lr"),
        ({"latency_target_ms": -2.0}, "latency_target_ms must be a positive"),
        ({"latency_ramp_steps": -1}, "latency_ramp_steps must be an int >= 0"),
        ({"latency_device": "pi4"}, "unknown HW-NAS-Bench-360 latency device 'pi4'"),
    ],
)
def test_error_paths(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(UnknownOptionError, match=message):
        UnasSearch(tiny(**overrides))


def test_time_budget_must_be_positive() -> None:
    with pytest.raises(UnknownOptionError, match="time_budget_s must be positive"):
        UnasSearch(tiny()).run(time_budget_s=0.0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(DeviceUnavailableError, match="device='cpu'"):
        UnasSearch(tiny(device="cuda"))


@pytest.mark.gpu
def test_cuda_matches_cpu_without_amp_and_runs_with_amp() -> None:
    cpu = UnasSearch(tiny())
    gpu = UnasSearch(tiny(device="cuda", amp=False))
    cpu.run(3)
    gpu.run(3)
    assert torch.allclose(cpu.alpha.detach(), gpu.alpha.detach().cpu(), atol=1e-4)
    for estimator in ESTIMATORS:
        amp = UnasSearch(tiny(estimator=estimator, device="cuda", amp=True))
        amp.run(3)
        assert bool(torch.isfinite(amp.alpha).all())
        assert 0.0 <= amp.evaluate() <= 100.0


def test_run_unas_with_a_wall_clock_budget_and_the_report() -> None:
    report = run_unas(3, steps=10_000, time_budget_s=0.05, config=tiny())
    assert report["stopped_by_budget"] and 1 <= report["steps"] < 10_000
    assert report["seed"] == 3 and report["latency_term"] is False
    assert report["latency_surrogate_fit"] is None
    assert len(report["arch_ops"]) == 6 and report["search_s"] > 0
    assert "derived cell" in format_report(report)
    fixed = run_unas(3, steps=2, config=tiny(estimator="reinforce"))
    assert fixed["steps"] == 2 and not fixed["stopped_by_budget"]
    assert fixed["estimator"] == "reinforce"
    assert len(fixed["trace"]) == 2


def test_cli_progress_resume_and_errors(tmp_path: Path, capsys: Any) -> None:
    args = [
        "--estimator",
        "reinforce",
        "--steps",
        "4",
        "--channels",
        "2",
        "--image-size",
        "8",
        "--batch-size",
        "16",
        "--no-latency",
        "--log-every",
        "2",
    ]
    ck, out = tmp_path / "ck.pt", tmp_path / "r.json"
    cfg = dataclasses.replace(tiny(estimator="reinforce", steps=4), batch_size=16)
    UnasSearch(cfg).run(2, checkpoint=ck)
    assert main([*args, "--checkpoint", str(ck), "--json", str(out)]) == 0
    resumed = json.loads(out.read_text())
    assert resumed["resumed_from"] == 2 and resumed["steps"] == 4
    assert main([*args, "--json", str(tmp_path / "s.json")]) == 0
    assert "step 4/4: f " in capsys.readouterr().err
    straight = json.loads((tmp_path / "s.json").read_text())
    assert straight["probabilities"] == resumed["probabilities"]
    assert main([*args, "--estimator", "rebar", "--checkpoint", str(ck)]) == 2
    assert "other settings (estimator)" in capsys.readouterr().err
    assert main(["--dataset", "imagenet", "--steps", "1", "--no-latency"]) == 2
    assert "unknown supernet dataset 'imagenet'" in capsys.readouterr().err
    assert main(["--tau", "-1", "--no-latency"]) == 2
    assert "tau must be positive" in capsys.readouterr().err
    assert main(["--device", "cuda:7", "--no-latency"]) == 2
    assert "error:" in capsys.readouterr().err


def test_latency_term_without_tables_names_the_import(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from nasgym.error import BenchmarkDataMissingError

    monkeypatch.setenv("NASGYM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NASGYM_DATA_DIR", str(tmp_path))
    with pytest.raises(BenchmarkDataMissingError, match="nasgym data import"):
        UnasSearch(tiny(latency_weight=0.2))
