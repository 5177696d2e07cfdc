"""Counting a corpus and freezing its vocabulary: words and labels, pruned and numbered.

Follows fastText (`src/dictionary.cc`: `add`, `threshold`): words with count < min_count and
labels with count < min_count_label are dropped; words are numbered by count, descending,
then labels likewise. Ties keep first-seen order (fastText's sort leaves them unspecified).
Lines are kept as indices into a table of distinct tokens, so each distinct token is looked
up, hashed and split into n-grams once, however often it occurs.
"""

from __future__ import annotations

import functools
import struct
from array import array
from collections.abc import Hashable, Iterable, Sequence
from itertools import chain
from typing import BinaryIO, TypeVar, cast

import numpy as np
import numpy.typing as npt

from fasttext_lite.data import EOS_BYTES, decode, split_lines

_BLOCK = 1 << 22
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
    """Distinct tokens in first-seen order, and each line as indices into them.

    >>> table = TokenTable()
    >>> table.add(["a", "b", "a"]); table.add(["b"])
    >>> table.tokens, table.occurrences.tolist(), table.lengths.tolist(), table.counts().tolist()
    (['a', 'b'], [0, 1, 0, 1], [3, 1], [2, 2])
    """

    def __init__(self) -> None:
        self.index: _FirstSeen[str | bytes] = _FirstSeen()
        self._occurrences = array("i")
        self._lengths = array("i")

    def add(self, tokens: Sequence[str | bytes]) -> None:
        """Append one line."""
        self._occurrences.extend(map(self.index.__getitem__, tokens))
        self._lengths.append(len(tokens))

    def extend(self, occurrences: npt.NDArray[np.int32], lengths: npt.NDArray[np.int32]) -> None:
        """Append lines already numbered (indices into `keys`)."""
        self._occurrences.frombytes(occurrences.astype(np.int32, copy=False).tobytes())
        self._lengths.frombytes(lengths.astype(np.int32, copy=False).tobytes())

    def clear(self) -> None:
        """Forget the lines, freeing their memory (the occurrences are as large as the corpus)."""
        self._occurrences = array("i")
        self._lengths = array("i")

    @property
    def keys(self) -> list[str | bytes]:
        """The distinct tokens as they were added."""
        return self.index.order

    @property
    def tokens(self) -> list[str]:
        """The distinct tokens as str (bytes keys decoded, undecodable bytes escaped)."""
        return [t if isinstance(t, str) else decode(t) for t in self.keys]

    @property
    def occurrences(self) -> npt.NDArray[np.int32]:
        return np.frombuffer(self._occurrences, dtype=np.int32)

    @property
    def lengths(self) -> npt.NDArray[np.int32]:
        return np.frombuffer(self._lengths, dtype=np.int32)

    def counts(self) -> npt.NDArray[np.int64]:
        counts = np.zeros(len(self.keys), dtype=np.int64)
        occurrences = self.occurrences
        # In blocks: bincount widens its input to int64, a copy as large as the corpus.
        for start in range(0, occurrences.size, _BLOCK):
            counts += np.bincount(occurrences[start : start + _BLOCK], minlength=counts.size)
        return counts

    def write(self, handle: BinaryIO) -> None:
        """Write the table (bytes keys) for `read`, in another process of the same machine."""
        keys = cast(list[bytes], self.keys)
        blob = b"\n".join(keys)  # a token never holds a newline
        sizes = (len(keys), len(blob), len(self._occurrences), len(self._lengths))
        handle.write(struct.pack("<4Q", *sizes))
        handle.write(blob)
        handle.write(self._occurrences.tobytes())
        handle.write(self._lengths.tobytes())

    @classmethod
    def read(cls, handle: BinaryIO) -> tuple[list[bytes], array[int], array[int]]:
        """(keys, occurrences, lengths) as `write` wrote them."""
        nkeys, nblob, noccurrences, nlengths = struct.unpack("<4Q", handle.read(32))
        blob = handle.read(nblob)
        keys = blob.split(b"\n") if nkeys else []
        occurrences, lengths = array("i"), array("i")
        occurrences.fromfile(handle, noccurrences)
        lengths.fromfile(handle, nlengths)
        return keys, occurrences, lengths

    @classmethod
    def of(cls, lines: Iterable[Sequence[str | bytes]]) -> TokenTable:
        table = cls()
        for tokens in lines:
            table.add(tokens)
        return table


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
    """

    def __init__(self, label_prefix: bytes) -> None:
        self.label_prefix = label_prefix
        self.words = TokenTable()
        self.labels = TokenTable()
        self._seen: _FirstSeen[bytes] = _FirstSeen()
        # Per token seen, in first-seen order: its word id (>= 0) or ~ its label id (< 0).
        self._ids = array("i")

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
        none = np.zeros(0, dtype=np.int32)
        for table in (self.words, self.labels):
            keys, occurrences, lengths = TokenTable.read(handle)
            ids = np.fromiter(map(table.index.__getitem__, keys), np.int32, count=len(keys))
            theirs = np.frombuffer(occurrences, dtype=np.int32)
            for start in range(0, theirs.size, _BLOCK):
                table.extend(ids[theirs[start : start + _BLOCK]], none)
            table.extend(none, np.frombuffer(lengths, dtype=np.int32))

    def write(self, handle: BinaryIO) -> None:
        """Write the lines and tokens read for `append` (words, then labels)."""
        self.words.write(handle)
        self.labels.write(handle)

    def clear(self) -> None:
        """Forget the lines read, keeping the tokens seen."""
        self.words.clear()
        self.labels.clear()

    def _number(self, tokens: Sequence[bytes]) -> npt.NDArray[np.int32]:
        """Each token's first-seen position, classifying the tokens new to the scan."""
        seen = self._seen
        known = len(seen.order)
        positions = np.fromiter(map(seen.__getitem__, tokens), dtype=np.int32, count=len(tokens))
        prefix, cut = self.label_prefix, len(self.label_prefix)
        for token in seen.order[known:]:
            if token.startswith(prefix):
                self._ids.append(~self.labels.index[token[cut:]])
            else:
                self._ids.append(self.words.index[token])
        return positions

    @property
    def lines(self) -> int:
        return len(self.words.lengths)

    @property
    def unlabelled_lines(self) -> int:
        return int(np.count_nonzero(self.labels.lengths == 0))

    @property
    def tokens(self) -> int:
        """Tokens read, words, labels and `</s>` alike, as fastText counts them."""
        return int(self.words.lengths.sum() + self.labels.lengths.sum())


class Vocabulary:
    """Words and labels in id order, with their counts; an id is a position in these lists."""

    def __init__(
        self,
        words: Sequence[str],
        word_counts: Sequence[int],
        labels: Sequence[str],
        label_counts: Sequence[int],
    ) -> None:
        self.words = list(words)
        self.word_counts = list(word_counts)
        self.labels = list(labels)
        self.label_counts = list(label_counts)
        self.label_ids = {label: i for i, label in enumerate(self.labels)}

    @functools.cached_property
    def word_ids(self) -> dict[str, int]:
        """Each word's id. Built on first use: ftl itself looks words up as the bytes read
        (see `features`), so only API users who ask pay for it."""
        return {word: i for i, word in enumerate(self.words)}

    @classmethod
    def build(cls, scan: Scan, *, min_count: int, min_count_label: int) -> Vocabulary:
        """Prune by count and number by count, descending.

        >>> scan = Scan(b"__label__")
        >>> scan.add_lines([b"b a b __label__x"])
        >>> Vocabulary.build(scan, min_count=1, min_count_label=0).words
        ['b', 'a', '</s>']
        """
        words, word_counts = _by_count(scan.words, min_count)
        labels, label_counts = _by_count(scan.labels, min_count_label)
        return cls(words, word_counts, labels, label_counts)


def _by_count(table: TokenTable, minimum: int) -> tuple[list[str], list[int]]:
    counts = table.counts()
    # A stable sort over first-seen order keeps ties in first-seen order.
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= minimum]
    tokens = table.tokens
    return [tokens[i] for i in order], counts[order].tolist()


def ids_of(tokens: Sequence[T], ids: dict[T, int]) -> npt.NDArray[np.int64]:
    """Each token's id in `ids`, or -1.

    >>> ids_of(["a", "z"], {"a": 3}).tolist()
    [3, -1]
    """
    return np.fromiter((ids.get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))
