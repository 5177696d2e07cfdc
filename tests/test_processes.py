"""Work in forked processes: shared arrays, failures, and reading a file in parts."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from fasttext_lite import DataError, TrainingError, processes
from fasttext_lite.classifier import _scan_in_parts
from fasttext_lite.data import line_spans, read_batches
from fasttext_lite.vocab import Scan


def _fails(index: int) -> None:
    if index == 1:
        raise ValueError("worker one broke")
    time.sleep(60)  # the healthy worker: stopped by the parent, not waited for


def test_a_failing_worker_stops_the_others_and_raises_its_message() -> None:
    started = time.monotonic()
    with pytest.raises(TrainingError, match=r"ValueError: worker one broke"):
        processes.run(_fails, 2)
    assert time.monotonic() - started < 10


def test_workers_see_and_update_shared_arrays() -> None:
    counts = processes.shared(np.zeros(3))

    def work(index: int) -> None:
        counts[index] += index + 1

    processes.run(work, 3)
    assert counts.tolist() == [1.0, 2.0, 3.0]


def _bad_data(index: int) -> None:
    raise DataError("x.txt: no line has a label")


def test_a_workers_ftl_error_is_raised_as_itself() -> None:
    with pytest.raises(DataError, match="^x.txt: no line has a label$"):
        processes.run(_bad_data, 2)


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_scanning_a_file_in_parts_equals_one_pass(
    support_train: Path, tmp_path: Path, parts: int
) -> None:
    # No final newline, a blank line and a label-only line, to test the cuts.
    path = tmp_path / "corpus.txt"
    path.write_bytes(support_train.read_bytes() + b"\n__label__x\nlast words __label__y")
    spans = line_spans(path, parts)
    assert spans is not None and len(spans) == parts
    whole = Scan(b"__label__")
    for lines in read_batches(path):
        whole.add_lines(lines)
    split = _scan_in_parts(path, spans, b"__label__")
    for mine, theirs in ((split.words, whole.words), (split.labels, whole.labels)):
        assert mine.keys == theirs.keys
        np.testing.assert_array_equal(mine.occurrences, theirs.occurrences)
        np.testing.assert_array_equal(mine.lengths, theirs.lengths)


def test_only_regular_files_are_read_in_parts(tmp_path: Path) -> None:
    assert line_spans("-", 2) is None
    assert line_spans(tmp_path, 2) is None
    assert line_spans(tmp_path / "missing", 2) is None
