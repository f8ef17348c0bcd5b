"""Errors of the leaderboard harness (all :class:`nasgym.error.Error` subclasses).

The command line prints their message and exits with status 1, without a traceback.
"""

from __future__ import annotations

from nasgym.error import Error


class LeaderboardError(Error):
    """Bad leaderboard input or state: the message names the problem and the fix."""


class ConfigMismatchError(LeaderboardError):
    """An output directory holds results of a different leaderboard configuration."""


class CorruptRunFileError(LeaderboardError):
    """A run file is unreadable, truncated or fails its checksum."""


class RunFailedError(LeaderboardError):
    """An agent raised, or broke the harness's rules, during a run."""
