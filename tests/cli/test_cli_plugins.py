"""``nasgym list``, ``leaderboard run --help`` and ``agents`` with plugins."""

from __future__ import annotations

import gymnasium as gym
import pytest
from thirdparty import theirpkg

from nasgym.cli import main
from nasgym.error import UnknownOptionError
from nasgym.leaderboard.agents import env_id_for_mode
from nasgym.leaderboard.contract import InfoContractError
from nasgym.leaderboard.errors import LeaderboardError
from nasgym.registration import (
    load_env_plugins,
    resolve_env_id,
    third_party_env_ids,
)
from nasgym.testing import check_nas_env


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    return theirpkg(tmp_path, monkeypatch)


def test_list_groups_plugin_ids_by_namespace(plugin, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.index("nasgym/NB201Edit-v0") < out.index("third-party envs")
    tail = out[out.index("third-party envs") :]
    assert "  theirpkg:" in tail
    for env_id, mode in (
        ("theirpkg/TheirQuery-v0", "Query"),
        ("theirpkg/Ask-v0", "Query"),
        ("theirpkg/Tweak-v0", "Edit"),
    ):
        line = next(line for line in tail.splitlines() if env_id in line)
        assert mode in line and "theirpkg-nas 0.1.0" in line


def test_run_help_lists_plugin_ids(plugin, capsys):
    with pytest.raises(SystemExit):
        main(["leaderboard", "run", "--help"])
    out = capsys.readouterr().out
    assert "nasgym/NBGraphQuery-v0" in out and "theirpkg/TheirEdit-v0" in out
    assert out.index("nasgym/NBGraphQuery-v0") < out.index("theirpkg/TheirEdit-v0")


def test_plugins_load_once(plugin):
    first = load_env_plugins()
    assert load_env_plugins() == first
    assert "theirpkg/Ask-v0" in third_party_env_ids() or "theirpkg/Ask-v0" in (
        gym.registry
    )
    assert resolve_env_id("theirpkg/Ask-v0") == "theirpkg/Ask-v0"


def test_unknown_id_lists_nasgym_and_plugin_ids(plugin):
    with pytest.raises(UnknownOptionError, match=r"nasgym\.envs") as info:
        resolve_env_id("theirpkg/Nope-v0")
    assert "nasgym/NB201Query-v0" in str(info.value)


def test_mode_routing_errors_say_how_to_declare(plugin):
    gym.register(id="loner/Solo-v0", entry_point="nasgym.envs.nbgraph:NBGraphQueryEnv")
    # Known from the class's mode attribute: Query needs no sibling.
    assert env_id_for_mode("loner/Solo-v0", "Query") == "loner/Solo-v0"
    with pytest.raises(LeaderboardError, match=r"register_modes\(edit=") as info:
        env_id_for_mode("loner/Solo-v0", "Edit", "maskable_ppo")
    assert "no known siblings" in str(info.value)
    assert env_id_for_mode("theirpkg/Ask-v0", "Edit") == "theirpkg/Tweak-v0"


def test_check_nas_env_accepts_plugin_envs_and_names_missing_keys(plugin):
    for env_id in ("theirpkg/TheirQuery-v0", "theirpkg/Tweak-v0"):
        check_nas_env(gym.make(env_id, max_queries=10))

    class Forgetful(gym.Wrapper):
        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            return (
                obs,
                reward,
                terminated,
                truncated,
                {k: v for k, v in info.items() if k != "best_test_accuracy"},
            )

    env = Forgetful(gym.make("theirpkg/TheirQuery-v0", max_queries=10))
    with pytest.raises(InfoContractError, match="no key 'best_test_accuracy'"):
        check_nas_env(env, gymnasium_checks=False)


def test_agents_lists_mode_provider_and_summary(monkeypatch, capsys):
    monkeypatch.setenv(
        "NASGYM_EXTRA_AGENTS", "mine=nasgym_agents.baselines.random_search:RandomSearch"
    )
    assert main(["agents"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert "any" in rows["random"] and "nasgym 0.1.0" in rows["random"]
    assert "Propose uniformly random architectures" in rows["random"]
    assert "Continuous" in rows["sac"] and "Edit" in rows["maskable_ppo"]
    assert "Query" in rows["ppo"]
    assert "NASGYM_EXTRA_AGENTS" in rows["mine"]


def test_perf_env_takes_a_plugin_id(plugin, capsys):
    assert main(["perf", "--quick", "--env", "theirpkg/TheirQuery-v0"]) == 0
    assert "theirpkg/TheirQuery-v0 / CartPole" in capsys.readouterr().out
