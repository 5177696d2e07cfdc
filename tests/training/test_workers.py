"""Work in forked processes: shared arrays, failures, and reading a file in parts."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from fasttext_lite import (
    DataError,
    FastTextClassifier,
    ParameterError,
    TrainingError,
)
from fasttext_lite.text.lines import line_spans, read_batches
from fasttext_lite.text.scan import Scan
from fasttext_lite.training import workers
from fasttext_lite.training.corpus import _scan_in_parts


def _fails(index: int) -> None:
    if index == 1:
        raise ValueError("worker one broke")
    time.sleep(60)  # the healthy worker: stopped by the parent, not waited for


def test_a_failing_worker_stops_the_others_and_raises_its_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forked: list[int] = []
    fork = os.fork

    def recording() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording)
    started = time.monotonic()
    with pytest.raises(TrainingError, match=r"ValueError: worker one broke"):
        workers.run(_fails, 2)
    assert time.monotonic() - started < 10
    assert len(forked) == 2
    for pid in forked:  # every worker was reaped (other tests' children may still run)
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _out_of_memory(index: int) -> None:
    raise MemoryError


def _killed(index: int) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_out_of_memory_is_out_of_memory_here() -> None:
    with pytest.raises(MemoryError):
        workers.run(_out_of_memory, 1)


def test_a_killed_worker_is_reported_with_its_signal() -> None:
    with pytest.raises(TrainingError, match="killed by SIGKILL.*try fewer --thread"):
        workers.run(_killed, 1)


def test_workers_see_and_update_shared_arrays() -> None:
    counts = workers.shared(np.zeros(3))

    def work(index: int) -> None:
        counts[index] += index + 1

    workers.run(work, 3)
    assert counts.tolist() == [1.0, 2.0, 3.0]


def test_workers_holding_the_lock_take_turns() -> None:
    """Each worker reads the shared total, yields the CPU, and writes it back plus one: any
    two of these overlapping would lose an increment."""
    total = workers.shared(np.zeros(1))
    lock = workers.lock()
    increments = 200

    def work(index: int) -> None:
        for _ in range(increments):
            with lock:
                seen = total[0]
                time.sleep(0)
                total[0] = seen + 1

    workers.run(work, 3)
    assert total[0] == 3 * increments


def _bad_data(index: int) -> None:
    raise DataError("x.txt: no line has a label")


def test_a_workers_ftl_error_is_raised_as_itself() -> None:
    with pytest.raises(DataError, match="^x.txt: no line has a label$"):
        workers.run(_bad_data, 2)


CORNERS = b"\r\n\n__label__x\nnul\x00in words\r\nlast words __label__y"  # no final newline


@pytest.mark.parametrize(
    ("head", "parts"), [(True, 1), (True, 2), (True, 3), (True, 7), (False, 9)]
)
def test_scanning_a_file_in_parts_equals_one_pass(
    support_train: Path, tmp_path: Path, head: bool, parts: int
) -> None:
    """Cuts land after CRLF, blank and label-only lines; more parts than lines leaves some
    parts empty."""
    path = tmp_path / "corpus.txt"
    path.write_bytes((support_train.read_bytes() if head else b"") + CORNERS)
    spans = line_spans(path, parts)
    assert spans is not None and len(spans) == parts
    whole = Scan(b"__label__")
    for lines in read_batches(path):
        whole.add_lines(lines)
    split = _scan_in_parts(path, spans, (b"__label__", b"__weight__"))
    for mine, theirs in ((split.words, whole.words), (split.labels, whole.labels)):
        assert mine.keys == theirs.keys
        np.testing.assert_array_equal(mine.occurrences, theirs.occurrences)
        np.testing.assert_array_equal(mine.lengths, theirs.lengths)


def test_an_empty_file_in_parts_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    spans = line_spans(path, 3)
    assert spans == [(0, 0)] * 3
    assert _scan_in_parts(path, spans, (b"__label__", b"__weight__")).nlines == 0


def test_only_regular_files_are_read_in_parts(tmp_path: Path) -> None:
    assert line_spans("-", 2) is None
    assert line_spans(tmp_path, 2) is None
    assert line_spans(tmp_path / "missing", 2) is None


def test_more_than_one_thread_needs_fork(
    support_train: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained = FastTextClassifier(thread=2, epoch=1).fit_file(support_train)
    trained.save(tmp_path / "m.ftl")
    monkeypatch.setattr(workers, "available", lambda: False)
    with pytest.raises(ParameterError, match="thread: must be 1 on this platform"):
        FastTextClassifier(thread=2).fit_file(support_train)
    FastTextClassifier(thread=1, epoch=1).fit_file(support_train)  # one thread needs no fork
    assert FastTextClassifier.load(tmp_path / "m.ftl").thread == 2  # and loads anywhere
