"""Every registered env rejects keyword arguments it does not take (issue 15.2)."""

from __future__ import annotations

import gymnasium as gym
import pytest

import nasgym
from nasgym.error import UnknownKeywordError, UnknownOptionError


def _short(env_id: str) -> str:
    return env_id.split("/")[1].removesuffix("-v0")


@pytest.mark.parametrize("env_id", list(nasgym.ALL_ENVS), ids=_short)
def test_misspelt_keyword_is_rejected_with_suggestion(env_id: str) -> None:
    with pytest.raises(UnknownKeywordError) as err:
        gym.make(env_id, max_queris=3, tpo_k=3)
    text = str(err.value)
    assert "'max_queris' (did you mean 'max_queries'?)" in text
    assert "'tpo_k'" in text
    assert "valid keyword arguments:" in text and "horizon" in text
    # Also a TypeError (what Python raises for an unexpected keyword).
    assert isinstance(err.value, TypeError)
    assert isinstance(err.value, UnknownOptionError)


@pytest.mark.parametrize(
    "env_id", [i for i in nasgym.ALL_ENVS if "NB101" in i or "NB301" in i], ids=_short
)
def test_single_dataset_spaces_reject_other_datasets(env_id: str) -> None:
    with pytest.raises(UnknownOptionError, match="only dataset is 'cifar10'"):
        gym.make(env_id, dataset="cifar100")
