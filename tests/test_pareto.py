"""nasgym.pareto: fronts against brute force, hypervolume against hand-computed HV."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from nasgym.pareto import (
    REFERENCE_POINT,
    Bounds,
    ParetoInputError,
    TrueFront,
    front_of_table,
    hypervolume,
    maximised,
    nondominated,
    pareto_front,
    true_front,
)


def brute_front(points: np.ndarray, maximise: list[bool]) -> np.ndarray:
    """Distinct rows that no other row dominates, by pairwise comparison."""
    signs = np.where(maximise, -1.0, 1.0)
    costs = points * signs  # everything minimised
    keep = []
    for i, p in enumerate(costs):
        dominated = any(
            (q <= p).all() and (q < p).any() for j, q in enumerate(costs) if j != i
        )
        if not dominated:
            keep.append(tuple(points[i]))
    return np.array(sorted(set(keep)), dtype=float).reshape(-1, points.shape[1])


def brute_hypervolume_2d(points: np.ndarray, ref: np.ndarray) -> float:
    """Area dominated by minimised 2-D points, by summing grid cells."""
    xs = np.unique(np.concatenate([points[:, 0], [ref[0]]]))
    ys = np.unique(np.concatenate([points[:, 1], [ref[1]]]))
    area = 0.0
    for x0, x1 in itertools.pairwise(xs):
        for y0, y1 in itertools.pairwise(ys):
            if ((points[:, 0] <= x0) & (points[:, 1] <= y0)).any():
                area += (x1 - x0) * (y1 - y0)
    return area


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("seed", range(4))
def test_front_matches_brute_force(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # a coarse grid forces ties and duplicate rows
    points = rng.integers(0, 6, size=(60, k)).astype(float)
    maximise = [bool(b) for b in rng.integers(0, 2, size=k)]
    np.testing.assert_array_equal(
        pareto_front(points, maximise), brute_front(points, maximise)
    )
    mask = nondominated(points, maximise)
    assert mask.sum() == len(brute_front(points, maximise))  # duplicates count once


def test_front_of_small_table_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    table = np.column_stack(
        [rng.uniform(40, 95, 300), rng.uniform(1, 50, 300), rng.integers(1, 9, 300)]
    )
    table[5] = np.nan  # an architecture without values is left out
    names = ["valid_accuracy", "latency:pi5-litert", "params"]
    front = front_of_table(names, table)
    finite = table[np.isfinite(table).all(axis=1)]
    np.testing.assert_array_equal(
        front.front, brute_front(finite, [True, False, False])
    )
    assert front.archs == 299
    assert front.bounds.lower == tuple(np.nanmin(table, axis=0))
    assert front.bounds.upper == tuple(np.nanmax(table, axis=0))
    assert 0.0 < front.hypervolume <= REFERENCE_POINT**3


def test_hypervolume_hand_computed_2d() -> None:
    # staircase (1,3), (2,2), (3,1) against (4,4): 3 + 2 + 1 = 6
    assert hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4]) == pytest.approx(6.0)
    # a dominated point and a duplicate add nothing
    assert hypervolume([[1, 3], [2, 2], [3, 1], [3, 3], [2, 2]], [4, 4]) == (
        pytest.approx(6.0)
    )
    # a point that does not dominate the reference point adds nothing
    assert hypervolume([[1, 1], [5, 0]], [2, 2]) == pytest.approx(1.0)
    assert hypervolume(np.zeros((0, 2)), [1, 1]) == 0.0
    # maximised accuracy, minimised cost: (90, 2) and (80, 1) against (70, 3)
    # = 20 * 1 + 10 * 1 (the strip below cost 2 that only (80, 1) covers)
    value = hypervolume([[90, 2], [80, 1]], [70, 3], maximise=[True, False])
    assert value == pytest.approx(30.0)


def test_hypervolume_hand_computed_3d() -> None:
    # one box 2 x 3 x 4
    assert hypervolume([[0, 0, 0]], [2, 3, 4]) == pytest.approx(24.0)
    # against (2, 2, 2): (0, 0, 1) covers 2x2x1, (1, 1, 0) covers 1x1x2, and they
    # overlap in 1x1x1: 4 + 2 - 1 = 5
    assert hypervolume([[0, 0, 1], [1, 1, 0]], [2, 2, 2]) == pytest.approx(5.0)


@pytest.mark.parametrize("seed", range(3))
def test_hypervolume_2d_matches_grid_sum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 10, size=(25, 2)).astype(float)
    ref = np.array([10.0, 10.0])
    assert hypervolume(points, ref) == pytest.approx(brute_hypervolume_2d(points, ref))


def test_normalised_hypervolume_convention() -> None:
    bounds = Bounds(("valid_accuracy", "latency"), (50.0, 1.0), (90.0, 5.0))
    # best accuracy and cheapest cost map to 0; worst to 1
    np.testing.assert_allclose(
        bounds.normalise([[90.0, 1.0], [50.0, 5.0], [70.0, 3.0]]),
        [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]],
    )
    # the ideal point alone dominates the whole reference box
    assert bounds.hypervolume([[90.0, 1.0]]) == pytest.approx(REFERENCE_POINT**2)
    # the nadir alone dominates the 0.1 x 0.1 corner
    assert bounds.hypervolume([[50.0, 5.0]]) == pytest.approx(0.01)
    # a constant objective maps to 0
    flat = Bounds(("params",), (3.0,), (3.0,))
    np.testing.assert_array_equal(flat.normalise([[3.0]]), [[0.0]])


def test_true_front_round_trips_and_reads_objective_table() -> None:
    table = np.array([[90.0, 3.0], [80.0, 1.0], [85.0, 4.0], [70.0, 0.5]])
    seen: dict[str, Any] = {}

    class Tabular:
        unwrapped: Any

        def objective_table(self, names: list[str], *, accuracy: str) -> np.ndarray:
            seen.update(names=names, accuracy=accuracy)
            return table

    env = Tabular()
    env.unwrapped = env
    front = true_front(env, ("valid_accuracy", "latency"))
    assert seen == {"names": ["valid_accuracy", "latency"], "accuracy": "test"}
    np.testing.assert_array_equal(front.front, [[70.0, 0.5], [80.0, 1.0], [90.0, 3.0]])
    again = TrueFront.from_json(front.to_json())
    np.testing.assert_array_equal(again.front, front.front)
    assert again.bounds == front.bounds and again.hypervolume == front.hypervolume


def test_errors_name_the_problem() -> None:
    with pytest.raises(ParetoInputError, match="no objective_table"):
        true_front(object(), ["valid_accuracy", "latency"])
    with pytest.raises(ParetoInputError, match="'test' or 'valid'"):
        true_front(object(), ["valid_accuracy"], accuracy="train")
    with pytest.raises(ParetoInputError, match="NaN"):
        pareto_front([[1.0, np.nan]])
    with pytest.raises(ParetoInputError, match="2-D"):
        pareto_front([1.0, 2.0])
    with pytest.raises(ParetoInputError, match="expected 3"):
        hypervolume([[1.0, 2.0]], [3.0, 3.0, 3.0])
    with pytest.raises(ParetoInputError, match="one per objective"):
        nondominated([[1.0, 2.0]], [True])
    with pytest.raises(ParetoInputError, match="lower <= upper"):
        Bounds(("a",), (2.0,), (1.0,))
    with pytest.raises(ParetoInputError, match="sequence of names"):
        maximised("valid_accuracy")
    assert maximised(["valid_accuracy", "params", "test_accuracy"]) == [
        True,
        False,
        True,
    ]


def dominates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[i, j]``: row ``a[i]`` dominates row ``b[j]`` (all minimised)."""
    a, b = a[:, None, :], b[None, :, :]
    result: np.ndarray = (a <= b).all(-1) & (a < b).any(-1)
    return result


@pytest.mark.data
@pytest.mark.parametrize(
    ("env_id", "kwargs", "names"),
    [
        (
            "nasgym/NB201Query-v0",
            {"dataset": "cifar100"},
            ["valid_accuracy", "latency:pi5-litert"],
        ),
        ("nasgym/NBGraphQuery-v0", {"dataset": "cora"}, ["valid_accuracy", "latency"]),
    ],
)
def test_true_front_of_a_real_table_satisfies_the_definition(
    request: pytest.FixtureRequest,
    env_id: str,
    kwargs: dict[str, Any],
    names: list[str],
) -> None:
    import gymnasium as gym

    import nasgym  # noqa: F401

    if env_id.startswith("nasgym/NB201"):
        from nasgym.benchmarks import hw360
        from nasgym.datastore import import_data

        request.getfixturevalue("nb201_table")
        source = request.getfixturevalue("data_root") / "hw-nas-bench-360"
        if not (source / hw360.SOURCE_FILE).is_file():
            from conftest import missing_data  # type: ignore[import-not-found]

            missing_data(f"{source / hw360.SOURCE_FILE} is not a file")
        import_data("hw-nas-bench-360", source)
    env = gym.make(env_id, objectives=names, max_queries=10, **kwargs)
    front = true_front(env, names)
    table = env.unwrapped.objective_table(names, accuracy="test")
    # the definition, checked pairwise without an all-pairs table: no row dominates a
    # front point, every other row is dominated by a front point (so nothing is
    # missing), and every front point is a row of the table
    signs = np.array([-1.0, 1.0])
    costs, best = table * signs, front.front * signs
    assert not dominates(costs, best).any()
    on_front = (table[:, None, :] == front.front[None]).all(-1).any(-1)
    assert on_front.sum() >= len(front.front)
    assert dominates(best, costs[~on_front]).any(0).all()
    assert len(np.unique(front.front, axis=0)) == len(front.front)
    assert front.archs == len(table)
