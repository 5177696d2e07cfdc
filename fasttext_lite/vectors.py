"""Word vectors and nearest neighbours in a model's input space (fastText `src/fasttext.cc`:
`getWordVector`, `getNN`).

A word's vector is the mean of the rows of its features: its own row if it is in the
vocabulary, and its character n-grams; as in a line's hidden vector, features that never
occurred in training count as zero rows (`model.dense`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.features.featurizer import Featurizer
from fasttext_lite.model import Model
from fasttext_lite.text.tokens import as_bytes

# Query words compared with the whole vocabulary at once: bounds the similarity matrix.
_QUERY_CELLS = 1 << 24


class Neighbour(NamedTuple):
    word: str
    similarity: float  # cosine


def word_vectors(
    featurizer: Featurizer, model: Model, words: Sequence[str | bytes]
) -> npt.NDArray[np.float32]:
    """(words, dim): each word's vector; zeros for a word none of whose features has a row."""
    tokens = featurizer.token_features([as_bytes(w) for w in words])
    weights = model.weights(Bags(tokens.indptr.copy(), tokens.features.copy()))
    vectors: npt.NDArray[np.float32] = model.hidden(weights).astype(np.float32, copy=False)
    return vectors


class NeighbourIndex:
    """The vocabulary's unit word vectors, for cosine nearest neighbours."""

    def __init__(self, featurizer: Featurizer, model: Model) -> None:
        self.featurizer = featurizer
        self.model = model
        self.words = featurizer.vocab.words
        vectors = word_vectors(featurizer, model, self.words)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        # A word without rows keeps a zero vector: similarity 0 to everything.
        self.unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)

    def query(self, words: Sequence[str], k: int) -> list[list[Neighbour]]:
        """The `k` vocabulary words most similar to each word, most similar first, the word
        itself left out (as fastText does)."""
        k = min(k, max(len(self.words) - 1, 0))
        found: list[list[Neighbour]] = []
        step = max(1, _QUERY_CELLS // max(len(self.words), 1))
        for start in range(0, len(words), step):
            block = list(words[start : start + step])
            queries = word_vectors(self.featurizer, self.model, block)
            norms = np.linalg.norm(queries, axis=1, keepdims=True)
            # fastText divides by the query's norm unless it is (nearly) zero.
            similarity = (queries / np.where(norms < 1e-8, 1.0, norms)) @ self.unit.T
            for row, word in enumerate(block):
                own = self.featurizer.vocab.word_ids.get(word)
                if own is not None:
                    similarity[row, own] = -np.inf
            if k == 0:
                found.extend([] for _ in block)
                continue
            top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
            scores = np.take_along_axis(similarity, top, axis=1)
            order = np.argsort(-scores, axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            scores = np.take_along_axis(scores, order, axis=1)
            for ids, values in zip(top.tolist(), scores.tolist(), strict=True):
                found.append(
                    [Neighbour(self.words[i], v) for i, v in zip(ids, values, strict=True)]
                )
        return found


def top_words(featurizer: Featurizer, model: Model, label: int, n: int) -> list[tuple[str, float]]:
    """The `n` vocabulary words whose vectors score highest for label row `label` of B."""
    words = featurizer.vocab.words
    scores = word_vectors(featurizer, model, words) @ model.output[label]
    n = min(n, len(words))
    best = np.argpartition(-scores, n - 1)[:n]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(words[i], float(scores[i])) for i in best.tolist()]
