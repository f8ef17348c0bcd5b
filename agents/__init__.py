"""Search agents for nasgym environments.

Agents use only nasgym's public API (``gym.make``, ``env.action_masks()``, ``info``);
nothing in :mod:`nasgym` imports this package.
"""
