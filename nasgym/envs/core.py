"""The batched search state behind every tabular environment.

A :class:`SearchCore` tracks ``num_envs`` independent searches over one benchmark in
NumPy arrays: the current architecture, the query cache (a revisit is free), the
incumbent (best validation accuracy, and the test accuracy of that architecture), the
top-K history, and the step counter. Single environments run it with one row and
vector environments with many, so both give identical results by construction.

Three *modes* turn actions into architectures and state into observations:
:class:`EditMode` (discrete one-slot edits with masks), :class:`QueryMode` (a whole
architecture per step, ``MultiDiscrete``) and :class:`ContinuousMode` (a ``Box`` of
per-slot scores decoded by argmax).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from nasgym.benchmarks.base import FloatArray, TabularBenchmark
from nasgym.error import (
    BenchmarkDataMissingError,
    InvalidActionError,
    UnknownOptionError,
    unknown_option,
)
from nasgym.rewards import RewardShaping, RewardSignal
from nasgym.spaces.base import BoolArray, CategoricalSearchSpace, IntArray

#: What an in-range but illegal action does: ``"penalize"`` (no-op, no query,
#: ``invalid_reward``, reason in ``info["invalid_action"]``) or ``"raise"``.
INVALID_ACTION_MODES = ("penalize", "raise")


#: Number of global features appended to every observation.
NUM_STATS = 4
STATS_DOC = (
    "``[current shaped reward, best shaped reward this episode, step / horizon, "
    "queries / max_queries (0 without a budget)]``, all in ``[0, 1]``"
)


class SearchCore:
    """NumPy state of ``num_envs`` parallel searches over one tabular benchmark."""

    def __init__(
        self,
        benchmark: TabularBenchmark[Any],
        num_envs: int,
        *,
        shaping: RewardShaping,
        horizon: int,
        max_queries: int | None,
        top_k: int = 10,
        signal: RewardSignal | None = None,
    ) -> None:
        check_budget_options(horizon, max_queries)
        if not _positive_int(top_k):
            raise UnknownOptionError(f"top_k must be a positive integer, got {top_k!r}")
        check_reward_split(benchmark)
        self.benchmark = benchmark
        self.space: CategoricalSearchSpace[Any] = benchmark.space
        self.num_envs = num_envs
        self.shaping = shaping
        self.horizon = int(horizon)
        self.max_queries = None if max_queries is None else int(max_queries)
        self.top_k = int(top_k)
        #: A training-free reward source replacing validation accuracy in rewards and
        #: in the choice of the incumbent (``None``: validation accuracy).
        self.signal = signal

        require = getattr(benchmark, "require_complete", None)
        if require is not None:
            require(benchmark.reward_metric)
            require(benchmark.report_metric)
        valid = benchmark.table(benchmark.reward_metric)
        test = benchmark.table(benchmark.report_metric)
        self.valid_table: FloatArray = valid
        self.test_table: FloatArray = test
        self.time_table: FloatArray | None = (
            benchmark.table(benchmark.time_metric)
            if benchmark.time_metric and benchmark.time_metric in benchmark.metrics
            else None
        )
        missing = self.space.valid_mask & ~np.isfinite(valid)
        if missing.any():
            raise BenchmarkDataMissingError(
                f"{benchmark.name}: metric {benchmark.reward_metric!r} is missing for "
                f"{int(missing.sum()):,} of {self.space.num_valid:,} valid "
                "architectures, so a search could reach unmeasured cells. For a "
                "table that covers part of the space, build the benchmark with "
                "nasgym.extend.TableBenchmark: it restricts the space to the "
                "measured cells (the others become invalid, with a reason); or "
                "reward a metric that covers every cell"
            )
        self.optimum = benchmark.optimum(benchmark.report_metric)
        self.entry: IntArray = (
            self.space.canonical_codes
            if getattr(benchmark, "shares_isomorphs", False)
            else np.arange(self.space.size, dtype=np.int64)
        )
        n = num_envs
        self.visited = np.zeros((n, self.space.size), dtype=bool)
        self.current = np.full(n, -1, dtype=np.int64)
        self.t = np.zeros(n, dtype=np.int64)
        self.queries = np.zeros(n, dtype=np.int64)
        self.best_valid = np.full(n, -np.inf)
        self.best_test = np.full(n, np.nan)
        self.best_code = np.full(n, -1, dtype=np.int64)
        self.best_signal = np.full(n, -np.inf)
        self.last_score = np.full(n, np.nan)
        self.last_signal = np.full(n, np.nan)
        self.sim_time = np.zeros(n)
        self.cur_reward = np.zeros(n)
        self.ep_best_reward = np.zeros(n)
        self.last_valid = np.full(n, np.nan)
        self.last_test = np.full(n, np.nan)
        self.last_new = np.zeros(n, dtype=bool)
        #: Whether to keep the top-K history (only the continuous mode observes it).
        self.track_topk = False
        self.topk_codes = np.full((n, self.top_k), -1, dtype=np.int64)
        self.topk_vals = np.full((n, self.top_k), -np.inf)

    # ------------------------------------------------------------- lifecycle
    def restart(self, idx: IntArray) -> None:
        """Forget the searches ``idx`` entirely (a seeded reset starts a new run)."""
        self.visited[idx] = False
        self.queries[idx] = 0
        self.best_valid[idx] = -np.inf
        self.best_test[idx] = np.nan
        self.best_code[idx] = -1
        self.best_signal[idx] = -np.inf
        self.sim_time[idx] = 0.0
        self.topk_codes[idx] = -1
        self.topk_vals[idx] = -np.inf

    def begin_episode(self, idx: IntArray) -> None:
        """Start a new episode in ``idx``: the search history and budget carry over."""
        self.t[idx] = 0
        self.current[idx] = -1
        self.cur_reward[idx] = 0.0
        self.ep_best_reward[idx] = 0.0
        self.last_valid[idx] = np.nan
        self.last_test[idx] = np.nan
        self.last_score[idx] = np.nan
        self.last_signal[idx] = np.nan
        self.last_new[idx] = False

    # -------------------------------------------------------------- queries
    def evaluate(self, idx: IntArray, codes: IntArray) -> FloatArray:
        """Move searches ``idx`` to ``codes``, query them, and return shaped rewards."""
        entries = self.entry[codes]
        new = ~self.visited[idx, entries]
        self.visited[idx, entries] = True
        self.queries[idx] += new
        if self.time_table is not None:
            self.sim_time[idx] += np.where(new, self.time_table[codes], 0.0)
        valid = self.valid_table[codes]
        test = self.test_table[codes]
        if self.signal is None:
            best_before = self.best_valid[idx]
            reward = self.shaping(valid / 100.0, best_before / 100.0)
            improved = valid > best_before
            ranked = valid
        else:
            ranked = self.signal.values(codes)
            self.last_score[idx] = self.signal.scores(codes)
            self.last_signal[idx] = ranked
            best_before = self.best_signal[idx]
            reward = self.shaping(ranked, best_before)
            improved = ranked > best_before
            self.best_signal[idx] = np.where(improved, ranked, best_before)
        self.best_valid[idx] = np.where(improved, valid, self.best_valid[idx])
        self.best_test[idx] = np.where(improved, test, self.best_test[idx])
        self.best_code[idx] = np.where(improved, codes, self.best_code[idx])
        self.current[idx] = codes
        self.cur_reward[idx] = reward
        self.ep_best_reward[idx] = np.maximum(self.ep_best_reward[idx], reward)
        self.last_valid[idx] = valid
        self.last_test[idx] = test
        self.last_new[idx] = new
        if self.track_topk and new.any():
            self._push_topk(idx[new], codes[new], ranked[new])
        return reward

    def _push_topk(self, idx: IntArray, codes: IntArray, values: FloatArray) -> None:
        if idx.size == 1:
            # One row: insert into the (descending) list after every value >= the new
            # one, exactly where the stable argsort below would put it.
            row_vals = self.topk_vals[int(idx[0])]
            row_codes = self.topk_codes[int(idx[0])]
            value = values[0]
            pos = int(np.count_nonzero(row_vals >= value))
            if pos < self.top_k:
                row_vals[pos + 1 :] = row_vals[pos:-1].copy()
                row_codes[pos + 1 :] = row_codes[pos:-1].copy()
                row_vals[pos] = value
                row_codes[pos] = codes[0]
            return
        all_codes = np.concatenate([self.topk_codes[idx], codes[:, None]], axis=1)
        all_vals = np.concatenate([self.topk_vals[idx], values[:, None]], axis=1)
        order = np.argsort(-all_vals, axis=1, kind="stable")[:, : self.top_k]
        self.topk_codes[idx] = np.take_along_axis(all_codes, order, axis=1)
        self.topk_vals[idx] = np.take_along_axis(all_vals, order, axis=1)

    def truncated(self, idx: IntArray) -> BoolArray:
        """Whether the episodes ``idx`` end now (horizon reached or budget spent)."""
        done = self.t[idx] >= self.horizon
        if self.max_queries is not None:
            done |= self.queries[idx] >= self.max_queries
        return done

    def stats(self, idx: IntArray) -> NDArray[np.float32]:
        """Global observation features of ``idx`` (see :data:`STATS_DOC`)."""
        if idx.size == 1:  # single envs: the same numbers from Python floats
            i = int(idx[0])
            used = (
                min(int(self.queries[i]) / self.max_queries, 1.0)
                if self.max_queries is not None
                else 0.0
            )
            return np.array(
                [
                    [
                        min(max(float(self.cur_reward[i]), 0.0), 1.0),
                        min(max(float(self.ep_best_reward[i]), 0.0), 1.0),
                        min(int(self.t[i]) / self.horizon, 1.0),
                        used,
                    ]
                ],
                dtype=np.float32,
            )
        budget = (
            np.minimum(self.queries[idx] / self.max_queries, 1.0)
            if self.max_queries is not None
            else np.zeros(idx.size)
        )
        return np.stack(
            [
                np.clip(self.cur_reward[idx], 0.0, 1.0),
                np.clip(self.ep_best_reward[idx], 0.0, 1.0),
                np.minimum(self.t[idx] / self.horizon, 1.0),
                budget,
            ],
            axis=1,
        ).astype(np.float32)

    def arch_string(self, code: int) -> str:
        """The string form of the architecture ``code`` (from a shared table)."""
        from nasgym.envs.tables import arch_string_table

        text: str = arch_string_table(self.space)[code]
        return text

    def info(self, i: int) -> dict[str, Any]:
        """The ``info`` dict of search ``i`` (the contract every env returns).

        Before the first query of a search, accuracies and regret are NaN, codes are
        -1 and strings ``None``. ``sim_time_s`` is ``None`` when the benchmark has no
        training times. Each key keeps one type, so Gymnasium's vector envs can batch
        the infos of sub-envs in different states.
        """
        code = int(self.current[i])
        best = int(self.best_code[i])
        info: dict[str, Any] = {
            "arch": self.arch_string(code) if code >= 0 else None,
            "arch_code": code,
            "arch_class": int(self.space.canonical_codes[code]) if code >= 0 else -1,
            "valid_accuracy": float(self.last_valid[i]),
            "test_accuracy": float(self.last_test[i]),
            "new_query": bool(self.last_new[i]),
            "queries": int(self.queries[i]),
            "best_arch": self.arch_string(best) if best >= 0 else None,
            "best_valid_accuracy": float(self.best_valid[i]) if best >= 0 else math.nan,
            "best_test_accuracy": float(self.best_test[i]),
            "regret": float(self.optimum - self.best_test[i]),
            "sim_time_s": float(self.sim_time[i])
            if self.time_table is not None
            else None,
            "budget_exhausted": bool(
                self.max_queries is not None and self.queries[i] >= self.max_queries
            ),
        }
        if self.signal is not None:
            info[self.signal.info_key] = float(self.last_score[i])
            info[self.signal.value_key] = float(self.last_signal[i])
        return info

    def over_budget(self, idx: IntArray, codes: IntArray) -> BoolArray:
        """Whether moving ``idx`` to ``codes`` would be a query beyond the budget."""
        if self.max_queries is None:
            return np.zeros(idx.size, dtype=bool)
        spent: BoolArray = (self.queries[idx] >= self.max_queries) & ~self.visited[
            idx, self.entry[codes]
        ]
        return spent

    def budget_reason(self) -> str:
        """Why an over-budget action is rejected."""
        return (
            f"the query budget (max_queries={self.max_queries}) is spent: only "
            f"architectures already evaluated can be revisited; reset(seed=...) starts "
            f"a new search"
        )


def check_reward_split(benchmark: TabularBenchmark[Any]) -> None:
    """Refuse a reward metric that the benchmark does not declare rewardable.

    A metric declared ``"valid"`` may be rewarded; one declared ``"test"`` only when
    the benchmark declares ``reward_split == "test"`` (it publishes no validation
    numbers); a cost never. The declaration, not the metric's name, decides.

    Raises:
        UnknownOptionError: Naming the metric, what it is and the fix.
    """
    metric = benchmark.reward_metric
    split = benchmark.metric_split(metric)
    if split == "valid":
        return
    if split == "test" and benchmark.reward_split == "test":
        return
    if split == "test":
        raise UnknownOptionError(
            f"{benchmark.name}: reward_metric {metric!r} is a test-split metric and "
            "test accuracy is never rewarded; choose a validation metric, or, for a "
            "benchmark that publishes only test numbers, declare it with "
            "reward_split='test' and a reward_split_reason (nasgym.extend."
            "TableBenchmark), which runs and reports then show"
        )
    raise UnknownOptionError(
        f"{benchmark.name}: reward_metric {metric!r} is a cost, not an accuracy; "
        "reward a validation metric and pass costs as objectives=[...]"
    )


def check_budget_options(horizon: object, max_queries: object) -> None:
    """Check ``horizon`` (a positive int) and ``max_queries`` (one, or ``None``).

    Raises:
        UnknownOptionError: Naming the bad option.
    """
    if not _positive_int(horizon):
        raise UnknownOptionError(f"horizon must be a positive integer, got {horizon!r}")
    if max_queries is not None and not _positive_int(max_queries):
        raise UnknownOptionError(
            f"max_queries must be a positive integer or None, got {max_queries!r}"
        )


def check_invalid_options(invalid_action: str, invalid_reward: object) -> float:
    """Check ``invalid_action`` and ``invalid_reward``; return the reward as a float.

    Raises:
        UnknownOptionError: Unknown mode, or a reward that is not a finite number.
    """
    if invalid_action not in INVALID_ACTION_MODES:
        raise unknown_option("invalid_action", invalid_action, INVALID_ACTION_MODES)
    if (
        not isinstance(invalid_reward, (int, float, np.integer, np.floating))
        or isinstance(invalid_reward, bool)
        or not np.isfinite(invalid_reward)
    ):
        raise UnknownOptionError(
            f"invalid_reward must be a finite number, got {invalid_reward!r}"
        )
    return float(invalid_reward)


def continuous_action(action: Any, shape: tuple[int, ...]) -> FloatArray:
    """A continuous (``Box``) action as float64, checked for shape, then finiteness.

    Raises:
        InvalidActionError: The action has another shape, or NaN/inf entries (said
            as such: a NaN is not a shape problem).
    """
    array = np.asarray(action, dtype=np.float64)
    if array.shape != shape:
        per = f"({shape[-1]},) per env" if len(shape) > 1 else f"{shape}"
        raise InvalidActionError(
            f"continuous actions must be arrays of shape {per}; got shape {array.shape}"
        )
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"{first[-1]}" + (
            f" of env {first[0]}" if len(first) > 1 and shape[0] > 1 else ""
        )
        raise InvalidActionError(
            f"continuous action is not finite: {int(bad.sum())} of {array.size} "
            f"entries are NaN or inf (first at index {where}: {float(array[first])}); "
            f"pass finite scores (they are clipped to [-1, 1])"
        )
    return array


def render_summary(step_count: int, info: dict[str, Any]) -> str:
    """The one-line ``render_mode="ansi"`` text of a search's ``info``."""

    def fmt(value: float) -> str:
        return "-" if np.isnan(value) else f"{value:.2f}"

    return (
        f"t={step_count} queries={info['queries']} arch={info['arch']} "
        f"valid={fmt(info['valid_accuracy'])} "
        f"best_valid={fmt(info['best_valid_accuracy'])} "
        f"best_test={fmt(info['best_test_accuracy'])} regret={fmt(info['regret'])}"
    )


def multidiscrete_mask_tuple(
    space: spaces.MultiDiscrete,
) -> tuple[NDArray[np.int8], ...]:
    """All-legal mask of a 1-D ``MultiDiscrete`` space in Gymnasium's sample form.

    ``space.sample(mask=multidiscrete_mask_tuple(space))`` accepts it: one ``int8``
    array of ones per slot, of length ``nvec[i]``.
    """
    return tuple(np.ones(int(n), dtype=np.int8) for n in space.nvec.reshape(-1))


def _positive_int(value: object) -> bool:
    """Whether ``value`` is an integer >= 1 (``bool`` is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        return False
    return int(value) >= 1


# ----------------------------------------------------------------------- modes
class Mode(ABC):
    """How actions become architectures and state becomes observations."""

    name: str = ""

    def __init__(
        self,
        core: SearchCore,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
    ) -> None:
        self.core = core
        self.space = core.space
        self.invalid_action = invalid_action
        self.invalid_reward = check_invalid_options(invalid_action, invalid_reward)
        self.last_invalid: NDArray[np.object_] = np.full(core.num_envs, None)

    def _reject(self, idx: IntArray, ok: BoolArray, reasons: dict[int, str]) -> None:
        """Record (or raise for) the rejected rows of a batch of in-range actions."""
        if self.invalid_action == "raise" and reasons:
            raise InvalidActionError(next(iter(reasons.values())))
        self.last_invalid[idx] = None
        for k, reason in reasons.items():
            self.last_invalid[idx[k]] = reason
        if reasons:
            self.core.last_new[idx[~ok]] = False

    @property
    @abstractmethod
    def action_space(self) -> spaces.Space[Any]:
        """Action space of one search."""

    @property
    @abstractmethod
    def observation_space(self) -> spaces.Space[Any]:
        """Observation space of one search."""

    @abstractmethod
    def reset_searches(self, idx: IntArray, rngs: list[np.random.Generator]) -> None:
        """Begin episodes in ``idx`` (``rngs[k]`` belongs to ``idx[k]``)."""

    @abstractmethod
    def step_searches(self, idx: IntArray, actions: Any) -> FloatArray:
        """Apply a batch of actions to searches ``idx``; return rewards."""

    @abstractmethod
    def observe(self, idx: IntArray) -> Any:
        """Batched observations of ``idx``."""

    def extra_info(self, i: int) -> dict[str, Any]:
        """Mode-specific ``info`` entries for search ``i``."""
        return {"invalid_action": self.last_invalid[i]}


class GraphObservation:
    """Dict observation of padded graphs: adjacency, one-hot ops, node mask, stats."""

    def __init__(self, space: CategoricalSearchSpace[Any]) -> None:
        self.space = space
        self._tables: tuple[NDArray[np.float32], ...] | None = None
        n, t = space.max_nodes, len(space.node_types)
        self.obs_space = spaces.Dict(
            {
                "adjacency": spaces.Box(0.0, 1.0, (n, n), np.float32),
                "ops": spaces.Box(0.0, 1.0, (n, t), np.float32),
                "node_mask": spaces.Box(0.0, 1.0, (n,), np.float32),
                "stats": spaces.Box(0.0, 1.0, (NUM_STATS,), np.float32),
            }
        )

    def build(
        self, codes: IntArray, stats: NDArray[np.float32]
    ) -> dict[str, NDArray[np.float32]]:
        """Observations of the given codes (``-1`` = no architecture yet)."""
        if self._tables is None:
            from nasgym.envs.tables import graph_obs_tables

            self._tables = graph_obs_tables(self.space)
        adjacency, ops, node_mask = self._tables
        return {
            "adjacency": adjacency[codes],
            "ops": ops[codes],
            "node_mask": node_mask[codes],
            "stats": stats,
        }


def _draw_initial(
    space: CategoricalSearchSpace[Any], rngs: list[np.random.Generator]
) -> IntArray:
    return np.array(
        [int(space.sample_codes(rng, 1)[0]) for rng in rngs], dtype=np.int64
    )


class GraphMode(Mode):
    """A mode whose observation is the graph Dict of the current architecture."""

    def __init__(
        self,
        core: SearchCore,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
    ) -> None:
        super().__init__(core, invalid_action, invalid_reward)
        self.graph = GraphObservation(self.space)

    @property
    def observation_space(self) -> spaces.Dict:
        """Graph Dict of the current (last queried) architecture."""
        return self.graph.obs_space

    def observe(self, idx: IntArray) -> dict[str, NDArray[np.float32]]:
        """Graph of the current architecture plus global stats."""
        return self.graph.build(self.core.current[idx], self.core.stats(idx))


class EditMode(GraphMode):
    """Discrete one-slot edits of the current architecture, with action masks."""

    name = "edit"

    def __init__(
        self,
        core: SearchCore,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
    ) -> None:
        super().__init__(core, invalid_action, invalid_reward)
        self._action_space = spaces.Discrete(self.space.num_edits)
        self._mask_table: BoolArray | None = None
        self._why_memo: dict[int, str] = {}

    @property
    def action_space(self) -> spaces.Discrete:
        """One action per ``(slot, choice)``: set that slot to that choice."""
        return self._action_space

    def reset_searches(self, idx: IntArray, rngs: list[np.random.Generator]) -> None:
        """Start from a uniformly sampled architecture (this counts as a query).

        Once the query budget is spent, episodes start from the incumbent instead (a
        free revisit), so no search ever exceeds ``max_queries``.
        """
        self.core.begin_episode(idx)
        self._reject(idx, np.ones(idx.size, dtype=bool), {})
        codes = _draw_initial(self.space, rngs)
        if self.core.max_queries is not None:
            spent = (self.core.queries[idx] >= self.core.max_queries) & (
                self.core.best_code[idx] >= 0
            )
            codes = np.where(spent, self.core.best_code[idx], codes)
        self.core.evaluate(idx, codes)

    def masks(self, idx: IntArray) -> BoolArray:
        """Legal edits of the current architectures of ``idx`` (a new array)."""
        return self._code_masks(self.core.current[idx])

    def _code_masks(self, codes: IntArray) -> BoolArray:
        """Legal-edit masks of ``codes`` from the shared table (a new array)."""
        if self._mask_table is None:
            from nasgym.envs.tables import edit_mask_table

            self._mask_table = edit_mask_table(self.space)
        masks: BoolArray = self._mask_table[codes]
        return masks

    def step_searches(self, idx: IntArray, actions: Any) -> FloatArray:
        """Apply edits; out-of-range raises, masked follows ``invalid_action``."""
        actions = np.asarray(actions)
        if actions.shape != idx.shape or actions.dtype.kind not in "iu":
            raise InvalidActionError(
                f"edit actions must be integers, one per env ({idx.size}); "
                f"got {actions!r}"
            )
        out = (actions < 0) | (actions >= self.space.num_edits)
        if out.any():
            bad = int(actions[np.flatnonzero(out)[0]])
            raise InvalidActionError(
                f"edit action {bad} is out of range 0..{self.space.num_edits - 1}"
            )
        current = self.core.current[idx]
        ok = self._code_masks(current)[np.arange(idx.size), actions]
        targets = self.space.apply_edits(current, actions)
        reasons: dict[int, str] = {}
        for k in np.flatnonzero(~ok):
            reasons[int(k)] = self._why(int(current[k]), int(actions[k]))
        if self.core.max_queries is not None:
            spent = ok & self.core.over_budget(idx, np.where(ok, targets, current))
            for k in np.flatnonzero(spent):
                reasons[int(k)] = (
                    f"edit action {int(actions[k])} would query a new architecture "
                    f"but {self.core.budget_reason()}"
                )
            ok = ok & ~spent
        self._reject(idx, ok, reasons)
        self.core.t[idx] += 1
        if ok.all():
            return self.core.evaluate(idx, targets)
        rewards = np.full(idx.size, self.invalid_reward)
        if ok.any():
            rewards[ok] = self.core.evaluate(idx[ok], targets[ok])
        return rewards

    def _why(self, code: int, action: int) -> str:
        key = code * self.space.num_edits + action
        reason = self._why_memo.get(key)
        if reason is None:
            if len(self._why_memo) >= 65536:
                self._why_memo.clear()
            reason = self._why_memo[key] = self._explain(code, action)
        return reason

    def _explain(self, code: int, action: int) -> str:
        target = int(self.space.apply_edits(np.array([code]), np.array([action]))[0])
        why = (
            "it would not change the architecture"
            if target == code
            else "the result is not a valid architecture: "
            + str(self.space.invalid_reason(self.space.codes_to_vectors(target)))
        )
        return (
            f"edit action {action} ({self.space.describe_edit(action)}) is masked in "
            f"the current state: {why}; use env.action_masks() to choose legal actions"
        )

    def extra_info(self, i: int) -> dict[str, Any]:
        """Adds ``action_mask`` and ``invalid_action``."""
        return {
            "action_mask": self.masks(np.array([i]))[0],
            "invalid_action": self.last_invalid[i],
        }


class QueryMode(GraphMode):
    """Black-box mode: the action names a whole architecture; one step, one query."""

    name = "query"

    def __init__(
        self,
        core: SearchCore,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
    ) -> None:
        super().__init__(core, invalid_action, invalid_reward)
        self._action_space = spaces.MultiDiscrete(self.space.nvec)

    @property
    def action_space(self) -> spaces.MultiDiscrete:
        """One categorical choice per slot."""
        return self._action_space

    def reset_searches(self, idx: IntArray, rngs: list[np.random.Generator]) -> None:
        """Nothing is queried at reset; the graph is empty until the first step."""
        self.core.begin_episode(idx)
        self._reject(idx, np.ones(idx.size, dtype=bool), {})

    def step_searches(self, idx: IntArray, actions: Any) -> FloatArray:
        """Query the proposed architectures.

        An out-of-range action raises. An in-range vector that the space rules out
        (e.g. an all-skip GNN) costs no query: the state is unchanged, the reward is
        ``invalid_reward`` and ``info["invalid_action"]`` says why (or, with
        ``invalid_action="raise"``, :class:`InvalidActionError` is raised). So is a
        new architecture once ``max_queries`` is spent.
        """
        vectors = np.asarray(actions)
        if (
            vectors.shape != (idx.size, self.space.num_slots)
            or vectors.dtype.kind not in "iu"
        ):
            raise InvalidActionError(
                f"query actions must be integer arrays of shape "
                f"({self.space.num_slots},) per env; got {actions!r}"
            )
        bad = (vectors < 0) | (vectors >= self.space.nvec)
        if bad.any():
            k, s = (int(x) for x in np.argwhere(bad)[0])
            raise InvalidActionError(
                f"query action {vectors[k].tolist()}: slot "
                f"{self.space.slot_names[s]!r} has choice {int(vectors[k, s])}, "
                f"valid range 0..{int(self.space.nvec[s]) - 1}"
            )
        codes = self.space.vectors_to_codes(vectors)
        ok = self.space.valid_mask[codes]
        all_ok = bool(ok.all())
        reasons = {
            int(k): f"query action {vectors[k].tolist()} is not a valid architecture: "
            f"{self.space.invalid_reason(vectors[k])}"
            for k in ([] if all_ok else np.flatnonzero(~ok))
        }
        if self.core.max_queries is not None:
            spent = ok & self.core.over_budget(idx, np.where(ok, codes, 0))
            for row in np.flatnonzero(spent):
                reasons[int(row)] = (
                    f"query action {vectors[row].tolist()} is a new architecture but "
                    f"{self.core.budget_reason()}"
                )
            ok = ok & ~spent
            all_ok = bool(ok.all())
        self._reject(idx, ok, reasons)
        self.core.t[idx] += 1
        if all_ok:
            return self.core.evaluate(idx, codes)
        rewards = np.full(idx.size, self.invalid_reward)
        if ok.any():
            rewards[ok] = self.core.evaluate(idx[ok], codes[ok])
        return rewards


class ContinuousMode(Mode):
    """Box actions: one score per (slot, choice), decoded by argmax per slot (L2NAS).

    The observation is built from the search history: the element-wise mean and
    standard deviation of the one-hot encodings of the top-K architectures by
    validation accuracy, followed by the global stats.
    """

    name = "continuous"

    def __init__(
        self,
        core: SearchCore,
        invalid_action: str = "penalize",
        invalid_reward: float = 0.0,
    ) -> None:
        super().__init__(core, invalid_action, invalid_reward)
        core.track_topk = True
        s, c = self.space.num_slots, self.space.max_choices
        self.width = s * c
        self._action_space = spaces.Box(-1.0, 1.0, (self.width,), np.float32)
        self._obs_space = spaces.Box(
            0.0, 1.0, (2 * self.width + NUM_STATS,), np.float32
        )
        self.pad = np.arange(c)[None, :] >= self.space.nvec[:, None]

    @property
    def action_space(self) -> spaces.Box:
        """``num_slots * max_choices`` scores in ``[-1, 1]``."""
        return self._action_space

    @property
    def observation_space(self) -> spaces.Box:
        """Top-K one-hot mean and std, then global stats."""
        return self._obs_space

    def reset_searches(self, idx: IntArray, rngs: list[np.random.Generator]) -> None:
        """Nothing is queried at reset; the history carries over between episodes."""
        self.core.begin_episode(idx)
        self._reject(idx, np.ones(idx.size, dtype=bool), {})

    def decode(self, actions: NDArray[np.floating[Any]]) -> IntArray:
        """Decode score vectors to valid codes (argmax, then the best valid repair)."""
        scores = np.asarray(actions, dtype=np.float64).reshape(
            -1, self.space.num_slots, self.space.max_choices
        )
        scores = np.where(self.pad, -np.inf, scores)
        vectors = scores.argmax(axis=2)
        codes = self.space.vectors_to_codes(vectors)
        for k in np.flatnonzero(~self.space.valid_mask[codes]):
            candidates = self.space.apply_edits(
                np.full(self.space.num_edits, codes[k]), np.arange(self.space.num_edits)
            )
            slots, choices = self.space.edit_table
            current = vectors[k][slots]
            gain = scores[k, slots, choices] - scores[k, slots, current]
            gain[~self.space.valid_mask[candidates]] = -np.inf
            if np.isfinite(gain).any():
                codes[k] = candidates[int(np.argmax(gain))]
                continue
            # No valid code one edit away (a sparse space, e.g. a partial table):
            # the valid code with the highest total score.
            valid = self.space.valid_codes
            total = scores[k][
                np.arange(self.space.num_slots), self.space.codes_to_vectors(valid)
            ].sum(axis=1)
            codes[k] = valid[int(np.argmax(total))]
        return codes

    def step_searches(self, idx: IntArray, actions: Any) -> FloatArray:
        """Decode and query; non-finite or wrongly shaped actions raise."""
        array = continuous_action(actions, (idx.size, self.width))
        codes = self.decode(np.clip(array, -1.0, 1.0))
        reasons: dict[int, str] = {}
        ok = np.ones(idx.size, dtype=bool)
        if self.core.max_queries is not None:
            ok = ~self.core.over_budget(idx, codes)
            for k in np.flatnonzero(~ok):
                reasons[int(k)] = (
                    f"the action decodes to a new architecture but "
                    f"{self.core.budget_reason()}"
                )
        self._reject(idx, ok, reasons)
        self.core.t[idx] += 1
        if ok.all():
            return self.core.evaluate(idx, codes)
        rewards = np.full(idx.size, self.invalid_reward)
        if ok.any():
            rewards[ok] = self.core.evaluate(idx[ok], codes[ok])
        return rewards

    def observe(self, idx: IntArray) -> NDArray[np.float32]:
        """Top-K statistics of the search history plus global stats."""
        codes = self.core.topk_codes[idx]
        have = codes >= 0
        vectors = self.space.codes_to_vectors(np.where(have, codes, 0))
        onehot = np.eye(self.space.max_choices, dtype=np.float64)[vectors]
        onehot *= have[:, :, None, None]
        count = np.maximum(have.sum(axis=1), 1)[:, None, None]
        mean = onehot.sum(axis=1) / count
        std = np.sqrt(np.maximum((onehot**2).sum(axis=1) / count - mean**2, 0.0))
        b = idx.size
        return np.concatenate(
            [mean.reshape(b, -1), std.reshape(b, -1), self.core.stats(idx)], axis=1
        ).astype(np.float32)


MODES: dict[str, type[Mode]] = {
    "edit": EditMode,
    "query": QueryMode,
    "continuous": ContinuousMode,
}
