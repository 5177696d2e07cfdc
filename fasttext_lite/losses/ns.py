"""Negative sampling (fastText `NegativeSamplingLoss`): for each gold label, a binary logistic
loss on its row (label 1) and on `neg` other labels drawn by count^0.5 (label 0).

Training touches only those rows; prediction scores every label by its own sigmoid, as
one-vs-all does, so the scores need not sum to 1. Exact exp/log, where fastText uses lookup
tables. A label drawn twice for a line is updated twice from B as it was, where fastText's
second update sees its first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.losses.base import (
    BATCH_STEPS,
    FloatArray,
    OutputGradient,
    TopLabels,
    per_line,
    top_k_of,
)
from fasttext_lite.losses.ova import sigmoid, sigmoid_table

# fastText draws negatives from a table of label ids, each label repeated
# ceil(count^0.5 / sum(count^0.5) x NEGATIVE_TABLE_SIZE) times; drawing a place in a table of
# those sizes gives exactly its distribution.
NEGATIVE_TABLE_SIZE = 10_000_000


def table_sizes(label_counts: Sequence[int]) -> npt.NDArray[np.int64]:
    """How often fastText's negative table holds each label.

    >>> table_sizes([4, 1]).tolist()
    [6666667, 3333334]
    """
    root = np.sqrt(np.asarray(label_counts, dtype=np.float64))
    sizes: npt.NDArray[np.int64] = np.ceil(root * (NEGATIVE_TABLE_SIZE / root.sum())).astype(
        np.int64
    )
    return sizes


class NegativeSampling:
    """
    >>> ns = NegativeSampling([9, 4, 1], neg=2)
    >>> ns.negatives(np.array([0, 0]), np.random.default_rng(0)).shape
    (2, 2)
    >>> ns.probabilities(np.array([[1.0], [-1.0], [0.0]]), np.array([[0.0]])).tolist()
    [[0.5, 0.5, 0.5]]
    """

    multi_label = False
    batch_steps = BATCH_STEPS

    # Predict with fastText's table sigmoid (for models fastText trained) or the exact one.
    fasttext_table = False

    def __init__(self, label_counts: Sequence[int], neg: int = 5) -> None:
        self.output_rows = len(label_counts)
        self._sizes = table_sizes(label_counts) if len(label_counts) else np.zeros(0, np.int64)
        self._ends = np.cumsum(self._sizes)
        # With fewer than two labels in the table no label has a negative to draw (fastText
        # would loop forever looking for one): train on the gold labels alone.
        self.neg = neg if np.count_nonzero(self._sizes) >= 2 else 0

    def negatives(
        self, targets: npt.NDArray[np.integer], rng: np.random.Generator
    ) -> npt.NDArray[np.intp]:
        """(targets, neg): labels drawn from the table for each target, never the target.

        fastText redraws a negative that is its target; drawing a place in the table with the
        target's places left out gives the same distribution in one pass.
        """
        if self.neg == 0:
            return np.zeros((targets.size, 0), np.intp)
        sizes = self._sizes[targets][:, None]
        starts = self._ends[targets][:, None] - sizes
        place = rng.integers(0, int(self._ends[-1]) - sizes, size=(targets.size, self.neg))
        place += sizes * (place >= starts)
        drawn: npt.NDArray[np.intp] = np.searchsorted(self._ends, place, side="right")
        return drawn

    def gradient(
        self,
        output: FloatArray,
        hidden: FloatArray,
        gold: Bags,
        rng: np.random.Generator,
        weights: FloatArray | None = None,
    ) -> OutputGradient:
        """The summed loss of each line's gold labels, each with its own negatives (the trainer
        gives one gold label per line)."""
        targets = gold.indices
        owner = gold.owners  # each gold label's line
        rows = np.concatenate([targets[:, None], self.negatives(targets, rng)], axis=1)
        is_gold = np.zeros(rows.shape, hidden.dtype)
        is_gold[:, 0] = 1.0
        nodes = output[rows]  # (targets, 1 + neg, dim)
        scores = np.einsum("gd,gkd->gk", hidden[owner], nodes)
        # log(1 + e^s) - y s is the binary cross-entropy of sigmoid(s), without overflow.
        loss = float(np.sum(np.logaddexp(0.0, scores) - is_gold * scores))
        d_scores = (sigmoid(scores) - is_gold).astype(hidden.dtype)
        if weights is not None:
            d_scores *= weights.astype(hidden.dtype)[owner][:, None]
        magnitude = np.abs(d_scores)

        # A row drawn k times for a line gets k times that line's gradient, as in fastText.
        touched, place = np.unique(rows, return_inverse=True)
        place = place.reshape(-1)
        lines = np.repeat(owner, rows.shape[1])
        by_row = sp.csr_array(
            (d_scores.reshape(-1), (place, lines)), shape=(touched.size, gold.nlines)
        )
        return OutputGradient(
            loss=loss,
            d_hidden=per_line(np.einsum("gk,gkd->gd", d_scores, nodes), owner, gold.nlines),
            rows=touched.astype(np.intp),
            d_output=np.asarray(by_row @ hidden, dtype=hidden.dtype),
            line_mass=per_line(magnitude.sum(axis=1), owner, gold.nlines),
            row_mass=np.bincount(place, magnitude.reshape(-1), touched.size).astype(hidden.dtype),
        )

    def probabilities(self, output: FloatArray, hidden: FloatArray) -> FloatArray:
        """Each label's sigmoid, as fastText's predict gives for ns (not normalised)."""
        scores = hidden @ output.T
        return sigmoid_table(scores) if self.fasttext_table else sigmoid(scores)

    def top_k(self, output: FloatArray, hidden: FloatArray, k: int, threshold: float) -> TopLabels:
        probs = self.probabilities(output, hidden).astype(np.float32, copy=False)
        return top_k_of(probs, k, threshold)
