"""numpy's BLAS on one thread for the small products of training and prediction."""

from __future__ import annotations

import functools

from threadpoolctl import ThreadpoolController, threadpool_limits


@functools.cache
def _blas() -> ThreadpoolController:
    # Finding the loaded BLAS libraries takes a millisecond: once per process is enough.
    return ThreadpoolController()


def single_blas_thread() -> threadpool_limits:
    """Run numpy's BLAS on one thread: the products here are small, a second thread gains
    little on them, and when another process competes for the cores, waiting BLAS threads
    made training 8x slower."""
    return _blas().limit(limits=1, user_api="blas")
