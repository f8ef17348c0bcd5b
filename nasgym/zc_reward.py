"""Alias of :mod:`nasgym.oneshot.zc_reward`, the module's former path.

Importing it gives the very same module object (``sys.modules`` maps both names to
it), so classes, caches and monkeypatches are shared.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nasgym.oneshot.zc_reward import *  # noqa: F403

sys.modules[__name__] = importlib.import_module("nasgym.oneshot.zc_reward")
