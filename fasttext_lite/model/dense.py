"""The two matrices (fastText `src/model.cc`, `densematrix.cc`): numbers only.

A (`input`) has one row per feature that occurred in training; B (`output`) belongs to the
loss, which reads it to score the labels (`losses`). A line is a sparse row of averaging
weights over A's rows: hidden = X @ A.

Features that never occurred in training have no row: their rows would still hold their random
initial values and carry no information, so the model stays proportional to the data, not to
the hash bucket count. Such a feature still counts in a line's mean, as a zero row (in fastText
it is a row of tiny random numbers), so that a fastText file written from the model predicts
what the model predicts. A pruned model (fastText's `.ftz` with a prune index, `quantize
--cutoff`) leaves its pruned features out of the mean, as fastText does. A model with row
weights (`weighting`) takes a weighted mean instead, of the features that have rows.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.model.quantized import QuantizedMatrix

FloatArray = npt.NDArray[np.floating]
_INIT_ROWS = 1 << 12


def weighted_shares(
    row_weights: npt.NDArray[np.float32],
    rows: npt.NDArray[np.integer],
    owners: npt.NDArray[np.integer],
    nlines: int,
) -> npt.NDArray[np.float32]:
    """Each entry's share of its line's weighted mean: its row's weight over the sum of its
    line's (entry e is row `rows[e]` of line `owners[e]`, of `nlines`).

    >>> weighted_shares(np.array([1.0, 3.0], np.float32), np.array([0, 1, 1]),
    ...                 np.array([0, 0, 1]), 2).tolist()
    [0.25, 0.75, 1.0]
    """
    weights = row_weights[rows]
    sums = np.bincount(owners, weights, nlines)
    shares: npt.NDArray[np.float32] = (weights / sums[owners]).astype(np.float32)
    return shares


class Model:
    """Input matrix A, output matrix B, and the feature ids that own A's rows."""

    def __init__(
        self,
        input_: FloatArray | QuantizedMatrix,
        output: FloatArray,
        feature_ids: npt.NDArray[np.int64],
        *,
        pruned: bool = False,
        output_codes: QuantizedMatrix | None = None,
        row_weights: npt.NDArray[np.float32] | None = None,
    ):
        if input_.shape[0] != feature_ids.shape[0] or input_.shape[1] != output.shape[1]:
            raise ValueError("A, B and feature_ids disagree in shape")
        if row_weights is not None and row_weights.shape != feature_ids.shape:
            raise ValueError("A and its row weights disagree in shape")
        if output_codes is not None and output_codes.shape != output.shape:
            raise ValueError("B and its codes disagree in shape")
        # A quantized A stays codes, and reads as a read-only array (shape, dtype, rows by
        # index, numpy's conversion); `hidden` decodes only the rows a batch uses. Typed as
        # an array so that the training code, which only ever sees dense models, stays simple.
        self.input: FloatArray = cast("FloatArray", input_)
        self.output = output
        self.output_codes = output_codes  # B as stored when it is quantized (`output` decodes it)
        self.feature_ids = feature_ids
        self.pruned = pruned  # features without a row are left out of the mean, not zeros
        # Each row's weight in a line's mean (`weighting`); None: the plain mean.
        self.row_weights = row_weights
        self._lookup: npt.NDArray[np.int32] | None = None

    @classmethod
    def initial(
        cls,
        feature_ids: npt.NDArray[np.int64],
        *,
        output_rows: int,
        dim: int,
        rng: np.random.Generator,
        dtype: type[np.floating] = np.float32,
    ) -> Model:
        """fastText's start: A uniform in (-1/dim, 1/dim), B zero."""
        bound = 1.0 / dim
        input_ = np.empty((feature_ids.size, dim), dtype=dtype)
        # Drawn straight into A in its own type, block by block, then scaled: for a float32 A
        # 5x faster than uniform in float64 and a copy (1.77 million rows took seconds).
        draw = dtype if dtype in (np.float32, np.float64) else np.float64
        for start in range(0, feature_ids.size, _INIT_ROWS):
            block = input_[start : start + _INIT_ROWS]
            if draw is dtype:
                rng.random(out=block, dtype=draw)
            else:
                block[:] = rng.random(block.shape, dtype=draw)
            block *= 2 * bound
            block -= bound
        return cls(input_, np.zeros((output_rows, dim), dtype=dtype), feature_ids)

    @property
    def quantized(self) -> QuantizedMatrix | None:
        """A as codes, when it is quantized."""
        matrix: object = self.input
        return matrix if isinstance(matrix, QuantizedMatrix) else None

    def rows_of(self, bags: Bags) -> Bags:
        """Bags of feature ids -> bags of A's rows, dropping features without a row (a line
        left with none gets an empty bag, and so a zero hidden vector). In place, as
        `Bags.map`."""
        return bags.map(self.row_of)

    def row_of(self, feature_ids: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
        """The row of A owning each feature id, or -1: a dense lookup, built on first use."""
        if self._lookup is None:
            size = int(self.feature_ids[-1]) + 1 if self.feature_ids.size else 0
            self._lookup = np.full(size, -1, dtype=np.int32)
            self._lookup[self.feature_ids] = np.arange(self.feature_ids.size, dtype=np.int32)
        inside = feature_ids < self._lookup.size
        rows = np.full(feature_ids.shape, -1, dtype=np.int32)
        rows[inside] = self._lookup[feature_ids[inside]]
        return rows

    def weights(self, features: Bags) -> sp.csr_array:
        """Each line's averaging weights over A's rows: 1/n for each of its n features, those
        without a row counting as zero rows unless the model is pruned; with row weights, each
        row's weight over the sum of its line's. Consumes `features` (as `rows_of`)."""
        counts = None if self.pruned else features.sizes
        rows = self.rows_of(features)
        if self.row_weights is None:
            return rows.weights(self.input.shape[0], self.input.dtype.type, counts=counts)
        shares = weighted_shares(self.row_weights, rows.indices, rows.owners, rows.nlines)
        shape = (rows.nlines, self.input.shape[0])
        return sp.csr_array((shares.astype(self.input.dtype), rows.indices, rows.indptr), shape)

    def hidden(self, weights: sp.csr_array) -> FloatArray:
        """Each line's weighted mean of the rows of A."""
        if self.quantized is not None:
            return self.quantized.weighted_rows(weights)
        return np.asarray(weights @ self.input)
