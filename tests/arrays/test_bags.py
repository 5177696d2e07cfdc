"""Bags of ids: weights, and mapping and selecting in place, across block boundaries."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import as_lists
from hypothesis import given, settings
from hypothesis import strategies as st

from fasttext_lite.arrays import bags as sparse
from fasttext_lite.arrays.bags import Bags, block_bounds

LINES = [[3, 1, 3], [], [2], [0, 0, 4, 1], [], [4]]


@pytest.fixture(params=[1, 2, 3, 1 << 20], ids=lambda block: f"block{block}")
def small_blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparse, "_BLOCK_ENTRIES", request.param)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("dropped", [set(), {1}, {3, 4}, {0, 1, 2, 3, 4}])
def test_map_drops_the_ids_mapped_to_minus_one(dropped: set[int]) -> None:
    table = np.array([-1 if i in dropped else 10 * i for i in range(5)])
    bags = Bags.of(LINES)
    mapped = bags.map(lambda ids: table[ids])
    expected = [[10 * i for i in line if i not in dropped] for line in LINES]
    assert as_lists(mapped) == expected
    assert mapped.indices.size == 0 or np.shares_memory(mapped.indices, bags.indices)
    # Nothing dropped: the line boundaries are the same array, not a copy of it.
    assert (mapped.indptr is bags.indptr) == (not dropped)
    assert bags.indptr.tolist() == Bags.of(LINES).indptr.tolist()  # and never changed


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("keep", [[True] * 6, [False] * 6, [True, False, True, False, True, False]])
def test_select_keeps_the_chosen_lines_in_order(keep: list[bool]) -> None:
    selected = Bags.of(LINES).select(np.array(keep))
    assert as_lists(selected) == [line for line, kept in zip(LINES, keep, strict=True) if kept]


def test_owners_name_the_line_of_each_id_skipping_empty_lines() -> None:
    owners = Bags.of(LINES).owners.tolist()
    assert owners == [line for line, ids in enumerate(LINES) for _ in ids]
    assert owners == [0, 0, 0, 2, 3, 3, 3, 3, 5]


def test_weights_weigh_each_occurrence_one_over_the_line_length() -> None:
    """So that weights @ A averages each line's rows; an empty line's row stays zero."""
    expected = np.zeros((len(LINES), 5))
    for i, line in enumerate(LINES):
        for j in line:
            expected[i, j] += 1 / len(line)
    weights = Bags.of(LINES).weights(5)
    assert weights.shape == (len(LINES), 5)
    np.testing.assert_allclose(weights.toarray(), expected, rtol=1e-15)


@pytest.mark.parametrize(
    "which", [[], [0], [5, 4, 3, 2, 1, 0], [3, 3, 1, 3], [1, 4, 1]], ids=lambda which: str(which)
)
def test_take_gives_the_chosen_lines_in_that_order(which: list[int]) -> None:
    taken = Bags.of(LINES).take(np.array(which, dtype=np.intp))
    assert as_lists(taken) == [LINES[i] for i in which]
    assert taken.indptr.dtype == np.int64


@settings(max_examples=200, deadline=None, database=None)
@given(sizes=st.lists(st.integers(0, 20), max_size=40), entries=st.integers(1, 60))
def test_block_bounds_cut_the_rows_into_consecutive_blocks_of_about_entries(
    sizes: list[int], entries: int
) -> None:
    indptr = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    bounds = block_bounds(indptr, entries)
    assert bounds.dtype == np.int64 and bounds.shape == (bounds.shape[0], 2)
    # Every row in exactly one block, in order, and no block without a row.
    covered = [row for first, last in bounds.tolist() for row in range(first, last)]
    assert covered == list(range(len(sizes)))
    assert np.all(bounds[:, 1] > bounds[:, 0])
    assert np.array_equal(bounds[1:, 0], bounds[:-1, 1])
    # A block goes past `entries` only by its last row (a row is never split)...
    for first, last in bounds.tolist():
        assert indptr[last - 1] - indptr[first] <= entries, (first, last)
    # ...and the blocks are no more than the entries need.
    total = int(indptr[-1])
    assert len(bounds) <= (max(1, math.ceil(total / entries)) if sizes else 0)
