"""Work split among forked processes: fastText's threads, for Python.

fastText reads and trains with several threads; in Python, threads would serialize on the
interpreter lock, so the workers here are workers. Forked, they see the parent's data
without copying it; what they update together (the model, their counters) lives in shared
mappings (`shared`), and what they must not do at the same moment takes a `lock`. The parent
waits for them, polling for the progress bar, and re-raises a worker's `FtlError` (or reports
any other failure) as its own, after stopping the others.

Needs `os.fork` (Linux, macOS).
"""

from __future__ import annotations

import ctypes
import gc
import mmap
import os
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from fasttext_lite import errors

if TYPE_CHECKING:
    from multiprocessing.synchronize import Lock

# How often the parent looks at its workers (and updates the progress bar).
POLL_SECONDS = 0.05
_OK, _FAILED = 0, 1
_MESSAGE_BYTES = 4096
_PR_SET_PDEATHSIG = 1  # Linux's prctl option


def available() -> bool:
    return hasattr(os, "fork")


def shared(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A copy of `array` in memory that forked processes share (an anonymous shared mapping)."""
    buffer = mmap.mmap(-1, max(array.nbytes, 1))
    copy: npt.NDArray[Any] = np.frombuffer(buffer, dtype=array.dtype, count=array.size)
    copy = copy.reshape(array.shape)
    copy[...] = array
    return copy


def lock() -> Lock:
    """A lock that the processes forked after it share (a semaphore in shared memory)."""
    # Imported here: multiprocessing costs 10 ms at start, and only training with workers
    # needs it.
    import multiprocessing

    return multiprocessing.get_context("fork").Lock()


def run(work: Callable[[int], None], workers: int, poll: Callable[[], None] = lambda: None) -> None:
    """Run `work(0)` ... `work(workers - 1)` each in its own forked process and wait for all,
    calling `poll()` every POLL_SECONDS meanwhile. A worker's `FtlError` (or MemoryError) is
    raised here, any other failure as a `TrainingError` naming it, after the other workers are
    stopped."""
    parent = os.getpid()
    reports: dict[int, int] = {}  # worker pid -> the pipe its failure is reported through
    # Keep the garbage collector off the objects the workers inherit: its visits write to
    # every object, which would copy each page of them into each worker.
    gc.freeze()
    with _reaped(reports):
        for index in range(workers):
            read_end, write_end = os.pipe()
            with warnings.catch_warnings():
                # Python 3.12+ warns that forking a multi-threaded process may deadlock: the
                # threads here are BLAS's idle pool, limited to one thread and re-created by
                # OpenBLAS's own fork handler, and no thread holds a lock the workers take
                # (theirs is a `lock` from this module, taken only by them).
                warnings.filterwarnings("ignore", ".*fork", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # the worker: never returns into the caller's code
                _work_and_exit(work, index, read_end, write_end, parent)
            os.close(write_end)
            reports[pid] = read_end
        while reports:
            time.sleep(POLL_SECONDS)
            poll()
            for pid in list(reports):
                done, status = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
                read_end = reports.pop(pid)
                report = os.read(read_end, _MESSAGE_BYTES).decode("utf-8", "replace")
                os.close(read_end)
                code = os.waitstatus_to_exitcode(status)
                if code < 0:
                    raise errors.TrainingError(
                        f"a worker process was killed by {signal.Signals(-code).name} (out of"
                        " memory?); try fewer --thread"
                    )
                if code != _OK:
                    raise _error(report)


@contextmanager
def _reaped(reports: dict[int, int]) -> Iterator[None]:
    """On any way out (an error, Ctrl-C), stop and reap the workers still running."""
    try:
        yield
    finally:
        gc.unfreeze()
        for pid, read_end in reports.items():
            os.close(read_end)
            with suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _error(report: str) -> BaseException:
    """The exception a worker reported as `ClassName: message`."""
    name, _, message = report.partition(": ")
    if name == "MemoryError":
        return MemoryError()
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, errors.FtlError) and message:
        try:
            return kind(message)
        except TypeError:  # an error class with other arguments (ParameterError)
            pass
    return errors.TrainingError(f"a worker process failed ({report or 'no report'})")


def _work_and_exit(
    work: Callable[[int], None], index: int, unused: int, report: int, parent: int
) -> None:
    code = _FAILED
    try:
        os.close(unused)
        _die_with_parent(parent)
        work(index)
        code = _OK
    except KeyboardInterrupt:
        pass  # the parent got the same Ctrl-C and reports it
    except BaseException as error:  # noqa: BLE001 - reported to the parent, then exit
        os.write(report, f"{type(error).__name__}: {error}".encode()[:_MESSAGE_BYTES])
    finally:
        # Skip the parent's cleanup (atexit, buffered output): it is the parent's to do.
        os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Have Linux kill this worker when its parent dies, however it dies (elsewhere a worker
    of a killed parent finishes its share and exits)."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(_FAILED)
