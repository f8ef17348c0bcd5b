"""The ``info`` contract: what an env must report for the leaderboard harness.

Any Gymnasium env can be put on the leaderboard (``--env theirpkg/TheirEnv-v0``) if
its ``reset`` and ``step`` return an ``info`` dict with these keys (nasgym's own
envs do; see ``docs/leaderboard.md#bring-your-own-env``):

* in every ``info`` (:data:`STEP_KEYS`): ``new_query`` (bool: this step evaluated an
  architecture not seen before in the search), ``queries`` (int: distinct
  architectures evaluated so far, the budget counter) and ``budget_exhausted``
  (bool: ``queries`` reached ``max_queries``; agents stop on it);
* in every ``info`` whose ``new_query`` is true (:data:`QUERY_KEYS`): ``arch`` (the
  architecture as a string), ``valid_accuracy`` and ``test_accuracy`` (of that
  architecture), ``best_valid_accuracy`` and ``best_test_accuracy`` (of the
  incumbent: the best by validation accuracy so far, and its test accuracy),
  ``regret`` (optimum minus ``best_test_accuracy``; NaN when the optimum is
  unknown) and ``sim_time_s`` (simulated training time so far, or ``None``).

The env is made with ``max_queries=budget``. Everything else is optional
(:data:`OPTIONAL_KEYS` and the env attributes the harness reads when present).

The harness checks the contract on the first reset, the first step and the first
new query of every run (:class:`InfoContract`); :func:`nasgym.testing.check_nas_env`
runs the same check in a package's own tests.

Example:
    >>> check_info({"new_query": False, "queries": 0}, "theirpkg/X-v0", "reset")
    Traceback (most recent call last):
    ...
    nasgym.leaderboard.contract.InfoContractError: theirpkg/X-v0 breaks the \
leaderboard's info contract: the info of reset has no key 'budget_exhausted' \
(bool: the query budget is spent), which every info must have; see \
docs/leaderboard.md#bring-your-own-env
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from nasgym.leaderboard.errors import LeaderboardError

#: Keys of every ``info`` (reset and step), with what they hold.
STEP_KEYS: dict[str, str] = {
    "new_query": "bool: this step evaluated an architecture not seen before",
    "queries": "int: distinct architectures evaluated so far",
    "budget_exhausted": "bool: the query budget is spent",
}

#: Keys of every ``info`` whose ``new_query`` is true, with what they hold.
QUERY_KEYS: dict[str, str] = {
    "arch": "the evaluated architecture, as a string",
    "valid_accuracy": "float: its validation accuracy",
    "test_accuracy": "float: its test accuracy",
    "best_valid_accuracy": "float: the incumbent's validation accuracy",
    "best_test_accuracy": "float: the incumbent's test accuracy",
    "regret": "float: optimum minus best_test_accuracy (NaN if unknown)",
    "sim_time_s": "float or None: simulated training time so far",
}

#: Optional keys the harness records when present.
OPTIONAL_KEYS: dict[str, str] = {
    "best_arch": "the incumbent architecture (run summary)",
    "objectives": "{name: value} of the step's architecture (multi-objective runs)",
    "constraint_violated": "bool (constrained multi-objective runs)",
}

_CONTRACT = "docs/leaderboard.md#bring-your-own-env"


class InfoContractError(LeaderboardError):
    """An env's ``info`` lacks a key (or a usable value) the harness needs."""


def _fail(env_id: str, where: str, problem: str) -> InfoContractError:
    return InfoContractError(
        f"{env_id} breaks the leaderboard's info contract: the info of {where} "
        f"{problem}; see {_CONTRACT}"
    )


def check_info(info: Mapping[str, Any], env_id: str, where: str) -> None:
    """Check one ``info`` dict against the contract.

    Args:
        info: The ``info`` of a reset or step.
        env_id: The env's id (for the message).
        where: Which call returned it, e.g. ``"reset"`` or ``"step 1"``.

    Raises:
        InfoContractError: A required key is missing or has an unusable value; the
            message names the key, the id and the call.
    """
    if not isinstance(info, Mapping):
        raise _fail(env_id, where, f"is a {type(info).__name__}, not a dict")
    for key, meaning in STEP_KEYS.items():
        if key not in info:
            raise _fail(
                env_id, where, f"has no key {key!r} ({meaning}), which every info "
                "must have"
            )  # fmt: skip
    _number(info, "queries", env_id, where, integer=True)
    if not info["new_query"]:
        return
    for key, meaning in QUERY_KEYS.items():
        if key not in info:
            raise _fail(
                env_id, where, f"has new_query=True but no key {key!r} ({meaning}), "
                "which the info of every new query must have"
            )  # fmt: skip
    for key in ("valid_accuracy", "test_accuracy", "best_valid_accuracy"):
        _number(info, key, env_id, where)
    _number(info, "best_test_accuracy", env_id, where)
    _number(info, "regret", env_id, where)
    if info["sim_time_s"] is not None:
        _number(info, "sim_time_s", env_id, where)


def _number(
    info: Mapping[str, Any], key: str, env_id: str, where: str, integer: bool = False
) -> None:
    value = info[key]
    try:
        number = float(value)
        if integer and (isinstance(value, bool) or number != int(number)):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        kind = "an integer" if integer else "a number"
        raise _fail(
            env_id, where, f"has {key}={value!r}, which is not {kind}"
        ) from None


class InfoContract(gym.Wrapper[Any, Any, Any, Any]):
    """Check the info contract on the first reset, first step and first new query.

    Wrapped directly around the env the harness made (below the query log), so a
    missing key is reported by name instead of surfacing as a ``KeyError`` inside
    the harness.
    """

    def __init__(self, env: gym.Env[Any, Any], env_id: str) -> None:
        super().__init__(env)
        self._env_id = env_id
        self._checked_reset = False
        self._checked_step = False
        self._checked_query = False
        self._steps = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset; check the info of the first reset (and of the first new query)."""
        obs, info = self.env.reset(seed=seed, options=options)
        if not self._checked_reset:
            self._checked_reset = True
            self._check(info, "the first reset")
        elif not self._checked_query:
            self._check(info, "a reset")
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step; check the info of the first step (and of the first new query)."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._steps += 1
        if not self._checked_step:
            self._checked_step = True
            self._check(info, "the first step")
        elif not self._checked_query:
            self._check(info, f"step {self._steps}")
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> Any:
        """The wrapped env's ``action_masks()`` (for agents that call it here)."""
        return self.env.get_wrapper_attr("action_masks")()

    def _check(self, info: Mapping[str, Any], where: str) -> None:
        check_info(info, self._env_id, where)
        if isinstance(info, Mapping) and info.get("new_query"):
            self._checked_query = True
