"""Wrappers for nasgym environments."""

from nasgym.wrappers.query_log import QueryLog, QueryRecord

__all__ = ["QueryLog", "QueryRecord"]
