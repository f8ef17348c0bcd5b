"""Local search with random restarts (naszilla's; docs/methods/cassimon.md)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from .common import (
    BoolArray,
    BudgetedSearch,
    IntArray,
    check_fitness,
    check_positive_int,
    multidiscrete_nvec,
    sample_vector,
    step_fitness,
    valid_accuracy,
)


class Point(NamedTuple):
    """An evaluated architecture: its key and fitness (validation accuracy, %)."""

    key: int
    accuracy: float


class LocalSearch:
    """First-improvement hill climbing with random restarts.

    1. Evaluate ``num_init`` random architectures; the best is the *anchor*.
    2. Scan the anchor's one-slot neighbours in random order (the agent's generator)
       and move to the first whose validation accuracy beats the anchor's.
    3. When no neighbour improves (a local optimum), restart at 1 with fresh random
       architectures.
    4. Stop when the env reports the query budget spent.

    Fitness is ``info["valid_accuracy"]``, never test accuracy, or with
    ``fitness="reward"`` (query envs only) the env's scalar reward of the step: on a
    multi-objective env made with ``mo_reward="constrained"`` the search then climbs
    inside the cost thresholds, with ``mo_reward="weighted"`` on MONAS's mix of
    accuracy and costs. The default ranks by validation accuracy, which on a
    constrained env ignores the constraint. Revisits are free, so
    neighbours evaluated before are compared from the agent's own record of earlier
    ``info`` without a query (on query envs without a step at all).

    **Query envs** (``MultiDiscrete`` actions): random architectures draw every slot
    uniformly (a proposal the env rejects as invalid is redrawn, at no cost); the
    neighbours are all vectors that differ from the anchor in one slot, invalid ones
    being skipped.

    **Edit envs** (``Discrete`` actions with masks): the env's own state is the
    walker and neighbours are the legal edits of the anchor (``info["action_mask"]``).
    Probing a neighbour applies its edit; if it does not improve, the walker edits
    back before the next probe (a free revisit). Random architectures come from
    ``env.reset()`` without a seed, which starts a new episode of the same search at
    a uniformly random architecture (the first comes from ``reset(seed=seed)``).
    Moving the walker to an architecture that is not a neighbour (the best of the
    random ones, or back to the anchor after a truncation reset moved it) takes one
    legal edit per differing slot, preferring edits to architectures already
    evaluated; intermediate architectures are queries like any other. Whenever the
    walker lands on an architecture better than the anchor (on such a walk or at a
    reset), that architecture becomes the anchor. Results of edits are computed with
    the space's public ``env.unwrapped.search_space.apply_edits``.

    **Edit envs over graph spaces without a slot structure** (NB101, NB301: no
    ``search_space.apply_edits``): neighbours and the way back come from the env's
    public ``env.unwrapped.edit_targets()`` (where each legal edit leads, without a
    query). After a probe that does not improve, the walker takes the edit that leads
    straight back to the anchor (a free revisit). An edit env cannot jump to an
    arbitrary architecture, so each restart climbs from one random start
    (``env.reset()``) instead of the best of ``num_init``; and when no single edit
    leads back (an NB101 edit that pruned a vertex away) or a truncation reset moved
    the walker, the climb restarts from where the walker stands.

    Args:
        env: A nasgym ``...Query-v0`` or ``...Edit-v0`` env (possibly wrapped) made
            with ``max_queries``.
        seed: Seeds the env's ``reset`` and the agent's generator.
        num_init: Random architectures per (re)start (naszilla: 10).
        fitness: ``"valid_accuracy"`` (default) or ``"reward"`` (the env's scalar
            reward; query envs only, a vector reward is refused).

    Raises:
        ValueError: No query budget, an unsupported action space, a bad
            ``num_init`` or ``fitness``, or ``fitness="reward"`` on an edit env
            (a reset's ``info`` carries no reward to rank its architecture by);
            with ``fitness="reward"``, a step returned a vector reward.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        seed: int,
        num_init: int = 10,
        fitness: str = "valid_accuracy",
    ) -> None:
        self.env = env
        self.seed = int(seed)
        self.num_init = check_positive_int("num_init", num_init)
        self.fitness = check_fitness(fitness)
        name = type(self).__name__
        self._search = BudgetedSearch(env, name)
        self._walker: _Walker
        if isinstance(env.action_space, gym.spaces.Discrete):
            if self.fitness != "valid_accuracy":
                raise ValueError(
                    f"{name}: fitness={self.fitness!r} is supported on query envs "
                    f"(...Query-v0) only; on an edit env use "
                    f"fitness='valid_accuracy'"
                )
            space = getattr(env.unwrapped, "search_space", None)
            if getattr(space, "apply_edits", None) is not None:
                self._walker = _EditWalker(self._search, name)
            else:
                self._walker = _PeekWalker(self._search, name)
        else:
            self._walker = _QueryWalker(
                self._search, multidiscrete_nvec(env, name), self.fitness
            )

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent."""
        rng = np.random.default_rng(self.seed)
        search, walker = self._search, self._walker
        walker.start(self.seed)
        starts = self.num_init if walker.reaches_any_anchor else 1
        while not search.exhausted:
            best: Point | None = None
            for _ in range(starts):
                point = walker.sample(rng)
                if point is not None and (
                    best is None or point.accuracy > best.accuracy
                ):
                    best = point
                if search.exhausted:
                    return
            assert best is not None  # sample() returns None only when exhausted
            anchor = walker.settle(best, rng)
            while not search.exhausted:
                better = walker.scan(anchor, rng)
                if better is None:
                    break  # a local optimum: restart
                anchor = walker.settle(better, rng)


class _Walker(ABC):
    """How local search evaluates architectures in one kind of env."""

    #: Whether :meth:`settle` can reach any architecture evaluated before (so a
    #: restart can climb from the best of ``num_init`` random ones).
    reaches_any_anchor = True

    def __init__(self, search: BudgetedSearch) -> None:
        self.search = search
        #: Validation accuracy of every architecture evaluated (``None``: invalid).
        self.known: dict[int, float | None] = {}

    @abstractmethod
    def start(self, seed: int) -> None:
        """Start a fresh search."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Point | None:
        """Evaluate one random architecture (``None`` if the budget ran out first)."""

    def settle(self, anchor: Point, rng: np.random.Generator) -> Point:
        """Make ``anchor`` the current architecture; return the anchor to climb from."""
        return anchor

    @abstractmethod
    def scan(self, anchor: Point, rng: np.random.Generator) -> Point | None:
        """Probe the anchor's neighbours in random order.

        Returns:
            The first point better than the anchor, or ``None`` at a local optimum
            or when the budget ran out.
        """


class _QueryWalker(_Walker):
    """Neighbours are one-slot changes of the ``MultiDiscrete`` vector."""

    def __init__(
        self, search: BudgetedSearch, nvec: IntArray, fitness: str = "valid_accuracy"
    ) -> None:
        super().__init__(search)
        self.fitness = fitness
        self.nvec = nvec
        self.sizes = [int(n) for n in nvec]
        radix = np.ones(nvec.size, dtype=np.int64)
        radix[:-1] = np.cumprod(nvec[::-1])[::-1][1:]
        self.radix = [int(r) for r in radix]
        # Move m sets slot move_slot[m] to (value + move_offset[m]) % size.
        self.move_slot = [s for s, n in enumerate(self.sizes) for _ in range(n - 1)]
        self.move_offset = [k for n in self.sizes for k in range(1, n)]

    def start(self, seed: int) -> None:
        """Start a fresh search; the agent's record starts empty."""
        self.known = {}
        self.search.start(seed)

    def _evaluate(self, vector: list[int], key: int) -> float | None:
        info = self.search.step(np.array(vector, dtype=np.int64))
        accuracy = step_fitness(info, self.search.last_reward, self.fitness)
        self.known[key] = accuracy
        return accuracy

    def sample(self, rng: np.random.Generator) -> Point | None:
        """Draw slots uniformly until the env accepts the vector (always a step)."""
        while not self.search.exhausted:
            vector = sample_vector(rng, self.nvec).tolist()
            key = sum(v * r for v, r in zip(vector, self.radix, strict=True))
            accuracy = self._evaluate(vector, key)
            if accuracy is not None:
                return Point(key, accuracy)
        return None

    def scan(self, anchor: Point, rng: np.random.Generator) -> Point | None:
        """Probe one-slot changes; known ones are compared without a step."""
        pairs = zip(self.radix, self.sizes, strict=True)
        vector = [(anchor.key // r) % n for r, n in pairs]
        for m in rng.permutation(len(self.move_slot)).tolist():
            slot = self.move_slot[m]
            old = vector[slot]
            new = (old + self.move_offset[m]) % self.sizes[slot]
            key = anchor.key + (new - old) * self.radix[slot]
            if key in self.known:
                accuracy = self.known[key]
            elif self.search.exhausted:
                return None
            else:
                vector[slot] = new
                accuracy = self._evaluate(vector, key)
                vector[slot] = old
            if accuracy is not None and accuracy > anchor.accuracy:
                return Point(key, accuracy)
        return None


class _StepWalker(_Walker):
    """A walker that is the edit env's current architecture (moved by its edits)."""

    current = -1
    #: Whether the current architecture is an unused random start.
    fresh = False
    #: Whether a truncation reset makes the walker's arch a fresh random start.
    reset_is_fresh_start = False

    @abstractmethod
    def _observe(self, info: dict[str, Any]) -> None:
        """Record the architecture an ``info`` reports as current."""

    def start(self, seed: int) -> None:
        """Start a fresh search; its random start is the first random sample."""
        self.known = {}
        self._observe(self.search.start(seed))
        self.fresh = True

    def sample(self, rng: np.random.Generator) -> Point | None:
        """The current random start if unused, else a new one from ``env.reset()``."""
        if not self.fresh:
            self._observe(self.search.new_episode())
        self.fresh = False
        return self._here()

    def _here(self) -> Point:
        accuracy = self.known[self.current]
        assert accuracy is not None
        return Point(self.current, accuracy)

    def _edit(self, action: int) -> None:
        """Apply one edit; after a truncation reset the walker is at a random arch."""
        search = self.search
        self._observe(search.step(action))
        if search.reset_info is not None:
            self._observe(search.reset_info)
            if self.reset_is_fresh_start:
                self.fresh = True


class _EditWalker(_StepWalker):
    """The env's current architecture is the walker; neighbours are legal edits."""

    def __init__(self, search: BudgetedSearch, agent: str) -> None:
        super().__init__(search)
        space = getattr(search.env.unwrapped, "search_space", None)
        apply_edits = getattr(space, "apply_edits", None)
        if apply_edits is None:
            raise ValueError(
                f"{agent} on a Discrete action space needs a nasgym edit env "
                f"(...Edit-v0, whose env.unwrapped.search_space.apply_edits gives "
                f"the result of an edit); got {search.env!r}"
            )
        self.apply_edits: Callable[[IntArray, IntArray], IntArray] = apply_edits
        self.num_actions = int(search.env.action_space.n)  # type: ignore[attr-defined]
        self.all_actions: IntArray = np.arange(self.num_actions, dtype=np.int64)
        self.current = -1
        self.mask: BoolArray = np.zeros(self.num_actions, dtype=bool)
        self.fresh = False  # whether the current arch is an unused random start

    def _observe(self, info: dict[str, Any]) -> None:
        accuracy = valid_accuracy(info)
        if accuracy is None:  # a rejected edit changes nothing
            return
        self.current = int(info["arch_code"])
        self.known[self.current] = accuracy
        self.mask = np.asarray(info["action_mask"], dtype=bool)

    def _results(self, code: int) -> IntArray:
        """Result of every edit action applied to ``code``."""
        return self.apply_edits(
            np.full(self.num_actions, code, dtype=np.int64), self.all_actions
        )

    def settle(self, anchor: Point, rng: np.random.Generator) -> Point:
        """Walk to ``anchor`` by edits that set a slot to the anchor's value."""
        toward = self._results(anchor.key) == anchor.key
        while self.current != anchor.key and not self.search.exhausted:
            here = self._here()
            if here.accuracy > anchor.accuracy:
                return here
            options = np.flatnonzero(self.mask & toward)
            if options.size == 0:  # no legal edit leads on: climb from here
                return here
            results = self.apply_edits(
                np.full(options.size, self.current, dtype=np.int64), options
            ).tolist()
            free = [i for i, r in enumerate(results) if r in self.known]
            if free:
                pick = free[int(rng.integers(0, len(free)))]
            else:
                pick = int(rng.integers(0, options.size))
            self._edit(int(options[pick]))
        here = self._here()
        return here if here.accuracy > anchor.accuracy else anchor

    def scan(self, anchor: Point, rng: np.random.Generator) -> Point | None:
        """Probe legal edits of the anchor, editing back after each that fails."""
        if self.current != anchor.key:
            return None  # settle stopped early: the budget is spent
        targets = self._results(anchor.key).tolist()
        for action in rng.permutation(np.flatnonzero(self.mask)).tolist():
            target = targets[action]
            if target in self.known:
                known = self.known[target]
                if known is not None and known > anchor.accuracy:
                    return Point(target, known)
                continue
            if self.search.exhausted:
                return None
            settled = self.settle(anchor, rng)  # edit back from the last probe
            if settled != anchor:
                return settled
            if self.search.exhausted:
                return None
            self._edit(action)
            accuracy = self.known.get(target)
            if accuracy is not None and accuracy > anchor.accuracy:
                return Point(target, accuracy)
            here = self._here()
            if here.accuracy > anchor.accuracy:  # a truncation reset landed better
                return here
        return None


class _PeekWalker(_StepWalker):
    """Edit envs whose ``edit_targets()`` names where each legal edit leads."""

    reaches_any_anchor = False
    reset_is_fresh_start = True

    def __init__(self, search: BudgetedSearch, agent: str) -> None:
        super().__init__(search)
        targets = getattr(search.env.unwrapped, "edit_targets", None)
        if targets is None:
            raise ValueError(
                f"{agent} on a Discrete action space needs a nasgym edit env "
                f"(...Edit-v0, with env.unwrapped.search_space.apply_edits or "
                f"env.unwrapped.edit_targets()); got {search.env!r}"
            )
        self.targets: Callable[[], list[str | None]] = targets
        #: Dense ids of the architecture strings seen (``Point.key``).
        self.ids: dict[str, int] = {}

    def _id(self, arch: str) -> int:
        return self.ids.setdefault(arch, len(self.ids))

    def _observe(self, info: dict[str, Any]) -> None:
        accuracy = valid_accuracy(info)
        if accuracy is None:  # a rejected edit changes nothing
            return
        self.current = self._id(str(info["arch"]))
        self.known[self.current] = accuracy

    def start(self, seed: int) -> None:
        """Start a fresh search; its random start is the first random sample."""
        self.ids = {}
        super().start(seed)

    def settle(self, anchor: Point, rng: np.random.Generator) -> Point:
        """The walker stands on the anchor already (scan moves onto improvements)."""
        return self._here() if self.current != anchor.key else anchor

    def _back_to(self, key: int) -> bool:
        """Take an edit that leads straight to ``key``; whether the walker is there."""
        if self.current == key:
            return True
        options = [
            a
            for a, target in enumerate(self.targets())
            if target is not None and self.ids.get(target) == key
        ]
        if options:
            self._edit(options[0])
        return self.current == key

    def scan(self, anchor: Point, rng: np.random.Generator) -> Point | None:
        """Probe legal edits of the anchor, editing back after each that fails."""
        if self.current != anchor.key:
            return None
        targets = self.targets()
        legal = [a for a, target in enumerate(targets) if target is not None]
        for action in rng.permutation(legal).tolist():
            target = targets[action]
            assert target is not None
            known = self.known.get(self.ids.get(target, -1), None)
            if target in self.ids and known is None:
                continue  # evaluated before and rejected: nothing to learn
            if known is not None and known <= anchor.accuracy:
                continue
            if known is None and self.search.exhausted:
                return None
            self._edit(action)  # a free revisit when known, else a query
            here = self._here()
            if here.accuracy > anchor.accuracy:
                return here
            if self.fresh or self.search.exhausted:
                return None
            if not self._back_to(anchor.key):
                self.fresh = True  # the anchor is out of reach: restart from here
                return None
        return None
