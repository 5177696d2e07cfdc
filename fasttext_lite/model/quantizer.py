"""Training product quantizers: fastText's k-means (`src/productquantizer.cc`: `train`,
`kmeans`, `Estep`, `MStep`) and quantizing a matrix (`src/quantmatrix.cc`: `quantize`).

Follows fastText's algorithm: 256 centroids per piece, started from distinct random points,
25 iterations, at most 256 * 256 sampled points per piece, empty clusters refilled by
splitting a populated one. The numbers drawn come from a numpy `Generator`, not fastText's
`minstd_rand` seeded 1234, so the centroids are fastText's in kind, not bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.blas import single_blas_thread
from fasttext_lite.model.quantized import (
    CENTROIDS_PER_SUBQUANTIZER,
    ProductQuantizer,
    QuantizedMatrix,
    assign,
    split,
)

KSUB = CENTROIDS_PER_SUBQUANTIZER
# fastText's constants (`productquantizer.h`): k-means iterations, points sampled per
# centroid, and the nudge that separates a split cluster's two halves.
NITER = 25
MAX_POINTS_PER_CLUSTER = 256
MAX_POINTS = MAX_POINTS_PER_CLUSTER * KSUB
EPS = 1e-7

FloatArray = npt.NDArray[np.float32]


class TooFewRows(ValueError):
    """A matrix with fewer rows than a quantizer has centroids (fastText refuses it too)."""


class KMeans(NamedTuple):
    centroids: FloatArray  # (256, d)
    codes: npt.NDArray[np.uint8]  # each point's centroid


def kmeans(x: FloatArray, rng: np.random.Generator, *, niter: int = NITER) -> KMeans:
    """fastText's k-means of the rows of `x` (n >= 256) into 256 clusters."""
    n = x.shape[0]
    if n < KSUB:
        raise TooFewRows(f"{n} rows; quantizing needs at least {KSUB}")
    centroids = np.array(x[rng.permutation(n)[:KSUB]], dtype=np.float32)
    codes = None
    for _ in range(niter):
        previous, codes = codes, assign(x, centroids)
        if (
            previous is not None
            and np.array_equal(previous, codes)
            and np.bincount(codes, minlength=KSUB).all()
        ):
            # Converged: with no cluster empty (none draws a random number to be refilled),
            # the remaining iterations would compute these centroids again and again.
            break
        centroids = _mstep(x, codes, rng)
    assert codes is not None
    return KMeans(centroids, codes)


def _mstep(x: FloatArray, codes: npt.NDArray[np.uint8], rng: np.random.Generator) -> FloatArray:
    """Each cluster's mean; an empty cluster takes half of a populated one (fastText's
    `MStep`: a random walk over clusters picks one, likelier the more points it has)."""
    n, d = x.shape
    counts = np.bincount(codes, minlength=KSUB).astype(np.int64)
    sums = np.zeros((KSUB, d), dtype=np.float64)
    for j in range(d):  # a few columns: bincount is much faster than np.add.at
        sums[:, j] = np.bincount(codes, weights=x[:, j], minlength=KSUB)
    centroids = np.divide(sums, np.maximum(counts, 1)[:, None]).astype(np.float32)
    sign = (np.arange(d) % 2) * 2 - 1
    for k in np.flatnonzero(counts == 0).tolist():
        m = 0
        while rng.random() * (n - KSUB) >= counts[m] - 1:
            m = (m + 1) % KSUB
        centroids[k] = centroids[m] + sign * EPS
        centroids[m] -= sign * EPS
        counts[k] = counts[m] // 2
        counts[m] -= counts[k]
    return centroids


def train(x: FloatArray, dsub: int, rng: np.random.Generator) -> ProductQuantizer:
    """A product quantizer for rows like those of `x` (n >= 256): fastText's `train`, one
    k-means per piece of `dsub` columns, on at most 65536 rows sampled anew for each piece."""
    n, dim = x.shape
    if n < KSUB:
        raise TooFewRows(f"{n} rows; quantizing needs at least {KSUB}")
    nsubq, lastdsub = split(dim, dsub)
    pieces = []
    for m in range(nsubq):
        rows = rng.permutation(n)[:MAX_POINTS] if n > MAX_POINTS else slice(None)
        columns = slice(m * dsub, min((m + 1) * dsub, dim))
        sample = np.ascontiguousarray(x[rows, columns], dtype=np.float32)
        pieces.append(kmeans(sample, rng).centroids.ravel())
    return ProductQuantizer(dim, nsubq, dsub, lastdsub, np.concatenate(pieces))


def quantize(
    x: npt.NDArray[np.floating], dsub: int, rng: np.random.Generator, *, qnorm: bool = False
) -> QuantizedMatrix:
    """The rows of `x` as product-quantizer codes (fastText's `QuantMatrix` constructor).
    With `qnorm`, each row is divided by its L2 norm before quantizing, and the norms get
    a quantizer of their own."""
    # Thousands of small products (k = dsub + 1): BLAS threads only wait on each other, and
    # under contention they made k-means several times slower (see `single_blas_thread`).
    with single_blas_thread():
        return _quantize(x, dsub, rng, qnorm=qnorm)


def _quantize(
    x: npt.NDArray[np.floating], dsub: int, rng: np.random.Generator, *, qnorm: bool = False
) -> QuantizedMatrix:
    """The rows of `x` as product-quantizer codes (fastText's `QuantMatrix` constructor).
    With `qnorm`, each row is divided by its L2 norm before quantizing, and the norms get
    a quantizer of their own."""
    rows = np.array(x, dtype=np.float32)
    norm_quantizer, norm_codes = None, None
    if qnorm:
        norms = np.linalg.norm(rows, axis=1).astype(np.float32)
        # fastText divides by the norm as it is; a zero row stays zero rather than NaN.
        rows /= np.where(norms > 0, norms, 1)[:, None]
        norm_quantizer = train(norms[:, None], 1, rng)
        norm_codes = norm_quantizer.encode(norms[:, None])[:, 0]
    quantizer = train(rows, dsub, rng)
    return QuantizedMatrix(quantizer, quantizer.encode(rows), norm_quantizer, norm_codes)
