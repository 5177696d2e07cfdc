"""Counting a corpus and freezing its vocabulary: words and labels, pruned and numbered.

Follows fastText (`src/dictionary.cc`: `add`, `threshold`): words with count < min_count and
labels with count < min_count_label are dropped; words are numbered by count, descending,
then labels likewise. Ties keep first-seen order (fastText's sort leaves them unspecified).
Lines are kept as indices into a table of distinct tokens, so each distinct token is looked
up, hashed and split into n-grams once, however often it occurs.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from fasttext_lite.data import decode

_BLOCK = 1 << 22
T = TypeVar("T", bound=Hashable)


class TokenTable:
    """Distinct tokens in first-seen order, and each line as indices into them.

    >>> table = TokenTable()
    >>> table.add(["a", "b", "a"]); table.add(["b"])
    >>> table.tokens, table.occurrences.tolist(), table.lengths.tolist(), table.counts().tolist()
    (['a', 'b'], [0, 1, 0, 1], [3, 1], [2, 2])
    """

    def __init__(self) -> None:
        self.index: dict[str | bytes, int] = {}
        self._occurrences = array("i")
        self._lengths = array("q")

    def add(self, tokens: Sequence[str | bytes]) -> None:
        index = self.index
        try:
            ids = [index[t] for t in tokens]  # the common case once the corpus is under way
        except KeyError:
            ids = [index.setdefault(t, len(index)) for t in tokens]
        self._occurrences.extend(ids)
        self._lengths.append(len(tokens))

    def clear(self) -> None:
        """Forget everything, freeing the memory (the occurrences are as large as the corpus)."""
        self.index = {}
        self._occurrences = array("i")
        self._lengths = array("q")

    @property
    def keys(self) -> list[str | bytes]:
        """The distinct tokens as they were added."""
        return list(self.index)

    @property
    def tokens(self) -> list[str]:
        """The distinct tokens as str (bytes keys decoded, undecodable bytes escaped)."""
        return [t if isinstance(t, str) else decode(t) for t in self.index]

    @property
    def occurrences(self) -> npt.NDArray[np.int32]:
        return np.frombuffer(self._occurrences, dtype=np.int32)

    @property
    def lengths(self) -> npt.NDArray[np.int64]:
        return np.frombuffer(self._lengths, dtype=np.int64)

    def counts(self) -> npt.NDArray[np.int64]:
        counts = np.zeros(len(self.index), dtype=np.int64)
        occurrences = self.occurrences
        # In blocks: bincount widens its input to int64, a copy as large as the corpus.
        for start in range(0, occurrences.size, _BLOCK):
            counts += np.bincount(occurrences[start : start + _BLOCK], minlength=counts.size)
        return counts

    @classmethod
    def of(cls, lines: Iterable[Sequence[str | bytes]]) -> TokenTable:
        table = cls()
        for tokens in lines:
            table.add(tokens)
        return table


class Scan:
    """One pass over a corpus: its words and labels as token tables, and line tallies."""

    def __init__(self) -> None:
        self.words = TokenTable()
        self.labels = TokenTable()
        self.unlabelled_lines = 0

    def add(self, words: Sequence[str | bytes], labels: Sequence[str | bytes]) -> None:
        self.words.add(words)
        self.labels.add(labels)
        self.unlabelled_lines += not labels

    @property
    def lines(self) -> int:
        return len(self.words.lengths)

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
        self.word_ids = {word: i for i, word in enumerate(self.words)}
        self.label_ids = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def build(cls, scan: Scan, *, min_count: int, min_count_label: int) -> Vocabulary:
        """Prune by count and number by count, descending.

        >>> scan = Scan()
        >>> scan.add([b"b", b"a", b"b", b"</s>"], [b"x"])
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
