"""One pass over lines of text: each distinct token numbered once, lines as indices into them.

Follows fastText's reading (`src/dictionary.cc`: `readFromFile`, `add`): a token that starts with
the label prefix is a label wherever it stands, every line ends with the word `</s>`. Lines are
kept as indices into a table of distinct tokens, so each distinct token is looked up, hashed
and split into n-grams once, however often it occurs.
"""

from __future__ import annotations

import math
import struct
from array import array
from collections.abc import Hashable, Iterable, Sequence
from itertools import chain
from typing import BinaryIO, TypeVar, cast

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import block_bounds, indptr_of
from fasttext_lite.arrays.spool import SpooledBags
from fasttext_lite.text.tokens import EOS_BYTES, decode, split_lines

# Ids handled at once when counting, writing or appending a table's lines: a block's arrays
# (and bincount's int64 copy) stay near a megabyte or two. With 4 M-id blocks, each part of a
# 2-thread scan of 10^6 lines peaked 25 MB higher while writing itself out.
_BLOCK = 1 << 18
T = TypeVar("T", bound=Hashable)


class _FirstSeen(dict[T, int]):
    """Each key's position in first-seen order: looking up a new key appends it to `order`.

    Lookups of known keys are plain dict lookups, so `map(index.__getitem__, tokens)` numbers
    a whole block of tokens without a Python step per token.
    """

    def __init__(self) -> None:
        super().__init__()
        self.order: list[T] = []

    def __missing__(self, key: T) -> int:
        position = self[key] = len(self.order)
        self.order.append(key)
        return position


class TokenTable:
    """Distinct tokens in first-seen order, and each line as indices into them (in a
    `SpooledBags`: a large corpus's lines wait in a temporary file), with each token's count.

    >>> table = TokenTable.of([["a", "b", "a"], ["b"]])
    >>> table.decoded, table.occurrences.tolist(), table.lengths.tolist(), table.counts().tolist()
    (['a', 'b'], [0, 1, 0, 1], [3, 1], [2, 2])
    """

    def __init__(self, *, memory_entries: int | None = None) -> None:
        self.index: _FirstSeen[str | bytes] = _FirstSeen()
        self.lines = SpooledBags(np.int32, memory_entries=memory_entries)
        self._counts = np.zeros(0, dtype=np.int64)

    def extend(self, occurrences: npt.NDArray[np.int32], lengths: npt.NDArray[np.integer]) -> None:
        """Append lines already numbered (indices into `keys`)."""
        self.lines.append_ids(occurrences, lengths)
        nkeys = len(self.keys)
        if self._counts.size < nkeys:
            grown = np.zeros(max(nkeys, 2 * self._counts.size), dtype=np.int64)
            grown[: self._counts.size] = self._counts
            self._counts = grown
        # bincount widens its input to int64: in blocks, a large input is not copied whole.
        for start in range(0, occurrences.size, _BLOCK):
            block = occurrences[start : start + _BLOCK]
            self._counts[:nkeys] += np.bincount(block, minlength=nkeys)

    def clear(self) -> None:
        """Forget the lines, freeing their memory, and their counts; keep the tokens."""
        self.lines.close()
        self._counts[:] = 0

    @property
    def keys(self) -> list[str | bytes]:
        """The distinct tokens as they were added."""
        return self.index.order

    @property
    def decoded(self) -> list[str]:
        """The distinct tokens as str (bytes keys decoded, undecodable bytes escaped)."""
        return [t if isinstance(t, str) else decode(t) for t in self.keys]

    @property
    def occurrences(self) -> npt.NDArray[np.int32]:
        """All lines' indices, back to back (read into memory if they were spilled)."""
        return self.lines.read(0, self.lines.nlines).indices.astype(np.int32, copy=False)

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        return self.lines.sizes

    def counts(self) -> npt.NDArray[np.int64]:
        """How often each token occurs in the lines."""
        return self._counts[: len(self.keys)].copy()

    def write(self, handle: BinaryIO) -> None:
        """Write the table (bytes keys) for `append`, in another process of the same machine."""
        keys = cast(list[bytes], self.keys)
        blob = b"\n".join(keys)  # a token never holds a newline
        lengths = self.lengths
        handle.write(struct.pack("<3Q", len(keys), len(blob), lengths.size))
        handle.write(blob)
        handle.write(lengths.data)
        for _first, _last, lines in self.lines.blocks(_BLOCK):
            handle.write(lines.indices.data)

    def append(self, handle: BinaryIO) -> None:
        """Append the lines of a table written by `write`, after this table's lines; its new
        tokens are numbered after this table's, in their first-seen order."""
        nkeys, nblob, nlines = struct.unpack("<3Q", handle.read(24))
        blob = handle.read(nblob)
        keys = blob.split(b"\n") if nkeys else []
        ids = np.fromiter(map(self.index.__getitem__, keys), np.int32, count=len(keys))
        lengths = np.frombuffer(handle.read(8 * nlines), dtype=np.int64)
        indptr = indptr_of(lengths)
        for first, last in block_bounds(indptr, _BLOCK).tolist():
            theirs = np.frombuffer(handle.read(4 * int(indptr[last] - indptr[first])), np.int32)
            self.extend(ids[theirs], lengths[first:last])

    @classmethod
    def of(cls, lines: Iterable[Sequence[str | bytes]]) -> TokenTable:
        table = cls()
        occurrences: list[int] = []
        lengths: list[int] = []
        for tokens in lines:
            occurrences.extend(map(table.index.__getitem__, tokens))
            lengths.append(len(tokens))
        table.extend(np.array(occurrences, dtype=np.int32), np.array(lengths, dtype=np.int64))
        return table


# The id of a weight token among the ids of the tokens a scan has seen.
_WEIGHT = np.iinfo(np.int32).min


def _weight(token: bytes, prefix: bytes) -> float | None:
    """The weight a token gives its line, or None if it is not a weight token."""
    if not token.startswith(prefix):
        return None
    try:
        value = float(token[len(prefix) :])
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


class Scan:
    """One pass over lines of text: their words (each line ending with `</s>`) and their
    labels (tokens starting with the prefix, which is cut off) as token tables.

    Lines come in blocks; every token of a block is numbered by one dict lookup in C, and only
    a token seen for the first time is classified as word or label in Python.

    >>> scan = Scan(b"__label__")
    >>> scan.add_lines([b"__label__x hello world", b"bye __label__y __label__x", b""])
    >>> scan.words.keys, scan.words.occurrences.tolist(), scan.words.lengths.tolist()
    ([b'hello', b'world', b'</s>', b'bye'], [0, 1, 2, 3, 2, 2], [3, 2, 1])
    >>> scan.labels.keys, scan.labels.occurrences.tolist(), scan.labels.lengths.tolist()
    ([b'x', b'y'], [0, 1, 0], [1, 2, 0])

    With a `weight_prefix`, a token such as `__weight__0.5` is neither word nor label: it
    weighs its line (several multiply); `line_weights` gives them, 1 for a line without one.

    >>> scan = Scan(b"__label__", weight_prefix=b"__weight__")
    >>> scan.add_lines([b"__label__x a __weight__0.5", b"__label__y b"])
    >>> scan.line_weights().tolist(), scan.words.keys
    ([0.5, 1.0], [b'a', b'</s>', b'b'])
    """

    def __init__(
        self,
        label_prefix: bytes,
        *,
        weight_prefix: bytes | None = None,
        memory_entries: int | None = None,
    ) -> None:
        self.label_prefix = label_prefix
        self.weight_prefix = weight_prefix
        self.words = TokenTable(memory_entries=memory_entries)
        self.labels = TokenTable(memory_entries=memory_entries)
        self._seen: _FirstSeen[bytes] = _FirstSeen()
        # Per token seen, in first-seen order: its word id (>= 0), ~ its label id (< 0), or
        # _WEIGHT, and its weight (1 for any other token).
        self._ids = array("i")
        self._values = array("d")
        self._weights: list[npt.NDArray[np.float64]] = []  # per block of lines; [] if none
        self._unweighted = 0  # lines before the first weighted one

    def line_weights(self) -> npt.NDArray[np.float64]:
        """Each line's weight (1 unless it holds weight tokens)."""
        return np.concatenate([np.ones(self._unweighted), *self._weights])

    def add_lines(self, lines: Sequence[bytes]) -> None:
        """Append lines (without their newline)."""
        split = split_lines(lines)
        if not split:
            return
        if not self._seen:
            # `</s>` is first seen at the end of the first line: number it there, so that ties
            # in counts keep fastText's first-seen order. (It is always a word, whatever the
            # label prefix; a literal `</s>` in the text is classified as any token is.)
            self._number(split[0])
            self.words.index[EOS_BYTES]
        tokens = list(chain.from_iterable(split))
        lengths = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        positions = self._number(tokens)
        ids = np.frombuffer(self._ids, dtype=np.int32)[positions]
        is_weight = ids == _WEIGHT
        if is_weight.any():
            weights = np.ones(len(split))
            line_of = np.repeat(np.arange(len(split)), lengths)
            values = np.frombuffer(self._values, dtype=np.float64)[positions]
            np.multiply.at(weights, line_of[is_weight], values[is_weight])
            self._weights.append(weights)
            # Weight tokens drop out of the lines before words and labels are split.
            keep = ~is_weight
            ids = ids[keep]
            lengths = lengths - np.bincount(line_of[is_weight], minlength=len(split))
        elif self._weights:
            self._weights.append(np.ones(len(split)))
        else:
            self._unweighted += len(split)
        is_label = ids < 0
        labelled = np.zeros(is_label.size + 1, dtype=np.int64)
        np.cumsum(is_label, out=labelled[1:])
        ends = np.cumsum(lengths)
        label_lengths = labelled[ends] - labelled[ends - lengths]
        self.labels.extend(~ids[is_label], label_lengths)
        # Each line's words, then `</s>`.
        word_lengths = lengths - label_lengths + 1
        eos = np.cumsum(word_lengths) - 1
        words = np.empty(int(word_lengths.sum()), dtype=np.int32)
        is_word = np.ones(words.size, dtype=bool)
        is_word[eos] = False
        words[is_word] = ids[~is_label]
        words[eos] = self.words.index[EOS_BYTES]
        self.words.extend(words, word_lengths)

    def append(self, handle: BinaryIO) -> None:
        """Append the lines of another scan, written by `write` (after this scan's lines,
        its tokens numbered after this scan's in their first-seen order)."""
        self.words.append(handle)
        self.labels.append(handle)
        (weighted,) = struct.unpack("<Q", handle.read(8))
        count = len(self.words.lengths) - len(self.line_weights())
        if weighted:
            self._weights.append(np.frombuffer(handle.read(8 * count), dtype=np.float64).copy())
        elif self._weights:
            self._weights.append(np.ones(count))
        else:
            self._unweighted += count

    def write(self, handle: BinaryIO) -> None:
        """Write the lines and tokens read for `append` (words, labels, line weights)."""
        self.words.write(handle)
        self.labels.write(handle)
        handle.write(struct.pack("<Q", bool(self._weights)))
        if self._weights:
            handle.write(self.line_weights().tobytes())

    def clear(self) -> None:
        """Forget the lines read, keeping the tokens seen."""
        self.words.clear()
        self.labels.clear()
        self._weights, self._unweighted = [], 0

    def _number(self, tokens: Sequence[bytes]) -> npt.NDArray[np.int32]:
        """Each token's first-seen position, classifying the tokens new to the scan."""
        seen = self._seen
        known = len(seen.order)
        positions = np.fromiter(map(seen.__getitem__, tokens), dtype=np.int32, count=len(tokens))
        prefix, cut = self.label_prefix, len(self.label_prefix)
        weight_prefix = self.weight_prefix
        for token in seen.order[known:]:
            value = _weight(token, weight_prefix) if weight_prefix else None
            if value is not None:
                self._ids.append(_WEIGHT)
                self._values.append(value)
                continue
            if token.startswith(prefix):
                self._ids.append(~self.labels.index[token[cut:]])
            else:
                self._ids.append(self.words.index[token])
            self._values.append(1.0)
        return positions

    @property
    def nlines(self) -> int:
        return len(self.words.lengths)

    @property
    def unlabelled_lines(self) -> int:
        return int(np.count_nonzero(self.labels.lengths == 0))

    @property
    def ntokens(self) -> int:
        """Tokens read, words, labels and `</s>` alike, as fastText counts them."""
        return int(self.words.lengths.sum() + self.labels.lengths.sum())
