"""PyTorch networks of the search spaces (imported on demand; needs torch).

``import nasgym`` does not import this package, so nasgym stays torch-free until a
caller asks for a real network.
"""

from nasgym.error import require

require(
    "torch", extra="oneshot", purpose="nasgym's PyTorch networks (nasgym.oneshot.nn)"
)
