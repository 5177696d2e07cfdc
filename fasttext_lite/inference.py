"""Batched prediction (fastText `src/fasttext.cc`: `predictLine`): lines of text -> feature
bags -> hidden vectors -> the loss's top-k labels, a chunk of lines at a time.

A `Predictor` remembers the distinct tokens it has read (up to READER_TOKENS), so a stream
classifies and featurizes each distinct token once, not once per chunk.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.arrays.blas import single_blas_thread
from fasttext_lite.errors import ParameterError
from fasttext_lite.features.featurizer import Featurizer, TokenFeatureCache
from fasttext_lite.losses import Loss, TopLabels
from fasttext_lite.model import Model
from fasttext_lite.text.scan import Scan, TokenTable
from fasttext_lite.text.tokens import as_bytes, decode, first_non_text
from fasttext_lite.vocab import ids_of, label_bags

# Score matrices in prediction hold at most this many floats (lines x labels).
PREDICT_CELLS = 1 << 21
# Distinct tokens a predictor remembers before it starts afresh: bounds its memory on an
# endless stream of new words.
READER_TOKENS = 1 << 20


class Read(NamedTuple):
    """A chunk of lines as the model sees them."""

    features: Bags  # each line's feature ids
    labels: TokenTable  # each line's labels as read (valid until the next read)
    blank: npt.NDArray[np.bool_]  # lines with nothing but separators: they get no labels


class Predictor:
    """Reads chunks of lines and predicts their labels with one model."""

    def __init__(
        self,
        featurizer: Featurizer,
        model: Model,
        loss: Loss,
        label_prefix: bytes,
        weight_prefix: bytes | None = None,
    ):
        self.featurizer = featurizer
        self.model = model
        self.loss = loss
        self.label_prefix = label_prefix
        # Weight tokens are ignored at prediction, as labels are: they are not words.
        self.weight_prefix = weight_prefix
        self._forget()

    def _forget(self) -> None:
        # Chunks are bounded already (PREDICT_CELLS): they never need a temporary file.
        self._scan = Scan(
            self.label_prefix, weight_prefix=self.weight_prefix, memory_entries=sys.maxsize
        )
        self._cache = TokenFeatureCache(self.featurizer)
        self._label_ids = np.zeros(0, dtype=np.int64)  # of the scan's labels, -1 if unknown

    @property
    def labels(self) -> list[str]:
        """The model's label names, in id order."""
        return self.featurizer.vocab.labels

    def width(self, k: int) -> int:
        """How many labels top-k gives: k, or all labels for -1 (fastText's "all") or more."""
        return len(self.labels) if k < 0 else min(k, len(self.labels))

    def chunks(self, lines: Iterable[str | bytes]) -> Iterator[list[str | bytes]]:
        """Chunks of lines; from a lazy iterable they grow (1, 2, 4, ... lines) so that the
        first results come out at once."""
        limit = max(1, PREDICT_CELLS // max(len(self.featurizer.vocab.labels), 1))
        size = limit if isinstance(lines, Sequence) else 1
        chunk: list[str | bytes] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= size:
                yield chunk
                chunk = []
                size = min(size * 2, limit)
        if chunk:
            yield chunk

    def read(self, chunk: Sequence[str | bytes]) -> Read:
        """The chunk's features, labels and blank lines."""
        if len(self._scan.words.keys) > READER_TOKENS:
            self._forget()
        scan = self._scan
        scan.clear()
        try:
            scan.add_lines([as_bytes(text) for text in chunk])
        except TypeError:
            bad = first_non_text(chunk)
            if bad is None:
                raise
            raise ParameterError(
                "texts", f"each text must be a str or bytes, got {bad[0]!r}"
            ) from None
        words = scan.words
        if len(words.keys) > self._cache.size:
            self._cache.add(words.keys[self._cache.size :])
        features = self.featurizer.transform_lines(
            self._cache.features, words.occurrences, words.lengths
        )
        blank = (words.lengths == 1) & (scan.labels.lengths == 0)
        return Read(features, scan.labels, blank)

    def gold(self, read: Read) -> Bags:
        """Each line's labels known to the model, each once, as label ids."""
        new = read.labels.keys[self._label_ids.size :]
        if new:
            names = [key if isinstance(key, str) else decode(key) for key in new]
            known = ids_of(names, self.featurizer.vocab.label_ids)
            self._label_ids = np.concatenate([self._label_ids, known])
        return label_bags(read.labels, self._label_ids)

    def hidden(self, features: Bags) -> npt.NDArray[np.floating]:
        return self.model.hidden(self.model.weights(features))

    def top_labels_of(self, texts: Sequence[str | bytes], k: int, threshold: float) -> TopLabels:
        """`top_labels` of a batch of texts of any length, read a chunk at a time."""
        tops = [self.top_labels(self.read(chunk), k, threshold) for chunk in self.chunks(texts)]
        if len(tops) == 1:
            return tops[0]
        width = self.width(k)
        return TopLabels(
            np.concatenate([np.empty((0, width), np.intp), *(top.ids for top in tops)]),
            np.concatenate(
                [np.empty((0, width), np.float32), *(top.probabilities for top in tops)]
            ),
        )

    def sentence_vectors(self, read: Read) -> npt.NDArray[np.float32]:
        """(lines, dim): each line's hidden vector."""
        with single_blas_thread():
            hidden = self.hidden(read.features)
        return hidden.astype(np.float32, copy=False)

    def probabilities(self, read: Read) -> npt.NDArray[np.float32]:
        """(lines, labels); a blank line gets those of `</s>` alone."""
        with single_blas_thread():
            probs = self.loss.probabilities(self.model.output, self.hidden(read.features))
        return probs.astype(np.float32, copy=False)

    def top_labels(
        self, read: Read, k: int, threshold: float, *, drop_blank: bool = True
    ) -> TopLabels:
        """The top `k` label ids at or above `threshold` of each line (`k` = -1: all
        labels); none for a blank line unless `drop_blank` is false (a blank line's hidden
        vector is `</s>`'s row)."""
        k = self.width(k)
        with single_blas_thread():
            top = self.loss.top_k(self.model.output, self.hidden(read.features), k, threshold)
        if drop_blank:
            top.ids[read.blank] = -1
            top.probabilities[read.blank] = 0.0
        return top
