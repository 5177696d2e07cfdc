"""Never a traceback, never a lost model: every failure through the CLI is one clear line on
stderr and a non-zero exit, awkward input simply works, and faults leave earlier models intact.

CliRunner where only the message matters; real subprocesses where exit status, signals, pipes
or file-system faults do.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import shutil
import signal
import struct
import subprocess
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest
from click.testing import Result
from helpers import FTL, RewriteHeader, run

from fasttext_lite import FastTextClassifier, ModelFileError
from fasttext_lite.formats import container


def assert_fails_cleanly(result: Result, *fragments: str, code: int = 1) -> None:
    """One line on stderr, naming what went wrong; nothing on stdout; no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def assert_process_fails_cleanly(
    done: subprocess.CompletedProcess[bytes], *fragments: str, code: int = 1
) -> None:
    assert done.returncode == code, done.stderr
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr.decode(), done.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


@pytest.fixture
def earlier(model_path: Path, tmp_path: Path) -> Path:
    """An existing model at the output path, which a failed run must leave as it was."""
    path = tmp_path / "out.ftl"
    shutil.copyfile(model_path, path)
    return path


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 generated lines: read in a moment, trained on for minutes at 5000 epochs."""
    rng = np.random.default_rng(7)
    words = np.array([f"w{i}" for i in range(3000)])
    path = tmp_path_factory.mktemp("big") / "big.train"
    with path.open("w") as out:
        for label, length in zip(
            rng.integers(0, 10, 20_000), rng.integers(5, 30, 20_000), strict=True
        ):
            text = " ".join(words[rng.zipf(1.3, length) % 3000])
            out.write(f"__label__c{label} {text} topic{label}\n")
    return path


# -- bad input files ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "predict", "eval"])
def test_missing_input_file(command: str, model_path: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    args: list[str | Path] = (
        ["-o", tmp_path / "m.ftl"] if command == "train" else ["-m", model_path]
    )
    assert_fails_cleanly(run(command, missing, *args), f"{missing}: no such file")


@pytest.mark.parametrize("command", ["train", "predict", "eval"])
def test_directory_as_input(command: str, model_path: Path, tmp_path: Path) -> None:
    args: list[str | Path] = (
        ["-o", tmp_path / "m.ftl"] if command == "train" else ["-m", model_path]
    )
    assert_fails_cleanly(run(command, tmp_path, *args), f"{tmp_path}: is a directory")


def _without_root_override() -> list[str]:
    """A command prefix under which chmod is obeyed. As root, permission checks are skipped
    unless the capability to override them is dropped, which `setpriv` does for the child."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, and no setpriv to drop the file-permission override")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_unreadable_corpus_and_model(support_train: Path, model_path: Path, tmp_path: Path) -> None:
    corpus, model = tmp_path / "secret.train", tmp_path / "secret.ftl"
    shutil.copyfile(support_train, corpus)
    shutil.copyfile(model_path, model)
    corpus.chmod(0)
    model.chmod(0)
    prefix = _without_root_override()
    for args, fragment in [
        (["train", str(corpus), "-o", str(tmp_path / "m.ftl")], f"{corpus}: permission denied"),
        (["predict", "-m", str(model), str(support_train)], f"{model}: permission denied"),
        (["info", str(model)], f"{model}: permission denied"),
    ]:
        done = subprocess.run([*prefix, *FTL, *args], capture_output=True, timeout=60)
        assert_process_fails_cleanly(done, fragment)
    assert listing(tmp_path) == ["secret.ftl", "secret.train"]


def test_read_only_output_directory_fails_before_training(tmp_path: Path) -> None:
    """Checked before the corpus is even read: an empty corpus, which could not train, is
    not what the message is about."""
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    corpus = tmp_path / "empty.train"
    corpus.write_bytes(b"")
    done = subprocess.run(
        [*_without_root_override(), *FTL, "train", str(corpus), "-o", str(locked / "m")],
        capture_output=True,
        timeout=60,
    )
    assert_process_fails_cleanly(done, f"directory {locked} is not writable")
    assert listing(locked) == []


def test_read_error_midway(tmp_path: Path) -> None:
    """Opening /proc/self/mem works; reading its first page fails with EIO."""
    done = subprocess.run(
        [*FTL, "train", "/proc/self/mem", "-o", str(tmp_path / "m.ftl")],
        capture_output=True,
        timeout=60,
    )
    assert_process_fails_cleanly(done, "/proc/self/mem: read failed (Input/output error)")


@pytest.mark.parametrize(
    ("content", "options", "fragments"),
    [
        (b"", [], ["empty.train: is empty"]),
        (b"\n\n  \n", [], ["empty.train: no line has a label", "__label__"]),
        (b"no labels here\nnor here\n", [], ["empty.train: no line has a label"]),
        (b"__label__a x\n__label__b y\n", ["--min-count", "9"], ["--min-count", "lower it"]),
        (b"__label__a x\n__label__b y\n", ["--min-count-label", "9"], ["--min-count-label"]),
        (b"__label__a x\n__label__a y\n", [], ["empty.train", "a classifier needs at least two"]),
        (b"__label__a x\n", ["--label-prefix", "#"], ["empty.train: no line has a label", "'#'"]),
    ],
    ids=["empty", "blank", "no-label", "min-count", "min-count-label", "one-label", "prefix"],
)
def test_corpora_that_cannot_train(
    tmp_path: Path, content: bytes, options: list[str], fragments: list[str]
) -> None:
    corpus = tmp_path / "empty.train"
    corpus.write_bytes(content)
    result = run("train", corpus, "-o", tmp_path / "m.ftl", *options)
    assert_fails_cleanly(result, *fragments)
    assert "lower it" in result.stderr or "min-count" not in " ".join(options)
    assert listing(tmp_path) == ["empty.train"]


def test_one_label_left_by_pruning_says_which_option_to_lower(tmp_path: Path) -> None:
    corpus = tmp_path / "two.train"
    corpus.write_bytes(b"__label__a x\n__label__a y\n__label__b z\n")
    result = run("train", corpus, "-o", tmp_path / "m.ftl", "--min-count-label", "2")
    assert_fails_cleanly(result, f"{corpus}", "--min-count-label", "lower")


@pytest.mark.parametrize("option", ["--min-count", "--min-count-label"])
def test_pruning_everything_names_the_corpus(option: str, tmp_path: Path) -> None:
    corpus = tmp_path / "small.train"
    corpus.write_bytes(b"__label__a x\n__label__b y\n")
    assert_fails_cleanly(run("train", corpus, "-o", tmp_path / "m.ftl", option, "9"), str(corpus))


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--dim", "0"], "invalid value for --dim: must be a positive integer, got 0"),
        (["--lr", "-1"], "invalid value for --lr: must be a positive number, got -1.0"),
        (["--lr", "nan"], "invalid value for --lr"),
        (["--epoch", "0"], "invalid value for --epoch"),
        (["--word-ngrams", "0"], "invalid value for --word-ngrams"),
        (["--minn", "5", "--maxn", "3"], "invalid value for --minn: must not exceed maxn (3)"),
        (["--bucket", "-1"], "invalid value for --bucket"),
        (["--min-count", "-1"], "invalid value for --min-count"),
        (["--batch-size", "-1"], "invalid value for --batch-size"),
        (["--thread", "0"], "invalid value for --thread: must be a positive integer, got 0"),
        (["--label-prefix", ""], "invalid value for --label-prefix"),
    ],
)
def test_invalid_training_options(
    options: list[str], fragment: str, support_train: Path, tmp_path: Path
) -> None:
    assert_fails_cleanly(run("train", support_train, "-o", tmp_path / "m.ftl", *options), fragment)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("command", ["predict", "eval"])
@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["-k", "0"], "invalid value for -k: must be a positive integer or -1 (all), got 0"),
        (["--threshold", "2"], "invalid value for --threshold: must be between 0 and 1, got 2"),
        (["--threshold", "-0.1"], "invalid value for --threshold"),
    ],
)
def test_invalid_prediction_options(
    command: str, options: list[str], fragment: str, model_path: Path, support_valid: Path
) -> None:
    assert_fails_cleanly(run(command, "-m", model_path, *options, support_valid), fragment)
    # Checked before reading any input, even on an empty one.
    assert_fails_cleanly(run(command, "-m", model_path, *options, "-", stdin=b""), fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["train", "x", "--dim", "abc"], "Invalid value for '--dim'"),
        (["train"], "Missing argument 'CORPUS'"),
        (["trian"], "No such command 'trian'"),
        (["predict", "--bogus"], "No such option '--bogus'"),
        (["--bogus"], "No such option '--bogus'"),
        (["train", "x", "--loss", "nope"], "Invalid value for '--loss'"),
    ],
)
def test_usage_errors_are_one_line_too(args: list[str], fragment: str) -> None:
    result = run(*args)
    assert_fails_cleanly(result, fragment, "See 'ftl", "--help'.", code=2)


# -- model paths that are not models -----------------------------------------------------------


def _bad_models(model: Path, directory: Path, rewrite: RewriteHeader) -> dict[str, Path]:
    data = model.read_bytes()
    files = {
        "text": b"__label__a some text\n",
        "empty": b"",
        "truncated": data[: len(data) // 2],
        "flipped": data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:],
        "fasttext-bin": struct.pack("<ii", 793712314, 12) + bytes(64),
        "trailing": data + b"\0",
    }
    paths = {name: directory / f"{name}.ftl" for name in files}
    for name, content in files.items():
        paths[name].write_bytes(content)

    def newer(header: dict[str, Any]) -> None:
        header["format_version"] = 99

    def shape(header: dict[str, Any]) -> None:
        header["arrays"]["output"]["shape"] = [3, 20]

    def huge(header: dict[str, Any]) -> None:
        header["arrays"]["input"].update(shape=[2**15, 2**15], nbytes=2**32)

    for name, edit in [("newer", newer), ("shape", shape), ("huge", huge)]:
        paths[name] = rewrite(model, directory / f"{name}.ftl", edit)
    paths["directory"] = directory
    paths["missing"] = directory / "missing.ftl"
    return paths


BAD_MODELS = {
    "text": "is not a fasttext_lite model",
    "empty": "is empty, not a model",
    "truncated": "truncated",
    "flipped": "fails its checksum (the file is corrupt)",
    "fasttext-bin": "not a valid fastText model: loss 0 is not one of fastText's",
    "newer": "written in model format 99 by a newer fasttext_lite",
    "trailing": "1 unexpected bytes at its end",
    "shape": "bytes do not match shape [3, 20]",
    "huge": "lies outside its place in the file",
    "directory": "is a directory",
    "missing": "no such model file; train one with `ftl train`",
}


@pytest.mark.parametrize("kind", sorted(BAD_MODELS))
def test_model_paths_that_are_not_models(
    kind: str, model_path: Path, tmp_path: Path, rewrite_header: RewriteHeader
) -> None:
    path = _bad_models(model_path, tmp_path, rewrite_header)[kind]
    with pytest.raises(ModelFileError, match=str(path)):
        FastTextClassifier.load(path)
    commands: list[list[str | Path]] = [
        ["predict", "-m", path, "-"],
        ["eval", "-m", path, "-"],
        ["info", path],
    ]
    for args in commands:
        assert_fails_cleanly(run(*args, stdin=b"hello\n"), f"{path}: ", BAD_MODELS[kind])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"bucket": 10**30}, "a bucket beyond int64 raises OverflowError"),
        ({"word_ngrams": 10**12}, "a huge word_ngrams makes every prediction loop for ever"),
    ],
)
def test_hostile_hyper_parameters_in_a_well_formed_file(
    change: dict[str, int], reason: str, model_path: Path, tmp_path: Path
) -> None:
    header, arrays = container.load(model_path)
    header["params"].update(change)
    container.save(tmp_path / "m.ftl", header, arrays)
    with pytest.raises(ModelFileError):
        FastTextClassifier.load(tmp_path / "m.ftl")


def test_a_model_without_labels_is_refused(model_path: Path, tmp_path: Path) -> None:
    header, arrays = container.load(model_path)
    header.update(labels=[], label_counts=[])
    container.save(tmp_path / "m.ftl", header, {**arrays, "output": arrays["output"][:0]})
    with pytest.raises(ModelFileError):
        FastTextClassifier.load(tmp_path / "m.ftl").predict(["hello"])


def test_a_model_with_nan_weights_is_refused(model_path: Path, tmp_path: Path) -> None:
    header, arrays = container.load(model_path)
    container.save(tmp_path / "m.ftl", header, {**arrays, "input": arrays["input"] * np.nan})
    with pytest.raises(ModelFileError):
        FastTextClassifier.load(tmp_path / "m.ftl")


def test_a_crafted_file_never_gives_a_traceback(model_path: Path, tmp_path: Path) -> None:
    """Whatever a crafted file gets past, the CLI says one
    line."""
    header, arrays = container.load(model_path)
    header["params"]["bucket"] = 10**30
    container.save(tmp_path / "m.ftl", header, arrays)
    result = run("predict", "-m", tmp_path / "m.ftl", stdin=b"hello world\n")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1


# -- input that must simply work ---------------------------------------------------------------


AWKWARD_CORPUS = (
    b"__label__a caf\xc3\xa9 \xff\xfe broken utf8\r\n"
    b"__label__b nul\x00separated\x00words\n"
    b"__label__a\ttabs\x0bvertical\x0cformfeed  spaces\n"
    b"__label__b \n"  # only a label
    b"__label__\xc3\xa9t\xc3\xa9 __label__\xe6\x97\xa5\xe6\x9c\xac non ascii labels\n"
    b"no label on this line\n"
    b"\n"
    b"__label__\xff raw byte label\n"
    b"__label__a last line without newline"
)


def test_awkward_corpus_trains_and_predicts(tmp_path: Path) -> None:
    corpus = tmp_path / "awkward.train"
    corpus.write_bytes(AWKWARD_CORPUS)
    model = tmp_path / "m.ftl"
    result = run("train", corpus, "-o", model, "--epoch", "5", "--minn", "2", "--maxn", "4")
    assert result.exit_code == 0, result.output
    clf = FastTextClassifier.load(model)
    assert sorted(clf.classes_, key=str) == sorted(["a", "b", "été", "日本", "\udcff"], key=str)
    assert clf.summary_.lines == 9 and clf.summary_.unlabelled == 2
    lines = AWKWARD_CORPUS + b"\nzzz qqq only unknown words\n__label__b"
    predicted = run("predict", "-m", model, "-k", "5", stdin=lines)
    assert predicted.exit_code == 0 and predicted.stderr == ""
    out = predicted.stdout_bytes.split(b"\n")[:-1]
    assert len(out) == lines.count(b"\n") + 1
    assert b"__label__\xe6\x97\xa5\xe6\x9c\xac" in out[0] and b"__label__\xff" in out[0]
    as_json = run("predict", "-m", model, "-k", "5", "--json", stdin=lines)
    labels = [json.loads(line)["labels"] for line in as_json.stdout.splitlines()]
    assert "\udcff" in labels[0] and "日本" in labels[0]  # an undecodable byte as \udcXX
    # Reports too print labels as their bytes, even where stdout would refuse to encode them.
    strict = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    for args in (["eval", "--per-label", "-m", model, corpus], ["info", model]):
        done = subprocess.run([*FTL, *map(str, args)], capture_output=True, env=strict, timeout=60)
        assert done.returncode == 0 and done.stderr == b"", done.stderr
        assert b"\xff" in done.stdout and "日本".encode() in done.stdout


def test_multi_megabyte_lines(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    long_text = " ".join(f"w{i}" for i in rng.integers(0, 50_000, 400_000))  # ~2.6 MB
    corpus = tmp_path / "long.train"
    corpus.write_text(f"__label__long {long_text}\n__label__short a b c\n" * 2)
    model = tmp_path / "m.ftl"
    result = run("train", corpus, "-o", model, "--epoch", "20", "--lr", "1", "--dim", "5")
    assert result.exit_code == 0, result.output
    predicted = run("predict", "-m", model, stdin=f"{long_text}\na b c\n".encode())
    assert predicted.exit_code == 0, predicted.output
    assert predicted.stdout == "__label__long\n__label__short\n"


def test_a_hundred_thousand_labels(tmp_path: Path) -> None:
    """10^5 distinct labels, on 500 lines of 200 labels each to keep the test quick."""
    corpus = tmp_path / "labels.train"
    with corpus.open("w") as out:
        for line in range(500):
            labels = " ".join(f"__label__L{line * 200 + j}" for j in range(200))
            out.write(f"{labels} text number{line}\n")
    model = tmp_path / "m.ftl"
    result = run("train", corpus, "-o", model, "--epoch", "1", "--dim", "2")
    assert result.exit_code == 0, result.output
    assert len(FastTextClassifier.load(model).classes_) == 100_000
    predicted = run("predict", "-m", model, "-k", "3", stdin=b"text number7\n")
    assert predicted.exit_code == 0 and len(predicted.stdout.split()) == 3


def test_binary_file_as_corpus(tmp_path: Path) -> None:
    """A binary file is read like any other: lines split at \\n, tokens at fastText's
    separators. With no label token in it, it is refused with the usual message; with some,
    it trains on what it finds."""
    noise = np.random.default_rng(1).integers(0, 256, 1 << 18, dtype=np.uint8).tobytes()
    corpus = tmp_path / "blob.bin"
    corpus.write_bytes(noise)
    assert_fails_cleanly(run("train", corpus, "-o", tmp_path / "m.ftl"), "no line has a label")
    corpus.write_bytes(noise + b"\n__label__x a\n" + noise + b"\n__label__y b\n" + noise)
    result = run("train", corpus, "-o", tmp_path / "m.ftl", "--epoch", "1", "--dim", "4")
    assert result.exit_code == 0, result.output
    assert sorted(FastTextClassifier.load(tmp_path / "m.ftl").classes_) == ["x", "y"]
    predicted = run("predict", "-m", tmp_path / "m.ftl", stdin=noise)
    assert predicted.exit_code == 0
    assert predicted.stdout_bytes.count(b"\n") == noise.count(b"\n") + 1


def test_endless_stream_into_head(model_path: Path) -> None:
    """`yes "some text" | ftl predict | head -3`: three lines at once, ftl exits 0 and quietly
    when head goes away."""
    pipeline = f'yes "some text" | {" ".join(FTL)} predict -m {model_path} | head -3'
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", pipeline + "; echo ${PIPESTATUS[1]} >&2"], capture_output=True, timeout=60
    )
    assert time.monotonic() - started < 30
    assert done.stdout.count(b"\n") == 3 and done.stdout.startswith(b"__label__")
    assert done.stderr == b"0\n"  # ftl's exit status, and nothing else on stderr


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def _read_answers(stream: IO[bytes], count: int, timeout: float = 60) -> None:
    """Read at least `count` lines of a process's output, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while count > 0:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"{count} answers still missing after {timeout} s"
        chunk = os.read(stream.fileno(), 1 << 16)
        assert chunk, f"output ended {count} answers short"
        count -= chunk.count(b"\n")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_endless_stream_in_constant_memory(model_path: Path) -> None:
    """Resident memory after 10^5 answers (imports and buffers settled) and after 10^6 more
    stays within 20 MB, which a leak of some 20 bytes a line would reach."""
    source = subprocess.Popen(["yes", "some text for the model"], stdout=subprocess.PIPE)
    process = subprocess.Popen(
        [*FTL, "predict", "-m", str(model_path)], stdin=source.stdout, stdout=subprocess.PIPE
    )
    assert source.stdout is not None and process.stdout is not None
    source.stdout.close()
    try:
        _read_answers(process.stdout, 100_000)
        early = _rss_kib(process.pid)
        _read_answers(process.stdout, 1_000_000)
        late = _rss_kib(process.pid)
    finally:
        process.kill()
        source.kill()
        process.wait()
        source.wait()
        process.stdout.close()
    assert late - early < 20_000, (early, late)


# -- faults --------------------------------------------------------------------------------------


def test_output_into_a_missing_directory_fails_before_training(
    support_train: Path, tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "m.ftl"
    started = time.monotonic()
    result = run("train", support_train, "-o", target, "--epoch", "200")
    assert_fails_cleanly(result, f"{target}: directory", "does not exist")
    assert time.monotonic() - started < 5  # it did not train 200 epochs first


@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
def test_output_onto_a_device_is_refused_and_the_device_survives(
    device: str, support_train: Path
) -> None:
    if not Path(device).is_char_device():
        pytest.skip(f"no {device} here")
    result = run("train", support_train, "-o", device, "--epoch", "1")
    assert_fails_cleanly(result, f"{device}: is not a regular file")
    assert Path(device).is_char_device()


def test_output_onto_a_directory(support_train: Path, tmp_path: Path) -> None:
    assert_fails_cleanly(run("train", support_train, "-o", tmp_path), "is a directory")


@pytest.mark.parametrize("thread", [1, 2])
def test_no_room_for_temporary_files_stops_training_with_one_line(
    support_train: Path,
    tmp_path: Path,
    unusable_tempdir: Path,
    spill_past: Callable[[int], None],
    thread: int,
) -> None:
    """The corpus must wait in a temporary file (from its 1000th id on here; with threads, the
    parts read go there first) where none can be made: the message names the directory and
    what to do, and no model is written."""
    spill_past(1000)
    out = tmp_path / "out"
    out.mkdir()
    result = run("train", support_train, "-o", out / "m.ftl", "--thread", str(thread))
    assert_fails_cleanly(result, str(unusable_tempdir), "free space there", "TMPDIR")
    assert listing(out) == []


def test_a_small_corpus_trains_without_touching_the_temporary_directory(
    support_train: Path, tmp_path: Path, unusable_tempdir: Path
) -> None:
    """Below a million ids the lines wait in memory: no temporary file is needed."""
    result = run("train", support_train, "-o", tmp_path / "m.ftl", "--epoch", "1")
    assert result.exit_code == 0, result.output
    assert FastTextClassifier.load(tmp_path / "m.ftl").classes_.size


def test_full_disk_keeps_the_earlier_model(
    support_train: Path, earlier: Path, tmp_path: Path
) -> None:
    """A real write error half-way through the file: the file-size limit makes the kernel
    refuse writes beyond 50 kB (EFBIG), as a full disk would with ENOSPC."""
    before = earlier.read_bytes()

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, 50_000))

    done = subprocess.run(
        [*FTL, "train", str(support_train), "-o", str(earlier), "--epoch", "1", "--dim", "50"],
        capture_output=True,
        timeout=60,
        preexec_fn=limit_file_size,
    )
    assert_process_fails_cleanly(done, f"{earlier}: cannot write the model (File too large)")
    assert earlier.read_bytes() == before
    assert listing(tmp_path) == ["out.ftl"]


@pytest.mark.parametrize(
    ("fault", "code", "fragments"),
    [
        (
            OSError(28, "No space left on device"),
            1,
            ("No space left on device", "earlier file there is unchanged"),
        ),
        (KeyboardInterrupt(), 130, ("interrupted",)),
    ],
    ids=["full-disk", "ctrl-c"],
)
def test_a_failed_or_interrupted_save_keeps_the_earlier_model(
    fault: BaseException,
    code: int,
    fragments: tuple[str, ...],
    support_train: Path,
    earlier: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = earlier.read_bytes()

    def fail(fd: int) -> None:
        raise fault

    monkeypatch.setattr("fasttext_lite.formats.container.os.fsync", fail)
    result = run("train", support_train, "-o", earlier, "--epoch", "1")
    assert_fails_cleanly(result, *fragments, code=code)
    assert earlier.read_bytes() == before
    assert listing(tmp_path) == ["out.ftl"]


def _reading(process: subprocess.Popen[bytes], corpus: Path) -> bool:
    """Whether the process, or a worker it forked, has the corpus open."""
    for pid in {process.pid, *_processes_running(str(corpus))}:
        fds = Path(f"/proc/{pid}/fd")
        for fd in fds.iterdir() if fds.exists() else []:
            with contextlib.suppress(OSError):  # closed meanwhile
                if os.readlink(fd) == str(corpus):
                    return True
    return False


def _wait_for(process: subprocess.Popen[bytes], condition: Callable[[], bool], what: str) -> None:
    """Block until `condition()` holds, failing if the process ends first or 30 s pass."""
    deadline = time.monotonic() + 30
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"the process did not {what} within 30 s"
        time.sleep(0.01)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("thread", ["1", "2"])
def test_signal_during_training_keeps_the_earlier_model(
    sig: signal.Signals,
    status: int,
    thread: str,
    big_corpus: Path,
    earlier: Path,
    tmp_path: Path,
) -> None:
    before = earlier.read_bytes()
    command = [*FTL, "train", str(big_corpus), "-o", str(earlier), "--epoch", "5000"]
    process = subprocess.Popen(  # minutes of training, unless the signal stops it
        [*command, "--dim", "10", "--thread", thread],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # Imports done, the corpus read, and with --thread 2 the workers at work.
        _wait_for(process, lambda: _reading(process, big_corpus), "open the corpus")
        _wait_for(process, lambda: not _reading(process, big_corpus), "finish reading")
        forked = 0 if thread == "1" else int(thread)  # the processes besides this one
        processes = partial(_processes_running, str(big_corpus))
        _wait_for(process, lambda: len(processes()) > forked, "start its workers")
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == status, stderr
    assert stdout == b"" and b"Traceback" not in stderr
    if sig == signal.SIGINT:
        assert stderr == b"Error: interrupted; no model file was written or changed.\n"
    assert earlier.read_bytes() == before
    assert listing(tmp_path) == ["out.ftl"]
    assert _processes_running(str(big_corpus)) == []  # no worker left behind


def _processes_running(argument: str) -> list[int]:
    """The processes whose command line includes `argument` (forked workers share it)."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and argument.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def test_two_concurrent_trainings_leave_one_complete_model(
    support_train: Path, tmp_path: Path
) -> None:
    """Models of 50 MB (a 1,250,000-row bucket), which take a while to write: a reader looking
    meanwhile finds no model yet, or a whole one, never a part of one."""
    output = tmp_path / "shared.ftl"
    options = ["--epoch", "1", "--dim", "10", "--word-ngrams", "2", "--bucket", "1250000"]
    processes = [
        subprocess.Popen(
            [*FTL, "train", str(support_train), "-o", str(output), "--seed", str(seed), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in (1, 2)
    ]
    while any(process.poll() is None for process in processes):
        try:
            container.read_header(output)
        except ModelFileError as error:
            assert "no such model file" in str(error), error
        time.sleep(0.0002)
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert listing(tmp_path) == ["shared.ftl"]
    assert FastTextClassifier.load(output).get_params()["seed"] in (1, 2)


@pytest.mark.parametrize("thread", ["1", "2"])
def test_divergence_is_an_error_and_writes_nothing(
    thread: str, support_train: Path, earlier: Path, tmp_path: Path
) -> None:
    before = earlier.read_bytes()
    result = run(
        "train", support_train, "-o", earlier, "--lr", "1e10", "--epoch", "1", "--thread", thread
    )
    assert_fails_cleanly(result, "diverged", "smaller learning rate")
    assert earlier.read_bytes() == before
    assert listing(tmp_path) == ["out.ftl"]
    fresh = tmp_path / "fresh.ftl"
    assert_fails_cleanly(run("train", support_train, "-o", fresh, "--lr", "1e10"), "diverged")
    assert not fresh.exists()
