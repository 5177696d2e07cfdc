"""Lines as bags of ids, and gathering CSR rows with plain numpy.

A bag is a CSR pattern without values: each line lists its ids (feature ids, or rows of A),
an id repeated as often as it occurs. As in fastText, a line's hidden vector is the plain mean
of its ids' rows, so every entry of a line weighs 1/len(line) and no value array is stored:
for a corpus of 20 million tokens that saves 80 MB. Gathering is plain numpy because scipy's
row indexing costs more per call than the arithmetic of a small training batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.integer]

# Entries mapped at once by `Bags.map`: bounds its temporaries to a few megabytes.
_BLOCK_ENTRIES = 1 << 20


def indptr_of(sizes: IntArray) -> npt.NDArray[np.int64]:
    """CSR row boundaries from row sizes: [0, s0, s0 + s1, ...].

    >>> indptr_of(np.array([2, 0, 3])).tolist()
    [0, 2, 2, 5]
    """
    indptr = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    return indptr


class Gathered(NamedTuple):
    """The selected rows: for each entry its row (0..len(which)-1) and its position in the
    source arrays, and the new rows' boundaries."""

    owner: npt.NDArray[np.intp]
    positions: npt.NDArray[np.intp]
    indptr: npt.NDArray[np.intp]


def take_rows(indptr: IntArray, which: IntArray) -> Gathered:
    """Locate the entries of CSR rows `which`, in that order.

    >>> take_rows(np.array([0, 2, 3, 5]), np.array([2, 0])).positions.tolist()
    [3, 4, 0, 1]
    """
    starts = indptr[which]
    sizes = indptr[which + 1] - starts
    new_indptr = indptr_of(sizes)
    owner = np.repeat(np.arange(which.size), sizes)
    positions = np.arange(int(new_indptr[-1])) + (starts - new_indptr[:-1])[owner]
    return Gathered(owner, positions, new_indptr)


def block_bounds(indptr: IntArray, entries: int) -> npt.NDArray[np.int64]:
    """Consecutive ranges of CSR rows [first, last) covering all rows, each holding about
    `entries` entries and at least one row; shape (n, 2).

    >>> block_bounds(np.array([0, 2, 3, 4, 4, 7]), 2).tolist()
    [[0, 1], [1, 3], [3, 5]]
    """
    nrows = indptr.size - 1
    targets = np.arange(entries, int(indptr[-1]), entries)
    cuts = np.unique(np.concatenate([[0], np.searchsorted(indptr, targets), [nrows]]))
    cuts = cuts.astype(np.int64)
    return np.stack([cuts[:-1], cuts[1:]], axis=1)


class Bags(NamedTuple):
    """Lines as bags of ids: line i holds `indices[indptr[i]:indptr[i + 1]]`.

    >>> bags = Bags.of([[3, 1, 3], [], [2]])
    >>> bags.sizes.tolist(), bags.weights(4).toarray().round(2).tolist()
    ([3, 0, 1], [[0.0, 0.33, 0.0, 0.67], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    """

    indptr: npt.NDArray[np.int64]
    indices: IntArray

    @classmethod
    def of(cls, lines: list[list[int]]) -> Bags:
        indptr = indptr_of(np.array([len(line) for line in lines], dtype=np.int64))
        indices = np.array([i for line in lines for i in line], dtype=np.int64)
        return cls(indptr, indices)

    @property
    def nlines(self) -> int:
        return self.indptr.size - 1

    @property
    def sizes(self) -> npt.NDArray[np.int64]:
        return np.diff(self.indptr)

    @property
    def owners(self) -> npt.NDArray[np.int64]:
        """The line of each id in `indices`."""
        return np.repeat(np.arange(self.nlines, dtype=np.int64), self.sizes)

    def take(self, lines: IntArray) -> Bags:
        """The bags of `lines`, in that order.

        >>> Bags.of([[3, 1], [], [2]]).take(np.array([2, 0])).indices.tolist()
        [2, 3, 1]
        """
        got = take_rows(self.indptr, lines)
        return Bags(got.indptr.astype(np.int64), self.indices[got.positions])

    def weights(
        self,
        ncolumns: int,
        dtype: type[np.floating] = np.float64,
        *,
        counts: IntArray | None = None,
    ) -> sp.csr_array:
        """The averaging weights: (lines, ncolumns), each entry 1/len(line), summed where an id
        repeats; with `counts`, 1/counts[line] (a mean over more ids than the bag kept).

        >>> Bags.of([[0], []]).weights(1, counts=np.array([4, 2])).toarray().tolist()
        [[0.25], [0.0]]
        """
        sizes = self.sizes
        with np.errstate(divide="ignore"):
            share = (1.0 / (sizes if counts is None else counts)).astype(dtype)
        return sp.csr_array(
            (np.repeat(share, sizes), self.indices, self.indptr), shape=(self.nlines, ncolumns)
        )

    def map(self, new_ids: Callable[[IntArray], IntArray]) -> Bags:
        """Replace every id by `new_ids(ids)`, dropping those it maps to -1.

        Works in place, block by block, on `indices` (which must be writable and take the new
        ids' values): a corpus-sized bag is never copied.

        >>> Bags.of([[1, 2], [2, 2, 0]]).map(lambda ids: ids * 10 - 10).indices.tolist()
        [0, 10, 10, 10]
        """
        indptr, indices = self.indptr, self.indices
        dropped = np.zeros(self.nlines, dtype=np.int64)
        kept = 0
        for start in range(0, indices.size, _BLOCK_ENTRIES):
            ids = new_ids(indices[start : start + _BLOCK_ENTRIES])
            keep = ids >= 0
            if not keep.all():
                positions = start + np.flatnonzero(~keep)
                np.add.at(dropped, np.searchsorted(indptr, positions, side="right") - 1, 1)
                ids = ids[keep]
            # Writing never overtakes reading: kept <= start.
            indices[kept : kept + ids.size] = ids
            kept += ids.size
        if kept == indices.size:
            return Bags(indptr, indices)
        new_indptr = indptr.copy()
        new_indptr[1:] -= np.cumsum(dropped, out=dropped)
        return Bags(new_indptr, indices[:kept])

    def select(self, lines: npt.NDArray[np.bool_]) -> Bags:
        """Only the lines where `lines` is true (in place, as `map`)."""
        if lines.all():
            return self
        keep_line = np.repeat(lines, self.sizes)
        offset = 0

        def drop_unselected(ids: IntArray) -> IntArray:
            nonlocal offset
            kept = np.where(keep_line[offset : offset + ids.size], ids, -1)
            offset += ids.size
            return kept

        mapped = self.map(drop_unselected)
        return Bags(indptr_of(mapped.sizes[lines]), mapped.indices)
