"""A batch's rows of a large matrix read and updated where they are, with no gathered copy.

Training subtracts, from each row of A a batch uses, its lines' gradients times averaging
weights and step sizes. Done with public numpy, that gathers the rows (`A[rows]`), subtracts and
scatters them back: three passes over megabytes of rows spread across A, which was a quarter of
training on long lines. scipy's sparse-times-dense kernel for a CSC matrix adds into the rows of
its output in place, so with A as that output the update is one pass over the rows it touches.
The kernel is not public API: without it, or for an array it cannot write in place, a numpy
equivalent is used. The hidden vectors are read the same way, by scipy's CSR kernel, which
also spares the construction of a scipy array (a tenth of a short-line batch's time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

_Kernel = Callable[..., Any]


def _kernel(name: str) -> _Kernel | None:
    try:
        from scipy.sparse import _sparsetools
    except ImportError:  # pragma: no cover - scipy moved its kernels
        return None
    kernel: _Kernel | None = getattr(_sparsetools, name, None)
    return kernel


_KERNEL = _kernel("csc_matvecs")
_SUM_KERNEL = _kernel("csr_matvecs")


def sum_rows(
    source: npt.NDArray[np.floating],
    indptr: npt.NDArray[np.integer],
    columns: npt.NDArray[np.integer],
    values: npt.NDArray[np.floating],
) -> npt.NDArray[np.floating]:
    """Line i's weighted sum of rows of `source`: the sum of `values[e] * source[columns[e]]`
    over its entries e (`indptr[i]:indptr[i + 1]`); shape (lines, source's columns).

    >>> sum_rows(np.array([[1.0, 2.0], [10.0, 20.0]]), np.array([0, 2, 2]),
    ...          np.array([0, 1]), np.array([0.5, 0.5])).tolist()
    [[5.5, 11.0], [0.0, 0.0]]
    """
    nlines = indptr.size - 1
    out = np.zeros((nlines, source.shape[1]), dtype=source.dtype)
    if _in_place(out, indptr, columns, values, out) and source.flags.c_contiguous:
        assert _SUM_KERNEL is not None
        # csr_matvecs(rows, columns, n_vecs, indptr, indices, data, x, y): y += M @ x.
        _SUM_KERNEL(
            nlines,
            source.shape[0],
            source.shape[1],
            indptr,
            columns,
            values.astype(source.dtype, copy=False),
            source.reshape(-1),
            out.reshape(-1),
        )
        return out
    owner = np.repeat(np.arange(nlines), np.diff(indptr))
    np.add.at(out, owner, values[:, None] * source[columns])
    return out


def subtract_rows(
    target: npt.NDArray[np.floating],
    indptr: npt.NDArray[np.integer],
    columns: npt.NDArray[np.integer],
    values: npt.NDArray[np.floating],
    vectors: npt.NDArray[np.floating],
) -> None:
    """For each line i and each of its entries e (`indptr[i]:indptr[i + 1]`, CSR-style),
    `target[columns[e]] -= values[e] * vectors[i]`, in place; repeated columns add up.

    >>> target = np.zeros((3, 2))
    >>> subtract_rows(target, np.array([0, 2, 3]), np.array([2, 0, 2]),
    ...               np.array([1.0, 0.5, 2.0]), np.array([[1.0, 2.0], [10.0, 20.0]]))
    >>> target.tolist()
    [[-0.5, -1.0], [0.0, 0.0], [-21.0, -42.0]]
    """
    nlines = indptr.size - 1
    if _in_place(target, indptr, columns, values, vectors):
        assert _KERNEL is not None
        vectors = np.ascontiguousarray(vectors, dtype=target.dtype)
        # csc_matvecs(rows, columns, n_vecs, indptr, indices, data, x, y): y += M @ x for the
        # CSC matrix M whose column i is line i; y = target, written in place.
        _KERNEL(
            target.shape[0],
            nlines,
            target.shape[1],
            indptr,
            columns,
            np.negative(values, dtype=target.dtype),
            vectors.ravel(),
            target.reshape(-1),
        )
        return
    owner = np.repeat(np.arange(nlines), np.diff(indptr))
    np.subtract.at(target, columns, values[:, None] * vectors[owner])


def _in_place(
    target: npt.NDArray[np.floating],
    indptr: npt.NDArray[np.integer],
    columns: npt.NDArray[np.integer],
    values: npt.NDArray[np.floating],
    vectors: npt.NDArray[np.floating],
) -> bool:
    """Whether the kernel can update `target` itself: a writable C-ordered 2-d array whose
    flat view is itself (not a copy), indices of one integer type, and values and vectors
    that need no conversion beyond `target`'s type."""
    return (
        _KERNEL is not None
        and _SUM_KERNEL is not None
        and target.ndim == 2
        and target.flags.c_contiguous
        and target.flags.writeable
        and target.dtype in (np.float32, np.float64)
        and indptr.dtype == columns.dtype
        and indptr.dtype in (np.int32, np.int64)
        and values.ndim == 1
        and vectors.ndim == 2
        and vectors.shape == (indptr.size - 1, target.shape[1])
    )
