"""Product-quantized matrices as fastText stores them in `.ftz` files (fastText
`src/productquantizer.cc`, `quantmatrix.cc`): codes to rows and rows to codes.

Training the quantizer (k-means) is `model.quantizer`'s. A `QuantizedMatrix` is never decoded
whole to predict: a batch decodes the rows it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

# fastText's quantizers have 8-bit codes: 256 centroids per sub-quantizer.
CENTROIDS_PER_SUBQUANTIZER = 256
# fastText quantizes an output matrix (qout) with pieces of 2 numbers, whatever dsub is.
QOUT_DSUB = 2
# Points assigned at once: a (points, 256) block of distances that stays in the cache.
_ASSIGN_BLOCK = 1 << 10


class Split(NamedTuple):
    """How a quantizer cuts a vector: `nsubq` pieces of `dsub` numbers, the last one
    `lastdsub` long (1..dsub)."""

    nsubq: int
    lastdsub: int


def split(dim: int, dsub: int) -> Split:
    """fastText's cut of `dim` numbers into pieces of `dsub` (its `ProductQuantizer`
    constructor); the last piece takes the remainder.

    >>> split(10, 2), split(10, 4), split(1, 1)
    (Split(nsubq=5, lastdsub=2), Split(nsubq=3, lastdsub=2), Split(nsubq=1, lastdsub=1))
    """
    whole, rest = divmod(dim, dsub)
    return Split(whole + 1, rest) if rest else Split(whole, dsub)


def assign(x: npt.NDArray[np.float32], centroids: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Each row's nearest centroid (fastText's `assign_centroid`: the first one on ties),
    by one matrix product per block: [x, 1] @ [-2c; ||c||^2] is the squared distance less
    ||x||^2, which does not change the nearest.

    >>> c = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    >>> assign(np.array([[0.9, 0.8], [0.1, 0.0], [0.5, 0.5]], np.float32), c).tolist()
    [1, 0, 0]
    """
    n, d = x.shape
    codes = np.empty(n, dtype=np.uint8)
    table = np.empty((d + 1, centroids.shape[0]), dtype=np.float32)
    table[:d] = -2.0 * centroids.T
    table[d] = np.einsum("ij,ij->i", centroids, centroids)
    block = min(n, _ASSIGN_BLOCK)
    augmented = np.ones((block, d + 1), dtype=np.float32)
    distances = np.empty((block, centroids.shape[0]), dtype=np.float32)
    for start in range(0, n, block):
        size = min(block, n - start)
        augmented[:size, :d] = x[start : start + size]
        np.matmul(augmented[:size], table, out=distances[:size])
        codes[start : start + size] = distances[:size].argmin(axis=1)
    return codes


@dataclass(frozen=True, eq=False)
class ProductQuantizer:
    """`dim`-long vectors as `nsubq` codes, each one of 256 centroids of its piece.

    `centroids` is fastText's flat array of dim * 256 floats: the 256 centroids of piece 0
    (`dsub` numbers each), then of piece 1, ..., the last piece's centroids `lastdsub` long.
    """

    dim: int
    nsubq: int
    dsub: int
    lastdsub: int
    centroids: npt.NDArray[np.float32]
    _table: npt.NDArray[np.float32] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        expected = split(self.dim, self.dsub) if self.dim >= 1 and self.dsub >= 1 else None
        if expected != (self.nsubq, self.lastdsub):
            raise ValueError(
                f"inconsistent quantizer: dim {self.dim}, nsubq {self.nsubq},"
                f" dsub {self.dsub}, lastdsub {self.lastdsub}"
            )
        if self.centroids.shape != (self.dim * CENTROIDS_PER_SUBQUANTIZER,):
            raise ValueError(f"a quantizer of dim {self.dim} needs dim * 256 centroid numbers")
        # Every piece padded to dsub numbers, so that one gather decodes all pieces at once.
        k = CENTROIDS_PER_SUBQUANTIZER
        table = np.zeros((self.nsubq, k, self.dsub), dtype=np.float32)
        whole = (self.nsubq - 1) * k * self.dsub
        table[:-1] = self.centroids[:whole].reshape(self.nsubq - 1, k, self.dsub)
        table[-1, :, : self.lastdsub] = self.centroids[whole:].reshape(k, self.lastdsub)
        object.__setattr__(self, "_table", table)  # frozen: set once, here

    def decode(self, codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Rows of shape (n, dim) from codes of shape (n, nsubq).

        >>> pq = ProductQuantizer(3, 2, 2, 1, np.arange(3 * 256, dtype=np.float32))
        >>> pq.decode(np.array([[0, 0], [1, 2]], dtype=np.uint8)).tolist()
        [[0.0, 1.0, 512.0], [2.0, 3.0, 514.0]]
        """
        pieces = self._table[np.arange(self.nsubq), codes]  # (n, nsubq, dsub)
        flat = pieces.reshape(codes.shape[0], self.nsubq * self.dsub)
        return flat if flat.shape[1] == self.dim else np.ascontiguousarray(flat[:, : self.dim])

    def encode(self, rows: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
        """Codes of shape (n, nsubq): each piece's nearest centroid (fastText's
        `compute_codes`; the first on ties).

        >>> pq = ProductQuantizer(3, 2, 2, 1, np.arange(3 * 256, dtype=np.float32))
        >>> pq.encode(np.array([[2.1, 2.9, 513.8]], np.float32)).tolist()
        [[1, 2]]
        """
        codes = np.empty((rows.shape[0], self.nsubq), dtype=np.uint8)
        for m in range(self.nsubq):
            width = self.lastdsub if m == self.nsubq - 1 else self.dsub
            piece = np.ascontiguousarray(rows[:, m * self.dsub : m * self.dsub + width])
            codes[:, m] = assign(piece, self._table[m, :, :width])
        return codes


@dataclass(frozen=True, eq=False)
class QuantizedMatrix:
    """A matrix of `codes.shape[0]` rows stored as product-quantizer codes, each row
    optionally scaled by a quantized norm (fastText's `qnorm`: rows were divided by their L2
    norm before quantizing, and the norm quantized on its own by a 1-number quantizer)."""

    quantizer: ProductQuantizer
    codes: npt.NDArray[np.uint8]  # (rows, nsubq)
    norm_quantizer: ProductQuantizer | None = None
    norm_codes: npt.NDArray[np.uint8] | None = None  # (rows,)

    def __post_init__(self) -> None:
        if self.codes.ndim != 2 or self.codes.shape[1] != self.quantizer.nsubq:
            raise ValueError(f"codes must have shape (rows, {self.quantizer.nsubq})")
        if (self.norm_quantizer is None) != (self.norm_codes is None):
            raise ValueError("norm codes and their quantizer go together")
        if self.norm_quantizer is not None and self.norm_quantizer.dim != 1:
            raise ValueError("the norm quantizer must have dim 1")
        if self.norm_codes is not None and self.norm_codes.shape != self.codes.shape[:1]:
            raise ValueError("there must be one norm code per row")

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape[0], self.quantizer.dim

    @property
    def dtype(self) -> np.dtype[np.float32]:
        """What the decoded rows are, as a dense matrix's `dtype`."""
        return np.dtype(np.float32)

    def __getitem__(self, ids: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Decoded rows, as a dense matrix's `matrix[ids]` (one id: one row)."""
        index = np.asarray(ids, dtype=np.int64)
        return self.rows(index.reshape(-1)).reshape(*index.shape, self.quantizer.dim)

    def __array__(
        self, dtype: npt.DTypeLike | None = None, copy: bool | None = None
    ) -> npt.NDArray[Any]:
        """The whole matrix decoded, for code that asks numpy for an array of it."""
        return self.decode_all().astype(dtype or np.float32, copy=False)

    def weighted_rows(self, weights: sp.csr_array) -> npt.NDArray[np.float32]:
        """`weights @ matrix`, decoding only the rows `weights` uses (fastText adds the
        decoded rows of a line's features into its hidden vector)."""
        used, columns = np.unique(weights.indices, return_inverse=True)
        compact = sp.csr_array(
            (weights.data, columns.reshape(-1), weights.indptr),
            shape=(weights.shape[0], used.size),
        )
        return np.asarray(compact @ self.rows(used), dtype=np.float32)

    def rows(self, ids: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """The decoded rows `ids` (float32, shape (len(ids), dim)), as fastText adds them
        into a hidden vector: the centroids, times the row's decoded norm when there is one.

        >>> pq = ProductQuantizer(2, 1, 2, 2, np.arange(512, dtype=np.float32))
        >>> norms = ProductQuantizer(1, 1, 1, 1, np.arange(256, dtype=np.float32))
        >>> codes, norm_codes = np.array([[1], [2]], np.uint8), np.array([3, 0], np.uint8)
        >>> m = QuantizedMatrix(pq, codes, norms, norm_codes)
        >>> m.rows([1, 0]).tolist()
        [[0.0, 0.0], [6.0, 9.0]]
        """
        index = np.asarray(ids, dtype=np.int64)
        if index.ndim != 1:
            raise ValueError("ids must be one-dimensional")
        decoded = self.quantizer.decode(self.codes[index])
        if self.norm_quantizer is not None and self.norm_codes is not None:
            norms = self.norm_quantizer.decode(self.norm_codes[index, None])
            decoded *= norms
        return decoded

    def take(self, ids: npt.ArrayLike) -> QuantizedMatrix:
        """The rows `ids`, still as codes (sharing the quantizers)."""
        index = np.asarray(ids, dtype=np.int64)
        norm_codes = None if self.norm_codes is None else self.norm_codes[index]
        return QuantizedMatrix(self.quantizer, self.codes[index], self.norm_quantizer, norm_codes)

    def decode_all(self) -> npt.NDArray[np.float32]:
        """The whole matrix decoded (rows * dim float32s)."""
        return self.rows(np.arange(self.codes.shape[0]))
