"""The Query envs' action lookup (nasgym.envs.tables.query_code_table)."""

from __future__ import annotations

import numpy as np
import pytest

from nasgym.envs.tables import query_code_table
from nasgym.spaces.base import CategoricalSearchSpace
from nasgym.spaces.nb201 import NB201Space
from nasgym.spaces.nbgraph import NBGraphSpace


@pytest.mark.parametrize("space", [NB201Space(), NBGraphSpace()], ids=repr)
def test_table_maps_every_valid_vector_to_its_code(
    space: CategoricalSearchSpace[object],
) -> None:
    table = query_code_table(space)
    codes = np.asarray(space.valid_codes, dtype=np.int64)
    assert len(table) == codes.size
    vectors = np.array(list(table), dtype=np.int64)
    assert np.array_equal(space.vectors_to_codes(vectors), list(table.values()))
    assert sorted(table.values()) == codes.tolist()
