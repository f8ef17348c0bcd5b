"""The single-env fast path: one search held in Python scalars.

NumPy costs about half a microsecond per call even on one-element arrays, which
dominates a tabular env step. :class:`ScalarSearch` runs the Edit and Query modes of
one search with Python ints and floats and serves observations, masks and strings
from per-code tables that are built once per search space and shared read-only by
every env in the process. Its semantics are those of
:class:`nasgym.envs.core.SearchCore` with one row; the test suite checks that single
envs and the batched vector env give identical trajectories.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nasgym.envs.core import EditMode, Mode, QueryMode
from nasgym.envs.tables import (
    arch_string_table,
    edit_mask_table,
    graph_obs_tables,
    query_code_table,
)
from nasgym.error import InvalidActionError
from nasgym.spaces.base import BoolArray


class ScalarSearch:
    """One search of an Edit or Query mode, in Python scalars.

    Args:
        mode: The (one-row) mode whose settings, tables and spaces this search uses.
    """

    def __init__(self, mode: Mode) -> None:
        if not isinstance(mode, (EditMode, QueryMode)):
            raise TypeError("ScalarSearch serves the edit and query modes")
        core = mode.core
        space = core.space
        self.mode = mode
        self.space = space
        self.is_edit = isinstance(mode, EditMode)
        self.valid_table = core.valid_table
        self.test_table = core.test_table
        self.time_table = core.time_table
        self.shares_isomorphs = core.entry is space.canonical_codes
        self.canonical = space.canonical_codes
        self.valid_mask = space.valid_mask
        self.optimum = float(core.optimum)
        self.shaping = core.shaping
        self.signal = core.signal
        self.plain_reward = core.shaping.name == "valid" and self.signal is None
        self.horizon = core.horizon
        self.max_queries = core.max_queries
        self.invalid_action = mode.invalid_action
        self.invalid_reward = mode.invalid_reward
        self.adjacency, self.ops, self.node_mask = graph_obs_tables(space)
        self.strings = arch_string_table(space)
        self.radix = [int(r) for r in space._radix]
        self.nvec = [int(n) for n in space.nvec]
        # When every slot has the same number of choices one min/max checks a query.
        self.uniform_n = self.nvec[0] if len(set(self.nvec)) == 1 else None
        self.num_slots = space.num_slots
        self.query_shape = (space.num_slots,)
        self.query_codes = {} if self.is_edit else query_code_table(space)
        if self.is_edit:
            self.masks = edit_mask_table(space)
            slots, choices = space.edit_table
            self.edit_slot = [int(s) for s in slots]
            self.edit_choice = [int(c) for c in choices]
            self.num_actions = space.num_edits
        self.visited = bytearray(space.size)
        self.restart()
        self.begin_episode()

    # ------------------------------------------------------------- lifecycle
    def restart(self) -> None:
        """Forget the search (a seeded reset)."""
        self.visited = bytearray(self.space.size)
        self.queries = 0
        self.best_valid = -math.inf
        self.best_test = math.nan
        self.best_code = -1
        self.best_signal = -math.inf
        self.sim_time = 0.0

    def begin_episode(self) -> None:
        """Start a new episode; history and budget carry over."""
        self.t = 0
        self.current = -1
        self.cur_reward = 0.0
        self.ep_best_reward = 0.0
        self.last_valid = math.nan
        self.last_test = math.nan
        self.last_score = math.nan
        self.last_signal = math.nan
        self.last_new = False
        self.last_invalid: str | None = None

    def reset(self, rng: np.random.Generator) -> None:
        """Begin an episode as the mode's ``reset_searches`` does."""
        self.begin_episode()
        if self.is_edit:
            code = int(self.space.sample_codes(rng, 1)[0])
            if (
                self.max_queries is not None
                and self.queries >= self.max_queries
                and self.best_code >= 0
            ):
                code = self.best_code
            self.evaluate(code)

    # -------------------------------------------------------------- queries
    def evaluate(self, code: int) -> float:
        """Move to ``code``, query it and return the shaped reward."""
        entry = int(self.canonical.item(code)) if self.shares_isomorphs else code
        new = not self.visited[entry]
        if new:
            self.visited[entry] = 1
            self.queries += 1
            if self.time_table is not None:
                self.sim_time += self.time_table.item(code)
        valid: float = self.valid_table.item(code)
        test: float = self.test_table.item(code)
        signal = self.signal
        if signal is None:
            ranked, best_before = valid, self.best_valid
        else:
            ranked, best_before = signal.value(code), self.best_signal
            self.last_score = signal.score(code)
            self.last_signal = ranked
        if self.plain_reward:
            reward = valid / 100.0
        else:
            scale = 100.0 if signal is None else 1.0
            reward = float(
                self.shaping(
                    np.array([ranked / scale]), np.array([best_before / scale])
                )[0]
            )
        if ranked > best_before:
            if signal is not None:
                self.best_signal = ranked
            self.best_valid = valid
            self.best_test = test
            self.best_code = code
        self.current = code
        self.cur_reward = reward
        if reward > self.ep_best_reward or math.isnan(reward):
            self.ep_best_reward = reward
        self.last_valid = valid
        self.last_test = test
        self.last_new = new
        return reward

    def _rejected(self, reason: str) -> float:
        if self.invalid_action == "raise":
            raise InvalidActionError(reason)
        self.last_invalid = reason
        self.last_new = False
        self.t += 1
        return self.invalid_reward

    def step(self, action: Any) -> float:
        """Apply one action and return its reward."""
        if self.is_edit:
            return self._step_edit(action)
        return self._step_query(action)

    def _step_edit(self, action: Any) -> float:
        if type(action) is not int:
            array = np.asarray(action)
            if array.shape != () or array.dtype.kind not in "iu":
                raise InvalidActionError(
                    f"edit actions must be integers, one per env (1); got {action!r}"
                )
            action = int(array)
        if not 0 <= action < self.num_actions:
            raise InvalidActionError(
                f"edit action {action} is out of range 0..{self.num_actions - 1}"
            )
        code = self.current
        if not self.masks[code, action]:
            mode = self.mode
            assert isinstance(mode, EditMode)
            return self._rejected(mode._why(code, action))
        slot = self.edit_slot[action]
        radix = self.radix[slot]
        target = (
            code
            + (self.edit_choice[action] - (code // radix) % self.nvec[slot]) * radix
        )
        if self._over_budget(target):
            return self._rejected(
                f"edit action {action} would query a new architecture but "
                f"{self.mode.core.budget_reason()}"
            )
        self.last_invalid = None
        self.t += 1
        return self.evaluate(target)

    def _step_query(self, action: Any) -> float:
        vector = action if type(action) is np.ndarray else np.asarray(action)
        if vector.shape != self.query_shape or vector.dtype.kind not in "iu":
            raise InvalidActionError(
                f"query actions must be integer arrays of shape ({self.num_slots},) "
                f"per env; got {action!r}"
            )
        values = vector.tolist()
        # Valid in-range choices are one dict lookup; anything else (an error, or a
        # space too large for the table) takes the computed path.
        code = self.query_codes.get(tuple(values))
        if code is None:
            return self._step_query_computed(vector, values)
        if self.max_queries is not None and self._over_budget(code):
            return self._rejected(
                f"query action {values} is a new architecture but "
                f"{self.mode.core.budget_reason()}"
            )
        self.last_invalid = None
        self.t += 1
        return self.evaluate(code)

    def _step_query_computed(self, vector: NDArray[Any], values: list[int]) -> float:
        n = self.uniform_n
        if n is not None and min(values) >= 0 and max(values) < n:
            code = sum(map(operator.mul, values, self.radix))
        else:
            code = 0
            for s, value in enumerate(values):
                if not 0 <= value < self.nvec[s]:
                    raise InvalidActionError(
                        f"query action {values}: slot {self.space.slot_names[s]!r} "
                        f"has choice {value}, valid range 0..{self.nvec[s] - 1}"
                    )
                code += value * self.radix[s]
        if not self.valid_mask[code]:
            reason = self.space.invalid_reason(vector.astype(np.int64))
            return self._rejected(
                f"query action {values} is not a valid architecture: {reason}"
            )
        if self._over_budget(code):
            return self._rejected(
                f"query action {values} is a new architecture but "
                f"{self.mode.core.budget_reason()}"
            )
        self.last_invalid = None
        self.t += 1
        return self.evaluate(code)

    def _over_budget(self, code: int) -> bool:
        if self.max_queries is None or self.queries < self.max_queries:
            return False
        entry = int(self.canonical.item(code)) if self.shares_isomorphs else code
        return not self.visited[entry]

    def truncated(self) -> bool:
        """Whether the episode ends now."""
        return self.t >= self.horizon or (
            self.max_queries is not None and self.queries >= self.max_queries
        )

    # ----------------------------------------------------------- observation
    def observe(self) -> dict[str, NDArray[np.float32]]:
        """The graph Dict of the current architecture plus fresh ``stats``.

        The graph arrays are fresh copies of rows of shared read-only tables.
        """
        # The clamps below equal min(max(x, 0.0), 1.0) and min(x, 1.0), NaN
        # included; the chained comparisons skip two builtin calls per value.
        max_queries = self.max_queries
        if max_queries is None:
            used = 0.0
        else:
            queries = self.queries
            used = queries / max_queries if queries < max_queries else 1.0
        reward = self.cur_reward
        if not 0.0 <= reward <= 1.0:
            reward = min(max(reward, 0.0), 1.0)
        best = self.ep_best_reward
        if not 0.0 <= best <= 1.0:
            best = min(max(best, 0.0), 1.0)
        t, horizon = self.t, self.horizon
        stats = np.array(
            [reward, best, t / horizon if t < horizon else 1.0, used],
            dtype=np.float32,
        )
        code = self.current  # -1 selects the tables' all-zero row
        return {
            "adjacency": self.adjacency[code].copy(),
            "ops": self.ops[code].copy(),
            "node_mask": self.node_mask[code].copy(),
            "stats": stats,
        }

    def action_mask(self) -> BoolArray:
        """Legal edits now (read-only view)."""
        mask: BoolArray = self.masks[self.current]
        return mask

    def _string(self, code: int) -> str:
        text: str = self.strings[code]
        return text

    def info(self, i: int = 0) -> dict[str, Any]:
        """The ``info`` dict (same contract and values as ``SearchCore.info``)."""
        code = self.current
        best = self.best_code
        strings = self.strings
        info: dict[str, Any] = {
            "arch": strings[code] if code >= 0 else None,
            "arch_code": code,
            "arch_class": self.canonical.item(code) if code >= 0 else -1,
            "valid_accuracy": self.last_valid,
            "test_accuracy": self.last_test,
            "new_query": self.last_new,
            "queries": self.queries,
            "best_arch": strings[best] if best >= 0 else None,
            "best_valid_accuracy": self.best_valid if best >= 0 else math.nan,
            "best_test_accuracy": self.best_test,
            "regret": self.optimum - self.best_test,
            "sim_time_s": self.sim_time if self.time_table is not None else None,
            "budget_exhausted": self.max_queries is not None
            and self.queries >= self.max_queries,
        }
        if self.signal is not None:
            info[self.signal.info_key] = self.last_score
            info[self.signal.value_key] = self.last_signal
        if self.is_edit:
            info["action_mask"] = self.masks[code].copy()
        info["invalid_action"] = self.last_invalid
        return info
