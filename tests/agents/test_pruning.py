"""Differentiable architecture pruning (agents/pruning) on a tiny fixed setup."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from nasgym.error import CorruptDataError, UnknownOptionError  # noqa: E402
from nasgym_agents.pruning import (  # noqa: E402
    GatedNet,
    NetShape,
    PruningConfig,
    PruningRun,
    RunInterrupted,
    magnitude_mask,
    relaxed_gates,
    strip_timing,
    temperature,
)
from nasgym_agents.pruning.standalone import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# Digits as source and target: the smallest real set, so every test takes seconds.
TINY: dict[str, Any] = {
    "source": "digits",
    "target": "digits",
    "image_size": 8,
    "shots": 5,
    "width": 8,
    "hidden": 8,
    "stages": 1,
    "blocks_per_stage": 2,
    "batch_size": 32,
    "pretrain_steps": 40,
    "search_steps": 40,
    "retrain_steps": 5,
    "random_draws": 1,
}


def tiny(**changes: Any) -> PruningConfig:
    return PruningConfig(**{**TINY, **changes})


def run(config: PruningConfig, **kwargs: Any) -> dict[str, Any]:
    return PruningRun(config).run(**kwargs)


def test_kept_set_shrinks_monotonically_as_lambda_grows() -> None:
    lambdas = (0.0, 0.5, 2.0, 8.0, 32.0)
    report = run(tiny(lambdas=lambdas))
    kept = [row["kept_units"] for row in report["results"]]
    assert [row["lambda"] for row in report["results"]] == list(lambdas)
    assert all(a >= b for a, b in itertools.pairwise(kept)), kept
    assert kept[0] > kept[-1], kept
    assert kept[0] >= 0.9 * report["results"][0]["num_units"], kept  # lambda 0 keeps
    assert kept[-1] <= 0.25 * report["results"][0]["num_units"], kept  # large prunes
    # The baselines keep exactly as many units as the gates.
    for row in report["results"]:
        assert {m["kept_units"] for m in row["methods"]} == {row["kept_units"]}


@pytest.mark.parametrize("schedule", ["exponential", "linear"])
def test_temperatures_follow_their_schedules(schedule: str) -> None:
    config = tiny(
        search_steps=12,
        pretrain_steps=2,
        schedule=schedule,
        tau_sample=(1.0, 0.1),
        tau_grad=(2.0, 0.5),
    )
    state: dict[str, Any] = {}
    pr = PruningRun(config)
    original = pr._evaluate

    def capture(s: dict[str, Any]) -> dict[str, Any]:
        state["history"] = list(s["search"]["history"])
        return original(s)

    pr._evaluate = capture  # type: ignore[method-assign]
    pr.run()
    history = state["history"]
    assert len(history) == 12
    for t, values in enumerate(history):
        frac = t / 11
        if schedule == "linear":
            want_s, want_g = 1.0 - 0.9 * frac, 2.0 - 1.5 * frac
        else:
            want_s, want_g = 0.1**frac, 2.0 * 0.25**frac
        assert math.isclose(values["tau_sample"], want_s, rel_tol=1e-9)
        assert math.isclose(values["tau_grad"], want_g, rel_tol=1e-9)
    taus = [v["tau_sample"] for v in history]
    assert taus[0] == 1.0 and math.isclose(taus[-1], 0.1)
    assert all(a > b for a, b in itertools.pairwise(taus))


def test_temperature_rejects_bad_arguments() -> None:
    with pytest.raises(UnknownOptionError, match="cosine"):
        temperature(1.0, 0.1, 0, 10, "cosine")
    with pytest.raises(ValueError, match="positive"):
        temperature(1.0, 0.0, 0, 10, "linear")
    with pytest.raises(ValueError, match="step"):
        temperature(1.0, 0.1, 10, 10, "linear")


def test_two_temperatures_value_sharp_gradient_soft() -> None:
    theta = torch.tensor([0.3, -1.0, 2.0], requires_grad=True)
    noise = torch.tensor([0.1, 0.4, -0.5])
    gates = relaxed_gates(theta, noise, tau_sample=0.1, tau_grad=2.0)
    assert torch.allclose(gates, torch.sigmoid((theta + noise) / 0.1))
    gates.sum().backward()
    soft = torch.sigmoid((theta.detach() + noise) / 2.0)
    assert torch.allclose(theta.grad, soft * (1 - soft) / 2.0)


def test_zero_mask_removes_blocks_and_magnitude_keeps_largest() -> None:
    torch.manual_seed(0)
    net = GatedNet(
        NetShape(width=4, hidden=6, stages=1, blocks_per_stage=2, image_size=8),
        granularity="block",
    )
    x = torch.randn(3, 1, 8, 8)
    off = net(x, torch.zeros(net.num_units))
    stem = torch.relu(net.stem(x))
    assert torch.allclose(off, net.head(stem.mean(dim=(2, 3))), atol=1e-6)
    with torch.no_grad():
        net.blocks[1].conv1.weight.mul_(10.0)
    assert magnitude_mask(net, 1).tolist() == [0.0, 1.0]


def test_seeded_runs_are_identical_and_seeds_differ() -> None:
    config = tiny(lambdas=(1.0,))
    first, second = run(config), run(config)
    assert strip_timing(first) == strip_timing(second)
    other = run(tiny(lambdas=(1.0,), seed=1))
    assert (
        first["results"][0]["gate_probabilities"]
        != other["results"][0]["gate_probabilities"]
    )
    assert first["wall_s"] > 0 and "search_s" in first["results"][0]["timing"]


@pytest.mark.parametrize("stop", [15, 40 + 25, 40 + 40 + 10])
def test_checkpoint_resume_is_identical(tmp_path: Path, stop: int) -> None:
    """Interrupted in pretraining, in the first search and in the second search."""
    config = tiny(lambdas=(0.5, 4.0))
    whole = run(config)
    path = tmp_path / "run.pt"
    with pytest.raises(RunInterrupted):
        run(config, checkpoint=path, checkpoint_every=7, stop_after_steps=stop)
    assert path.exists()
    resumed = run(config, checkpoint=path, resume=True, checkpoint_every=7)
    assert strip_timing(resumed) == strip_timing(whole)


def test_checkpoint_errors(tmp_path: Path) -> None:
    config = tiny(lambdas=(1.0,))
    path = tmp_path / "run.pt"
    with pytest.raises(RunInterrupted):
        run(config, checkpoint=path, stop_after_steps=3)
    with pytest.raises(ValueError, match=r"other settings.*lambdas"):
        run(tiny(lambdas=(2.0,)), checkpoint=path, resume=True)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptDataError, match="not a pruning checkpoint"):
        run(config, checkpoint=path, resume=True)
    with pytest.raises(ValueError, match="needs a checkpoint"):
        run(config, resume=True)


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"source": "cifar7"}, UnknownOptionError, "cifar7"),
        ({"target": "svhn"}, UnknownOptionError, "svhn"),
        ({"lambdas": (0.5, -1.0)}, ValueError, "lambda must be"),
        ({"lambdas": ()}, ValueError, "at least one"),
        ({"granularity": "layer"}, UnknownOptionError, "layer"),
        ({"cost": "latency"}, UnknownOptionError, "latency"),
        ({"threshold": 1.5}, ValueError, "threshold"),
        ({"tau_grad": (1.0, -0.5)}, ValueError, "tau_grad"),
        ({"search_steps": 0}, ValueError, "search_steps"),
        ({"image_size": 8, "stages": 5}, ValueError, "divisible"),
        ({"image_size": 12}, ValueError, "divide 32"),
    ],
)
def test_config_errors(changes: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        tiny(**changes)


def test_too_many_shots_is_an_error() -> None:
    with pytest.raises(ValueError, match="fewer than shots"):
        run(tiny(shots=1000))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_gpu_is_a_clear_error() -> None:
    from nasgym.zero_cost import DeviceUnavailableError

    with pytest.raises(DeviceUnavailableError, match="device='cpu'"):
        PruningRun(tiny(), device="cuda")
    assert main(["--device", "cuda"]) == 2


def test_cli_error_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--source", "imagenet"]) == 2
    assert "imagenet" in capsys.readouterr().err
    assert main(["--lambdas", "-0.1"]) == 2
    assert "lambda must be" in capsys.readouterr().err
    assert main(["--resume"]) == 2
    assert "--checkpoint" in capsys.readouterr().err


def test_cli_json_report_and_resume(tmp_path: Path) -> None:
    args = [
        "--source", "digits", "--image-size", "8", "--width", "8", "--hidden", "8",
        "--stages", "1", "--pretrain-steps", "10", "--search-steps", "10",
        "--retrain-steps", "2", "--random-draws", "1", "--lambdas", "0", "4",
        "--checkpoint", str(tmp_path / "c.pt"), "--json", str(tmp_path / "r.json"),
    ]  # fmt: skip
    cmd = [sys.executable, "-m", "nasgym_agents.pruning", *args]
    stopped = subprocess.run(
        [*cmd, "--stop-after", "12"], capture_output=True, text=True, cwd=ROOT
    )
    assert stopped.returncode == 3, stopped.stderr
    assert "pretrain 10/10" in stopped.stderr  # progress lines
    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "lambda 4: kept" in done.stdout and "wall-clock" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["wall_s"] > 0 and len(report["results"]) == 2
    assert report["config"]["lambdas"] == [0.0, 4.0]
