"""Differentiable architecture pruning of a pretrained CNN.

The method page is docs/methods/pruning.md.

Gates on the inner channels (or whole blocks) of a small residual CNN pretrained on
MNIST-5k are learned with a two-temperature logistic relaxation and a complexity
penalty ``lambda``, alternating gate steps (validation batches) with weight steps
(training batches); the thresholded sub-network is retrained on a few-shot digits
task and compared against magnitude pruning and random subsets of the same size.
Standalone: ``python -m nasgym_agents.pruning --lambdas 0.1 0.5 2``.
"""

from .method import (
    PruningConfig,
    PruningRun,
    RunInterrupted,
    few_shot,
    magnitude_mask,
    random_mask,
    strip_timing,
)
from .model import GatedNet, NetShape, logistic_noise, relaxed_gates, temperature

__all__ = [
    "GatedNet",
    "NetShape",
    "PruningConfig",
    "PruningRun",
    "RunInterrupted",
    "few_shot",
    "logistic_noise",
    "magnitude_mask",
    "random_mask",
    "relaxed_gates",
    "strip_timing",
    "temperature",
]
