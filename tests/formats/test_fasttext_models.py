"""fastText's `.bin` and `.ftz` classifiers, loaded as ftl models, predict what fastText
predicted: the same labels in the same order, probabilities within 1e-4 of fastText's less its
+1e-5, and the same sentence vectors (fixtures made by the fastText binding:
bench/make_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ModelFileError
from fasttext_lite.cli import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fasttext"
SUPERVISED = [
    "softmax_ngrams.bin", "ova_subwords.bin", "hs_words.bin", "ns_trigrams.bin",
    "quant_cutoff.ftz", "quant_qnorm_dsub4.ftz", "quant_qout.ftz",
]  # fmt: skip


def expected(name: str) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((FIXTURES / name).with_suffix(".json").read_text())
    return facts


@pytest.mark.parametrize("name", SUPERVISED)
def test_predictions_equal_fasttexts(name: str) -> None:
    facts = expected(name)
    clf = FastTextClassifier.load(FIXTURES / name)
    assert clf.loss == facts["args"]["loss"]
    texts = [sentence["text"] for sentence in facts["sentences"]]
    k = len(facts["sentences"][0]["top"])
    for sentence, got in zip(facts["sentences"], clf.top_k(texts, k=k), strict=True):
        labels = [label for label, _ in sentence["top"]]
        assert ["__label__" + p.label for p in got] == labels, sentence["text"]
        theirs = [p - 1e-5 for _, p in sentence["top"]]
        assert [p.probability for p in got] == pytest.approx(theirs, abs=1e-4)


@pytest.mark.parametrize("name", SUPERVISED)
def test_sentence_vectors_equal_fasttexts(name: str) -> None:
    facts = expected(name)
    clf = FastTextClassifier.load(FIXTURES / name)
    texts = [sentence["text"] for sentence in facts["sentences"]]
    np.testing.assert_allclose(
        clf.sentence_vectors(texts),
        [sentence["vector"] for sentence in facts["sentences"]],
        rtol=1e-4,
        atol=1e-5,
    )


def test_the_command_line_predicts_with_a_fasttext_model() -> None:
    facts = expected("softmax_ngrams.bin")
    text = facts["sentences"][0]["text"]
    result = CliRunner().invoke(
        cli, ["predict", "-m", str(FIXTURES / "softmax_ngrams.bin")], input=text.encode() + b"\n"
    )
    assert result.exit_code == 0
    assert result.stdout.strip() == facts["sentences"][0]["top"][0][0]
    info = CliRunner().invoke(cli, ["info", str(FIXTURES / "softmax_ngrams.bin")])
    assert info.exit_code == 0 and "labels\t" in info.stdout


def test_a_word_vector_model_is_refused_as_a_classifier() -> None:
    with pytest.raises(ModelFileError, match="cbow word-vector model, not a classifier"):
        FastTextClassifier.load(FIXTURES / "cbow_subwords.bin")
