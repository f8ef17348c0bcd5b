"""The floor env of ``nasgym perf``: its template's spaces, recorded transitions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from nasgym.envs.floor import FLOOR_ID, FloorEnv, register_floor
from nasgym.error import InvalidActionError
from nasgym.perf import run_perf

# NBGraph ships in its wheel, so these tests need no imported data.
TEMPLATES = ["nasgym/NBGraphEdit-v0", "nasgym/NBGraphQuery-v0"]


def obs_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(obs_equal(a[k], b[k]) for k in a)
    return bool(np.array_equal(a, b))


@pytest.mark.parametrize("template", TEMPLATES)
def test_floor_copies_template_spaces(template: str) -> None:
    env = gym.make(register_floor(), template=template, states=8)
    source = gym.make(template)
    assert env.observation_space == source.observation_space
    assert env.action_space == source.action_space
    obs, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    # Every observation is one the template returned from the same seeded walk.
    source_obs, _ = source.reset(seed=0)
    floor = env.unwrapped
    assert isinstance(floor, FloorEnv)
    assert obs_equal(floor._obs[0], source_obs)
    env.close()
    source.close()


@pytest.mark.parametrize("template", TEMPLATES)
def test_floor_passes_check_env(template: str) -> None:
    check_env(FloorEnv(template=template, states=4), skip_render_check=True)


def test_floor_is_deterministic_and_cycles() -> None:
    env = FloorEnv(template="nasgym/NBGraphEdit-v0", states=5, max_episode_steps=7)
    first, _ = env.reset(seed=11)
    start = env._i
    again, _ = env.reset(seed=11)
    assert env._i == start and obs_equal(first, again)
    seen = []
    truncated = False
    for t in range(7):
        legal = np.flatnonzero(env.action_masks())
        obs, reward, terminated, truncated, info = env.step(int(legal[0]))
        assert reward == 0.0 and not terminated
        assert truncated == (t == 6)
        seen.append(env._i)
        assert obs_equal(obs, env._obs[env._i])
        assert info == {}
    assert seen[:5] == [(start + k) % 5 for k in range(1, 6)]
    assert truncated


def test_floor_rejects_bad_input() -> None:
    env = FloorEnv(template="nasgym/NBGraphEdit-v0", states=2)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="not in the floor env's action space"):
        env.step(10**6)
    with pytest.raises(ValueError, match="states must be at least 1"):
        FloorEnv(template="nasgym/NBGraphEdit-v0", states=0)
    with pytest.raises(ValueError, match="max_episode_steps"):
        FloorEnv(template="nasgym/NBGraphEdit-v0", max_episode_steps=0)
    unchecked = FloorEnv(
        template="nasgym/NBGraphEdit-v0", states=2, check_actions=False
    )
    unchecked.reset(seed=0)
    unchecked.step(10**6)  # perf's setting: no check, one list lookup


def test_register_floor_is_idempotent() -> None:
    assert register_floor() == FLOOR_ID == register_floor()
    assert FLOOR_ID in gym.registry


def test_perf_reports_floor_ratio(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    results = run_perf(quick=True, envs=["nasgym/NBGraphEdit-v0"], out=out)
    rows = {row["name"]: row for row in results["rows"]}
    row = rows["NBGraphEdit-v0 / floor"]
    assert row["status"] == "info" and row["unit"] == "x"
    assert isinstance(row["value"], float) and row["value"] > 0
    assert FLOOR_ID in row["note"]
