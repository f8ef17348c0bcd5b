"""L2NAS (Mills et al., CIKM 2021): quantile-critic actor-critic (docs/methods).

The actor proposes continuous architecture hyperparameters; the critic scores them.

The loop (docs/methods/l2nas.md#search-loop), one env step per proposal:

1. The state ``s`` is the env's observation: on the ``...Continuous-v0`` envs the
   mean and standard deviation of the one-hot encodings of the top-K architectures
   found so far, plus global stats (docs/methods/l2nas.md#history-and-state; K is the
   env's ``top_k``).
2. For the first ``warmup_queries`` queries, and with probability epsilon later, the
   action is uniformly random; otherwise ``a = pi(s) + N(0, sigma^2)``, clipped at 0
   and re-normalised per slot.
3. The env decodes ``a`` (argmax per slot) and queries it; the reward is its
   validation accuracy as a fraction (``info["valid_accuracy"] / 100``; on a
   training-free ``reward_metric="zc:<proxy>"`` env, the proxy's normalised value).
4. ``(s, a, r, s')`` goes to the replay buffer.
5. One critic step on the pinball loss at quantile tau, on a minibatch of which a
   fraction comes from the buffer's top rewards, then one actor step maximising
   ``Q(s, pi(s))`` (deterministic policy gradient). With ``gamma = 0`` (default) the
   critic's target is the reward itself; no target networks.
6. Until ``info["budget_exhausted"]``. The incumbent is the env's.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from numpy.typing import NDArray

from ..baselines.common import (
    check_fitness,
    check_positive_int,
    query_budget,
    step_fitness,
)
from ..torch_state import forked_torch
from .networks import (
    Actor,
    Critic,
    FloatArray,
    SlotLayout,
    infer_layout,
    pinball_loss,
)

#: Tag of the files :meth:`L2NAS.save` writes.
FILE_FORMAT = "nasgym-l2nas-v1"


@dataclasses.dataclass(frozen=True)
class L2NASConfig:
    """Settings of :class:`L2NAS`; every ``[I]`` default of docs/methods/l2nas.md.

    Attributes:
        actor_hidden: Hidden sizes of the actor MLP (2 x 256, [I]).
        critic_hidden: Hidden sizes of the critic MLP on ``concat(s, a)`` (2 x 256).
        quantile: tau of the critic's pinball loss (0.9: a high percentile, [I]).
        actor_lr: Adam step size of the actor (1e-3).
        critic_lr: Adam step size of the critic (1e-3).
        batch_size: Minibatch size of both updates (64).
        top_k: Size of the top-performer list (the buffer entries with the highest
            rewards) that the biased part of each minibatch is drawn from (10, as
            the K of the state, [S]/[I]).
        top_fraction: Fraction of each minibatch drawn (with replacement) from that
            list; the rest is drawn uniformly from the whole buffer (0.5, [I]).
        sigma: Standard deviation of the Gaussian noise added to pi(s) before
            re-normalising per slot (0.1).
        epsilon_start: Probability of a uniformly random action right after the
            warm-up (0.1).
        epsilon_end: Its final value (0.01).
        epsilon_decay_queries: Queries after the warm-up over which epsilon decays
            linearly to ``epsilon_end``; ``None``: the rest of the budget.
        warmup_queries: N0, the random architectures queried before the first
            update (20).
        gamma: Discount. 0 (default): each query is a one-step episode and the
            critic's target is the reward. Above 0 the critic bootstraps on
            ``Q(s', pi(s'))`` of the same networks (there are no target networks).
        gradient_steps: Critic steps, and actor steps, per env step after the
            warm-up (1).
        revisit_noise_growth: After ``n`` steps in a row without a new query (the
            proposal decoded to an architecture already evaluated: a free revisit),
            the noise is ``sigma * revisit_noise_growth ** n``, so a policy that has
            settled on a known architecture explores ever further around it (2.0;
            1.0 disables it, [I]).
        critic_on_decoded: The critic is trained on the architecture each action
            decodes to (the one-hot of every slot's argmax), which is all the reward
            depends on, instead of the raw scores; the actor's distributions are
            then scored as a relaxation of that one-hot input (True, [I]: trained
            on raw scores, the critic is unconstrained at the simplex corners where
            the deterministic policy gradient drives the actor, and the actor
            collapses onto poor architectures).
        standardize_rewards: The critic's targets are the rewards standardised by
            the mean and standard deviation of all rewards in the buffer (True,
            [I]): accuracy fractions differ by a few hundredths among good
            architectures, too little for a critic of a few hundred Adam steps.
        max_revisits: After this many steps in a row without a new query the next
            action is uniformly random (10).
        choices_per_slot: Choices of each slot of the action; ``None`` infers them
            from the env (see :func:`~nasgym_agents.l2nas.networks.infer_layout`).
        init_from: A file written by :meth:`L2NAS.save`: start from its actor and
            critic instead of random weights (transfer,
            docs/methods/l2nas.md#transfer). The
            history and the replay buffer start empty.
        device: Torch device (``"cpu"``).
        num_threads: Torch intra-op threads during :meth:`L2NAS.run` (restored
            afterwards); 1 makes CPU runs reproducible. ``None`` leaves it as is.
        max_steps_per_query: :meth:`L2NAS.run` fails with :class:`RuntimeError`
            after ``max_steps_per_query * max_queries`` steps without spending the
            budget.
        fitness: The reward the critic learns: ``"valid_accuracy"`` (default,
            ``info["valid_accuracy"] / 100``) or ``"reward"``, the env's scalar
            reward of the step (on a multi-objective env made with
            ``mo_reward="constrained"`` the normalised accuracy inside the cost
            thresholds and ``constraint_penalty`` outside, with
            ``mo_reward="weighted"`` MONAS's mix). A vector reward is refused.
    """

    actor_hidden: tuple[int, ...] = (256, 256)
    critic_hidden: tuple[int, ...] = (256, 256)
    quantile: float = 0.9
    actor_lr: float = 1e-3
    critic_lr: float = 1e-3
    batch_size: int = 64
    top_k: int = 10
    top_fraction: float = 0.5
    sigma: float = 0.1
    epsilon_start: float = 0.1
    epsilon_end: float = 0.01
    epsilon_decay_queries: int | None = None
    warmup_queries: int = 20
    gamma: float = 0.0
    gradient_steps: int = 1
    revisit_noise_growth: float = 2.0
    critic_on_decoded: bool = True
    standardize_rewards: bool = True
    max_revisits: int = 10
    choices_per_slot: tuple[int, ...] | None = None
    init_from: str | None = None
    device: str = "cpu"
    num_threads: int | None = 1
    max_steps_per_query: int = 100
    fitness: str = "valid_accuracy"

    def __post_init__(self) -> None:
        for name in ("actor_hidden", "critic_hidden"):
            sizes = tuple(getattr(self, name))
            if not sizes:
                raise ValueError(f"{name} must name at least one layer")
            for size in sizes:
                check_positive_int(f"{name} sizes", size)
            object.__setattr__(self, name, sizes)
        if self.choices_per_slot is not None:
            object.__setattr__(self, "choices_per_slot", tuple(self.choices_per_slot))
        if self.init_from is not None:
            object.__setattr__(self, "init_from", os.fspath(self.init_from))
        for name in ("batch_size", "top_k", "gradient_steps", "max_revisits"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("max_steps_per_query", self.max_steps_per_query)
        check_fitness(self.fitness)
        if self.num_threads is not None:
            check_positive_int("num_threads", self.num_threads)
        if isinstance(self.warmup_queries, bool) or not isinstance(
            self.warmup_queries, int
        ):
            raise ValueError(
                f"warmup_queries must be an integer, got {self.warmup_queries!r}"
            )
        if self.warmup_queries < 0:
            raise ValueError(f"warmup_queries must be >= 0, got {self.warmup_queries}")
        if self.epsilon_decay_queries is not None:
            check_positive_int("epsilon_decay_queries", self.epsilon_decay_queries)
        _in_range("quantile", self.quantile, 0.0, 1.0, open_low=True, open_high=True)
        _in_range("top_fraction", self.top_fraction, 0.0, 1.0)
        _in_range("epsilon_start", self.epsilon_start, 0.0, 1.0)
        _in_range("epsilon_end", self.epsilon_end, 0.0, 1.0)
        _in_range("gamma", self.gamma, 0.0, 1.0, open_high=True)
        _in_range("sigma", self.sigma, 0.0, math.inf)
        _in_range("revisit_noise_growth", self.revisit_noise_growth, 1.0, math.inf)
        _in_range("actor_lr", self.actor_lr, 0.0, math.inf, open_low=True)
        _in_range("critic_lr", self.critic_lr, 0.0, math.inf, open_low=True)


def _in_range(
    name: str,
    value: object,
    low: float,
    high: float,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> None:
    """Raise ValueError unless ``value`` is a real number in the given interval."""
    ok = (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and not math.isnan(float(value))
    )
    if ok:
        x = float(value)  # type: ignore[arg-type]
        ok = (x > low if open_low else x >= low) and (
            x < high if open_high else x <= high
        )
    if not ok:
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise ValueError(f"{name} must lie in {lo}{low}, {high}{hi}, got {value!r}")


class ReplayBuffer:
    """Growing arrays of ``(s, a, r, s')``; a fixed-size list of the top rewards.

    Args:
        obs_dim: Observation length.
        action_shape: ``(num_slots, max_choices)`` of a stored action.
    """

    def __init__(self, obs_dim: int, action_shape: tuple[int, int]) -> None:
        self.size = 0
        self.obs = np.zeros((64, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((64, obs_dim), dtype=np.float32)
        self.actions = np.zeros((64, *action_shape), dtype=np.float32)
        self.rewards = np.zeros(64, dtype=np.float32)

    def add(
        self, obs: FloatArray, action: FloatArray, reward: float, next_obs: FloatArray
    ) -> None:
        """Append one transition (the arrays double when full)."""
        if self.size == self.rewards.size:
            for name in ("obs", "next_obs", "actions", "rewards"):
                old = getattr(self, name)
                new = np.zeros((2 * old.shape[0], *old.shape[1:]), dtype=old.dtype)
                new[: self.size] = old
                setattr(self, name, new)
        i = self.size
        self.obs[i], self.actions[i], self.next_obs[i] = obs, action, next_obs
        self.rewards[i] = reward
        self.size += 1

    def top(self, k: int) -> NDArray[np.int64]:
        """Indices of the ``k`` highest rewards (all entries when fewer)."""
        if self.size <= k:
            return np.arange(self.size, dtype=np.int64)
        rewards = self.rewards[: self.size]
        top: NDArray[np.int64] = np.argpartition(-rewards, k - 1)[:k].astype(np.int64)
        return top

    def sample(
        self, rng: np.random.Generator, batch: int, top_k: int, top_fraction: float
    ) -> NDArray[np.int64]:
        """Minibatch indices, biased to the top performers.

        ``round(top_fraction * batch)`` indices come from the ``top_k`` highest
        rewards, the rest uniformly from the whole buffer (both with replacement).
        """
        n_top = round(top_fraction * batch)
        top = self.top(top_k)
        picks = np.concatenate(
            [
                top[rng.integers(0, top.size, size=n_top)],
                rng.integers(0, self.size, size=batch - n_top),
            ]
        )
        return picks.astype(np.int64)


class L2NAS:
    """L2NAS on a ``...Continuous-v0`` env: a quantile-critic actor-critic.

    The actor maps the env's observation (top-K statistics of the search history)
    to one softmax distribution per slot of the action, i.e. continuous
    architecture hyperparameters; the env decodes them by argmax. The critic
    ``Q(s, a)`` is trained with the pinball loss at quantile ``tau`` on minibatches
    biased to the top performers, so it estimates a high percentile of the reward;
    the actor follows the deterministic policy gradient of that critic. See the
    module docstring for the loop and :class:`L2NASConfig` for every setting.

    The slot structure comes from the env (``search_space.nvec`` on the tabular
    envs, else the action's shape), so the agent runs on every continuous env with
    ``Box(-1, 1)`` actions. Test accuracy is never read.

    Example:
        >>> import gymnasium as gym, nasgym
        >>> env = gym.make("nasgym/NBGraphContinuous-v0", max_queries=30)
        >>> agent = L2NAS(env, seed=0, actor_hidden=(32,), critic_hidden=(32,))
        >>> agent.run()
        >>> env.unwrapped.search_info()["queries"]
        30

    Args:
        env: A nasgym ``...Continuous-v0`` env (possibly wrapped) made with
            ``max_queries``.
        seed: Seeds the networks' initial weights, the exploration and the
            minibatches, and the env's first ``reset``; a run is a pure function of
            it.
        **config: Fields of :class:`L2NASConfig`.

    Attributes:
        layout: The action's slot layout.
        actor: The actor network (of the last :meth:`run`, or initial / loaded).
        critic: The critic network.
        steps: Env steps of the last :meth:`run`.

    Raises:
        ValueError: Not a continuous env (the message names the env kind needed),
            no query budget, an unknown setting or one out of range, or an
            ``init_from`` file made for other spaces.
    """

    #: The leaderboard runs L2NAS on the Continuous env of the space it is given.
    env_mode: ClassVar[str] = "Continuous"

    def __init__(self, env: gym.Env[Any, Any], *, seed: int, **config: Any) -> None:
        names = [f.name for f in dataclasses.fields(L2NASConfig)]
        unknown = sorted(set(config) - set(names))
        if unknown:
            raise ValueError(
                f"L2NAS: unknown setting(s) {', '.join(map(repr, unknown))}; valid "
                f"settings: {', '.join(names)}"
            )
        self.settings = L2NASConfig(**config)
        self.layout: SlotLayout = infer_layout(env, self.settings.choices_per_slot)
        obs_space = env.observation_space
        if not isinstance(obs_space, gym.spaces.Box):
            raise ValueError(
                f"L2NAS needs a Box observation (the top-K statistics of a nasgym "
                f"...Continuous-v0 env); got {obs_space!r}"
            )
        self.env = env
        self.seed = int(seed)
        self.max_queries = query_budget(env, "L2NAS")
        self.obs_dim = int(np.prod(obs_space.shape))
        self.device = torch.device(self.settings.device)
        self.steps = 0
        self.actor, self.critic = self._init_networks()

    # ----------------------------------------------------------- networks
    def config(self) -> dict[str, Any]:
        """The agent's settings (every config field), as recorded by the harness."""
        return dataclasses.asdict(self.settings)

    def _init_networks(self) -> tuple[Actor, Critic]:
        """Seeded fresh networks, or those of ``init_from``."""
        s = self.settings
        with forked_torch(s.num_threads):
            torch.manual_seed(self.seed)
            actor = Actor(self.obs_dim, self.layout, s.actor_hidden)
            critic = Critic(self.obs_dim, self.layout.width, s.critic_hidden)
        if s.init_from is not None:
            state = self._read(s.init_from)
            actor.load_state_dict(state["actor"])
            critic.load_state_dict(state["critic"])
        return actor.to(self.device), critic.to(self.device)

    def _read(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Load a saved agent's file and check that it fits this agent's spaces.

        Raises:
            ValueError: Not an L2NAS file, or saved for another observation size,
                slot layout or network sizes.
        """
        state: dict[str, Any] = torch.load(
            Path(path), map_location="cpu", weights_only=True
        )
        if not isinstance(state, dict) or state.get("format") != FILE_FORMAT:
            raise ValueError(f"{path} is not an L2NAS file ({FILE_FORMAT})")
        saved = (state["obs_dim"], state["num_slots"], state["max_choices"])
        mine = (self.obs_dim, self.layout.num_slots, self.layout.max_choices)
        if saved != mine:
            raise ValueError(
                f"{path} holds an L2NAS policy for observations of length {saved[0]} "
                f"and {saved[1]} slots x {saved[2]} choices; this env has {mine[0]} "
                f"and {mine[1]} x {mine[2]}"
            )
        for name in ("actor_hidden", "critic_hidden"):
            if tuple(state["config"][name]) != getattr(self.settings, name):
                raise ValueError(
                    f"{path} holds networks with {name}="
                    f"{tuple(state['config'][name])}; this agent has "
                    f"{getattr(self.settings, name)} (pass the same sizes)"
                )
        return state

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the actor, the critic and the settings to ``path`` (torch format)."""
        torch.save(
            {
                "format": FILE_FORMAT,
                "config": self.config(),
                "obs_dim": self.obs_dim,
                "num_slots": self.layout.num_slots,
                "max_choices": self.layout.max_choices,
                "actor": self.actor.state_dict(),
                "critic": self.critic.state_dict(),
            },
            Path(path),
        )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        env: gym.Env[Any, Any],
        *,
        seed: int = 0,
        **overrides: Any,
    ) -> L2NAS:
        """An agent on ``env`` with the saved networks and settings.

        The agent's ``init_from`` is ``path``, so a :meth:`run` fine-tunes the saved
        policy on ``env`` with a new history (transfer, docs/methods/l2nas.md#transfer).

        Args:
            path: A file written by :meth:`save`.
            env: A continuous env with the spaces of the saved agent's env.
            seed: The new agent's seed.
            **overrides: Settings that replace the saved ones.
        """
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != FILE_FORMAT:
            raise ValueError(f"{path} is not an L2NAS file ({FILE_FORMAT})")
        config = dict(state["config"])
        config.update(overrides)
        config["init_from"] = os.fspath(path)
        return cls(env, seed=seed, **config)

    def policy(self, observation: Any) -> FloatArray:
        """The actor's per-slot distributions for one observation (no noise)."""
        obs = torch.as_tensor(
            np.asarray(observation, dtype=np.float32).reshape(1, -1),
            device=self.device,
        )
        with torch.no_grad():
            probs: FloatArray = self.actor(obs)[0].cpu().numpy()
        return probs

    def predict(self, observation: Any) -> FloatArray:
        """The actor's deterministic env action for ``observation``."""
        return self.layout.to_action(self.policy(observation))

    # ----------------------------------------------------------------- run
    def epsilon(self, queries: int) -> float:
        """The random-action probability after ``queries`` queries (linear decay)."""
        s = self.settings
        horizon = s.epsilon_decay_queries or max(self.max_queries - s.warmup_queries, 1)
        done = min(max(queries - s.warmup_queries, 0) / horizon, 1.0)
        return s.epsilon_start + (s.epsilon_end - s.epsilon_start) * done

    def run(self) -> None:
        """Search from ``env.reset(seed=seed)`` until the budget is spent.

        Starts from fresh seeded networks (or ``init_from``), an empty buffer and a
        new search; the trained networks stay in :attr:`actor` and :attr:`critic`.

        Raises:
            RuntimeError: The budget was not spent within
                ``max_steps_per_query * max_queries`` steps.
        """
        s = self.settings
        with forked_torch(s.num_threads):
            self.actor, self.critic = self._init_networks()
            self._search()

    def _search(self) -> None:
        s, layout, env = self.settings, self.layout, self.env
        rng = np.random.default_rng(self.seed)
        actor_opt = torch.optim.Adam(self.actor.parameters(), lr=s.actor_lr)
        critic_opt = torch.optim.Adam(self.critic.parameters(), lr=s.critic_lr)
        buffer = ReplayBuffer(self.obs_dim, (layout.num_slots, layout.max_choices))
        obs, info = env.reset(seed=self.seed)
        obs = np.asarray(obs, dtype=np.float32).ravel()
        queries, stale, steps = int(info["queries"]), 0, 0
        max_steps = s.max_steps_per_query * self.max_queries
        exhausted = bool(info["budget_exhausted"])
        while not exhausted:
            if steps >= max_steps:
                raise RuntimeError(
                    f"L2NAS: {steps} env steps without spending the query budget "
                    f"({queries} of max_queries={self.max_queries}); raise "
                    f"max_steps_per_query or lower max_revisits"
                )
            warm = queries < s.warmup_queries
            if warm or stale >= s.max_revisits or rng.random() < self.epsilon(queries):
                probs = layout.random(rng)
            else:
                sigma = s.sigma * s.revisit_noise_growth**stale
                probs = layout.perturb(self.policy(obs), sigma, rng)
            step = env.step(layout.to_action(probs))
            next_obs, env_reward, terminated, truncated, info = step
            next_obs = np.asarray(next_obs, dtype=np.float32).ravel()
            steps += 1
            exhausted = bool(info["budget_exhausted"])
            queries = int(info["queries"])
            stale = 0 if info["new_query"] else stale + 1
            # valid_accuracy: the proxy's value on a zc: env
            fitness = step_fitness(info, env_reward, s.fitness)
            if fitness is not None:
                reward = fitness / 100.0 if s.fitness == "valid_accuracy" else fitness
                stored = layout.one_hot(probs) if s.critic_on_decoded else probs
                buffer.add(obs, stored, reward, next_obs)
                if queries >= s.warmup_queries and not exhausted:
                    for _ in range(s.gradient_steps):
                        self._update(buffer, rng, actor_opt, critic_opt)
            obs = next_obs
            if (terminated or truncated) and not exhausted:
                obs, info = env.reset()
                obs = np.asarray(obs, dtype=np.float32).ravel()
        self.steps = steps

    def _update(
        self,
        buffer: ReplayBuffer,
        rng: np.random.Generator,
        actor_opt: torch.optim.Optimizer,
        critic_opt: torch.optim.Optimizer,
    ) -> None:
        """One critic step (pinball loss) and one actor step (maximise Q)."""
        s = self.settings
        picks = buffer.sample(rng, s.batch_size, s.top_k, s.top_fraction)
        dev = self.device
        obs = torch.as_tensor(buffer.obs[picks], device=dev)
        actions = torch.as_tensor(buffer.actions[picks], device=dev)
        rewards = buffer.rewards[picks]
        if s.standardize_rewards:
            every = buffer.rewards[: buffer.size]
            rewards = (rewards - every.mean()) / max(float(every.std()), 1e-6)
        target = torch.as_tensor(rewards, device=dev)
        if s.gamma > 0:
            next_obs = torch.as_tensor(buffer.next_obs[picks], device=dev)
            with torch.no_grad():
                target = target + s.gamma * self.critic(next_obs, self.actor(next_obs))
        critic_loss = pinball_loss(target, self.critic(obs, actions), s.quantile)
        critic_opt.zero_grad()
        torch.autograd.backward(critic_loss)
        critic_opt.step()
        actor_loss = -self.critic(obs, self.actor(obs)).mean()
        actor_opt.zero_grad()
        torch.autograd.backward(actor_loss)
        actor_opt.step()
