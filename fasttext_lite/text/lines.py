"""Reading text: files and stdin as lines (`-` is stdin), in batches of what has arrived.

Errors name the file and say what to do (`DataError`).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from fasttext_lite.errors import DataError
from fasttext_lite.files import reading

STDIN = "-"
# Bytes per read when streaming: a pipe gives what it holds (64 KiB at most on Linux), a file
# this much: several thousand lines, enough to make the work per read large.
_READ_BYTES = 1 << 20


@contextlib.contextmanager
def open_binary(path: str | Path) -> Iterator[BinaryIO]:
    """Open `path` for reading bytes; `-` is stdin. Errors name the file."""
    if str(path) == STDIN:
        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise DataError("-: stdin is closed; give a file name instead")
        try:
            yield sys.stdin.buffer
        except OSError as error:
            raise DataError(f"-: read failed ({error.strerror or error})") from None
        return
    with reading(path, DataError, kind="file", missing="check the path") as handle:
        yield handle


def read_lines(path: str | Path) -> Iterator[bytes]:
    """The lines of `path` (or stdin for `-`) as bytes, line endings included."""
    with open_binary(path) as handle:
        yield from handle


def read_all_lines(path: str | Path) -> list[bytes]:
    """Every line of `path` (or stdin), without its newline: for small files only."""
    return [line for lines in read_batches(path) for line in lines]


def read_batches(
    path: str | Path, max_lines: int = 4096, *, span: tuple[int, int] | None = None
) -> Iterator[list[bytes]]:
    """The lines of `path` (or stdin for `-`), without their newline, in batches of what has
    arrived (see `read_blocks`), at most `max_lines` a batch."""
    for block in read_blocks(path, span=span):
        lines = split_block(block)
        for first in range(0, len(lines), max_lines):
            yield lines[first : first + max_lines]


def split_block(block: bytes) -> list[bytes]:
    """The lines of a block from `read_blocks`, without their newline.

    >>> split_block(b"a\\nb\\n"), split_block(b"last")
    ([b'a', b'b'], [b'last'])
    """
    return (block[:-1] if block.endswith(b"\n") else block).split(b"\n")


def read_blocks(path: str | Path, *, span: tuple[int, int] | None = None) -> Iterator[bytes]:
    """The bytes of `path` (or stdin for `-`) in blocks of whole lines, each what one read
    brought: a block never waits for more input than one read, so a pipeline gets the answer
    for a line as soon as the line is in, and memory stays bounded on an endless stream.
    Every block but the last ends with a newline. `span` (start, end) reads only those bytes
    of a file (see `line_spans`).
    """
    with open_binary(path) as handle:
        start, end = span or (0, None)
        if start:
            handle.seek(start)
        # read1 returns what one read gives (for a pipe: what is there), never waiting for more.
        read = getattr(handle, "read1", handle.read)
        left = -1 if end is None else end - start
        pending = bytearray()
        while left:
            try:
                chunk = read(_READ_BYTES if left < 0 else min(_READ_BYTES, left))
            except OSError as error:
                raise DataError(f"{path}: read failed ({error.strerror or error})") from None
            if not chunk:
                break
            left -= len(chunk) if left > 0 else 0
            pending += chunk
            cut = pending.rfind(b"\n", len(pending) - len(chunk)) + 1
            if cut:
                yield bytes(pending[:cut])
                del pending[:cut]
        if pending:
            yield bytes(pending)


def line_spans(
    path: str | Path, parts: int, *, most_bytes: int | None = None
) -> list[tuple[int, int]] | None:
    """Byte ranges cutting a regular file into `parts` runs of whole lines, about equal in
    size (more, if need be, for runs of about `most_bytes` at most); None for stdin or
    anything but a regular file (which cannot be read in parts)."""
    if str(path) == STDIN:
        return None
    try:
        # stat before opening: opening a named pipe would wait for, then lose, its writer.
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if most_bytes:
                parts = max(parts, -(-size // most_bytes))
            cuts = [0]
            for part in range(1, parts):
                handle.seek(max(size * part // parts, cuts[-1]))
                handle.readline()  # to the start of the next line
                cuts.append(min(handle.tell(), size))
    except OSError:
        return None  # read_batches will say what is wrong with the file
    cuts.append(size)
    return list(zip(cuts, cuts[1:], strict=False))
