"""Prediction and evaluation in several processes: the same output, in the input's order."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fasttext_lite import DataError, FastTextClassifier, evaluate
from fasttext_lite.cli import cli
from fasttext_lite.parallel import ordered_map


def _square_with_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_ordered_map_keeps_the_order_and_uses_the_workers() -> None:
    results = list(ordered_map(_square_with_pid, range(200), 2))
    assert [value for value, _ in results] == [x * x for x in range(200)]
    assert os.getpid() not in {pid for _, pid in results}


def test_ordered_map_in_one_process_is_plain_map() -> None:
    assert [v for v, pid in ordered_map(_square_with_pid, range(5), 1)] == [0, 1, 4, 9, 16]
    assert {pid for _, pid in ordered_map(_square_with_pid, range(5), 1)} == {os.getpid()}


def test_ordered_map_reads_its_input_only_a_little_ahead() -> None:
    read = 0

    def items() -> Iterator[int]:
        nonlocal read
        for x in range(1000):
            read += 1
            yield x

    for position, _ in enumerate(ordered_map(_square_with_pid, items(), 2)):
        assert read <= position + 1 + 2 * 2  # two in flight per worker


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise DataError("three is bad")
    return x


def test_a_workers_error_is_raised_here() -> None:
    with pytest.raises(DataError, match="three is bad"):
        list(ordered_map(_fail_on_three, range(10), 2))


@pytest.fixture(scope="module")
def many_lines(tmp_path_factory: pytest.TempPathFactory, support_train: Path) -> Path:
    path = tmp_path_factory.mktemp("many") / "lines.txt"
    path.write_bytes(support_train.read_bytes() * 30)  # 12,000 lines: several batches
    return path


@pytest.mark.parametrize("options", [[], ["-k", "3", "--probs"], ["--json"]])
def test_predict_with_threads_prints_what_one_process_prints(
    model_path: Path, many_lines: Path, options: list[str]
) -> None:
    runner = CliRunner()
    one = runner.invoke(cli, ["predict", "-m", str(model_path), str(many_lines), *options])
    two = runner.invoke(
        cli, ["predict", "-m", str(model_path), str(many_lines), "--thread", "2", *options]
    )
    piped = runner.invoke(
        cli,
        ["predict", "-m", str(model_path), "--thread", "2", *options],
        input=many_lines.read_bytes(),
    )
    assert one.exit_code == two.exit_code == piped.exit_code == 0
    assert one.stdout_bytes.count(b"\n") == 12_000
    assert two.stdout_bytes == one.stdout_bytes == piped.stdout_bytes


def test_evaluate_with_threads_counts_what_one_process_counts(
    trained: FastTextClassifier, many_lines: Path
) -> None:
    one = evaluate(trained, many_lines, k=2)
    two = evaluate(trained, many_lines, k=2, threads=2)
    assert two == one and one.examples == 12_000


def test_workers_reading_a_file_in_small_spans_print_what_one_process_prints(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fasttext_lite.cli import predict

    monkeypatch.setattr(predict, "_SPAN_BYTES", 300)  # dozens of spans, cut mid-file
    path = tmp_path / "lines.txt"
    path.write_bytes(b"\n".join([b"where is my parcel", b"", b"refund  please"] * 200 + [b"end"]))
    runner = CliRunner()
    one = runner.invoke(cli, ["predict", "-m", str(model_path), str(path), "-k", "2"])
    two = runner.invoke(
        cli, ["predict", "-m", str(model_path), str(path), "-k", "2", "--thread", "2"]
    )
    assert one.exit_code == two.exit_code == 0
    assert one.stdout_bytes.count(b"\n") == 601
    assert two.stdout_bytes == one.stdout_bytes
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    nothing = runner.invoke(cli, ["predict", "-m", str(model_path), str(empty), "--thread", "2"])
    assert nothing.exit_code == 0 and nothing.stdout_bytes == b""
