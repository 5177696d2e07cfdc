"""Bags of ids kept out of memory: appended block by block, read back by ranges of lines.

A corpus of 10^8 tokens is 400 MB of int32 ids, and training reads every line once per epoch,
as fastText reads its input file again each epoch. So a corpus need not fit in memory: up to
`memory_entries` ids stay in memory (a small corpus never touches the disk); past that, all of
them go to an unnamed temporary file, which disappears when it is closed or when the process
ends, however it ends. Ranges are read back with `os.preadv`, which moves no file offset, so
forked workers read the one file side by side.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import Bags, IntArray, block_bounds, indptr_of
from fasttext_lite.errors import StorageError

# 4 MB of int32 ids (a million tokens) stay in memory; more are spilled to a temporary file.
MEMORY_ENTRIES = 1 << 20


class SpooledBags:
    """Lines as bags of ids (see `sparse.Bags`), held in memory or in a temporary file.

    Appending and reading may alternate. Line boundaries always stay in memory (8 bytes a
    line); the ids move to the file once there are more than `memory_entries` of them.

    >>> spool = SpooledBags(np.int32, memory_entries=2)
    >>> spool.append(Bags.of([[4, 2], [], [7]]))
    >>> spool.spilled, spool.nlines, spool.read(1, 3).indices.tolist()
    (True, 3, [7])
    """

    def __init__(self, dtype: type[np.integer], *, memory_entries: int | None = None) -> None:
        self.dtype = np.dtype(dtype)
        # Read at each creation, not bound at import: a test (or a user) may change it.
        self.memory_entries = MEMORY_ENTRIES if memory_entries is None else memory_entries
        self._held: list[IntArray] = []  # the ids, while in memory
        # Line sizes as appended (int32: half the memory of indptr's int64), joined into
        # _indptr on use.
        self._sizes: list[npt.NDArray[np.int32]] = []
        self._indptr = np.zeros(1, dtype=np.int64)
        self._entries = 0
        self._file: BinaryIO | None = None
        self._unflushed = False

    # -- writing ------------------------------------------------------------------------

    def append(self, bags: Bags) -> None:
        """Append lines (the spool keeps copies of their ids)."""
        self.append_ids(bags.indices, bags.sizes)

    def append_ids(self, ids: IntArray, sizes: IntArray) -> None:
        """Append lines given as their ids, back to back, and the number of ids of each."""
        ids, sizes = np.asarray(ids), np.asarray(sizes)
        if ids.size and not np.can_cast(ids.dtype, self.dtype):
            limits = np.iinfo(self.dtype)
            if ids.min() < limits.min or ids.max() > limits.max:
                raise ValueError(f"ids {ids.min()}..{ids.max()} do not fit in {self.dtype}")
        if sizes.size and sizes.max() > np.iinfo(np.int32).max:
            raise ValueError("a line of 2^31 ids or more")
        self._sizes.append(np.asarray(sizes, dtype=np.int32))
        self._entries += ids.size
        if self._file is None and self._entries > self.memory_entries:
            self._spill()
        if self._file is None:
            self._held.append(ids.astype(self.dtype, copy=True))
        else:
            self._write(ids.astype(self.dtype, copy=False))

    def _spill(self) -> None:
        try:
            # Open for the spool's lifetime, closed by `close` (or at exit).
            self._file = tempfile.TemporaryFile()  # noqa: SIM115
        except OSError as error:
            raise StorageError(no_room("cannot keep the corpus", error)) from None
        held, self._held = self._held, []
        for ids in held:
            self._write(ids)

    def _write(self, ids: IntArray) -> None:
        assert self._file is not None
        try:
            self._file.write(np.ascontiguousarray(ids).data)
        except OSError as error:
            raise StorageError(no_room("cannot keep the corpus", error)) from None
        self._unflushed = True

    def close(self) -> None:
        """Free the ids (and delete the file)."""
        if self._file is not None:
            # Closing flushes what is left to write; the file goes anyway, full disk or not.
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        self._held = []
        self._sizes = []
        self._indptr = np.zeros(1, dtype=np.int64)
        self._entries = 0

    # -- reading ------------------------------------------------------------------------

    @property
    def spilled(self) -> bool:
        return self._file is not None

    @property
    def indptr(self) -> npt.NDArray[np.int64]:
        """Line i holds ids indptr[i]:indptr[i + 1] (as in `sparse.Bags`)."""
        if self._sizes:
            sizes, old = np.concatenate(self._sizes), self._indptr
            self._sizes = []
            self._indptr = np.empty(old.size + sizes.size, dtype=np.int64)
            self._indptr[: old.size] = old
            np.cumsum(sizes, out=self._indptr[old.size :])
            self._indptr[old.size :] += old[-1]
        return self._indptr

    @property
    def nlines(self) -> int:
        return self.indptr.size - 1

    @property
    def sizes(self) -> npt.NDArray[np.int64]:
        return np.diff(self.indptr)

    @property
    def entries(self) -> int:
        return self._entries

    def read(self, first: int, last: int) -> Bags:
        """Lines first..last-1."""
        return self.gather(np.array([[first, last]]))

    def gather(self, ranges: npt.NDArray[np.integer]) -> Bags:
        """The lines of the ranges `[first, last)` in `ranges` (shape (n, 2)), in that order."""
        indptr = self.indptr
        starts, stops = indptr[ranges[:, 0]], indptr[ranges[:, 1]]
        out = np.empty(int((stops - starts).sum()), dtype=self.dtype)
        if self._file is None:
            held = self._joined()
            filled = 0
            for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
                out[filled : filled + stop - start] = held[start:stop]
                filled += stop - start
        else:
            self._read_file(starts, stops, out)
        lines = np.concatenate(
            [np.arange(first, last) for first, last in ranges.tolist()] or [np.zeros(0, np.int64)]
        )
        return Bags(indptr_of(indptr[lines + 1] - indptr[lines]), out)

    def blocks(self, entries: int) -> Iterator[tuple[int, int, Bags]]:
        """(first line, last line, their bags) in order, a block of about `entries` ids
        (and at least one line) at a time."""
        for first, last in self.block_bounds(entries).tolist():
            yield first, last, self.read(first, last)

    def block_bounds(self, entries: int) -> npt.NDArray[np.int64]:
        """Consecutive line ranges [first, last) covering all lines, each of about `entries`
        ids and at least one line; shape (n, 2)."""
        return block_bounds(self.indptr, entries)

    def _joined(self) -> IntArray:
        if len(self._held) != 1:
            joined = np.concatenate(self._held) if self._held else np.zeros(0, self.dtype)
            self._held = [joined]
        return self._held[0]

    def _read_file(
        self, starts: npt.NDArray[np.int64], stops: npt.NDArray[np.int64], out: IntArray
    ) -> None:
        assert self._file is not None
        if self._unflushed:
            try:
                self._file.flush()
            except OSError as error:
                raise StorageError(no_room("cannot keep the corpus", error)) from None
            self._unflushed = False
        fd, width = self._file.fileno(), self.dtype.itemsize
        view = memoryview(out).cast("B")  # type: ignore[arg-type]
        filled = 0
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
            wanted, offset = (stop - start) * width, start * width
            while wanted:
                got = os.preadv(fd, [view[filled : filled + wanted]], offset)
                if got == 0:
                    raise StorageError("a temporary file ended early; was it truncated?")
                filled, offset, wanted = filled + got, offset + got, wanted - got


def no_room(what: str, error: OSError, hint: str = "") -> str:
    """The message for temporary files that could not be written: what failed, why, and what
    to do about it."""
    where = tempfile.gettempdir()
    return f"{what} in {where} ({error.strerror or error}); free space there, set TMPDIR" + (
        f", or {hint}" if hint else " elsewhere"
    )
