"""Wrappers for nasgym environments."""

from nasgym.wrappers.hide_test import HideTestInfo
from nasgym.wrappers.query_log import QueryLog, QueryRecord
from nasgym.wrappers.scalarize import LinearScalarization

__all__ = ["HideTestInfo", "LinearScalarization", "QueryLog", "QueryRecord"]
