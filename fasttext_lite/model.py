"""The two matrices and the arithmetic through them (fastText `src/model.cc`): numbers only.

A (`input`) has one row per feature that occurred in training, B (`output`) one row per
label. A line is a sparse row of averaging weights over A's rows:

    hidden = X @ A        scores = hidden @ B.T

Features that never occurred in training have no row: their rows would still hold their random
initial values and carry no information, so the model stays proportional to the data, not to
the hash bucket count, and such features are left out of a line's average.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.floating]


class Gradients(NamedTuple):
    """Loss gradients for the rows of A a batch used (in batch order) and for all of B."""

    input_rows: FloatArray
    output: FloatArray


class Model:
    """Input matrix A, output matrix B, and the feature ids that own A's rows."""

    def __init__(self, input_: FloatArray, output: FloatArray, feature_ids: npt.NDArray[np.int64]):
        if input_.shape[0] != feature_ids.shape[0] or input_.shape[1] != output.shape[1]:
            raise ValueError("A, B and feature_ids disagree in shape")
        self.input = input_
        self.output = output
        self.feature_ids = feature_ids
        self._lookup: npt.NDArray[np.int32] | None = None

    @classmethod
    def initial(
        cls,
        feature_ids: npt.NDArray[np.int64],
        *,
        nlabels: int,
        dim: int,
        rng: np.random.Generator,
        dtype: type[np.floating] = np.float32,
    ) -> Model:
        """fastText's start: A uniform in (-1/dim, 1/dim), B zero."""
        bound = 1.0 / dim
        input_ = rng.uniform(-bound, bound, size=(feature_ids.size, dim)).astype(dtype)
        return cls(input_, np.zeros((nlabels, dim), dtype=dtype), feature_ids)

    @property
    def dim(self) -> int:
        return int(self.input.shape[1])

    def averaging_weights(self, counts: sp.csr_array) -> sp.csr_array:
        """Feature counts over global feature ids -> weights over A's rows summing to 1 per line.

        Features without a row are dropped; a line left with none gets an empty row (and so a
        zero hidden vector).
        """
        nlines = counts.shape[0]
        rows = self._row_of(counts.indices)
        known = rows >= 0
        data, indptr = counts.data, counts.indptr
        if not known.all():
            line = np.repeat(np.arange(nlines), np.diff(indptr))
            kept = np.bincount(line[known], minlength=nlines)
            indptr = np.concatenate([[0], np.cumsum(kept)]).astype(indptr.dtype)
            data, rows = data[known], rows[known]
        sizes = np.diff(indptr)
        totals = np.ones(nlines, dtype=self.input.dtype)
        nonempty = sizes > 0
        totals[nonempty] = np.add.reduceat(data, indptr[:-1][nonempty])
        weights = data / np.repeat(totals, sizes)
        return sp.csr_array(
            (
                weights.astype(self.input.dtype, copy=False),
                rows.astype(indptr.dtype, copy=False),
                indptr,
            ),
            shape=(nlines, self.feature_ids.size),
        )

    def _row_of(self, feature_ids: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
        """The row of A owning each feature id, or -1: a dense lookup, built on first use."""
        if self._lookup is None:
            size = int(self.feature_ids[-1]) + 1 if self.feature_ids.size else 0
            self._lookup = np.full(size, -1, dtype=np.int32)
            self._lookup[self.feature_ids] = np.arange(self.feature_ids.size, dtype=np.int32)
        inside = feature_ids < self._lookup.size
        rows = np.full(feature_ids.shape, -1, dtype=np.int32)
        rows[inside] = self._lookup[feature_ids[inside]]
        return rows

    def restricted(self, rows: npt.NDArray[np.integer]) -> Model:
        """A model over a copy of the given rows of A, sharing B: a batch's working set."""
        return Model(self.input[rows], self.output, self.feature_ids[rows])

    def hidden(self, weights: sp.csr_array) -> FloatArray:
        """Each line's weighted mean of the rows of A."""
        return np.asarray(weights @ self.input)

    def scores(self, hidden: FloatArray) -> FloatArray:
        return hidden @ self.output.T

    def backward(
        self, weights: sp.csr_array, hidden: FloatArray, d_scores: FloatArray
    ) -> Gradients:
        """Chain rule from d loss / d scores to A's used rows and to B (B before any update)."""
        d_hidden = d_scores @ self.output
        return Gradients(input_rows=np.asarray(weights.T @ d_hidden), output=d_scores.T @ hidden)
