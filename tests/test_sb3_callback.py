"""``nasgym.sb3.StopOnBudget`` ends SB3 training at the query budget."""

import subprocess
import sys

import gymnasium as gym
import pytest

import nasgym  # noqa: F401  (registers the envs)

pytest.importorskip("stable_baselines3")


def test_learn_stops_when_the_budget_is_spent() -> None:
    from stable_baselines3 import PPO

    from nasgym.sb3 import StopOnBudget

    env = gym.make("nasgym/NBGraphQuery-v0", dataset="cora", max_queries=20)
    model = PPO("MultiInputPolicy", env, n_steps=64, batch_size=32, seed=0)
    stop = StopOnBudget()
    model.learn(1_000_000, callback=stop)
    info = env.unwrapped.search_info()  # type: ignore[attr-defined]
    assert stop.exhausted and info["queries"] == 20 and info["budget_exhausted"]
    assert stop.steps == model.num_timesteps < 1_000


def test_import_nasgym_does_not_import_the_sb3_module() -> None:
    code = "import sys, nasgym; print('nasgym.sb3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
