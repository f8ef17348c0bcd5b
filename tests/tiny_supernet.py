"""Settings of the tiny NB201 supernets the supernet tests train on the CPU."""

from __future__ import annotations

from typing import Any


def tiny_supernet(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a tiny ``Supernet`` or Supernet201 env.

    Two channels, one cell per stage, 8x8 grey digits, 16-image weight steps, one
    32-image validation batch per evaluation, on the CPU; ``overrides`` replace or
    add settings (``eval_batches=None``: the whole validation split).
    """
    return {
        "channels": 2,
        "num_cells": 1,
        "image_size": 8,
        "batch_size": 16,
        "eval_batch_size": 32,
        "eval_batches": 1,
        "device": "cpu",
        **overrides,
    }
