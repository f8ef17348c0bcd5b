"""RL-DARTS: the DARTS-cell features extractor with SB3 on MinAtar (agents/rl_darts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("stable_baselines3")
pytest.importorskip("minatar")

from stable_baselines3.common.preprocessing import preprocess_obs  # noqa: E402

from nasgym_agents.rl_darts import (  # noqa: E402
    AlphaAdam,
    DartsExtractor,
    MinAtarConv,
    derive_genotype,
    genotype_from_str,
    genotype_to_str,
    make_env,
    random_genotype,
)
from nasgym_agents.rl_darts.model import OP_SETS, n_edges  # noqa: E402
from nasgym_agents.rl_darts.train import main, run  # noqa: E402


def _supernet_kwargs() -> dict[str, object]:
    return {
        "features_extractor_class": DartsExtractor,
        "features_extractor_kwargs": {"n_nodes": 3},
        "optimizer_class": AlphaAdam,
        "optimizer_kwargs": {"alpha_lr": 1e-2, "eps": 1e-5},
    }


def test_observation_is_channels_first() -> None:
    env = make_env("breakout")
    obs, _ = env.reset(seed=0)
    assert env.observation_space.shape == (4, 10, 10)
    assert obs.shape == (4, 10, 10) and obs.dtype == np.float32


@pytest.mark.parametrize("policy", ["MlpPolicy", "CnnPolicy"])
@pytest.mark.parametrize("algo", ["PPO", "DQN"])
def test_sb3_policy_construction(algo: str, policy: str) -> None:
    import stable_baselines3 as sb3

    env = make_env("space_invaders")
    extra = {"n_steps": 16} if algo == "PPO" else {"buffer_size": 100}
    model = getattr(sb3, algo)(
        policy, env, policy_kwargs=_supernet_kwargs(), device="cpu", **extra
    )
    pol = model.policy
    ext = pol.q_net.features_extractor if algo == "DQN" else pol.features_extractor
    assert isinstance(ext, DartsExtractor) and ext.alpha is not None
    assert any(
        g.get("rl_darts_alpha") and g["lr"] == 1e-2 for g in pol.optimizer.param_groups
    )
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action))
    # the float (C, 10, 10) space is not an SB3 image space, so neither policy
    # rescales it: the extractor sees the [0, 1] frames as they are
    frame = torch.as_tensor(obs[None])
    seen = preprocess_obs(frame, env.observation_space, pol.normalize_images)
    assert isinstance(seen, torch.Tensor) and torch.equal(seen, frame)


def test_gradients_reach_alpha_and_weights_in_one_step() -> None:
    from stable_baselines3 import PPO

    model = PPO(
        "MlpPolicy",
        make_env("breakout"),
        policy_kwargs=_supernet_kwargs(),
        device="cpu",
    )
    ext = model.policy.features_extractor
    alpha0 = ext.alpha.detach().clone()
    conv = ext.cells[0].edges[0].ops[0][0].weight
    w0 = conv.detach().clone()
    obs = torch.rand(8, 4, 10, 10)
    values, log_prob, _ = model.policy.evaluate_actions(
        obs, torch.zeros(8, dtype=torch.long)
    )
    loss = values.pow(2).mean() - log_prob.mean()
    model.policy.optimizer.zero_grad()
    loss.backward()
    assert ext.alpha.grad is not None and ext.alpha.grad.abs().sum() > 0
    assert conv.grad is not None and conv.grad.abs().sum() > 0
    model.policy.optimizer.step()
    assert not torch.equal(ext.alpha.detach(), alpha0)
    assert not torch.equal(conv.detach(), w0)


def test_alpha_lr_survives_sb3_schedule() -> None:
    p = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))]
    p[1]._rl_darts_alpha = True
    opt = AlphaAdam(p, lr=1e-4, alpha_lr=0.5)
    for g in opt.param_groups:  # what SB3's update_learning_rate does
        g["lr"] = 1e-3
    (p[0].sum() + p[1].sum()).backward()
    opt.step()
    assert opt.param_groups[1]["lr"] == 0.5
    assert p[1].detach()[0].item() == pytest.approx(-0.5)
    assert p[0].detach()[0].item() == pytest.approx(-1e-3)
    with pytest.raises(TypeError):
        AlphaAdam(p, lr=1e-3, alpha_lr=1e-2, unknown_option=1)


def test_discretisation_of_hand_set_alpha() -> None:
    names = list(OP_SETS["default"])  # conv_3x3, relu, tanh, skip, zero
    alpha = np.zeros((n_edges(3), len(names)))
    # node 1: one input (edge 0): zero is largest but is ignored -> tanh
    alpha[0, names.index("zero")] = 9.0
    alpha[0, names.index("tanh")] = 2.0
    # node 2: edges 1 (from 0), 2 (from 1)
    alpha[1, names.index("conv_3x3")] = 3.0
    alpha[2, names.index("skip")] = 1.0
    # node 3: edges 3, 4, 5 (from 0, 1, 2): keep the two strongest (from 2 and 0)
    alpha[3, names.index("relu")] = 2.0
    alpha[4, names.index("zero")] = 20.0
    alpha[4, names.index("tanh")] = 0.5
    alpha[5, names.index("conv_3x3")] = 4.0
    g = derive_genotype(alpha, "default")
    assert genotype_to_str(g) == "tanh~0|conv_3x3~0+skip~1|relu~0+conv_3x3~2"
    assert genotype_from_str(genotype_to_str(g), "default") == g


def test_genotype_string_errors() -> None:
    with pytest.raises(ValueError, match="not in op_set"):
        genotype_from_str("sep_conv~0", "default")
    with pytest.raises(ValueError, match=r"must be in 0\.\.0"):
        genotype_from_str("relu~1", "default")
    with pytest.raises(ValueError, match="unknown op_set"):
        derive_genotype(np.zeros((6, 5)), "nope")


def test_discrete_mode_and_baselines_build() -> None:
    env = make_env("breakout")
    space = env.observation_space
    rng = np.random.default_rng(0)
    for op_set in OP_SETS:
        g = random_genotype(3, op_set, rng)
        assert all(op != "zero" for node in g for op, _ in node)
        ext = DartsExtractor(space, op_set=op_set, genotype=genotype_to_str(g))
        assert ext.alpha is None
        assert ext(torch.zeros(2, *space.shape)).shape == (2, 128)
        with pytest.raises(ValueError, match="only a supernet has alpha"):
            ext.derive()
    assert MinAtarConv(space)(torch.zeros(2, *space.shape)).shape == (2, 128)


def test_seeded_determinism_on_cpu() -> None:
    a = run(
        "breakout",
        "supernet",
        3,
        256,
        n_envs=2,
        n_steps=64,
        device="cpu",
        progress=False,
    )
    b = run(
        "breakout",
        "supernet",
        3,
        256,
        n_envs=2,
        n_steps=64,
        device="cpu",
        progress=False,
    )
    assert a["alpha"] == b["alpha"] and a["curve"] == b["curve"]


def test_end_to_end_cli(tmp_path: Path) -> None:
    search = tmp_path / "search.json"
    assert (
        main(
            [
                "search",
                "--steps",
                "512",
                "--no-progress",
                "--device",
                "cpu",
                "--out",
                str(search),
                "--checkpoint",
                str(tmp_path / "s.zip"),
            ]
        )
        == 0
    )
    rec = json.loads(search.read_text())
    assert rec["steps"] >= 512 and (tmp_path / "s.zip").exists()
    genotype_from_str(rec["genotype"], "default")
    out = tmp_path / "retrain.json"
    assert (
        main(
            [
                "retrain",
                "--genotype",
                f"@{search}",
                "--steps",
                "512",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert json.loads(out.read_text())["genotype"] == rec["genotype"]
    with pytest.raises(SystemExit):
        main(["retrain", "--encoder", "genotype", "--steps", "512"])
