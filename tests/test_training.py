"""Training end to end: determinism, the learning-rate schedule, label drawing, the batched
engine against the per-example reference, divergence, persistence, prediction, evaluation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from fasttext_lite import (
    FastTextClassifier,
    NotFittedError,
    TrainingError,
    evaluate,
)
from fasttext_lite.losses import LOSSES, Loss, LossGradient
from fasttext_lite.model import Model
from fasttext_lite.sparse import Bags
from fasttext_lite.spool import SpooledBags
from fasttext_lite.train import Progress, TrainingData, train

FloatArray = npt.NDArray[np.floating]


def fit_support(path: Path, **params: Any) -> FastTextClassifier:
    settings: dict[str, Any] = {"lr": 0.5, "epoch": 2, "dim": 10, "seed": 1}
    settings.update(params)
    return FastTextClassifier(**settings).fit_file(path)


# -- determinism -----------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["softmax", "ova"])
@pytest.mark.parametrize("batch_size", [1, 32])
def test_same_seed_gives_bitwise_identical_model(
    support_train: Path, loss: str, batch_size: int
) -> None:
    params: dict[str, Any] = {
        "loss": loss,
        "batch_size": batch_size,
        "word_ngrams": 2,
        "minn": 3,
        "maxn": 4,
        "bucket": 5000,
    }
    first = fit_support(support_train, **params)
    second = fit_support(support_train, **params)
    assert first.model_.input.tobytes() == second.model_.input.tobytes()
    assert first.model_.output.tobytes() == second.model_.output.tobytes()
    assert np.array_equal(first.model_.feature_ids, second.model_.feature_ids)


@pytest.mark.parametrize("batch_size", [1, 32])
def test_different_seeds_give_different_models(support_train: Path, batch_size: int) -> None:
    first = fit_support(support_train, seed=1, batch_size=batch_size)
    second = fit_support(support_train, seed=2, batch_size=batch_size)
    assert first.model_.input.shape == second.model_.input.shape
    assert not np.array_equal(first.model_.input, second.model_.input)
    assert not np.array_equal(first.model_.output, second.model_.output)


# -- the SGD loop, driven directly -----------------------------------------------------------

TOKENS_PER_LINE = 5


def synthetic(
    nlines: int, gold: list[int] | None = None, *, nrows: int = 12, nlabels: int = 3, seed: int = 0
) -> tuple[Model, TrainingData]:
    """Lines of 3 random features each; every line has the labels `gold` (or one at random)."""
    rng = np.random.default_rng(seed)
    rows = [rng.choice(nrows, size=3, replace=False).tolist() for _ in range(nlines)]
    labels = [gold if gold is not None else [int(rng.integers(nlabels))] for _ in range(nlines)]
    model = Model.initial(
        np.arange(nrows, dtype=np.int64), nlabels=nlabels, dim=4, rng=rng, dtype=np.float64
    )
    tokens = np.full(nlines, TOKENS_PER_LINE, dtype=np.int64)
    spool = SpooledBags(np.int32)
    spool.append(Bags.of(rows))
    return model, TrainingData(spool, Bags.of(labels), tokens)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_learning_rate_decays_linearly_to_zero(batch_size: int) -> None:
    nlines, epoch, lr = 80, 5, 0.5
    model, data = synthetic(nlines)
    reports: list[tuple[int, float, float]] = []
    train(
        model,
        data,
        loss=LOSSES["softmax"],
        lr=lr,
        epoch=epoch,
        batch_size=batch_size,
        rng=np.random.default_rng(0),
        progress=lambda seen, loss, rate: reports.append((seen, loss, rate)),
    )
    total = nlines * TOKENS_PER_LINE * epoch
    assert len(reports) >= 4
    assert reports[-1][0] == total
    assert reports[-1][2] == 0.0
    rates = [rate for _, _, rate in reports]
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
    for seen, _, rate in reports[:-1]:
        # The rate of the batch just done: lr * (1 - tokens before that batch / all tokens).
        before = seen - batch_size * TOKENS_PER_LINE
        assert rate == pytest.approx(lr * (1 - before / total), rel=1e-12)
    assert all(np.isfinite(loss) and loss > 0 for _, loss, _ in reports[:-1])


class RecordingLoss:
    """A registered loss that remembers the targets the trainer gave it."""

    def __init__(self, inner: Loss) -> None:
        self.inner = inner
        self.name = inner.name
        self.multi_label = inner.multi_label
        self.targets: list[FloatArray] = []

    def probabilities(self, scores: FloatArray) -> FloatArray:
        return self.inner.probabilities(scores)

    def gradient(self, scores: FloatArray, targets: FloatArray) -> LossGradient:
        self.targets.append(np.array(targets, copy=True))
        return self.inner.gradient(scores, targets)


def recorded_targets(
    name: str, nlines: int, gold: list[int], *, epoch: int, batch_size: int
) -> FloatArray:
    model, data = synthetic(nlines, gold)
    loss = RecordingLoss(LOSSES[name])
    train(
        model,
        data,
        loss=loss,
        lr=0.1,
        epoch=epoch,
        batch_size=batch_size,
        rng=np.random.default_rng(4),
    )
    return np.concatenate(loss.targets)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_softmax_trains_on_one_gold_label_drawn_uniformly(batch_size: int) -> None:
    targets = recorded_targets("softmax", 40, [0, 2], epoch=20, batch_size=batch_size)
    assert targets.shape == (40 * 20, 3)
    assert np.all(targets.sum(axis=1) == 1)  # one label per line per visit
    assert np.all(targets[:, 1] == 0)  # only gold labels are drawn
    share = targets[:, 0].mean()  # 800 fair draws: sd 0.018
    assert 0.4 < share < 0.6


def test_softmax_draws_again_on_every_visit() -> None:
    targets = recorded_targets("softmax", 1, [0, 1, 2], epoch=30, batch_size=1)
    assert targets.shape == (30, 3)
    assert set(np.argmax(targets, axis=1).tolist()) == {0, 1, 2}


@pytest.mark.parametrize("batch_size", [1, 8])
def test_ova_trains_on_all_gold_labels_at_once(batch_size: int) -> None:
    targets = recorded_targets("ova", 40, [0, 2], epoch=5, batch_size=batch_size)
    assert targets.shape == (40 * 5, 3)
    assert np.all(targets == np.array([1.0, 0.0, 1.0]))


# -- the batched engine against the per-example reference --------------------------------------

# P@1 on support.valid (100 lines) that the batched engine may lose against batch_size=1.
ACCURACY_MARGIN = 0.03


@pytest.mark.parametrize(
    ("params", "batch_size"),
    [
        ({"lr": 0.5, "epoch": 25, "word_ngrams": 2}, 0),
        ({"lr": 0.5, "epoch": 25, "word_ngrams": 2}, 8),
        ({"lr": 0.5, "epoch": 25, "word_ngrams": 2}, 32),
        ({"lr": 0.5, "epoch": 10, "dim": 20, "word_ngrams": 2, "bucket": 10_000}, 0),
        ({"lr": 0.5, "epoch": 10, "dim": 20, "word_ngrams": 2, "bucket": 10_000}, 4),
    ],
)
def test_batched_engine_reaches_reference_accuracy(
    support_train: Path, support_valid: Path, params: dict[str, Any], batch_size: int
) -> None:
    """Same data, settings and seed; only batch_size differs (1 is fastText's per-line SGD,
    0 the automatic choice). With 10 epochs over 400 lines, batches of 32 lines are too few
    steps to converge, which is why the automatic size keeps 200 steps per epoch."""
    scores = {}
    for size in (1, batch_size):
        clf = FastTextClassifier(seed=0, batch_size=size, **params)
        scores[size] = evaluate(clf.fit_file(support_train), support_valid).precision
    assert scores[1] >= 0.85  # the reference itself learned the task
    assert scores[batch_size] >= scores[1] - ACCURACY_MARGIN, scores


@pytest.mark.parametrize("loss", ["softmax", "ova"])
def test_worker_processes_reach_single_process_accuracy(
    support_train: Path, support_valid: Path, loss: str
) -> None:
    """Two workers share the model, each training on half the lines (fastText's threads)."""
    scores = {}
    for thread in (1, 2):
        clf = FastTextClassifier(seed=0, thread=thread, lr=0.5, epoch=10, loss=loss)
        scores[thread] = evaluate(clf.fit_file(support_train), support_valid).precision
    assert scores[1] >= 0.85
    assert scores[2] >= scores[1] - ACCURACY_MARGIN, scores


def test_worker_processes_see_the_same_vocabulary_and_features(support_train: Path) -> None:
    one, two = (
        FastTextClassifier(thread=thread, epoch=2, word_ngrams=2, bucket=10_000).fit_file(
            support_train
        )
        for thread in (1, 2)
    )
    assert one.vocabulary_.words == two.vocabulary_.words
    assert one.vocabulary_.word_counts == two.vocabulary_.word_counts
    assert one.classes_ == two.classes_
    np.testing.assert_array_equal(one.model_.feature_ids, two.model_.feature_ids)


def test_worker_processes_report_progress_to_the_end(
    support_train: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports: list[tuple[int, float, float]] = []

    @contextlib.contextmanager
    def progress_bar(total: int) -> Iterator[Progress]:
        yield lambda seen, loss, lr: reports.append((seen, loss, lr))

    clf = FastTextClassifier(thread=2, epoch=40, dim=10)
    monkeypatch.setattr(clf, "_progress_bar", progress_bar)
    clf.fit_file(support_train)
    assert reports[-1][0] == clf.summary_.tokens * 40 and reports[-1][2] == 0.0
    assert all(np.isfinite(loss) for _, loss, _ in reports)


# -- divergence ------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["softmax", "ova"])
@pytest.mark.parametrize(("batch_size", "thread"), [(1, 1), (32, 1), (0, 2)])
def test_divergence_raises_and_leaves_no_model(
    support_train: Path, loss: str, batch_size: int, thread: int
) -> None:
    clf = FastTextClassifier(
        lr=1e6, epoch=1, dim=10, loss=loss, batch_size=batch_size, thread=thread
    )
    with pytest.raises(TrainingError, match="smaller learning rate"), np.errstate(all="ignore"):
        clf.fit_file(support_train)
    assert not hasattr(clf, "model_")
    assert not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError):
        clf.predict(["hello"])


# -- persistence -----------------------------------------------------------------------------


def test_save_load_round_trip_gives_identical_probabilities(
    trained: FastTextClassifier, model_path: Path, support_valid: Path
) -> None:
    loaded = FastTextClassifier.load(model_path)
    texts = support_valid.read_bytes().splitlines()
    assert loaded.classes_ == trained.classes_
    assert loaded.get_params() == trained.get_params()
    assert np.array_equal(loaded.predict_proba(texts), trained.predict_proba(texts))
    assert loaded.predict(texts, k=2) == trained.predict(texts, k=2)


# -- prediction ------------------------------------------------------------------------------

GROUPS = {
    "fruit": ["apple", "banana", "pear"],
    "animal": ["dog", "cat", "cow"],
    "vehicle": ["car", "bus", "truck"],
}
# Lines per word: vehicle is the most frequent label, fruit the least, so `classes_` (by count)
# is not in alphabetical or first-seen order.
REPEATS = {"fruit": 3, "animal": 4, "vehicle": 5}


@pytest.fixture(scope="module")
def toy() -> FastTextClassifier:
    texts: list[str] = []
    labels: list[str] = []
    for label, words in GROUPS.items():
        for _ in range(REPEATS[label]):
            texts.extend([*words, " ".join(words)])
            labels.extend([label] * (len(words) + 1))
    return FastTextClassifier(lr=0.5, epoch=50, dim=10, seed=1).fit(texts, labels)


def test_classes_are_ordered_by_label_count(toy: FastTextClassifier) -> None:
    assert toy.classes_ == ["vehicle", "animal", "fruit"]


def test_predict_proba_columns_follow_classes(toy: FastTextClassifier) -> None:
    texts = [word for words in GROUPS.values() for word in words]
    probs = toy.predict_proba(texts)
    assert probs.shape == (len(texts), 3)
    for text, row in zip(texts, probs, strict=True):
        label = next(name for name, words in GROUPS.items() if text in words)
        assert toy.classes_[int(np.argmax(row))] == label
        assert row[toy.classes_.index(label)] > 0.9


def test_softmax_probabilities_sum_to_one(trained: FastTextClassifier, support_valid: Path) -> None:
    texts = [*support_valid.read_bytes().splitlines(), b"", b"zzz unseen words"]
    probs = trained.predict_proba(texts)
    assert probs.shape == (len(texts), len(trained.classes_))
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    ("k", "threshold"), [(1, 0.0), (2, 0.0), (3, 0.1), (6, 0.05), (10, 0.0), (6, 0.5), (2, 1.0)]
)
def test_top_k_keeps_the_k_most_probable_above_threshold(
    trained: FastTextClassifier, support_valid: Path, k: int, threshold: float
) -> None:
    texts = support_valid.read_bytes().splitlines()[:40]
    probs = trained.predict_proba(texts)
    results = trained.predict(texts, k=k, threshold=threshold)
    assert len(results) == len(texts)
    for row, predictions in zip(probs, results, strict=True):
        ranked = sorted(range(row.size), key=lambda j: -row[j])[:k]
        expected = [trained.classes_[j] for j in ranked if row[j] >= threshold]
        assert [p.label for p in predictions] == expected
        assert len(predictions) <= k
        for p in predictions:
            assert p.probability == pytest.approx(float(row[trained.classes_.index(p.label)]))
            assert p.probability >= threshold


# -- evaluation ------------------------------------------------------------------------------

EVAL_LINES = [
    "apple __label__fruit",  # predicted fruit: right
    "__label__fruit car",  # predicted vehicle: wrong
    "dog __label__animal __label__fruit",  # predicted animal: right; two gold labels
    "dog __label__animal __label__martian",  # martian is unknown: one gold label
    "__label__martian apple",  # no known label: skipped
    "apple",  # no label: skipped
]


def test_evaluate_skips_lines_without_known_labels(toy: FastTextClassifier) -> None:
    assert evaluate(toy, EVAL_LINES).examples == 4


@pytest.mark.parametrize(
    ("k", "threshold", "precision", "recall"),
    [
        (1, 0.0, 3 / 4, 3 / 5),  # 4 predicted, 3 right, 5 gold
        (3, 0.0, 5 / 12, 5 / 5),  # every label predicted: all 5 gold found among 12
        (3, 0.5, 3 / 4, 3 / 5),  # softmax: only the (confident) top label passes 0.5
    ],
)
def test_evaluate_precision_and_recall_at_k(
    toy: FastTextClassifier, k: int, threshold: float, precision: float, recall: float
) -> None:
    result = evaluate(toy, EVAL_LINES, k=k, threshold=threshold)
    assert result.precision == pytest.approx(precision)
    assert result.recall == pytest.approx(recall)
    assert result.f1 == pytest.approx(2 * precision * recall / (precision + recall))


def test_evaluate_per_label_scores(toy: FastTextClassifier) -> None:
    scores = {s.label: s for s in evaluate(toy, EVAL_LINES, k=1).per_label}
    # fruit: gold on lines 1-3, predicted on line 1 only.
    assert (scores["fruit"].precision, scores["fruit"].recall) == pytest.approx((1.0, 1 / 3))
    assert scores["fruit"].support == 3
    # vehicle: predicted once (line 2), never gold.
    assert (scores["vehicle"].precision, scores["vehicle"].recall) == (0.0, 0.0)
    assert scores["vehicle"].support == 0
    assert (scores["animal"].precision, scores["animal"].recall) == (1.0, 1.0)
    assert scores["animal"].support == 2


def test_evaluate_reads_a_file(toy: FastTextClassifier, tmp_path: Path) -> None:
    path = tmp_path / "eval.txt"
    path.write_text("\n".join(EVAL_LINES) + "\n", encoding="utf-8")
    from_file = evaluate(toy, path, k=1)
    assert (from_file.precision, from_file.recall) == pytest.approx((3 / 4, 3 / 5))


# -- quality on the cooking data -------------------------------------------------------------


@pytest.mark.slow
def test_cooking_precision_at_1_matches_fasttext(cooking: Path) -> None:
    """fastText's tutorial setting on the cooking data.

    Settings: `ftl train cooking.train --lr 1.0 --epoch 25` with every other option at its
    default (dim 100, word_ngrams 1, softmax, default batch size) and seed 0; fastText's
    `./fasttext supervised -input cooking.train -lr 1.0 -epoch 25` gets P@1 0.559 on
    cooking.valid. ftl measured 0.558 with seed 0 (batch_size 1 and the automatic default
    alike), so the bound leaves little room: a drop below 0.55 is a real regression.
    """
    clf = FastTextClassifier(lr=1.0, epoch=25, seed=0).fit_file(cooking / "cooking.train")
    result = evaluate(clf, cooking / "cooking.valid", k=1)
    assert result.examples == 3000
    assert result.precision >= 0.55
