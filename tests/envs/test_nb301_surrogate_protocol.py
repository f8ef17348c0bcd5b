"""The NB301 envs take any surrogate implementing ``SurrogateModel`` (no data)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from nasgym.benchmarks.nb301 import SurrogateModel
from nasgym.envs.nb301 import NB301EditEnv
from nasgym.error import UnknownOptionError
from nasgym.spaces.darts import array_to_genotypes


class FakeSurrogate:
    """Accuracy 50 + sum of op indices, runtime 1000 + epoch: easy to check."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, ...], int]] = []

    def predict(self, genotypes: np.ndarray, epoch: int) -> tuple[Any, Any]:
        arr = np.asarray(genotypes)
        self.calls.append((arr.shape, epoch))
        array_to_genotypes(arr)  # the envs only send valid genotypes
        acc = 50.0 + arr[..., 0].astype(np.float64).sum(axis=(1, 2))
        return acc.tolist(), [1000.0 + epoch] * len(arr)


def expected(env: NB301EditEnv) -> float:
    genotype = env.genotype
    assert genotype is not None
    return 50.0 + float(sum(op for cell in genotype.cells for op, _ in _ops(cell)))


def _ops(cell: Any) -> list[tuple[int, int]]:
    from nasgym.spaces.darts import OPS

    return [(OPS.index(op), src) for op, src in cell]


def test_fake_satisfies_the_protocol() -> None:
    assert isinstance(FakeSurrogate(), SurrogateModel)


def test_edit_env_uses_the_fake_surrogate() -> None:
    fake = FakeSurrogate()
    env = gym.make("nasgym/NB301Edit-v0", surrogate=fake, epoch=40)
    unwrapped = env.unwrapped
    assert isinstance(unwrapped, NB301EditEnv)
    assert unwrapped.surrogate is fake
    _, info = env.reset(seed=3)
    assert fake.calls and fake.calls[0] == ((1, 2, 8, 2), 40)
    assert info["valid_accuracy"] == pytest.approx(expected(unwrapped))
    rng = np.random.default_rng(0)
    for _ in range(5):
        legal = np.flatnonzero(unwrapped.action_masks())
        _, _, terminated, truncated, info = env.step(int(rng.choice(legal)))
        assert info["valid_accuracy"] == pytest.approx(expected(unwrapped))
        if terminated or truncated:
            break
    env.close()


def test_rejects_objects_without_predict() -> None:
    with pytest.raises(UnknownOptionError, match="SurrogateModel"):
        gym.make("nasgym/NB301Edit-v0", surrogate=object())


def test_wrong_length_from_predict_is_an_error() -> None:
    class Short(FakeSurrogate):
        def predict(self, genotypes: np.ndarray, epoch: int) -> tuple[Any, Any]:
            return [90.0, 91.0], [1.0, 2.0]

    env = gym.make("nasgym/NB301Edit-v0", surrogate=Short())
    with pytest.raises(ValueError, match="2 accuracies"):
        env.reset(seed=0)
    env.close()
