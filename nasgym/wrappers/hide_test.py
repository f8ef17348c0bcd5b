"""Hide every test-derived value from an agent: it must decide on validation data only.

nasgym envs report test accuracy and regret in ``info`` for the *experimenter* (regret
curves), never for the searcher: an agent that reads them selects on the test set.
The leaderboard harness wraps the env of every agent in :class:`HideTestInfo` and logs
the test values on its own side, below the wrapper, so no agent run by ``nasgym
leaderboard`` can read them through ``info`` or through the wrapper chain's attributes.

Envs made with ``gym.make`` keep the full ``info`` by default (plots, notebooks,
debugging); wrap them in :class:`HideTestInfo` to give an agent the harness's view.

What the wrapper cannot hide: ``env.unwrapped`` is the raw env (agents need its
``search_space``, ``max_queries``, ``edit_targets()``...), and through it the
benchmark's tables, ``search_info()`` and the incumbent's test accuracy stay
reachable by code that looks for them on purpose. The guarantee covers what an agent
is handed (every ``info``, and ``get_wrapper_attr`` of the names below), not
deliberate introspection of the raw env.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym

#: ``info`` keys of nasgym envs that are derived from test data.
TEST_INFO_KEYS: frozenset[str] = frozenset(
    {"test_accuracy", "best_test_accuracy", "regret", "benchmark_test_accuracy"}
)

#: Attributes that :meth:`HideTestInfo.get_wrapper_attr` refuses: the logs and the
#: search summary below the wrapper hold test values.
HIDDEN_ATTRS: frozenset[str] = frozenset(
    {"records", "values", "search_info", "best_test", "last_test", "test_table"}
)


def is_test_key(key: str) -> bool:
    """Whether an ``info`` key is test-derived.

    The known keys (:data:`TEST_INFO_KEYS`), and any key naming ``test`` or
    ``regret`` (so a key added to an env later is hidden too).
    """
    lowered = key.lower()
    return key in TEST_INFO_KEYS or "test" in lowered or "regret" in lowered


def hide_test_keys(info: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``info`` without test-derived keys, also inside nested mappings."""
    return {
        key: hide_test_keys(value) if isinstance(value, Mapping) else value
        for key, value in info.items()
        if not is_test_key(str(key))
    }


class HideTestInfo(gym.Wrapper[Any, Any, Any, Any], gym.utils.RecordConstructorArgs):
    """The agent's view of an env: ``info`` without test accuracy or regret.

    Every ``reset`` and ``step`` returns ``info`` with the keys of
    :func:`is_test_key` removed (``test_accuracy``, ``best_test_accuracy``,
    ``regret``, ``benchmark_test_accuracy``; nested mappings such as
    ``objectives`` are filtered too). ``get_wrapper_attr`` refuses
    :data:`HIDDEN_ATTRS` (e.g. a :class:`~nasgym.wrappers.QueryLog`'s ``records``
    below this wrapper). See the module docstring for what stays reachable.

    Example:
        >>> import gymnasium as gym
        >>> import nasgym
        >>> env = HideTestInfo(gym.make("nasgym/NBGraphQuery-v0", max_queries=3))
        >>> _, info = env.reset(seed=0)
        >>> _, _, _, _, info = env.step(env.action_space.sample())
        >>> "valid_accuracy" in info, "test_accuracy" in info, "regret" in info
        (True, False, False)
    """

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset; ``info`` without test-derived keys."""
        obs, info = self.env.reset(seed=seed, options=options)
        return obs, hide_test_keys(info)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step; ``info`` without test-derived keys."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, hide_test_keys(info)

    def get_wrapper_attr(self, name: str) -> Any:
        """The attribute ``name`` of this wrapper or an env below, except test data.

        Raises:
            AttributeError: ``name`` is in :data:`HIDDEN_ATTRS`.
        """
        if name in HIDDEN_ATTRS:
            raise AttributeError(
                f"{name!r} is hidden from agents: it holds test-derived values "
                "(nasgym.wrappers.HideTestInfo); agents decide on validation data only"
            )
        return super().get_wrapper_attr(name)
