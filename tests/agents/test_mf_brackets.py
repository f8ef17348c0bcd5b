"""Successive halving and Hyperband (nasgym_agents.mf.brackets) on a toy benchmark."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from test_mf_drivers import ToyFidelity, run_async, run_sequential

from nasgym.error import UnknownKeywordError, UnknownOptionError
from nasgym.mf.protocol import Job, MFOptimizer
from nasgym_agents.mf import (
    ASHA,
    BOHB,
    Hyperband,
    OptunaHyperband,
    RandomSearchTime,
    REATime,
    SuccessiveHalving,
)

FIDELITIES = (1, 3, 9, 27)
ALL = (SuccessiveHalving, Hyperband, BOHB, ASHA, RandomSearchTime, REATime)


def _make(cls: Any, bench: ToyFidelity, seed: int = 0, **config: Any) -> Any:
    return cls(nvec=bench.nvec, fidelities=bench.fidelities, seed=seed, **config)


def _check_promotions(bracket: Any, scores: dict[tuple[Job, int], float]) -> None:
    """Each rung after the first evaluates the best of the rung below."""
    for (low, below), (high, above) in zip(
        bracket.history, bracket.history[1:], strict=False
    ):
        ranked = sorted(
            range(len(below)), key=lambda i: (-scores[Job(below[i], low), i], i)
        )
        assert Counter(above) == Counter(below[i] for i in ranked[: len(above)])
        assert high > low


def _scores(bench: ToyFidelity, brackets: list[Any]) -> dict[Any, float]:
    out = {}
    for bracket in brackets:
        for fidelity, vectors in bracket.history:
            for i, v in enumerate(vectors):
                out[Job(v, fidelity), i] = bench.evaluate(v, fidelity).score
    return out


# ------------------------------------------------------------ protocol
@pytest.mark.parametrize("cls", [*ALL, OptunaHyperband])
def test_every_optimizer_satisfies_the_protocol(cls: Any) -> None:
    bench = ToyFidelity()
    opt = _make(cls, bench)
    assert isinstance(opt, MFOptimizer)
    log = run_sequential(opt, bench, 40)
    assert len(log.results) == 40
    assert set(log.fidelities()) <= set(FIDELITIES)
    assert opt.in_flight == 0 and opt.asked == opt.told == 40


@pytest.mark.parametrize("cls", [*ALL, OptunaHyperband])
def test_same_seed_same_jobs_other_seed_other_jobs(cls: Any) -> None:
    bench = ToyFidelity()
    runs = [
        run_async(_make(cls, bench, seed=s), bench, 60, workers=3, seed=1).asked
        for s in (5, 5, 6)
    ]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("cls", [*ALL, OptunaHyperband])
def test_unknown_keyword_names_the_valid_ones(cls: Any) -> None:
    with pytest.raises(UnknownKeywordError, match="valid keyword arguments") as info:
        cls(nvec=(4,), fidelities=(1, 3), seed=0, etaa=3)
    assert isinstance(info.value, TypeError)
    assert "seed" in str(info.value) and "etaa" in str(info.value)


@pytest.mark.parametrize("cls", [SuccessiveHalving, Hyperband, BOHB, ASHA])
def test_bad_settings_raise(cls: Any) -> None:
    ok = {"nvec": (4, 4), "fidelities": FIDELITIES, "seed": 0}
    with pytest.raises(UnknownOptionError, match="eta"):
        cls(**ok, eta=1)
    with pytest.raises(UnknownOptionError, match=r"min_fidelity.*1, 3, 9, 27"):
        cls(**ok, min_fidelity=2)
    with pytest.raises(UnknownOptionError, match="exceeds max_fidelity"):
        cls(**ok, min_fidelity=9, max_fidelity=3)
    with pytest.raises(UnknownOptionError, match="strictly increasing"):
        cls(nvec=(4,), fidelities=(3, 1), seed=0)
    with pytest.raises(UnknownOptionError, match="seed"):
        cls(nvec=(4,), fidelities=(1,), seed=-1)
    with pytest.raises(UnknownOptionError, match="nvec"):
        cls(nvec=(4, 0), fidelities=(1,), seed=0)


def test_tell_of_a_job_not_in_flight_raises() -> None:
    bench = ToyFidelity()
    sh = _make(SuccessiveHalving, bench)
    job = sh.ask()
    assert job is not None
    with pytest.raises(UnknownOptionError, match="not in flight"):
        sh.tell(Job(job.vector, 27), 1.0)
    with pytest.raises(UnknownOptionError, match="finite"):
        sh.tell(job, float("nan"))
    sh.tell(job, 1.0)
    with pytest.raises(UnknownOptionError, match="not in flight"):
        sh.tell(job, 1.0)


# ------------------------------------------------------------ successive halving
def test_successive_halving_rung_sizes_and_promotions() -> None:
    bench = ToyFidelity()
    sh = _make(SuccessiveHalving, bench, max_brackets=2)
    assert sh.rungs == FIDELITIES and sh.n_configs == 27
    log = run_sequential(sh, bench, 1000)
    assert sh.ask() is None  # two brackets, then finished
    per_bracket = Counter(log.fidelities())
    assert per_bracket == {1: 54, 3: 18, 9: 6, 27: 2}  # 27 * 3**-k, twice
    for bracket in sh.brackets:
        assert [len(v) for _, v in bracket.history] == [27, 9, 3, 1]
    _check_promotions(sh.brackets[0], _scores(bench, sh.brackets))
    assert sh.brackets[0].history[0][1] != sh.brackets[1].history[0][1]


def test_successive_halving_with_n_configs_and_eta_2() -> None:
    bench = ToyFidelity(fidelities=(1, 2, 4, 8))
    sh = _make(SuccessiveHalving, bench, eta=2, n_configs=10, max_brackets=1)
    run_sequential(sh, bench, 1000)
    assert [len(v) for _, v in sh.brackets[0].history] == [10, 5, 2, 1]
    _check_promotions(sh.brackets[0], _scores(bench, sh.brackets))


def test_sequential_brackets_wait_for_the_rung() -> None:
    bench = ToyFidelity()
    sh = _make(SuccessiveHalving, bench, max_brackets=1, max_active_brackets=1)
    jobs = [sh.ask() for _ in range(27)]
    assert all(j is not None and j.fidelity == 1 for j in jobs)
    assert sh.ask() is None  # rung 0 has no results yet: wait
    for job in jobs[:-1]:
        assert job is not None
        sh.tell(job, bench.evaluate(job.vector, 1).score)
        assert sh.ask() is None  # still one result missing
    last = jobs[-1]
    assert last is not None
    sh.tell(last, bench.evaluate(last.vector, 1).score)
    promoted = sh.ask()
    assert promoted is not None and promoted.fidelity == 3


def test_parallel_brackets_start_when_all_wait() -> None:
    bench = ToyFidelity()
    sh = _make(SuccessiveHalving, bench)
    log = run_async(sh, bench, 400, workers=30, seed=0)
    assert log.nones_while_pending == 0
    assert len(sh.brackets) > 1
    scores = _scores(bench, sh.brackets)
    for bracket in sh.brackets:
        sizes = [len(v) for _, v in bracket.history]
        assert sizes == [27, 9, 3, 1][: len(sizes)]
        _check_promotions(bracket, scores)


# ------------------------------------------------------------ hyperband
def test_hyperband_brackets_follow_li_et_al() -> None:
    bench = ToyFidelity()
    hb = _make(Hyperband, bench, max_brackets=8)
    assert hb.s_max == 3
    # s = 3..0: n = ceil((s_max + 1) / (s + 1) * eta**s) = 27, 12, 6, 4
    assert [hb.bracket_shape(i) for i in range(5)] == [
        (3, 27),
        (2, 12),
        (1, 6),
        (0, 4),
        (3, 27),
    ]
    run_sequential(hb, bench, 10_000)
    assert hb.ask() is None
    sizes = [[(f, len(v)) for f, v in b.history] for b in hb.brackets]
    cycle = [
        [(1, 27), (3, 9), (9, 3), (27, 1)],
        [(3, 12), (9, 4), (27, 1)],
        [(9, 6), (27, 2)],
        [(27, 4)],
    ]
    assert sizes == cycle + cycle
    scores = _scores(bench, hb.brackets)
    for bracket in hb.brackets:
        _check_promotions(bracket, scores)


def test_hyperband_async_keeps_bracket_sizes() -> None:
    bench = ToyFidelity()
    hb = _make(Hyperband, bench)
    run_async(hb, bench, 300, workers=8, seed=3)
    finished = [b for b in hb.brackets if b.done]
    assert len(finished) >= 4
    for bracket in finished:
        assert [len(v) for _, v in bracket.history] == list(bracket.sizes)


def test_config_records_the_rungs() -> None:
    bench = ToyFidelity()
    config = _make(Hyperband, bench).config()
    assert config["rungs"] == list(FIDELITIES) and config["eta"] == 3
