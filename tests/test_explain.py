"""Explanations add up: each label's score is the sum of its tokens' shares."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ParameterError
from fasttext_lite.cli import cli

TEXTS = ["my card was charged twice", "where is my zzparcel", ""]


@pytest.fixture(scope="module", params=["softmax", "ova", "softmax idf"])
def model(request: pytest.FixtureRequest, support_train: Path) -> FastTextClassifier:
    """Words, char n-grams and word n-grams all at once; a plain or an idf-weighted mean."""
    loss, _, weighting = request.param.partition(" ")
    return FastTextClassifier(
        loss=loss, weighting=weighting or "mean", lr=0.5, epoch=5, dim=12, minn=2, maxn=4,
        word_ngrams=3, bucket=20_000, seed=1,
    ).fit_file(support_train)  # fmt: skip


def test_shares_add_up_to_the_score(model: FastTextClassifier) -> None:
    hidden = model.sentence_vectors(TEXTS).astype(np.float64)
    for text, vector, explanations in zip(TEXTS, hidden, model.explain(TEXTS, k=3), strict=True):
        assert len(explanations) == 3
        for explanation in explanations:
            label = model.vocabulary_.label_ids[explanation.label]
            score = float(vector @ model.model_.output[label])
            assert explanation.score == pytest.approx(score, rel=1e-4, abs=1e-5)
            total = sum(t.value for t in explanation.tokens)
            assert total == pytest.approx(score, rel=1e-4, abs=1e-5), text
            for token in explanation.tokens:
                assert token.value == pytest.approx(sum(c.value for c in token.contributions))


def test_shares_name_where_they_come_from(model: FastTextClassifier) -> None:
    (first,) = model.explain(["where is my zzparcel"], k=1)
    tokens = {t.token: t for t in first[0].tokens}
    assert set(tokens) <= {"where", "is", "my", "zzparcel", "</s>"}
    kinds = {c.kind for t in first[0].tokens for c in t.contributions}
    assert kinds == {"word", "char", "ngram"}
    assert all(c.kind != "word" for c in tokens["zzparcel"].contributions)  # unknown word
    ngrams = [c.text for t in first[0].tokens for c in t.contributions if c.kind == "ngram"]
    assert "where is" in ngrams and "where is my" in ngrams


def test_the_labels_are_the_predictions(model: FastTextClassifier) -> None:
    for explanations, top in zip(
        model.explain(TEXTS[:2], k=2), model.top_k(TEXTS[:2], k=2), strict=True
    ):
        assert [e.label for e in explanations] == [p.label for p in top]


def test_top_words_are_the_highest_scoring_vocabulary_words(model: FastTextClassifier) -> None:
    label = model.classes_[0]
    found = model.top_words(label, n=5)
    scores = model.word_vectors(model.vocabulary_.words) @ model.model_.output[0]
    assert [w for w, _ in found] == [model.vocabulary_.words[i] for i in np.argsort(-scores)[:5]]
    with pytest.raises(ParameterError, match="no label"):
        model.top_words("nosuchlabel")


def test_cli_explain_text_and_json(model_path: Path) -> None:
    text = CliRunner().invoke(
        cli, ["explain", "-m", str(model_path), "--top", "2"], input=b"my card was charged\n"
    )
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("__label__") and text.stdout.count("\n") == 1
    as_json = CliRunner().invoke(
        cli, ["explain", "-m", str(model_path), "--json", "-k", "2"], input=b"a\nb c\n"
    )
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert len(records) == 2 and all(len(r) == 2 for r in records)
    first = records[0][0]
    assert first["score"] == pytest.approx(sum(t["value"] for t in first["tokens"]), abs=1e-5)


def test_cli_top_words(model_path: Path, trained: FastTextClassifier) -> None:
    label = trained.vocabulary_.labels[0]
    result = CliRunner().invoke(cli, ["info", str(model_path), "--top-words", label, "-n", "3"])
    words = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert words == [w for w, _ in trained.top_words(label, n=3)]
