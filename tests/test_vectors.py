"""Sentence and word vectors and nearest neighbours, from the API and the CLI."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier
from fasttext_lite.cli import cli

TEXTS = ["where is my parcel", "refund my card please", "", "zzz unknown words"]


@pytest.fixture(scope="module")
def chars(support_train: Path) -> FastTextClassifier:
    """A model with character n-grams, so that unknown words have vectors too."""
    return FastTextClassifier(
        lr=0.5, epoch=5, dim=12, minn=2, maxn=4, bucket=5000, seed=2
    ).fit_file(support_train)


def softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    result: npt.NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
    return result


def test_a_sentence_vector_is_the_hidden_vector_the_classifier_scores(
    trained: FastTextClassifier,
) -> None:
    vectors = trained.sentence_vectors(TEXTS)
    assert vectors.shape == (len(TEXTS), trained.dim) and vectors.dtype == np.float32
    scores = vectors.astype(np.float64) @ trained.model_.output.T.astype(np.float64)
    np.testing.assert_allclose(softmax(scores), trained.predict_proba(TEXTS), rtol=1e-4, atol=1e-6)


def test_a_known_word_without_subwords_is_its_own_row(trained: FastTextClassifier) -> None:
    word = trained.vocabulary_.words[3]
    (row,) = np.flatnonzero(trained.model_.feature_ids == trained.vocabulary_.word_ids[word])
    np.testing.assert_allclose(trained.word_vectors([word])[0], trained.model_.input[row])


def test_a_word_vector_is_the_mean_of_its_feature_rows(chars: FastTextClassifier) -> None:
    # Features never seen in training count as zero rows, as in the hidden vector.
    for word in ("refund", "refundz"):  # known, and unknown with known n-grams
        features = chars.featurizer_.token_features([word.encode()]).features
        rows = [np.flatnonzero(chars.model_.feature_ids == f) for f in features.tolist()]
        present = [r[0] for r in rows if r.size]
        assert present
        expected = chars.model_.input[present].sum(axis=0) / len(rows)
        np.testing.assert_allclose(chars.word_vectors([word])[0], expected, rtol=1e-5, atol=1e-8)


def test_an_unknown_word_without_subwords_has_a_zero_vector(trained: FastTextClassifier) -> None:
    assert not trained.word_vectors(["nosuchword"]).any()


def test_neighbours_are_the_most_cosine_similar_other_words(chars: FastTextClassifier) -> None:
    words = chars.vocabulary_.words
    all_vectors = chars.word_vectors(words).astype(np.float64)
    unit = all_vectors / np.linalg.norm(all_vectors, axis=1, keepdims=True)
    for query in ("refund", "parcel", "unseenword"):
        found = chars.neighbours([query], k=5)[0]
        q = chars.word_vectors([query])[0].astype(np.float64)
        similarity = unit @ (q / np.linalg.norm(q))
        if query in chars.vocabulary_.word_ids:
            similarity[chars.vocabulary_.word_ids[query]] = -np.inf
        best = np.argsort(-similarity, kind="stable")[:5]
        assert [n.word for n in found] == [words[i] for i in best]
        np.testing.assert_allclose([n.similarity for n in found], similarity[best], rtol=1e-4)
        assert query not in [n.word for n in found]


def test_cli_vectors_print_what_the_api_gives(
    model_path: Path, trained: FastTextClassifier
) -> None:
    stdin = "\n".join(TEXTS).encode() + b"\n"
    text = CliRunner().invoke(cli, ["vectors", "-m", str(model_path)], input=stdin)
    assert text.exit_code == 0, text.output
    printed = np.loadtxt(io.StringIO(text.stdout), ndmin=2)
    np.testing.assert_allclose(printed, trained.sentence_vectors(TEXTS), rtol=1e-5, atol=1e-7)
    npy = CliRunner().invoke(
        cli, ["vectors", "-m", str(model_path), "--format", "npy"], input=stdin
    )
    loaded = np.load(io.BytesIO(npy.stdout_bytes))
    np.testing.assert_array_equal(loaded, trained.sentence_vectors(TEXTS))


def test_cli_word_vectors_name_each_word(model_path: Path, trained: FastTextClassifier) -> None:
    result = CliRunner().invoke(
        cli, ["vectors", "-m", str(model_path), "--words"], input=b"refund card\nparcel\n"
    )
    rows = result.stdout.splitlines()
    assert [row.split()[0] for row in rows] == ["refund", "card", "parcel"]
    values = np.array([[float(x) for x in row.split()[1:]] for row in rows])
    np.testing.assert_allclose(
        values, trained.word_vectors(["refund", "card", "parcel"]), rtol=1e-5, atol=1e-7
    )


def test_cli_neighbours_one_line_per_query(model_path: Path, trained: FastTextClassifier) -> None:
    by_argument = CliRunner().invoke(
        cli, ["neighbours", "-m", str(model_path), "refund", "card", "-k", "3"]
    )
    by_stdin = CliRunner().invoke(
        cli, ["neighbours", "-m", str(model_path), "-k", "3"], input=b"refund\ncard\n"
    )
    assert by_argument.exit_code == 0 and by_argument.stdout == by_stdin.stdout
    lines = by_argument.stdout.splitlines()
    expected = trained.neighbours(["refund", "card"], k=3)
    assert len(lines) == 2
    for line, found in zip(lines, expected, strict=True):
        assert line.split()[::2] == [n.word for n in found]
