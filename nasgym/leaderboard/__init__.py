"""Leaderboard harness: agents x envs x seeds under a query budget, with reports."""
