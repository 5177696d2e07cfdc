"""Lines kept out of memory: spooled bags read back exactly as appended, in memory or spilled
to a temporary file, and a clear error when that file cannot be written."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers import as_lists
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fasttext_lite import StorageError
from fasttext_lite.arrays.bags import Bags
from fasttext_lite.arrays.spool import SpooledBags

SETTINGS = settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

SHAPES: dict[str, list[list[int]]] = {
    "no-lines": [],
    "empty-lines": [[], [], []],
    "mixed": [[3, 1, 3], [], [2], [0, 0, 4, 1], [], [4]],
    "one-long-line": [list(range(40, 0, -1))],
    "empty-at-the-ends": [[], [7, 7], [], [], [9], []],
    "one-id-each": [[i * 11 % 13] for i in range(13)],
}
# Ids kept in memory: none (spilled from the first id on), a few (spilled midway through the
# appends), more than any test appends (never spilled).
MEMORY = {"spill-at-once": 0, "spill-midway": 4, "never-spill": 1 << 40}


@pytest.fixture(params=list(SHAPES.values()), ids=list(SHAPES))
def lines(request: pytest.FixtureRequest) -> list[list[int]]:
    shape: list[list[int]] = request.param
    return shape


@pytest.fixture(params=list(MEMORY.values()), ids=list(MEMORY))
def memory(request: pytest.FixtureRequest) -> int:
    entries: int = request.param
    return entries


def spooled(
    lines: list[list[int]], memory: int, *, part: int = 2, dtype: type[np.integer] = np.int32
) -> SpooledBags:
    """The lines appended `part` lines at a time (so that a spool may spill between appends)."""
    spool = SpooledBags(dtype, memory_entries=memory)
    for start in range(0, len(lines), part):
        spool.append(Bags.of(lines[start : start + part]))
    return spool


def entries_of(lines: list[list[int]]) -> int:
    return sum(map(len, lines))


# -- reading back --------------------------------------------------------------------------------


def test_read_gives_back_every_range_of_lines_as_appended(
    lines: list[list[int]], memory: int
) -> None:
    spool = spooled(lines, memory)
    assert spool.nlines == len(lines)
    assert spool.entries == entries_of(lines)
    assert spool.sizes.tolist() == [len(line) for line in lines]
    assert spool.spilled == (entries_of(lines) > memory)
    for first in range(len(lines) + 1):
        for last in range(first, len(lines) + 1):
            got = spool.read(first, last)
            assert as_lists(got) == lines[first:last], (first, last)
            assert got.indices.dtype == np.int32


@pytest.mark.parametrize("order", ["backwards", "halves-swapped", "repeated-and-empty"])
def test_gather_gives_the_ranges_in_the_order_given(
    lines: list[list[int]], memory: int, order: str
) -> None:
    n = len(lines)
    ranges = {
        "backwards": [[i, i + 1] for i in reversed(range(n))],
        "halves-swapped": [[n // 2, n], [0, n // 2]],
        "repeated-and-empty": [[0, n], [n, n], [0, n], [n // 2, n // 2]],
    }[order]
    expected = [line for first, last in ranges for line in lines[first:last]]
    got = spooled(lines, memory).gather(np.array(ranges, dtype=np.int64).reshape(-1, 2))
    assert as_lists(got) == expected


@pytest.mark.parametrize("entries", [1, 3, 1000])
def test_blocks_give_every_line_once_in_order(
    lines: list[list[int]], memory: int, entries: int
) -> None:
    spool = spooled(lines, memory)
    blocks = list(spool.blocks(entries))
    assert [(first, last) for first, last, _ in blocks] == [
        tuple(bounds) for bounds in spool.block_bounds(entries).tolist()
    ]
    assert [block for _, _, bags in blocks for block in as_lists(bags)] == lines
    assert all(bags.nlines == last - first > 0 for first, last, bags in blocks)
    assert all(
        previous[1] == following[0] for previous, following in zip(blocks, blocks[1:], strict=False)
    )


@pytest.mark.parametrize("memory_entries", range(12))
def test_spilled_exactly_when_the_entries_exceed_memory_entries(memory_entries: int) -> None:
    appended = SHAPES["mixed"]
    spool = SpooledBags(np.int32, memory_entries=memory_entries)
    for count, line in enumerate(appended, start=1):
        spool.append(Bags.of([line]))
        assert spool.spilled == (entries_of(appended[:count]) > memory_entries)
    assert as_lists(spool.read(0, spool.nlines)) == appended


def test_appending_after_reading_keeps_every_line(lines: list[list[int]], memory: int) -> None:
    """Reads between appends (which join the held ids, or flush the file) lose nothing."""
    spool = SpooledBags(np.int32, memory_entries=memory)
    for count, line in enumerate(lines, start=1):
        spool.append(Bags.of([line]))
        assert as_lists(spool.read(0, count)) == lines[:count]
        assert as_lists(spool.read(count - 1, count)) == [line]
    again = spool.nlines
    spool.append(Bags.of(lines))
    assert as_lists(spool.read(0, spool.nlines)) == lines + lines
    assert as_lists(spool.read(again, spool.nlines)) == lines


def test_close_frees_the_ids_and_the_file(
    lines: list[list[int]], memory: int, temporary_files: Callable[[], list[bool]]
) -> None:
    spool = spooled(lines, memory)
    spool.read(0, spool.nlines)
    assert temporary_files() == [True] * (entries_of(lines) > memory)
    spool.close()
    assert not any(temporary_files())
    assert (spool.nlines, spool.entries, spool.spilled) == (0, 0, False)
    assert as_lists(spool.read(0, 0)) == []
    assert spool.block_bounds(1).shape == (0, 2)
    # Still usable: it fills again from nothing.
    spool.append(Bags.of([[5, 6], []]))
    assert as_lists(spool.read(0, spool.nlines)) == [[5, 6], []]


@pytest.mark.parametrize(
    ("dtype", "value"),
    [
        (np.int32, 2**31),
        (np.int32, -(2**31) - 1),
        (np.int16, 2**15),
        (np.uint32, -1),
        (np.uint32, 2**32),
    ],
)
@pytest.mark.parametrize("memory_entries", [0, 1 << 40])
def test_ids_that_do_not_fit_the_dtype_raise_and_leave_the_spool_as_it_was(
    dtype: type[np.integer], value: int, memory_entries: int
) -> None:
    spool = SpooledBags(dtype, memory_entries=memory_entries)
    spool.append(Bags.of([[1, 2]]))
    with pytest.raises(ValueError, match=f"do not fit in {np.dtype(dtype)}"):
        spool.append_ids(np.array([3, value], dtype=np.int64), np.array([2]))
    assert (spool.nlines, spool.entries) == (1, 2)
    spool.append(Bags.of([[4]]))
    assert as_lists(spool.read(0, spool.nlines)) == [[1, 2], [4]]


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("memory_entries", [0, 1 << 40])
def test_ids_at_the_limits_of_the_dtype_are_kept_exactly(
    dtype: type[np.integer], memory_entries: int
) -> None:
    limits = np.iinfo(dtype)
    extremes = [[int(limits.min), int(limits.max)], [], [int(limits.max)]]
    spool = SpooledBags(dtype, memory_entries=memory_entries)
    spool.append_ids(
        np.array([i for line in extremes for i in line], dtype=dtype), np.array([2, 0, 1])
    )
    assert as_lists(spool.read(0, spool.nlines)) == extremes


@SETTINGS
@given(
    data=st.data(),
    lines=st.lists(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=6), max_size=25),
    memory_entries=st.integers(0, 80),
    part=st.integers(1, 6),
    dtype=st.sampled_from([np.int32, np.int64]),
)
def test_gather_over_random_ranges_equals_taking_those_lines_in_memory(
    data: st.DataObject,
    lines: list[list[int]],
    memory_entries: int,
    part: int,
    dtype: type[np.integer],
) -> None:
    bound = st.integers(0, len(lines))
    ranges = data.draw(st.lists(st.tuples(bound, bound).map(sorted), max_size=8))
    spool = spooled(lines, memory_entries, part=part, dtype=dtype)
    got = spool.gather(np.array(ranges, dtype=np.int64).reshape(-1, 2))
    which = [i for first, last in ranges for i in range(first, last)]
    expected = Bags.of(lines).take(np.array(which, dtype=np.intp))
    assert got.indptr.tolist() == expected.indptr.tolist()
    assert got.indices.tolist() == expected.indices.tolist()
    assert as_lists(got) == [lines[i] for i in which]
    assert got.indices.dtype == dtype


# -- no room for the temporary file --------------------------------------------------------------


def test_a_spool_that_must_spill_where_no_file_can_be_made_raises_storage_error(
    unusable_tempdir: Path,
) -> None:
    spool = SpooledBags(np.int32, memory_entries=3)
    spool.append(Bags.of([[1, 2], [3]]))  # within memory: no file needed yet
    assert as_lists(spool.read(0, 2)) == [[1, 2], [3]]
    with pytest.raises(StorageError) as raised:
        spool.append(Bags.of([[4]]))
    message = str(raised.value)
    assert str(unusable_tempdir) in message
    assert "free space there" in message and "TMPDIR" in message


def test_a_full_temporary_file_raises_storage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """/dev/full refuses every write with ENOSPC, as a full disk does."""
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda: open("/dev/full", "w+b"))  # noqa: SIM115
    spool = SpooledBags(np.int32, memory_entries=0)
    with pytest.raises(StorageError, match="No space left on device.*TMPDIR"):
        # More than a write buffer holds, so the write reaches the device at once.
        spool.append_ids(np.zeros(1 << 18, dtype=np.int32), np.array([1 << 18]))
