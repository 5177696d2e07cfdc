"""The two matrices (fastText `src/model.cc`, `densematrix.cc`): numbers only.

A (`input`) has one row per feature that occurred in training; B (`output`) belongs to the
loss, which reads it to score the labels (`losses`). A line is a sparse row of averaging
weights over A's rows: hidden = X @ A.

Features that never occurred in training have no row: their rows would still hold their random
initial values and carry no information, so the model stays proportional to the data, not to
the hash bucket count, and such features are left out of a line's average.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fasttext_lite.arrays.bags import Bags

FloatArray = npt.NDArray[np.floating]
_INIT_ROWS = 1 << 12


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

    def restricted(self, rows: npt.NDArray[np.integer]) -> Model:
        """A model over a copy of the given rows of A, sharing B: a batch's working set."""
        return Model(np.take(self.input, rows, axis=0), self.output, self.feature_ids[rows])

    def hidden(self, weights: sp.csr_array) -> FloatArray:
        """Each line's weighted mean of the rows of A."""
        return np.asarray(weights @ self.input)
