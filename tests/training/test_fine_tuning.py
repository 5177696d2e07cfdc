"""Fine-tuning: starting from a trained model's rows, words and labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ParameterError, evaluate
from fasttext_lite.cli import cli


@pytest.fixture(scope="module")
def halves(tmp_path_factory: pytest.TempPathFactory, support_train: Path) -> dict[str, Path]:
    """The sample corpus cut in an old and a new part, each with validation lines; the new
    part brings a label the old one never saw."""
    directory = tmp_path_factory.mktemp("halves")
    lines = support_train.read_text().splitlines()
    old = [line for line in lines if "__label__product" not in line]
    new = [line for line in lines if "__label__product" in line]
    parts = {"old": old[:-40], "old_valid": old[-40:], "new": new[:-12], "new_valid": new[-12:]}
    paths = {}
    for name, part in parts.items():
        paths[name] = directory / f"{name}.txt"
        paths[name].write_text("\n".join(part) + "\n")
    return paths


@pytest.fixture(scope="module")
def old_model(halves: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("old") / "old.ftl"
    FastTextClassifier(lr=0.5, epoch=25, dim=20, seed=1).fit_file(halves["old"]).save(path)
    return path


def test_fine_tuning_learns_the_new_part_and_keeps_most_of_the_old(
    halves: dict[str, Path], old_model: Path
) -> None:
    old = FastTextClassifier.load(old_model)
    tuned = FastTextClassifier(lr=0.5, epoch=10, seed=1, init_model=old_model)
    tuned.fit_file(halves["new"])
    assert "product" in tuned.vocabulary_.labels and "product" not in old.vocabulary_.labels
    assert tuned.summary_.added_labels == 1 and tuned.summary_.added_words > 0
    new_before = evaluate(old, halves["new_valid"]).precision
    new_after = evaluate(tuned, halves["new_valid"]).precision
    old_before = evaluate(old, halves["old_valid"]).precision
    old_after = evaluate(tuned, halves["old_valid"]).precision
    assert new_after > new_before + 0.2
    assert old_after > 0.6 * old_before


def test_old_words_and_labels_keep_their_ids_and_shape(
    halves: dict[str, Path], old_model: Path
) -> None:
    old = FastTextClassifier.load(old_model)
    tuned = FastTextClassifier(epoch=1, dim=100, init_model=old_model).fit_file(halves["new"])
    assert tuned.dim == 20  # the old model's feature space
    assert tuned.vocabulary_.words[: len(old.vocabulary_.words)] == old.vocabulary_.words
    assert tuned.vocabulary_.labels[: len(old.vocabulary_.labels)] == old.vocabulary_.labels
    # A word the new lines never use keeps its old row.
    new_tokens = set(halves["new"].read_text().split()) | {"</s>"}  # </s> ends every line
    unused = next(w for w in old.vocabulary_.words if w not in new_tokens)
    np.testing.assert_array_equal(tuned.word_vectors([unused]), old.word_vectors([unused]))


def test_fine_tuning_with_pretrained_vectors_is_refused(
    halves: dict[str, Path], old_model: Path, tmp_path: Path
) -> None:
    vectors = tmp_path / "v.vec"
    vectors.write_text("1 20\nx " + " ".join(["0.1"] * 20) + "\n")
    with pytest.raises(ParameterError, match="init_model: give it or pretrained_vectors"):
        FastTextClassifier(init_model=old_model, pretrained_vectors=vectors).fit_file(halves["new"])


def test_cli_options_not_given_are_the_old_models(
    halves: dict[str, Path], old_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "tuned.ftl"
    result = CliRunner().invoke(
        cli,
        ["train", str(halves["new"]), "-o", str(out), "--init-model", str(old_model)]
        + ["--epoch", "3"],
    )
    assert result.exit_code == 0, result.output
    tuned = FastTextClassifier.load(out)
    assert tuned.lr == 0.5 and tuned.dim == 20 and tuned.epoch == 3
