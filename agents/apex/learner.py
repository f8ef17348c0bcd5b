"""The Ape-X learner: double Q-learning on prioritized n-step replay (docs/methods).

Target of a transition ``(s, a, R, s', gamma_k, mask')``::

    a* = argmax_{a' in mask'} Q_online(s', a')
    y  = R + gamma_k * Q_target(s', a*)

``gamma_k`` is ``gamma ** k`` for a k-step transition (k < n after a truncation:
partial-episode bootstrapping) and 0 only for a terminal step. Illegal actions have
``-inf`` Q, so neither the argmax nor the loss ever uses one.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from .actor import Weights, build_network, get_weights, to_tensors
from .config import ApexConfig
from .network import ObsLayout
from .replay import Batch, PrioritizedReplay


def split(batch: Batch, layout: ObsLayout, prefix: str) -> dict[str, torch.Tensor]:
    """The observation tensors stored under ``prefix`` (``"obs"`` or ``"next"``)."""
    return to_tensors({k: batch[f"{prefix}/{k}"] for k in layout.keys})


class Learner:
    """Online and target networks, Adam and the prioritized replay buffer.

    Args:
        layout: Observation layout.
        num_actions: ``|A|``.
        config: Settings.
        seed: Seeds the network initialisation and the replay sampling.
    """

    def __init__(
        self, layout: ObsLayout, num_actions: int, config: ApexConfig, seed: int
    ) -> None:
        self.layout = layout
        self.num_actions = num_actions
        self.config = config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.online = build_network(layout, num_actions, config)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=config.lr)
        self.replay = PrioritizedReplay(
            config.buffer_capacity,
            alpha=config.per_alpha,
            beta=config.per_beta,
            eps=config.per_eps,
            seed=seed + 1,
        )
        self.env_steps = 0
        self.updates = 0
        self.last_target_update = 0
        self.losses: list[float] = []

    def weights(self) -> Weights:
        """The online network's weights, for the actors."""
        return get_weights(self.online)

    def add(self, batch: Batch, priorities: np.ndarray, env_steps: int) -> None:
        """Store an actor's transitions and count the env steps behind them."""
        if len(priorities):
            self.replay.add(batch, priorities)
        self.env_steps += int(env_steps)

    def updates_due(self) -> int:
        """Updates owed at ``env_steps_per_update`` once ``learning_starts`` passed."""
        c = self.config
        if self.env_steps < c.learning_starts or len(self.replay) == 0:
            return 0
        return (self.env_steps - c.learning_starts) // c.env_steps_per_update + 1

    def catch_up(self) -> int:
        """Run the updates owed; return how many ran."""
        ran = 0
        while self.updates < self.updates_due():
            self.update()
            ran += 1
        return ran

    def targets(
        self, batch: Batch, online_next: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Double-Q targets ``y`` and the next actions ``a*`` of ``batch``.

        ``online_next`` is the online network's (masked) Q of the next states when
        the caller already has it.
        """
        nxt = split(batch, self.layout, "next")
        next_mask = torch.as_tensor(batch["next_mask"])
        with torch.no_grad():
            if online_next is None:
                online_next = self.online(nxt, next_mask)
            a_star = online_next.argmax(dim=1)
            q_next = self.target(nxt, next_mask).gather(1, a_star[:, None])[:, 0]
            legal = next_mask.any(dim=1)
            q_next = torch.where(legal, q_next, torch.zeros_like(q_next))
            discount = torch.as_tensor(batch["discount"])
            y = torch.as_tensor(batch["return"]) + discount * q_next
        return y, a_star

    def update(self) -> float:
        """One Adam step on a prioritized minibatch; return the loss."""
        c = self.config
        batch, slots, weights = self.replay.sample(c.batch_size)
        # One online pass over the states and the next states together.
        obs, nxt = split(batch, self.layout, "obs"), split(batch, self.layout, "next")
        both = {k: torch.cat([obs[k], nxt[k]]) for k in obs}
        masks = torch.cat(
            [torch.as_tensor(batch["mask"]), torch.as_tensor(batch["next_mask"])]
        )
        q_both = self.online(both, masks)
        n = len(slots)
        q = q_both[:n]
        y, _ = self.targets(batch, online_next=q_both[n:].detach())
        q_taken = q.gather(1, torch.as_tensor(batch["action"])[:, None])[:, 0]
        td = y - q_taken
        per_sample = F.huber_loss(q_taken, y, reduction="none", delta=c.huber_delta)
        loss = (torch.as_tensor(weights, dtype=per_sample.dtype) * per_sample).mean()
        self.optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(self.online.parameters(), c.grad_clip)
        self.optimizer.step()
        self.replay.update_priorities(slots, td.detach().abs().double().numpy())
        self.updates += 1
        if self.env_steps - self.last_target_update >= c.target_update_period:
            self.target.load_state_dict(self.online.state_dict())
            self.last_target_update = self.env_steps
        value = float(loss.detach())
        self.losses.append(value)
        return value
