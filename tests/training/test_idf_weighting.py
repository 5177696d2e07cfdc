"""`weighting="idf"`: a line's hidden vector is the mean of its rows weighted by their
squared inverse document frequency in the training corpus, in training and in prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fasttext_lite import FastTextClassifier, ModelFileError
from fasttext_lite.arrays.bags import Bags
from fasttext_lite.cli import cli
from fasttext_lite.model.weighting import document_frequency, idf_weights
from fasttext_lite.training.sgd import Batcher

CORPUS = [
    "__label__a apple apple banana",
    "__label__a apple cherry",
    "__label__b banana date",
    "__label__b date date elder",
]


@pytest.fixture(scope="module")
def weighted(support_train: Path) -> FastTextClassifier:
    return FastTextClassifier(
        weighting="idf", lr=0.5, epoch=5, dim=10, word_ngrams=2, bucket=5_000, seed=2
    ).fit_file(support_train)


def test_a_row_counts_once_per_line_that_uses_it() -> None:
    rows = Bags.of([[0, 0, 1], [0, 2], [1, 3], [3, 3, 4]])
    assert document_frequency(rows, 6).tolist() == [2, 2, 1, 2, 1, 0]


def test_rarer_rows_weigh_more_and_a_row_in_every_line_weighs_one() -> None:
    weights = idf_weights(np.array([4, 2, 1, 0]), 4)
    assert weights[0] == pytest.approx(1.0)
    assert np.all(np.diff(weights) > 0)
    assert weights[1] == pytest.approx((np.log(5 / 3) + 1) ** 2)


def test_the_trained_weights_are_the_corpus_idf() -> None:
    clf = FastTextClassifier(weighting="idf", epoch=1, dim=4).fit(
        [line.split(" ", 1)[1] for line in CORPUS], [line.split(" ", 1)[0][9:] for line in CORPUS]
    )
    vocab, model = clf.vocabulary_, clf.model_
    assert model.row_weights is not None
    lines = {"</s>": 4, "apple": 2, "banana": 2, "cherry": 1, "date": 2, "elder": 1}
    for word, df in lines.items():
        row = model.row_of(np.array([vocab.word_ids[word]]))[0]
        assert model.row_weights[row] == pytest.approx(idf_weights(np.array([df]), 4)[0])


def test_the_hidden_vector_is_the_weighted_mean_of_the_rows(
    weighted: FastTextClassifier,
) -> None:
    model, predictor = weighted.model_, weighted.predictor()
    assert model.row_weights is not None
    texts = ["my card was charged twice", "refund refund please zzunknown"]
    got = weighted.sentence_vectors(texts)
    for text, vector in zip(texts, got, strict=True):
        rows = model.row_of(predictor.read([text]).features.indices)
        rows = rows[rows >= 0]  # features never seen in training are left out
        w = model.row_weights[rows].astype(np.float64)
        expected = (w[:, None] * model.input[rows]).sum(axis=0) / w.sum()
        np.testing.assert_allclose(vector, expected, rtol=1e-5, atol=1e-6)


def test_a_training_batch_averages_with_the_same_weights() -> None:
    row_weights = np.array([1.0, 4.0, 2.0], dtype=np.float32)
    batch = Batcher(Bags.of([[0, 1], [2], [1, 1, 2]]), 3, np.float64, row_weights)(
        np.array([0, 2], dtype=np.intp)
    )
    assert batch.share.tolist() == pytest.approx([0.2, 0.8, 0.4, 0.4, 0.2])


def test_idf_beats_the_plain_mean_when_most_words_are_noise() -> None:
    """Each line: 2 words of its label's topic among 18 of a shared background. The plain mean
    drowns the topic words; weighted by rarity they stand out."""
    rng = np.random.default_rng(0)
    background = [f"w{i}" for i in range(60)]
    topics = {label: [f"{label}{i}" for i in range(40)] for label in "abcdefgh"}

    def lines(n: int) -> tuple[list[str], list[str]]:
        labels = rng.choice(list(topics), n).tolist()
        texts = []
        for label in labels:
            words = [*rng.choice(background, 18), *rng.choice(topics[label], 2)]
            texts.append(" ".join(rng.permutation(words)))
        return texts, labels

    (train_x, train_y), (test_x, test_y) = lines(800), lines(1_000)
    scores = {
        weighting: FastTextClassifier(weighting=weighting, lr=0.5, epoch=10, dim=20, seed=0)
        .fit(train_x, train_y)
        .score(test_x, test_y)
        for weighting in ("mean", "idf")
    }
    assert scores["idf"] > scores["mean"] + 0.03, scores


def test_the_weights_survive_saving_and_quantizing(
    weighted: FastTextClassifier, tmp_path: Path
) -> None:
    texts = ["my card was charged twice", "where is my parcel"]
    weighted.save(tmp_path / "m.ftl")
    loaded = FastTextClassifier.load(tmp_path / "m.ftl")
    assert loaded.weighting == "idf"
    np.testing.assert_array_equal(loaded.model_.row_weights, weighted.model_.row_weights)
    np.testing.assert_array_equal(loaded.predict_proba(texts), weighted.predict_proba(texts))
    small = loaded.quantize(cutoff=300)
    model, original = small.model_, weighted.model_
    assert model.row_weights is not None and original.row_weights is not None
    kept = original.row_of(
        np.array([weighted.vocabulary_.word_ids[w] for w in small.vocabulary_.words])
    )
    np.testing.assert_array_equal(model.row_weights[: len(kept)], original.row_weights[kept])


def test_fasttext_files_cannot_hold_the_weights(
    weighted: FastTextClassifier, tmp_path: Path
) -> None:
    with pytest.raises(ModelFileError, match="idf"):
        weighted.save(tmp_path / "m.bin")
    assert not (tmp_path / "m.bin").exists()


def test_the_cli_trains_an_idf_model(support_train: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.ftl"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["train", str(support_train), "-o", str(model), "--weighting", "idf", "-q"]
    )
    assert result.exit_code == 0, result.output
    info = runner.invoke(cli, ["info", str(model)])
    assert "weighting\tidf" in info.output
    bad = runner.invoke(cli, ["train", str(support_train), "--weighting", "tfidf"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
