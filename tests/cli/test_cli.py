"""The `ftl` command as users run it: input scenarios, output formats, options, stdout/stderr.

Most tests use click's CliRunner; where a real stdin, pipe, exit status or terminal matters,
a subprocess of `python -m fasttext_lite`.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FTL, run

from fasttext_lite import FastTextClassifier, __version__, evaluate
from fasttext_lite.formats import container

# Lines for predict: ordinary, empty, whitespace only, labels only, unknown words, non-ASCII,
# invalid UTF-8, NUL, CRLF, and a last line without a newline.
AWKWARD = (
    b"my parcel never arrived\n"
    b"\n"
    b"I was charged twice\n"
    b" \t \n"
    b"__label__shipping\n"
    b"zzqx wvvk\n"
    b"caf\xc3\xa9 r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac\n"
    b"bad \xff\xfe bytes\n"
    b"nul\x00inside\r\n"
    b"my card was charged twice"
)
N_AWKWARD = AWKWARD.count(b"\n") + 1


def ftl(
    *args: str | Path, stdin: bytes | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*FTL, *map(str, args)], input=stdin, capture_output=True, cwd=cwd, timeout=timeout
    )


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("input") / "awkward.txt"
    path.write_bytes(AWKWARD)
    return path


# -- predict -----------------------------------------------------------------------------------


def test_predict_gives_the_same_output_for_argument_file_and_stdin(
    model_path: Path, awkward: Path
) -> None:
    """The same input as an argument, as `-` with stdin redirected from the file, and piped."""
    argument = ftl("predict", "-m", model_path, "-k", "2", "--probs", awkward)
    with awkward.open("rb") as handle:
        redirected = subprocess.run(
            [*FTL, "predict", "-m", str(model_path), "-k", "2", "--probs", "-"],
            stdin=handle,
            capture_output=True,
            timeout=60,
        )
    piped = ftl("predict", "-m", model_path, "-k", "2", "--probs", stdin=AWKWARD)
    in_process = run("predict", "-m", model_path, "-k", "2", "--probs", stdin=AWKWARD)
    assert argument.returncode == redirected.returncode == piped.returncode == 0
    assert argument.stderr == redirected.stderr == piped.stderr == b""
    assert argument.stdout == redirected.stdout == piped.stdout == in_process.stdout_bytes
    assert len(argument.stdout.splitlines()) == N_AWKWARD


def test_predict_keeps_one_line_per_input_line_in_order(model_path: Path, awkward: Path) -> None:
    result = run("predict", "-m", model_path, awkward)
    assert result.exit_code == 0, result.output
    lines = result.stdout_bytes.split(b"\n")
    assert lines[-1] == b"" and len(lines) - 1 == N_AWKWARD
    blank = [not line.split() for line in AWKWARD.replace(b"\0", b" ").split(b"\n")]
    assert [not line for line in lines[:-1]] == blank
    assert all(line.startswith(b"__label__") for line in lines[:-1] if line)
    clf = FastTextClassifier.load(model_path)
    expected = [p[0].label if p else None for p in clf.top_k(AWKWARD.split(b"\n"))]
    assert [line[len(b"__label__") :].decode() or None for line in lines[:-1]] == expected


def test_predict_probs_top_k_and_threshold(model_path: Path, awkward: Path) -> None:
    result = run("predict", "-m", model_path, "-k", "3", "--probs", awkward)
    assert result.exit_code == 0, result.output
    for line in result.stdout.splitlines():
        tokens = line.split()
        if not tokens:
            continue
        labels, probs = tokens[0::2], [float(p) for p in tokens[1::2]]
        assert len(labels) == 3 and all(x.startswith("__label__") for x in labels)
        assert probs == sorted(probs, reverse=True)
        assert all(0.0 <= p <= 1.0 for p in probs)
    high = run("predict", "-m", model_path, "-k", "5", "--threshold", "0.5", "--probs", awkward)
    assert high.exit_code == 0, high.output
    lines = high.stdout.splitlines()
    assert len(lines) == N_AWKWARD
    assert any(lines)  # the model is sure of some lines
    for line in lines:
        assert len(line.split()) <= 2  # at most one label can have probability >= 0.5
        assert all(float(p) >= 0.5 for p in line.split()[1::2])


def test_predict_probabilities_reach_one_and_never_exceed_it(
    model_path: Path, support_valid: Path, tmp_path: Path
) -> None:
    """A model sure of its answers (its output layer scaled up): most top probabilities are
    1, and none is printed above it."""
    header, arrays = container.load(model_path)
    sure = tmp_path / "sure.ftl"
    container.save(sure, header, {**arrays, "output": arrays["output"] * 100})
    result = run("predict", "-m", sure, "-k", "2", "--json", support_valid)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 100
    tops = [record["probabilities"][0] for record in records]
    assert max(tops) == 1.0 and tops.count(1.0) > 50
    assert all(0.0 <= p <= 1.0 for record in records for p in record["probabilities"])


def test_predict_json_writes_one_object_per_line(model_path: Path, awkward: Path) -> None:
    result = run("predict", "-m", model_path, "-k", "2", "--json", awkward)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == N_AWKWARD
    for record, line in zip(records, AWKWARD.replace(b"\0", b" ").split(b"\n"), strict=True):
        assert set(record) == {"labels", "probabilities"}
        expected = 2 if line.split() else 0  # a blank line: an object with no labels
        assert len(record["labels"]) == len(record["probabilities"]) == expected
        assert not any(label.startswith("__label__") for label in record["labels"])


def test_model_comes_from_ftl_model_then_model_ftl_in_the_cwd(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_option = run("predict", "-m", model_path, stdin=b"my parcel\n")
    assert by_option.exit_code == 0 and by_option.stdout.startswith("__label__")
    by_env = run("predict", stdin=b"my parcel\n", env={"FTL_MODEL": str(model_path)})
    assert by_env.exit_code == 0 and by_env.stdout == by_option.stdout
    monkeypatch.chdir(tmp_path)
    missing = run("predict", stdin=b"my parcel\n")
    assert missing.exit_code == 1 and "model.ftl: no such model file" in missing.stderr
    (tmp_path / "model.ftl").write_bytes(model_path.read_bytes())
    default = run("predict", stdin=b"my parcel\n")
    assert default.exit_code == 0 and default.stdout == by_option.stdout


def test_predict_answers_each_line_as_soon_as_it_arrives(model_path: Path) -> None:
    """A slow writer (a coprocess, `tail -f log | ftl predict`) gets each answer before it
    sends the next line; with stdout a pipe, Python's usual buffering, not PYTHONUNBUFFERED."""
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        [*FTL, "predict", "-m", str(model_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=buffered,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        for line in [b"my parcel is late\n", b"\n", b"charged twice\n", b"cannot log in\n"]:
            process.stdin.write(line)
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 30)
            assert ready, f"no answer to {line!r} within 30 s"
            answer = process.stdout.readline()
            assert answer.startswith(b"__label__") if line.strip() else answer == b"\n"
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0


def test_predict_into_head_exits_quietly(
    model_path: Path, support_train: Path, tmp_path: Path
) -> None:
    """The answers to a file of 20,000 lines overflow the pipe's buffer: head is gone before
    ftl has written them all."""
    corpus = tmp_path / "long.txt"
    corpus.write_bytes(support_train.read_bytes() * 50)
    pipeline = f"{' '.join(FTL)} predict -m {model_path} {corpus} | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", pipeline], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert done.stdout.count(b"\n") == 1


# -- train -------------------------------------------------------------------------------------


def test_train_from_stdin_equals_train_from_the_file(support_train: Path, tmp_path: Path) -> None:
    options = ["--epoch", "2", "--dim", "8", "--word-ngrams", "2", "--bucket", "1000"]
    from_file = run("train", support_train, "-o", tmp_path / "file.ftl", *options)
    from_stdin = run(
        "train", "-", "-o", tmp_path / "stdin.ftl", *options, stdin=support_train.read_bytes()
    )
    assert from_file.exit_code == from_stdin.exit_code == 0, from_stdin.output
    _, file_arrays = container.load(tmp_path / "file.ftl")
    _, stdin_arrays = container.load(tmp_path / "stdin.ftl")
    for name, array in file_arrays.items():
        assert array.tobytes() == stdin_arrays[name].tobytes()


def test_train_writes_model_ftl_in_the_cwd_and_nothing_to_stdout_or_stderr(
    support_train: Path, tmp_path: Path
) -> None:
    done = ftl("train", support_train, "--epoch", "1", "--dim", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"" and done.stderr == b""  # stderr is not a terminal here
    assert sorted(os.listdir(tmp_path)) == ["model.ftl"]
    FastTextClassifier.load(tmp_path / "model.ftl")


def test_train_shows_progress_and_a_summary_on_a_terminal_only(
    support_train: Path, tmp_path: Path
) -> None:
    """With stderr on a terminal there is a summary there (never on stdout); -q silences it."""
    outputs = []
    for quiet in ([], ["-q"]):
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [*FTL, "train", str(support_train), "--epoch", "1", "--dim", "5", *quiet],
            stdout=subprocess.PIPE,
            stderr=follower,
            cwd=tmp_path,
        )
        os.close(follower)
        seen = b""
        with contextlib.suppress(OSError):  # EIO once the process closes the terminal
            while chunk := os.read(leader, 4096):
                seen += chunk
        os.close(leader)
        stdout, _ = process.communicate(timeout=60)
        assert process.returncode == 0 and stdout == b""
        outputs.append(seen)
    assert b"Trained on 400 of 400 lines" in outputs[0] and b"wrote model.ftl" in outputs[0]
    assert outputs[1] == b""


# -- eval, info, version -------------------------------------------------------------------------


def test_eval_prints_fasttext_layout_and_agrees_with_the_library(
    model_path: Path, support_valid: Path
) -> None:
    result = run("eval", "-m", model_path, support_valid)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["N", "P@1", "R@1", "F1@1"]
    expected = evaluate(FastTextClassifier.load(model_path), support_valid)
    values = [float(line.split("\t")[1]) for line in lines]
    assert values[0] == expected.examples == 100
    assert values[1:] == [round(x, 3) for x in (expected.precision, expected.recall, expected.f1)]


def test_eval_json_per_label_and_k(model_path: Path, support_valid: Path) -> None:
    result = run("eval", "-m", model_path, "-k", "2", "--per-label", "--json", support_valid)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["n"] == 100 and record["k"] == 2
    assert 0 <= record["precision"] <= 1 and 0 <= record["recall"] <= 1
    labels = FastTextClassifier.load(model_path).classes_.tolist()
    assert [row["label"] for row in record["per_label"]] == labels
    assert {"precision", "recall", "f1", "support"} <= set(record["per_label"][0])
    table = run("eval", "-m", model_path, "--per-label", support_valid)
    assert table.exit_code == 0, table.output
    rows = table.stdout.splitlines()
    assert rows[5] == "label\tprecision\trecall\tf1\tsupport"
    assert len(rows) == 6 + len(labels)
    stdin = run("eval", "-m", model_path, "-", stdin=support_valid.read_bytes())
    from_file = run("eval", "-m", model_path, support_valid)
    assert stdin.exit_code == from_file.exit_code == 0, stdin.output
    assert stdin.stdout == from_file.stdout


def test_info_text_and_json(model_path: Path) -> None:
    text = run("info", model_path)
    assert text.exit_code == 0, text.output
    fields = dict(line.split("\t", 1) for line in text.stdout.splitlines())
    assert "ftl model format 1" in fields["file"] and fields["dim"] == "20"
    record = json.loads(run("info", "--json", model_path).stdout)
    assert record["labels"] == FastTextClassifier.load(model_path).classes_.tolist()
    assert record["word_ngrams"] == 2 and record["ftl_version"] == __version__
    by_env = run("info", env={"FTL_MODEL": str(model_path)})
    assert by_env.stdout == text.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout == f"ftl, version {__version__}\n"
    done = ftl("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == f"ftl, version {__version__}\n"


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "ftl"
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    done = subprocess.run([str(script), "--version"], capture_output=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith(b"ftl, version")
