"""The vocabulary: words and labels kept by count, numbered by count (fastText
`src/dictionary.cc`: `threshold`).

Words with count < min_count and labels with count < min_count_label are dropped; words are
numbered by count, descending, then labels likewise. Ties keep first-seen order (fastText's
sort leaves them unspecified).
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from typing import NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import Bags, take_rows
from fasttext_lite.text.scan import Scan, TokenTable

T = TypeVar("T", bound=Hashable)


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
    def build(
        cls, scan: Scan, *, min_count: int, min_count_label: int
    ) -> tuple[Vocabulary, ScanIds]:
        """Prune by count and number by count, descending; also each of the scan's tokens' id.

        >>> scan = Scan(b"__label__")
        >>> scan.add_lines([b"a b b __label__x"])
        >>> vocab, ids = Vocabulary.build(scan, min_count=1, min_count_label=0)
        >>> vocab.words, ids.words.tolist()  # the scan saw a, b, </s>
        (['b', 'a', '</s>'], [1, 0, 2])
        """
        words_by_count = ids_by_count(scan.words, min_count)
        ids = ScanIds(words_by_count, ids_by_count(scan.labels, min_count_label))
        words, word_counts = _by_id(scan.words, ids.words)
        labels, label_counts = _by_id(scan.labels, ids.labels)
        return cls(words, word_counts, labels, label_counts), ids

    def extended(self, other: Vocabulary) -> tuple[Vocabulary, Merge]:
        """This vocabulary, then the words and labels `other` adds after ours, with counts
        summed; and where each of `other`'s ids lands.

        >>> old = Vocabulary(["a", "b"], [5, 3], ["x"], [4])
        >>> merged, merge = old.extended(Vocabulary(["c", "a"], [2, 1], ["y", "x"], [1, 1]))
        >>> merged.words, merged.word_counts, merged.labels, merge.words.tolist()
        (['a', 'b', 'c'], [6, 3, 2], ['x', 'y'], [2, 0])
        """
        words, word_counts, word_map = _merged(
            self.words, self.word_counts, other.words, other.word_counts
        )
        labels, label_counts, label_map = _merged(
            self.labels, self.label_counts, other.labels, other.label_counts
        )
        return Vocabulary(words, word_counts, labels, label_counts), Merge(word_map, label_map)


class Merge(NamedTuple):
    """Where the ids of a vocabulary merged into another land."""

    words: npt.NDArray[np.int64]
    labels: npt.NDArray[np.int64]


def _merged(
    ours: Sequence[str],
    our_counts: Sequence[int],
    theirs: Sequence[str],
    their_counts: Sequence[int],
) -> tuple[list[str], list[int], npt.NDArray[np.int64]]:
    names, counts = list(ours), list(our_counts)
    position = {name: i for i, name in enumerate(names)}
    landed = np.empty(len(theirs), dtype=np.int64)
    for i, (name, count) in enumerate(zip(theirs, their_counts, strict=True)):
        j = position.get(name)
        if j is None:
            j = position[name] = len(names)
            names.append(name)
            counts.append(0)
        counts[j] += count
        landed[i] = j
    return names, counts, landed


class ScanIds(NamedTuple):
    """The vocabulary id of each distinct token of the scan it was built from, -1 if pruned."""

    words: npt.NDArray[np.int64]
    labels: npt.NDArray[np.int64]


def _by_id(table: TokenTable, ids: npt.NDArray[np.int64]) -> tuple[list[str], list[int]]:
    kept = np.flatnonzero(ids >= 0)
    order = kept[np.argsort(ids[kept])]
    tokens = table.decoded
    return [tokens[i] for i in order], table.counts()[order].tolist()


def ids_by_count(table: TokenTable, minimum: int) -> npt.NDArray[np.int64]:
    """The id of each of the table's tokens in the vocabulary `Vocabulary.build` makes with
    this minimum count, or -1 for a token it prunes.

    >>> ids_by_count(TokenTable.of([["a", "b", "b", "c"]]), 1).tolist()
    [1, 0, 2]
    """
    counts = table.counts()
    # A stable sort over first-seen order keeps ties in first-seen order.
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= minimum]
    ids = np.full(counts.size, -1, dtype=np.int64)
    ids[order] = np.arange(order.size)
    return ids


def ids_of(tokens: Sequence[T], ids: dict[T, int]) -> npt.NDArray[np.int64]:
    """Each token's id in `ids`, or -1.

    >>> ids_of(["a", "z"], {"a": 3}).tolist()
    [3, -1]
    """
    return np.fromiter((ids.get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))


def label_bags(table: TokenTable, label_ids: npt.NDArray[np.int64]) -> Bags:
    """Each line of a table of labels as a bag of label ids, given the id of each of the
    table's tokens (-1 for a label the vocabulary lacks, which is dropped). A label written
    twice on a line is still one gold label.

    >>> label_bags(TokenTable.of([["x", "y", "x"], ["z"]]), np.array([0, 1, -1])).indices.tolist()
    [0, 1]
    """
    known = label_ids.astype(np.int32)
    bags = Bags(table.lines.indptr, table.occurrences).map(lambda occurrences: known[occurrences])
    # Only a line with several labels can repeat one: look for repeats among those alone
    # (most lines have one label), and mark them -1 for `map` to drop.
    got = take_rows(bags.indptr, np.flatnonzero(bags.sizes > 1))
    pairs = got.owner * (int(known.max(initial=0)) + 1) + bags.indices[got.positions]
    repeated = np.ones(pairs.size, dtype=bool)
    repeated[np.unique(pairs, return_index=True)[1]] = False
    if not repeated.any():
        return bags
    bags.indices[got.positions[repeated]] = -1
    return bags.map(lambda ids: ids)
