"""Running training in forked processes that share the model, as fastText's threads do.

fastText trains with several threads updating A and B without locks (Hogwild: updates of
sparse models rarely collide, and a collision costs a little accuracy, not correctness). In
Python, threads would serialize on the interpreter lock, so the workers here are processes:
forked, they see the training data without copying it, and A and B live in a shared mapping.
Workers report through a shared array of counters; the parent waits, polls them for the
progress bar, and turns a worker's failure into one `TrainingError`.

Needs `os.fork` (Linux, macOS). With more than one worker, runs are not reproducible: which
update lands first depends on timing, as in fastText.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import numpy as np
import numpy.typing as npt

from fasttext_lite.errors import TrainingError

# How often the parent looks at its workers and updates the progress bar.
POLL_SECONDS = 0.1
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


@contextmanager
def _reaped(pids: list[int]) -> Iterator[None]:
    """On any way out (an error, Ctrl-C), stop and reap the workers still running."""
    try:
        yield
    finally:
        for pid in pids:
            with suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def run(work: Callable[[int], None], workers: int, poll: Callable[[], None]) -> None:
    """Run `work(0)` ... `work(workers - 1)` each in its own forked process and wait for all;
    call `poll()` every POLL_SECONDS meanwhile. A worker's exception is raised here as a
    `TrainingError` with its message, after the other workers are stopped."""
    parent = os.getpid()
    pids: list[int] = []
    pipes: dict[int, int] = {}
    with _reaped(pids):
        for index in range(workers):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: never returns into the caller's code
                os.close(read_end)
                _work_and_exit(work, index, write_end, parent)
            os.close(write_end)
            pids.append(pid)
            pipes[pid] = read_end
        while pids:
            time.sleep(POLL_SECONDS)
            poll()
            for pid in list(pids):
                done, status = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
                pids.remove(pid)
                message = os.read(pipes[pid], _MESSAGE_BYTES).decode("utf-8", "replace")
                os.close(pipes.pop(pid))
                if os.waitstatus_to_exitcode(status) != _OK:
                    raise TrainingError(message or "a training process was killed")
        poll()


def _work_and_exit(work: Callable[[int], None], index: int, report: int, parent: int) -> None:
    code = _FAILED
    try:
        _die_with_parent(parent)
        work(index)
        code = _OK
    except TrainingError as error:
        os.write(report, str(error).encode()[:_MESSAGE_BYTES])
    except KeyboardInterrupt:
        pass  # the parent got the same Ctrl-C and reports it
    except BaseException as error:  # noqa: BLE001 - reported to the parent, then exit
        text = f"a training process failed ({type(error).__name__}: {error})"
        os.write(report, text.encode()[:_MESSAGE_BYTES])
    finally:
        # Skip the parent's cleanup (atexit, buffered output): it is the parent's to do.
        os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Have Linux kill this worker when its parent dies, however it dies (elsewhere a worker
    killed parent's orphan finishes its share and exits)."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(_FAILED)
