"""What a new user runs into: data never overwritten, output failures as one line, lossless
JSON labels, fastText's habits answered, reproducible model files, readable `ftl info`."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from click.testing import Result
from helpers import FTL, run

from fasttext_lite import FastTextClassifier
from fasttext_lite.cli import train as train_command


def train(corpus: Path, output: Path, *extra: str) -> Result:
    return run("train", corpus, "-o", output, "-q", "--epoch", "2", "--dim", "5", *extra)


def test_training_refuses_to_write_the_model_over_its_input(
    support_train: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(support_train.read_bytes())
    link = tmp_path / "link.txt"
    link.symlink_to(corpus)
    for given in (corpus, link):
        result = train(given, corpus, "--force")
        assert result.exit_code == 1 and "is the input" in result.stderr
    assert corpus.read_bytes() == support_train.read_bytes()


def test_training_replaces_a_model_but_not_another_file_unless_forced(
    support_train: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n")
    refused = train(support_train, notes)
    assert (
        refused.exit_code == 1 and "not a model" in refused.stderr and "--force" in refused.stderr
    )
    assert notes.read_text() == "keep me\n"
    assert train(support_train, notes, "--force").exit_code == 0
    assert train(support_train, notes).exit_code == 0  # a model now: replaced quietly
    fasttext_bin = tmp_path / "old.bin"
    fasttext_bin.write_bytes((793712314).to_bytes(4, "little") + b"\0" * 60)
    assert train(support_train, fasttext_bin).exit_code == 0


@pytest.mark.parametrize("command", ["predict", "eval", "info"])
def test_a_full_disk_is_one_line_and_exit_code_one(
    command: str, model_path: Path, support_valid: Path
) -> None:
    args = {
        "predict": ["predict", "-m", str(model_path), str(support_valid)],
        "eval": ["eval", str(support_valid), "-m", str(model_path)],
        "info": ["info", str(model_path)],
    }[command]
    with open("/dev/full", "wb") as full:
        done = subprocess.run([*FTL, *args], stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert done.returncode == 1
    message = done.stderr.decode()
    assert message.startswith("Error: cannot write the results (No space left on device)")
    assert message.count("\n") == 1 and "internal error" not in message


def test_closed_stdout_is_one_line(model_path: Path, support_valid: Path) -> None:
    done = subprocess.run(
        [*FTL, "predict", "-m", str(model_path), str(support_valid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == 1
    assert done.stderr.decode() == "Error: stdout is closed; send the results to a file instead\n"


def test_json_keeps_labels_that_differ_only_in_undecodable_bytes_apart(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"__label__caf\xe9 good food\n__label__caf\xe8 bad food\n" * 5)
    model = tmp_path / "m.ftl"
    assert run("train", corpus, "-o", model, "--epoch", "20", "--lr", "0.5").exit_code == 0
    out = run("predict", "-m", model, "--json", "-k", "2", stdin=b"good\n")
    labels = json.loads(out.stdout)["labels"]
    assert sorted(labels) == ["caf\udce8", "caf\udce9"]
    assert {label.encode("utf-8", "surrogateescape") for label in labels} == {
        b"caf\xe8",
        b"caf\xe9",
    }
    info = json.loads(run("info", "--json", model).stdout)
    assert len(set(info["labels"])) == 2


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        (["train", "x.txt", "-lr", "0.5"], "-lr is fastText's spelling; ftl's is --lr"),
        (["train", "x.txt", "-output", "m"], "-output is fastText's spelling; ftl's is -o"),
        (["train", "x.txt", "-o", "m", "-output"], "-output is fastText's spelling"),
        (["train", "x.txt", "-wordNgrams", "2"], "ftl's is --word-ngrams"),
        (["train", "x.txt", "-ws", "5"], "-ws is a fastText option that is not in ftl yet"),
        (["train", "x.txt", "-autotune-modelsize", "2M"], "ftl's is --autotune-model-size"),
        (["train", "x.txt", "-autotune-duration", "9"], "ftl's is --autotune-duration"),
        (["supervised", "-input", "x"], "fastText's supervised is `ftl train"),
        (["test", "m.bin", "x"], "fastText's test is `ftl eval"),
        (["quantize", "m.ftl", "-qnorm"], "-qnorm is fastText's spelling; ftl's is --qnorm (ftl"),
        (["nn", "m.bin"], "fastText's nn is `ftl neighbours"),
        (["skipgram", "-input", "x"], "compat.train_unsupervised(input=..., model='skipgram')"),
    ],
)
def test_fasttext_habits_get_the_ftl_spelling(
    args: list[str], answer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2 and answer in result.stderr
    assert not (tmp_path / "utput").exists() and not (tmp_path / "m").exists()


def test_k_minus_one_gives_every_label(model_path: Path) -> None:
    out = run("predict", "-m", model_path, "-k", "-1", stdin=b"where is my parcel\n")
    assert out.exit_code == 0
    assert len(out.stdout.split()) == len(
        json.loads(run("info", "--json", model_path).stdout)["labels"]
    )


def test_the_same_seed_data_and_options_give_the_same_bytes(
    support_train: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.ftl", tmp_path / "b.ftl"
    assert train(support_train, first).exit_code == 0
    assert train(support_train, second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_minn_without_maxn_is_pointed_out(support_train: Path) -> None:
    with pytest.warns(UserWarning, match="minn 3 has no effect"):
        FastTextClassifier(minn=3, epoch=1, dim=5).fit_file(support_train)


def test_info_counts_labels_and_lists_them_on_request(model_path: Path) -> None:
    text = run("info", model_path)
    fields = dict(line.split("\t", 1) for line in text.stdout.splitlines())
    labels = run("info", "--labels", model_path).stdout.splitlines()
    count = len(labels)
    assert fields["labels"].startswith(f"{count} (most frequent: {labels[0].replace(chr(9), ' ')}")
    counts = [int(line.split("\t")[1]) for line in labels]
    assert counts == sorted(counts, reverse=True)
    words = run("info", "--words", model_path).stdout.splitlines()
    assert fields["words"].startswith(f"{len(words)} (most frequent: ")
    assert "effective_bucket" not in fields and "verbose" not in fields


def test_a_model_no_better_than_guessing_gets_a_warning(
    tmp_path: Path, support_train: Path
) -> None:
    """Labels drawn at random have nothing to learn; the sample corpus has."""
    corpus = tmp_path / "random.txt"
    rng = random.Random(0)
    words = [f"w{i}" for i in range(50)]
    corpus.write_text(
        "".join(
            f"__label__{rng.choice('abcd')} {' '.join(rng.choices(words, k=6))}\n"
            for _ in range(400)
        )
    )
    clf = FastTextClassifier(epoch=1, dim=5).fit_file(corpus)
    hint = train_command._guessing_hint(clf, str(corpus))
    assert hint is not None and "always answering the most frequent label" in hint
    learned = FastTextClassifier(epoch=10, lr=0.5).fit_file(support_train)
    assert train_command._guessing_hint(learned, str(support_train)) is None
