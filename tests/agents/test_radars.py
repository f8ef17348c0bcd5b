"""RADARS on the NB201 space (nasgym_agents.radars).

The memory estimator against the parameter count of the real supernet and against
measured peak memory (a fresh subprocess), the masked REINFORCE controller, the
pruning rules, the stop at the first round whose estimate fits the budget, the
hand-over to DARTS, seeded determinism, exact checkpoint resume, the error paths
(a budget nothing fits, pruning exhausted, unknown dataset, CUDA without a GPU,
bad overrides) and the command line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from nasgym.error import CorruptDataError, UnknownKeywordError, UnknownOptionError
from nasgym.oneshot.device import DeviceUnavailableError
from nasgym.spaces.nb201 import OPS
from nasgym_agents.darts import MixedSupernet
from nasgym_agents.radars import (
    TOLERANCE,
    TOLERANCE_BYTES,
    MaskedReinforce,
    MemoryBudgetError,
    RadarsConfig,
    RadarsSearch,
    estimate_memory,
    measure_peak_memory,
    radars_search,
    smallest_estimate,
)
from nasgym_agents.radars.standalone import format_report, main, search_report

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FULL = tuple(tuple(range(5)) for _ in range(6))
MIXED = ((1, 3), (0, 2, 4), (3,), (1, 2, 3, 4), (4, 1), (0, 1, 2, 3, 4))
TINY_SHAPE = {"channels": 2, "num_cells": 1, "batch_size": 16, "image_size": 8}


def tiny(budget_fraction: float = 0.5, **overrides: Any) -> RadarsConfig:
    """A tiny search whose budget is a fraction of the full space's estimate."""
    full = estimate_memory(None, **TINY_SHAPE).total_bytes
    settings: dict[str, Any] = {
        "dataset": "digits",
        **TINY_SHAPE,
        "memory_budget_mib": budget_fraction * full / 2**20,
        "warmup_steps": 2,
        "controller_steps": 6,
        "reward_batch_size": 32,
        "darts_steps": 3,
        "device": "cpu",
        **overrides,
    }
    return RadarsConfig(**settings)


# -- memory estimator -------------------------------------------------------------


@pytest.mark.parametrize("candidates", [None, MIXED, ((3,),) * 6, ((1,),) * 6])
@pytest.mark.parametrize("num_cells", [1, 2])
def test_parameter_bytes_match_the_real_supernet(
    candidates: Any, num_cells: int
) -> None:
    shape = {"channels": 4, "num_cells": num_cells, "batch_size": 8, "image_size": 8}
    est = estimate_memory(candidates, **shape, in_channels=3, num_classes=7)
    net = MixedSupernet(
        C=4, N=num_cells, in_channels=3, num_classes=7, candidates=candidates
    )
    weights = sum(p.numel() for p in net.parameters()) + 30  # + alpha
    assert est.parameter_bytes == 3 * 4 * weights


def test_estimate_shrinks_with_every_pruned_op() -> None:
    kept = [list(range(5)) for _ in range(6)]
    before = estimate_memory(kept, **TINY_SHAPE).total_bytes
    rng = np.random.default_rng(0)
    while any(len(ops) > 1 for ops in kept):
        slot = int(rng.choice([s for s, ops in enumerate(kept) if len(ops) > 1]))
        kept[slot].remove(int(rng.choice(kept[slot])))
        after = estimate_memory(kept, **TINY_SHAPE).total_bytes
        assert after <= before
        before = after
    # convolutions dominate: pruning them saves the most
    no_conv = estimate_memory([[0, 1, 4]] * 6, **TINY_SHAPE).total_bytes
    no_free = estimate_memory([[2, 3]] * 6, **TINY_SHAPE).total_bytes
    assert no_conv < no_free


@pytest.mark.skipif(
    not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc"
)
def test_estimate_is_within_tolerance_of_measured_peak_memory() -> None:
    shape = {"channels": 8, "num_cells": 1, "batch_size": 64, "image_size": 32}
    sets = [None, MIXED, ((1,),) * 6, ((0, 1, 4),) * 6]
    measured = measure_peak_memory(sets, **shape)
    for cand, peak in zip(sets, measured, strict=True):
        est = estimate_memory(cand, **shape).total_bytes
        allowed = max(TOLERANCE * peak, TOLERANCE_BYTES)
        assert abs(est - peak) <= allowed, (cand, est / 2**20, peak / 2**20)
    # the measurement sees the pruning: the full space costs the most
    assert measured[0] == max(measured)


def test_bad_estimator_input() -> None:
    with pytest.raises(UnknownOptionError, match="multiple of 4"):
        estimate_memory(None, channels=2, num_cells=1, batch_size=2, image_size=6)
    with pytest.raises(UnknownOptionError, match="batch_size must be a positive"):
        estimate_memory(None, channels=2, num_cells=1, batch_size=0, image_size=8)
    with pytest.raises(UnknownOptionError, match="repeats an op"):
        estimate_memory(((1, 1),) * 6, **TINY_SHAPE)


# -- controller ---------------------------------------------------------------------


def test_masked_controller_samples_and_updates_only_remaining_ops() -> None:
    policy = MaskedReinforce()
    for slot, kept in enumerate(MIXED):
        for k in range(5):
            if k not in kept:
                policy.prune(slot, k)
    assert policy.candidates() == tuple(tuple(sorted(k)) for k in MIXED)
    rng = np.random.default_rng(0)
    counts = np.zeros((6, 5))
    for i in range(3000):
        cell = policy.sample(rng)
        assert all(op in MIXED[s] for s, op in enumerate(cell))
        counts[np.arange(6), list(cell)] += 1
        if i < 200:  # reward op 4 wherever it is allowed
            policy.update(cell, float(sum(op == 4 for op in cell)) / 6)
    probs = policy.probabilities()
    assert np.all(probs[~policy.mask] == 0.0)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert probs[1, 4] > 1 / 3 and probs[4, 4] > 0.5  # learnt toward op 4
    # samples of the last 2800 steps follow the final policy
    late = np.zeros((6, 5))
    for _ in range(2000):
        late[np.arange(6), list(policy.sample(rng))] += 1
    assert np.allclose(late / 2000, probs, atol=0.04)
    with pytest.raises(UnknownOptionError, match="last op of edge 2"):
        policy.prune(2, 3)
    with pytest.raises(UnknownOptionError, match="already pruned"):
        policy.prune(0, 0)


def test_controller_step_is_reinforce_with_torch_adam() -> None:
    """One update = Adam (torch's rule) on -advantage * log pi(cell), EMA baseline."""
    policy = MaskedReinforce(learning_rate=0.05)
    policy.prune(0, 2)
    policy.prune(3, 0)
    logits = torch.tensor(policy.logits, requires_grad=True)
    adam = torch.optim.Adam([logits], lr=0.05, betas=(0.9, 0.999), eps=1e-8)
    rng = np.random.default_rng(1)
    num = den = 0.0
    for step in range(5):
        cell = policy.sample(rng)
        reward = float(rng.random())
        num, den = 0.9 * num + 0.1 * reward, 0.9 * den + 0.1
        advantage = policy.update(cell, reward)
        assert advantage == pytest.approx(reward - num / den)
        adam.zero_grad()
        logp = torch.log_softmax(logits, dim=1)[torch.arange(6), list(cell)].sum()
        (-advantage * logp).backward()
        with torch.no_grad():
            logits.grad[~torch.isfinite(logits)] = 0.0  # pruned: no gradient
        adam.step()
        finite = np.isfinite(policy.logits)
        assert np.allclose(policy.logits[finite], logits.detach().numpy()[finite])
        assert np.array_equal(finite, policy.mask), step


# -- pruning ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["probability", "reward"])
def test_pruning_stops_at_the_first_round_that_fits(rule: str) -> None:
    search = RadarsSearch(tiny(0.3, prune_rule=rule))
    budget = search.config.budget_bytes
    assert search.rounds[0].fits is False  # the full space exceeds the budget
    while not search.fits():
        before = search.policy.candidates()
        log = search.prune_round()
        after = search.policy.candidates()
        # one op less on every edge that had more than one
        for slot, (b, a, gone) in enumerate(
            zip(before, after, log.pruned, strict=True)
        ):
            assert len(a) == max(1, len(b) - 1)
            assert sorted(set(b) - set(a)) == [OPS.index(n) for n in gone]
            probs = np.asarray(log.probabilities)
            for name in gone:  # the pruned op scored lowest on its edge
                k = OPS.index(name)
                if rule == "probability":
                    assert probs[slot, k] == min(probs[slot, j] for j in b)
                else:
                    avg = log.average_reward[slot]
                    score = [-1.0 if avg[j] is None else avg[j] for j in b]
                    assert (-1.0 if avg[k] is None else avg[k]) == min(score)
        est = estimate_memory(after, **TINY_SHAPE).total_bytes
        assert log.estimate_mib == est / 2**20
        assert log.fits == (est <= budget)
    fits = [r.fits for r in search.rounds]
    assert fits[-1] and not any(fits[:-1])  # stopped at the first that fits
    assert len(search.rounds) >= 3  # at least two pruning rounds at 30 %
    with pytest.raises(UnknownOptionError, match="already fits"):
        search.prune_round()
    darts = search.start_darts()
    assert darts.config.candidates == search.policy.candidates()
    result = search.run()
    assert all(op in result.candidates[s] for s, op in enumerate(result.arch))
    assert result.estimate.total_bytes <= budget


def test_a_budget_the_full_space_fits_needs_no_pruning() -> None:
    search = RadarsSearch(tiny(1.01))
    result = search.run()
    assert len(result.rounds) == 1 and result.rounds[0].fits
    assert result.candidates == FULL


def test_the_default_configuration_must_prune() -> None:
    d = RadarsConfig()
    full = estimate_memory(
        None,
        channels=d.channels,
        num_cells=d.num_cells,
        batch_size=d.batch_size,
        image_size=16,
    )
    assert full.total_bytes > d.budget_bytes


# -- determinism, checkpoints --------------------------------------------------------


def _summary(search: RadarsSearch) -> tuple[Any, ...]:
    assert search.darts is not None
    return (
        search.policy.candidates(),
        [r.probabilities for r in search.rounds],
        [r.mean_reward for r in search.rounds],
        search.darts.alpha.detach().clone(),
    )


def test_seeded_determinism() -> None:
    runs = [RadarsSearch(tiny(0.4, seed=s)) for s in (3, 3, 4)]
    for run in runs:
        run.run()
    a, b, c = (_summary(r) for r in runs)
    assert a[:3] == b[:3] and torch.equal(a[3], b[3])
    assert a[1:3] != c[1:3]


def test_checkpoint_resume_is_exact(tmp_path: Path) -> None:
    straight = RadarsSearch(tiny(0.3))
    straight.run()
    assert len(straight.rounds) >= 3
    ck = tmp_path / "ck.pt"
    first = RadarsSearch(tiny(0.3))
    first.prune(1, checkpoint=ck)  # interrupted after round 1
    resumed = RadarsSearch(tiny(0.3))
    resumed.load_checkpoint(ck)
    assert len(resumed.rounds) == 2
    resumed.run(checkpoint=ck)
    a, b = _summary(straight), _summary(resumed)
    assert a[:3] == b[:3] and torch.equal(a[3], b[3])
    # resume inside the DARTS phase
    mid = RadarsSearch(tiny(0.3, darts_steps=6))
    mid.prune()
    mid.start_darts().run(2)
    mid.save_checkpoint(ck)
    again = RadarsSearch(tiny(0.3, darts_steps=6))
    again.load_checkpoint(ck)
    assert again.darts is not None and again.darts.step == 2
    again.run()
    whole = RadarsSearch(tiny(0.3, darts_steps=6))
    whole.run()
    assert torch.equal(_summary(again)[3], _summary(whole)[3])


def test_bad_checkpoints_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptDataError, match="not a readable RADARS"):
        RadarsSearch(tiny()).load_checkpoint(bad)
    good = tmp_path / "ck.pt"
    RadarsSearch(tiny(prune_rule="reward")).save_checkpoint(good)
    with pytest.raises(CorruptDataError, match=r"other settings.*prune_rule"):
        RadarsSearch(tiny()).load_checkpoint(good)


# -- error paths ----------------------------------------------------------------------


def test_a_budget_nothing_fits_is_refused_before_training() -> None:
    low, cell = smallest_estimate(2, 1, 16, 8, 1, 10)
    assert low == estimate_memory([[k] for k in cell], **TINY_SHAPE).total_bytes
    with pytest.raises(MemoryBudgetError, match="fits no subspace"):
        RadarsSearch(tiny(0.99 * low / estimate_memory(None, **TINY_SHAPE).total_bytes))


def test_pruning_that_cannot_reach_the_budget_is_a_clear_error() -> None:
    low, _ = smallest_estimate(2, 1, 16, 8, 1, 10)
    search = RadarsSearch(
        tiny(1.0001 * low / estimate_memory(None, **TINY_SHAPE).total_bytes)
    )
    for slot in range(6):  # leave only nor_conv_3x3: far above the cheapest cell
        for k in (0, 1, 2, 4):
            search.policy.prune(slot, k)
    with pytest.raises(MemoryBudgetError, match="every edge is pruned to one op"):
        search.prune()


def test_error_paths() -> None:
    with pytest.raises(UnknownOptionError, match="unknown supernet dataset 'imagenet'"):
        RadarsSearch(tiny(dataset="imagenet"))
    with pytest.raises(UnknownOptionError, match="unknown prune rule 'magnitude'"):
        RadarsSearch(tiny(prune_rule="magnitude"))
    with pytest.raises(UnknownOptionError, match="unknown DARTS method"):
        RadarsSearch(tiny(darts_method="enas"))
    with pytest.raises(
        UnknownOptionError, match="memory_budget_mib must be a positive number"
    ):
        RadarsSearch(tiny(memory_budget_mib=0.0))
    with pytest.raises(UnknownOptionError, match="prune_per_round must be below 5"):
        RadarsSearch(tiny(prune_per_round=5))
    with pytest.raises(UnknownKeywordError, match="did you mean 'darts_steps'"):
        radars_search(0, 1.0, overrides={"darts_step": 3})
    with pytest.raises(UnknownKeywordError, match="'seed'"):
        radars_search(0, 1.0, overrides={"seed": 3})


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(DeviceUnavailableError):
        RadarsSearch(tiny(device="cuda"))


@pytest.mark.gpu
def test_cuda_search_runs_and_prunes_like_the_cpu() -> None:
    search = RadarsSearch(tiny(0.3, device="cuda", amp=False))
    result = search.run()
    assert search.darts is not None and search.darts.device.type == "cuda"
    assert result.rounds[-1].fits and not any(r.fits for r in result.rounds[:-1])


# -- report and command line --------------------------------------------------------


def test_search_report_radars_search_and_cli_resume(
    tmp_path: Path, capsys: Any
) -> None:
    config = tiny(0.3)
    report = search_report(config)
    assert report["pruning_rounds"] == len(report["rounds"]) - 1 >= 2
    assert report["full_space_estimate_mib"] > report["memory_budget_mib"]
    assert report["subspace_estimate_mib"] <= report["memory_budget_mib"]
    assert report["wall_s"] >= report["prune_s"] + report["darts_s"]
    pairs = zip(report["arch_ops"], report["candidates"], strict=True)
    assert all(op in c for op, c in pairs)
    assert "pruning rounds" in format_report(report)
    same = radars_search(
        config.seed,
        config.memory_budget_mib,
        overrides={
            k: getattr(config, k)
            for k in (
                "warmup_steps",
                "controller_steps",
                "reward_batch_size",
                "darts_steps",
                *TINY_SHAPE,
            )
        },
    )

    def timeless(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "wall_s"} for r in rounds]

    assert same["arch"] == report["arch"]
    assert timeless(same["rounds"]) == timeless(report["rounds"])

    out, ck = tmp_path / "r.json", tmp_path / "ck.pt"
    args = [
        "--channels", "2", "--image-size", "8", "--batch-size", "16",
        "--memory-budget-mib", str(config.memory_budget_mib),
        "--warmup-steps", "2", "--controller-steps", "6", "--darts-steps", "3",
        "--reward-batch-size", "32",
        "--checkpoint", str(ck), "--json", str(out), "--log-every", "1",
    ]  # fmt: skip
    assert main(args) == 0
    first = json.loads(out.read_text())
    assert first["arch"] == report["arch"] and not first["resumed"]
    assert "round 1:" in capsys.readouterr().err
    assert main(args) == 0  # resumed from the finished checkpoint: same result
    second = json.loads(out.read_text())
    assert second["resumed"] and second["arch"] == first["arch"]
    assert second["resumed_rounds"] == first["pruning_rounds"]
    assert main([*args[:-6], "--dataset", "nope"]) == 2
    assert "unknown supernet dataset" in capsys.readouterr().err


@pytest.mark.data
def test_report_looks_the_cell_up_in_the_nb201_table(nb201_table: Path) -> None:
    report = search_report(tiny(0.3), table_path=str(nb201_table))
    assert report["nb201"] is not None
    assert set(report["nb201"]) == {"cifar10", "cifar100", "ImageNet16-120"}
    for acc in report["nb201"].values():
        assert 0.0 <= acc["test@200"] <= 100.0
