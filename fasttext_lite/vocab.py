"""The vocabulary: counted words and labels, pruned, frozen and numbered.

Follows fastText (`src/dictionary.cc`: `add`, `threshold`): words with count < min_count and
labels with count < min_count_label are dropped; words are numbered by count, descending,
then labels likewise. Ties keep first-seen order (fastText's sort leaves them unspecified).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from fasttext_lite.data import Example


@dataclass
class Counts:
    """Word and label counts accumulated over a corpus, plus the line tallies for the summary."""

    words: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    lines: int = 0
    unlabelled_lines: int = 0
    tokens: int = 0

    def add(self, example: Example) -> None:
        self.words.update(example.words)
        self.labels.update(example.labels)
        self.lines += 1
        self.unlabelled_lines += not example.labels
        self.tokens += len(example.words) + len(example.labels)

    def add_all(self, examples: Iterable[Example]) -> Counts:
        for example in examples:
            self.add(example)
        return self


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
    def build(cls, counts: Counts, *, min_count: int, min_count_label: int) -> Vocabulary:
        """Prune by count and number by count, descending.

        >>> counts = Counts().add_all([Example(["b", "a", "b", "</s>"], ["x"])])
        >>> Vocabulary.build(counts, min_count=1, min_count_label=0).words
        ['b', 'a', '</s>']
        """
        words = _by_count(counts.words, min_count)
        labels = _by_count(counts.labels, min_count_label)
        return cls(
            words=words,
            word_counts=[counts.words[w] for w in words],
            labels=labels,
            label_counts=[counts.labels[x] for x in labels],
        )


def _by_count(counter: Counter[str], minimum: int) -> list[str]:
    # sorted() is stable and Counter keeps insertion order, so ties stay in first-seen order.
    kept = [key for key, count in counter.items() if count >= minimum]
    return sorted(kept, key=lambda key: -counter[key])
