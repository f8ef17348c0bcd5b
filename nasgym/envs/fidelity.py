"""The registered multi-fidelity Query envs: NB201, NB101 and NB301 at epoch budgets.

Each class builds its :class:`~nasgym.mf.fidelity.FidelityBenchmark` and hands it to
:class:`~nasgym.mf.env.FidelityQueryEnv`; the docstrings below are the env pages of
``docs/envs/``.
"""

from __future__ import annotations

import os
from typing import Any

from nasgym.envs.docstring import _head_sections, _tail_sections
from nasgym.envs.keywords import check_single_dataset
from nasgym.mf.env import FidelityQueryEnv


class NB201FidelityEnv(FidelityQueryEnv):
    """NB201 at an epoch budget per query, on simulated asynchronous workers.

    Args:
        dataset: ``cifar10``, ``cifar100`` or ``ImageNet16-120``.
        curve: Epochs 1..200 of the 200-epoch schedule (CIFAR-10 with the official
            archive's per-epoch curves) instead of the 12- and 200-epoch schedules.
        path: The NB201 table (default: the imported one).
        **kwargs: See :class:`~nasgym.mf.env.FidelityQueryEnv`.
    """

    #: The datasets (listed by ``nasgym list``).
    DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")

    def __init__(
        self,
        dataset: str = "cifar10",
        *,
        curve: bool = False,
        path: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        from nasgym.mf.fidelity import NB201Fidelity

        self.dataset = dataset
        super().__init__(NB201Fidelity(dataset, path=path, curve=curve), **kwargs)


class NB101FidelityEnv(FidelityQueryEnv):
    """NB101 at the table's epoch budgets, on simulated asynchronous workers.

    Args:
        table: ``"full"`` (budgets 4/12/36/108) or ``"ecnas"`` (one budget).
        dataset: Only ``cifar10``.
        path: The table file (default: the imported one).
        **kwargs: See :class:`~nasgym.mf.env.FidelityQueryEnv`.
    """

    DATASETS: tuple[str, ...] = ("cifar10",)

    def __init__(
        self,
        table: str = "full",
        *,
        dataset: str = "cifar10",
        path: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        from nasgym.mf.fidelity import NB101Fidelity

        check_single_dataset("NB101", dataset, self.DATASETS)
        self.dataset = dataset
        super().__init__(NB101Fidelity(table, path=path), **kwargs)


class NB301FidelityEnv(FidelityQueryEnv):
    """NB301's surrogate at epochs 1..98, on simulated asynchronous workers.

    Args:
        dataset: Only ``cifar10``.
        path: The surrogate folder (default: under ``NASGYM_DATA_DIR``).
        **kwargs: See :class:`~nasgym.mf.env.FidelityQueryEnv`.
    """

    DATASETS: tuple[str, ...] = ("cifar10",)

    def __init__(
        self,
        *,
        dataset: str = "cifar10",
        path: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        from nasgym.mf.fidelity import NB301Fidelity

        check_single_dataset("NB301", dataset, self.DATASETS)
        self.dataset = dataset
        super().__init__(NB301Fidelity(path=path), **kwargs)


_ACTION = """\
`MultiDiscrete(nvec + (F,))`: one entry per slot of the architecture vector ({slots}),
then the index of the epoch budget in the benchmark's fidelities ({fidelities}; `F`
of them). An action outside the space raises `nasgym.error.InvalidActionError`."""

_OBS = """\
`Box(0, 1, (len(nvec) + 5,), float32)`: the last job's slots (each divided by its
number of choices minus one) and fidelity index (divided by `F - 1`), its score, the
incumbent's score (fractions; 0 before any), the fraction of the budget used and the
fraction of workers idle."""

_REWARDS = """\
A shaping of the job's *validation* score at its fidelity, `acc` (a fraction),
selected by `reward` (default `'valid'`, `alpha=6`): `'valid'` gives `acc`, `'power'`
`acc ** alpha`, `'exp'` `exp(alpha * (acc - 1))`, `'improvement'`
`max(0, acc - best_before)` against the incumbent. Test accuracy never enters the
reward. A step that starts no job (the budget is spent) gives 0."""

_START = "No job: the clock at 0, every worker idle, the budget untouched."

_END = """\
Episodes never terminate. They are truncated after `horizon` steps (default: never),
or on the step that spends the budget: the step that starts the `max_queries`-th job
(or, with `budget_unit="queries"`, the `budget`-th), or the step whose job does not
fit what is left of an epochs or seconds `budget` (that job is not run).
On that step the clock runs on until every job still training has finished (they
were paid for), so `sim_time_s` ends at the search's makespan. `reset(seed=...)`
starts a fresh search; `reset()` without a seed continues it in a new episode.

**The simulated clock.** A job starts on the lowest-numbered idle worker at the
clock; when it leaves no worker idle, the clock runs on to the next finish (with one
worker: to the job's own finish). It lasts
what the budget charges for it: its training seconds (`time_unit="s"`), or its epochs
where the benchmark has no training times (`time_unit="epochs"`, the epochs proxy).
The step returns the job's score at once (a black box answers immediately); the
incumbent (`best_*`) counts only jobs finished by the clock, and
`nasgym.mf.env.run_optimizer` tells an ask/tell optimizer each result only when its job
finishes, reproducing `nasgym.mf.simulate.simulate` exactly. `env.unwrapped.wait()` runs the
clock to the next finish and returns the jobs finishing then."""

_INFO = """\
| key | meaning |
|---|---|
| `arch`, `fidelity` | the job's architecture (string) and epoch budget (`None` when no job started) |
| `valid_accuracy` | the job's search score at its fidelity (%; the split is in `score_split`) |
| `test_accuracy` | the architecture's report value: {report} (reporting only, never rewarded) |
| `new_query` | whether this step started a job |
| `queries` | jobs started since the search began (every job is charged, revisits too) |
| `sim_cost`, `sim_start`, `sim_end`, `worker` | the job's charge, simulated start and finish, and its worker |
| `sim_time_s` | the simulated clock, in `time_unit` (never `None`) |
| `time_unit` | `"s"` (seconds) or `"epochs"` (the epochs proxy) |
| `budget_used`, `budget_unit` | the search budget used so far, and its unit |
| `best_arch`, `best_fidelity`, `best_valid_accuracy`, `best_test_accuracy` | the incumbent among jobs finished by the clock: the best score at the highest fidelity reached |
| `regret` | {optimum} minus `best_test_accuracy` |
| `finished` | jobs that finished on this step's clock advance (`nasgym.mf.env.Finished`) |
| `budget_exhausted` | the budget is spent |"""

_ARGS = """\
| param | type | default | description |
|---|---|---|---|
{own}| `max_queries` | int or None | None | at most this many jobs |
| `budget` | float or None | None | search budget in `budget_unit` |
| `budget_unit` | str | `"queries"` | `"queries"`, `"epochs"` or `"seconds"` (seconds need training times) |
| `sim_workers` | int | 1 | simulated parallel workers |
| `reward`, `alpha` | str, float | `"valid"`, 6.0 | see Rewards |
| `horizon` | int or None | None | steps per episode (`None`: the whole search) |
| `render_mode` | str or None | None | `'ansi'`: a one-line summary |"""


def _doc(
    *,
    env_id: str,
    title: str,
    description: str,
    search_space: str,
    slots: str,
    fidelities: str,
    report: str,
    optimum: str,
    own_args: str,
    data: str,
    make: str,
    references: str,
) -> str:
    sections = [
        *_head_sections(title, description, search_space),
        _ACTION.format(slots=slots, fidelities=fidelities),
        "",
        "## Observation Space",
        "",
        _OBS,
        "",
        "## Rewards",
        "",
        _REWARDS,
        "",
        "## Starting State",
        "",
        _START,
        "",
        "## Episode End",
        "",
        _END,
        "",
        "## Information",
        "",
        _INFO.format(report=report, optimum=optimum),
        "",
        "## Arguments",
        "",
        _ARGS.format(own=own_args),
        "",
        "## Benchmark Data",
        "",
        data,
        "",
        *_tail_sections(f"* `{env_id}`: `{make}`", references),
    ]
    return "\n".join(sections) + "\n"


NB201FidelityEnv.__doc__ = _doc(
    env_id="nasgym/NB201Fidelity-v0",
    title="Multi-fidelity black-box search over NAS-Bench-201 with simulated workers.",
    description="One step trains a whole NB201 cell at an epoch budget (a job) on one "
    "of `sim_workers` simulated workers, the setting of successive halving, "
    "Hyperband, BOHB and ASHA, and of the NB201 paper's time-budgeted baselines. "
    "See docs/multifidelity.md.",
    search_space="The NAS-Bench-201 cell: 6 edges, each one of 5 ops (`none`, "
    "`skip_connect`, `nor_conv_1x1`, `nor_conv_3x3`, `avg_pool_3x3`), 15,625 cells.",
    slots="6 edges, 5 ops each",
    fidelities="`(12, 200)`, the two NATS-Bench schedules; `curve=True`: epochs "
    "1..200 of the 200-epoch schedule",
    report="test accuracy after 200 epochs",
    optimum="the best 200-epoch test accuracy of the table",
    own_args="| `dataset` | str | `'cifar10'` | `cifar10`, `cifar100` or "
    "`ImageNet16-120` |\n| `curve` | bool | False | per-epoch fidelities 1..200 "
    "(CIFAR-10; needs the official archive's curves for all cells) |\n| `path` | "
    "path or None | None | the NB201 table (default: the imported one) |\n",
    data="The imported NB201 table (`nasgym data import nb201 PATH`, docs/data.md). "
    "The 12- and 200-epoch schedules are separate runs (not resumable): a job is "
    "scored by `valid@12` / `valid@200` (the CSV tables have no `valid@200`, so the "
    "200-epoch score is then `test@200` and `score_split` says so), costed by "
    "`train_time_s@hp` where the table has it for every cell (the official archive), "
    "else by the epochs proxy (`time_unit='epochs'`; a seconds budget is refused). "
    "With `curve=True` the score is the validation accuracy after each epoch and the "
    "cost the seconds trained up to it; a continued cell pays only the epochs it "
    "adds.",
    make='gym.make("nasgym/NB201Fidelity-v0", dataset="cifar10", budget=2000, '
    'budget_unit="epochs", sim_workers=4)',
    references="Dong & Yang, *NAS-Bench-201*, ICLR 2020; Dong et al., *NATS-Bench*, "
    "TPAMI 2021; Li et al., *Hyperband*, JMLR 2018; Falkner et al., *BOHB*, ICML "
    "2018; Li et al., *ASHA*, MLSys 2020.",
)

NB101FidelityEnv.__doc__ = _doc(
    env_id="nasgym/NB101Fidelity-v0",
    title="Multi-fidelity black-box search over NAS-Bench-101 with simulated workers.",
    description="One step trains one NB101 cell (named by its table row) at one of "
    "the table's epoch budgets on one of `sim_workers` simulated workers. See "
    "docs/multifidelity.md.",
    search_space="The cells of the imported NB101 table, one slot: the row (cells "
    "in the table's order; 423,624 in the full table).",
    slots="1 slot, the table row",
    fidelities="the table's budgets: 4, 12, 36 and 108 epochs in the full table, "
    "one budget in EC-NAS-Bench",
    report="test accuracy at the largest budget (mean over repeats)",
    optimum="the best such test accuracy of the table",
    own_args="| `table` | str | `'full'` | `'full'` or `'ecnas'` |\n| `dataset` | "
    "str | `'cifar10'` | the only dataset |\n| `path` | path or None | None | the "
    "table file (default: the imported one) |\n",
    data="The imported NB101 table (`nasgym data import nb101 PATH` or `nasgym data "
    "import ecnas PATH`, docs/data.md). Every budget was trained from scratch (not "
    "resumable); the score is the mean validation accuracy at the budget and the "
    "cost its mean `train_time_s`.",
    make='gym.make("nasgym/NB101Fidelity-v0", table="full", budget=86400, '
    'budget_unit="seconds")',
    references="Ying et al., *NAS-Bench-101*, ICML 2019; Li et al., *Hyperband*, "
    "JMLR 2018; Falkner et al., *BOHB*, ICML 2018.",
)

NB301FidelityEnv.__doc__ = _doc(
    env_id="nasgym/NB301Fidelity-v0",
    title="Multi-fidelity search over NAS-Bench-301's surrogate with simulated workers.",
    description="One step trains a whole DARTS genotype at an epoch budget (1..98) on "
    "one of `sim_workers` simulated workers; the surrogate predicts validation "
    "accuracy and runtime at that epoch. See docs/multifidelity.md.",
    search_space="The DARTS cell space of NAS-Bench-301: a normal and a reduction "
    "cell of 8 `(input, op)` pairs each, the 32 slots of `nasgym/NB301Query-v0`.",
    slots="32 slots: per cell and pair, an input then an op",
    fidelities="epochs 1..98",
    report="the surrogate's 98-epoch validation accuracy (it predicts no test "
    "accuracy)",
    optimum="100 (the surrogate's optimum is unknown: an upper bound of the true regret)",
    own_args="| `dataset` | str | `'cifar10'` | the only dataset |\n| `path` | path "
    "or None | None | the surrogate folder (default: under `NASGYM_DATA_DIR`) |\n",
    data="The YAHPO NB301 surrogate files under "
    "`$NASGYM_DATA_DIR/nas-bench-301-yahpo/v1_iaml_ex/` (docs/data.md). Epochs are "
    "points on one training curve, so a continued genotype pays only the runtime "
    "its extra epochs add; the cost is the surrogate's runtime output.",
    make='gym.make("nasgym/NB301Fidelity-v0", budget=100000, '
    'budget_unit="seconds", sim_workers=4)',
    references="Siems et al., *NAS-Bench-301*, 2020; Pfisterer et al., *YAHPO Gym*, "
    "AutoML 2022; Li et al., *ASHA*, MLSys 2020.",
)
