"""RL-DARTS: a DARTS cell as an SB3 agent's image encoder, searched with the policy.

Needs the ``rldarts`` extra (``minatar``, GPL-licensed: nasgym never imports it at
module level; only :func:`make_env` does, when a MinAtar env is built).
"""

from .model import (
    OP_SETS,
    AlphaAdam,
    DartsExtractor,
    MinAtarConv,
    derive_genotype,
    genotype_from_str,
    genotype_to_str,
    random_genotype,
)
from .train import ChannelsFirst, make_env, run

__all__ = [
    "OP_SETS",
    "AlphaAdam",
    "ChannelsFirst",
    "DartsExtractor",
    "MinAtarConv",
    "derive_genotype",
    "genotype_from_str",
    "genotype_to_str",
    "make_env",
    "random_genotype",
    "run",
]
