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

        Lines with no known feature get an empty row (and so a zero hidden vector).
        """
        coo = counts.tocoo()
        position = np.searchsorted(self.feature_ids, coo.col)
        position = np.minimum(position, max(self.feature_ids.size - 1, 0))
        known = (
            self.feature_ids[position] == coo.col
            if self.feature_ids.size
            else np.zeros(coo.col.shape, dtype=bool)
        )
        weights = sp.csr_array(
            (coo.data[known], (coo.row[known], position[known])),
            shape=(counts.shape[0], self.feature_ids.size),
            dtype=self.input.dtype,
        )
        lengths = np.asarray(weights.sum(axis=1)).ravel()
        lengths[lengths == 0] = 1
        return sp.csr_array(sp.diags_array(1.0 / lengths).astype(self.input.dtype) @ weights)

    def restricted(self, rows: npt.NDArray[np.intp]) -> Model:
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
