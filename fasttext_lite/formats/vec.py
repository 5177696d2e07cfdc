"""fastText's text format for word vectors (`.vec`, also gzip-compressed): a header line
`count dim`, then one `word v1 ... vdim` line per word (what `-pretrainedVectors` reads).

Numbers are parsed by numpy a block of lines at a time, never one Python float at a time, and
the header's sizes are checked against the file before anything is allocated.
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path
from typing import BinaryIO, NamedTuple, cast

import numpy as np
import numpy.typing as npt

from fasttext_lite.errors import DataError
from fasttext_lite.files import reading

# Bytes read and parsed at once.
_BLOCK_BYTES = 1 << 24
_MAX_DIM = 100_000
_GZIP_MAGIC = b"\x1f\x8b"


class WordVectors(NamedTuple):
    words: list[bytes]
    vectors: npt.NDArray[np.float32]  # (words, dim)


def read(path: str | Path) -> WordVectors:
    """The words and vectors of a `.vec` file (gzip-compressed or not)."""
    with reading(path, DataError, kind="file", missing="check the path") as raw:
        compressed = raw.peek(2)[:2] == _GZIP_MAGIC if hasattr(raw, "peek") else False
        if compressed:
            with gzip.open(raw) as unzipped:
                try:
                    return _parse(path, cast(BinaryIO, unzipped), None)
                except (OSError, EOFError) as error:
                    raise DataError(f"{path}: is not valid gzip ({error})") from None
        size = Path(path).stat().st_size
        return _parse(path, raw, size)


def _parse(path: str | Path, handle: BinaryIO, size: int | None) -> WordVectors:
    header = handle.readline(256).split()
    if len(header) != 2 or not all(part.isdigit() for part in header):
        raise DataError(f"{path}: does not start with a `count dim` line; is it a .vec file?")
    count, dim = int(header[0]), int(header[1])
    if not 0 < dim <= _MAX_DIM:
        raise DataError(f"{path}: dimension {dim} is out of range (1..{_MAX_DIM})")
    # Each word's line holds at least dim + 1 separated items: 2 * (dim + 1) bytes.
    if size is not None and count * 2 * (dim + 1) > size:
        raise DataError(f"{path}: the header promises {count} vectors, more than the file holds")
    words: list[bytes] = []
    blocks: list[npt.NDArray[np.float32]] = []
    pending = b""
    while len(words) < count:
        chunk = handle.read(_BLOCK_BYTES)
        data = pending + chunk
        cut = data.rfind(b"\n") + 1 if chunk else len(data)
        lines, pending = data[:cut].splitlines(), data[cut:]
        lines = [line for line in lines if line.strip()][: count - len(words)]
        if not lines and not chunk:
            break
        parts = [line.split(b" ", 1) for line in lines]
        if any(len(p) != 2 for p in parts):
            raise DataError(f"{path}: line {len(words) + 2} has a word but no vector")
        try:
            with warnings.catch_warnings():
                # Older numpy warns and stops at a malformed number; the count below says so.
                warnings.simplefilter("ignore", DeprecationWarning)
                text = b"\n".join(p[1] for p in parts)
                numbers = np.fromstring(text, dtype=np.float32, sep=" ")
        except ValueError:
            numbers = np.zeros(0, np.float32)
        if numbers.size != len(parts) * dim:
            raise DataError(
                f"{path}: a vector near line {len(words) + 2} does not have {dim} numbers"
            )
        words.extend(p[0] for p in parts)
        blocks.append(numbers.reshape(len(parts), dim))
    if len(words) != count:
        raise DataError(f"{path}: has {len(words)} vectors, its header says {count} (truncated?)")
    return WordVectors(words, np.concatenate([np.zeros((0, dim), np.float32), *blocks]))
