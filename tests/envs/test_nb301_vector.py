"""``gym.make_vec`` on the NB301 ids: one batched surrogate call per vector step."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import nasgym
from nasgym.envs.nb301 import NB301EditVectorEnv

pytestmark = pytest.mark.data

IDS = ["nasgym/NB301Edit-v0", "nasgym/NB301Query-v0", "nasgym/NB301Continuous-v0"]


class Counting:
    """A surrogate model that counts its batched calls (the real one underneath)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[int] = []

    def predict(self, genotypes: Any, epoch: int = 98) -> Any:
        self.calls.append(len(genotypes))
        return self.real.predict(genotypes, epoch)


def _actions(venv: Any, rng: np.random.Generator) -> Any:
    if isinstance(venv.single_action_space, gym.spaces.Discrete):
        return np.array([rng.choice(np.flatnonzero(m)) for m in venv.action_masks()])
    venv.action_space.seed(int(rng.integers(1 << 30)))
    return venv.action_space.sample()


@pytest.mark.parametrize("env_id", IDS)
def test_vector_env_equals_single_envs(
    request: pytest.FixtureRequest, env_id: str
) -> None:
    surrogate = request.getfixturevalue("nb301_surrogate")
    kw = {"surrogate": surrogate, "max_queries": 25, "horizon": 6}
    venv = gym.make_vec(env_id, num_envs=3, **kw)
    assert type(venv).__name__.endswith("VectorEnv")
    singles = [gym.make(env_id, **kw) for _ in range(3)]
    obs, infos = venv.reset(seed=11)
    for i, env in enumerate(singles):
        o, info = env.reset(seed=11 + i)
        assert info["arch"] == infos["arch"][i]
    rng = np.random.default_rng(0)
    pending = [False] * 3
    for _ in range(30):
        actions = _actions(venv, rng)
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        assert not terminated.any()
        for i, env in enumerate(singles):
            if pending[i]:  # next-step autoreset
                o, info = env.reset()
                r, trunc = 0.0, False
            else:
                o, r, _, trunc, info = env.step(actions[i])
            pending[i] = trunc
            assert rewards[i] == pytest.approx(r, abs=1e-12)
            assert truncated[i] == trunc
            assert info["arch"] == infos["arch"][i]
            assert info["queries"] == infos["queries"][i]
            if isinstance(o, dict):
                for key, value in o.items():
                    np.testing.assert_array_equal(obs[key][i], value)
            else:
                np.testing.assert_array_equal(obs[i], o)


def test_one_batched_surrogate_call_per_step(request: pytest.FixtureRequest) -> None:
    counting = Counting(request.getfixturevalue("nb301_surrogate"))
    venv = NB301EditVectorEnv(num_envs=8, surrogate=counting, horizon=1000)
    venv.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(5):
        before = len(counting.calls)
        venv.step(_actions(venv, rng))
        new = counting.calls[before:]
        assert len(new) == 1 and new[0] == 8  # all sub-envs' targets, one call


def test_bad_num_envs() -> None:
    with pytest.raises(nasgym.error.UnknownOptionError, match="num_envs"):
        NB301EditVectorEnv(num_envs=0, surrogate=Counting(None))
