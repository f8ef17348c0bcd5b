"""Wrappers for nasgym environments."""

from nasgym.wrappers.query_log import QueryLog, QueryRecord
from nasgym.wrappers.scalarize import LinearScalarization

__all__ = ["LinearScalarization", "QueryLog", "QueryRecord"]
