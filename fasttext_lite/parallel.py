"""An ordered map over forked worker processes, for prediction and evaluation at scale.

The workers are forked after the model is loaded, so they share its pages (all of them, for a
memory-mapped model) instead of each reading a copy. At most two items per worker are in
flight, so memory stays bounded on an endless input, and results come back in input order.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# The function the forked workers call: set before they are forked, so they inherit it
# (closures over a model do not pickle, and need not).
_FUNCTION: Callable[[Any], Any] | None = None
_IN_FLIGHT_PER_WORKER = 2


def ordered_map(function: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`map(function, items)`, computed by `workers` forked processes (in this process for
    one), in order. Each item and result crosses a pipe: give items of some thousands of
    lines, not single lines."""
    if workers <= 1:
        yield from map(function, items)
        return
    global _FUNCTION
    _FUNCTION = function
    pending: deque[AsyncResult[R]] = deque()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for item in items:
            pending.append(pool.apply_async(_call, (item,)))
            while pending and (
                pending[0].ready() or len(pending) >= _IN_FLIGHT_PER_WORKER * workers
            ):
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _call(item: Any) -> Any:
    assert _FUNCTION is not None  # set before the fork
    return _FUNCTION(item)
