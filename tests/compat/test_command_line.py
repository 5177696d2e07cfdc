"""`fasttext-compat` takes fastText's command lines and prints what fastText prints (the
layouts of fastText's `src/main.cc` and `meter.cc`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fasttext_lite import FastTextClassifier, evaluate
from fasttext_lite.formats.fasttext_bin import MAGIC

COMPAT = [sys.executable, "-c", "from fasttext_lite.compat.cli import main; main()"]


def compat(*args: object, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*COMPAT, *map(str, args)], input=stdin, capture_output=True, timeout=300)


def test_test_prints_n_and_three_significant_digits(
    model_path: Path, trained: FastTextClassifier, support_valid: Path
) -> None:
    done = compat("test", model_path, support_valid)
    assert done.returncode == 0, done.stderr
    result = evaluate(trained, support_valid)
    assert done.stdout.decode() == (
        f"N\t{result.examples}\nP@1\t{result.precision:.3g}\nR@1\t{result.recall:.3g}\n"
    )
    k2 = compat("test", model_path, support_valid, 2).stdout.decode().splitlines()
    assert k2[1].startswith("P@2\t") and k2[2].startswith("R@2\t")


def test_test_label_prints_each_label_then_the_totals(
    model_path: Path, trained: FastTextClassifier, support_valid: Path
) -> None:
    lines = compat("test-label", model_path, support_valid).stdout.decode().splitlines()
    labels = trained.vocabulary_.labels
    assert len(lines) == len(labels) + 3
    pattern = re.compile(
        r"F1-Score : (\d\.\d{6}|-{8})  Precision : (\d\.\d{6}|-{8})  "
        r"Recall : (\d\.\d{6}|-{8})   __label__(\S+)"
    )
    assert [pattern.fullmatch(line).group(4) for line in lines[:-3]] == labels  # type: ignore[union-attr]
    assert re.fullmatch(r"P@1\t\d\.\d{3}", lines[-2]) and lines[-3] == "N\t100"


def test_predict_and_predict_prob_print_one_line_per_input_line(
    model_path: Path, trained: FastTextClassifier
) -> None:
    stdin = b"where is my parcel\n\nrefund my card\n"
    labels = compat("predict", model_path, "-", 2, stdin=stdin).stdout.decode().splitlines()
    expected = trained.top_k(["where is my parcel", "refund my card"], k=2)
    assert len(labels) == 3
    assert labels[0].split() == ["__label__" + p.label for p in expected[0]]
    assert len(labels[1].split()) == 2  # a blank line is predicted from `</s>`, as in fastText
    probs = compat("predict-prob", model_path, "-", 2, stdin=stdin).stdout.decode().splitlines()
    first = probs[0].split()
    assert first[0::2] == labels[0].split()
    assert [float(p) for p in first[1::2]] == pytest.approx(
        [p.probability for p in expected[0]], rel=1e-5
    )


def test_vectors_and_neighbours_print_as_fasttext(
    model_path: Path, trained: FastTextClassifier
) -> None:
    sentence = compat("print-sentence-vectors", model_path, stdin=b"where is my parcel\n")
    row = sentence.stdout.decode()
    assert row.endswith(" \n")  # fastText leaves a space after the last number
    np.testing.assert_allclose(
        [float(x) for x in row.split()],
        trained.sentence_vectors(["where is my parcel"])[0],
        rtol=1e-5,
        atol=1e-7,
    )
    words = compat("print-word-vectors", model_path, stdin=b"parcel refund\n").stdout.decode()
    assert [line.split()[0] for line in words.splitlines()] == ["parcel", "refund"]
    nn = compat("nn", model_path, 3, stdin=b"parcel\n").stdout.decode()
    assert nn.startswith("Query word? ") and nn.endswith("Query word? ")
    found = nn[len("Query word? ") : -len("Query word? ")].splitlines()
    assert [line.split()[0] for line in found] == [
        n.word for n in trained.neighbours(["parcel"], k=3)[0]
    ]


def test_dump_prints_args_and_the_dictionary(model_path: Path, trained: FastTextClassifier) -> None:
    args = dict(
        line.split(" ", 1)
        for line in compat("dump", model_path, "args").stdout.decode().splitlines()
    )
    assert args["dim"] == str(trained.dim) and args["wordNgrams"] == "2"
    lines = compat("dump", model_path, "dict").stdout.decode().splitlines()
    vocab = trained.vocabulary_
    assert lines[0] == str(len(vocab.words) + len(vocab.labels))
    assert lines[1] == f"{vocab.words[0]} {vocab.word_counts[0]} word"
    assert lines[-1].endswith(" label")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["supervised", "-input", "x.txt"], "empty input or output path"),
        (["supervised", "-input", "x.txt", "-output", "m", "-qnorm"], "-qnorm is not in ftl"),
        (["supervised", "-input", "x.txt", "-output", "m", "-lr"], "-lr is missing an argument"),
        (["supervised", "-nosuch", "1"], "unknown argument: -nosuch"),
        (["test", "missing.bin", "x.txt"], "missing.bin: no such model file"),
    ],
)
def test_bad_command_lines_are_one_line_errors(args: list[str], message: str) -> None:
    done = compat(*args)
    assert done.returncode == 1
    error = done.stderr.decode()
    assert error.startswith("Error: ") and message in error and error.count("\n") == 1


def test_no_command_prints_the_usage() -> None:
    done = compat()
    assert done.returncode == 1 and b"supervised" in done.stderr


def test_supervised_writes_a_model_and_its_vectors_that_the_other_commands_read(
    support_train: Path, support_valid: Path, tmp_path: Path
) -> None:
    output = tmp_path / "model"
    done = compat(
        "supervised", "-input", support_train, "-output", output, "-epoch", "10", "-lr", "0.5",
        "-dim", "8", "-verbose", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""  # results and notes: none for a written model
    assert (tmp_path / "model.bin").read_bytes()[:4] == MAGIC.to_bytes(4, "little")
    counts = (tmp_path / "model.vec").read_text().splitlines()
    assert counts[0].split() == [str(len(counts) - 1), "8"]
    tested = compat("test", f"{output}.bin", support_valid).stdout.decode().splitlines()
    assert tested[0] == "N\t100" and float(tested[1].split("\t")[1]) > 0.5


def test_supervised_with_a_model_size_writes_model_ftz_within_it(
    support_train: Path, support_valid: Path, tmp_path: Path
) -> None:
    """As fastText's `main.cc`: autotune with a model size writes MODEL.ftz, not MODEL.bin."""
    output = tmp_path / "model"
    done = compat(
        "supervised", "-input", support_train, "-output", output, "-dim", "10", "-epoch", "5",
        "-autotune-validation", support_valid, "-autotune-duration", "2",
        "-autotune-modelsize", "30K", "-verbose", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    ftz = tmp_path / "model.ftz"
    assert not (tmp_path / "model.bin").exists() and ftz.stat().st_size <= 30_000
    assert FastTextClassifier.load(ftz).model_.quantized is not None
    assert (tmp_path / "model.vec").exists()
