"""Unit tests of the demo's paired statistic and verdicts (hand-made runs)."""

from __future__ import annotations

import numpy as np
import pytest

from nasgym.demo import DemoResult, SearchRun, format_demo, paired_test, verdict
from nasgym.error import UnknownOptionError


def test_paired_test_identical_samples_is_not_significant() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0])
    test = paired_test(a, a)
    assert test.mean_diff == 0.0 and test.se == 0.0 and test.p_value == 1.0


def test_paired_test_exact_sign_flip_p_value() -> None:
    b = np.zeros(6)
    a = np.array([1.0, 1.2, 0.8, 1.1, 0.9, 1.0])
    test = paired_test(a, b)
    # only the all-plus and all-minus sign patterns reach the observed mean
    assert test.p_value == pytest.approx(2 / 2**6)
    assert test.mean_diff == pytest.approx(a.mean())
    assert test.se == pytest.approx(a.std(ddof=1) / np.sqrt(6))


def test_paired_test_many_pairs_uses_random_flips() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(size=40)
    assert paired_test(noise, np.zeros(40)).p_value > 0.05
    assert paired_test(noise + 2.0, np.zeros(40)).p_value < 0.001


def test_paired_test_rejects_unequal_lengths() -> None:
    with pytest.raises(UnknownOptionError, match="equal-length"):
        paired_test(np.zeros(3), np.zeros(4))


def _result(random_valid: list[float], ls_valid: list[float]) -> DemoResult:
    result = DemoResult("toy", 1, optimum_valid=90.0, optimum_test=89.0)
    for method, values in (("random search", random_valid), ("local search", ls_valid)):
        for seed, value in enumerate(values):
            record = {"query": 1, "best_valid": value, "best_test": value - 1.0}
            result.runs.append(SearchRun(method, seed, [record], 0.0))
    return result


def test_verdict_says_plainly_when_nothing_differs() -> None:
    result = _result([80.0, 81.0, 82.0, 83.0], [81.0, 80.0, 83.0, 82.0])
    line = verdict(result, "valid_regret")
    assert "no significant difference" in line and "p = 1.000" in line
    assert "Test regret can rise" in format_demo(result)


def test_verdict_names_the_better_searcher() -> None:
    random_valid = [80.0, 81.0, 82.0, 83.0, 80.5, 81.5]
    result = _result(random_valid, [v + 1.0 for v in random_valid])
    assert "local search is significantly better" in verdict(result, "valid_regret")
    assert "local search is significantly better" in verdict(result, "test")
    result = _result([v + 1.0 for v in random_valid], random_valid)
    assert "local search is significantly worse" in verdict(result, "test")
