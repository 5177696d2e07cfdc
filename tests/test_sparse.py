"""Bags of ids: weights, and mapping and selecting in place, across block boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from fasttext_lite import sparse
from fasttext_lite.sparse import Bags

LINES = [[3, 1, 3], [], [2], [0, 0, 4, 1], [], [4]]


@pytest.fixture(params=[1, 2, 3, 1 << 20], ids=lambda block: f"block{block}")
def small_blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparse, "_BLOCK_ENTRIES", request.param)


def as_lists(bags: Bags) -> list[list[int]]:
    return [bags.indices[a:b].tolist() for a, b in zip(bags.indptr, bags.indptr[1:], strict=False)]


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("dropped", [set(), {1}, {3, 4}, {0, 1, 2, 3, 4}])
def test_map_drops_the_ids_mapped_to_minus_one(dropped: set[int]) -> None:
    table = np.array([-1 if i in dropped else 10 * i for i in range(5)])
    bags = Bags.of(LINES)
    mapped = bags.map(lambda ids: table[ids])
    expected = [[10 * i for i in line if i not in dropped] for line in LINES]
    assert as_lists(mapped) == expected
    assert mapped.indices.size == 0 or np.shares_memory(mapped.indices, bags.indices)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("keep", [[True] * 6, [False] * 6, [True, False, True, False, True, False]])
def test_select_keeps_the_chosen_lines_in_order(keep: list[bool]) -> None:
    selected = Bags.of(LINES).select(np.array(keep))
    assert as_lists(selected) == [line for line, kept in zip(LINES, keep, strict=True) if kept]


def test_weights_average_each_line_and_leave_empty_lines_empty() -> None:
    weights = Bags.of(LINES).weights(5).toarray()
    np.testing.assert_allclose(weights.sum(axis=1), [1, 0, 1, 1, 0, 1])
    assert weights[0, 3] == pytest.approx(2 / 3) and weights[3, 0] == pytest.approx(1 / 2)
