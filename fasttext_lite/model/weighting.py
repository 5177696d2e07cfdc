"""How much each of a line's features counts in its hidden vector.

fastText takes the plain mean of a line's rows of A. With `weighting="idf"` the mean is
weighted by each row's inverse document frequency in the training corpus, squared, so that
features in most lines (`</s>`, stop words, their n-grams) count for less and rare ones for
more. Squared because a tf-idf model weighs a feature by idf on both sides of its dot product;
measured against idf^1 and idf^1.5 it was the best or level on cooking and on two generated
corpora (bench/README.md). A feature without a row (never seen in training) is left out of an
idf-weighted mean: it has no frequency to weigh it by.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import Bags

WEIGHTINGS = ("mean", "idf")


def idf_weights(
    document_frequency: npt.NDArray[np.integer], documents: int
) -> npt.NDArray[np.float32]:
    """Each row's weight from the number of lines it occurs in, out of `documents`: scikit-learn's
    smoothed idf, ln((1 + n) / (1 + df)) + 1, squared (at least 1, so no row is ignored).

    >>> [round(float(w), 2) for w in idf_weights(np.array([3, 1, 0]), 3)]
    [1.0, 2.87, 5.69]
    """
    idf = np.log((1.0 + documents) / (1.0 + document_frequency)) + 1.0
    weights: npt.NDArray[np.float32] = np.square(idf).astype(np.float32)
    return weights


def document_frequency(rows: Bags, nrows: int) -> npt.NDArray[np.int64]:
    """How many lines of `rows` use each of A's `nrows` rows (once per line however often)."""
    # A (line, row) pair as one number; each distinct pair counts once.
    pairs = rows.owners * nrows + rows.indices
    return np.bincount(np.unique(pairs) % nrows, minlength=nrows)
