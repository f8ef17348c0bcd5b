"""Alias of :mod:`nasgym.oneshot.nn`, the package's former path (needs torch).

Importing it gives the very same package object, and ``nasgym.nn.nb201`` and
``nasgym.nn.supernet`` the very same modules as ``nasgym.oneshot.nn.*`` (``sys.modules``
maps both names to each), so classes and isinstance checks are shared.
"""

from __future__ import annotations

import sys

import nasgym.oneshot.nn.nb201
import nasgym.oneshot.nn.supernet  # noqa: F401 (registers the module)

sys.modules[__name__] = sys.modules["nasgym.oneshot.nn"]
for _child in ("nb201", "supernet"):
    sys.modules[f"{__name__}.{_child}"] = sys.modules[f"nasgym.oneshot.nn.{_child}"]
