"""Training end to end: determinism, the learning-rate schedule, label drawing, the batched
engine against the per-example reference, divergence, prediction, evaluation."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
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
from fasttext_lite.arrays.bags import Bags
from fasttext_lite.arrays.spool import SpooledBags
from fasttext_lite.losses import Loss, OutputGradient, TopLabels, make_loss
from fasttext_lite.model.dense import Model
from fasttext_lite.text.scan import Scan
from fasttext_lite.training import sgd as training
from fasttext_lite.training.sgd import Progress, TrainingData, train
from fasttext_lite.vocab import Vocabulary, ids_of, label_bags

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
    nlines: int,
    gold: list[int] | None = None,
    *,
    nrows: int = 12,
    nlabels: int = 3,
    seed: int = 0,
    memory_entries: int = sys.maxsize,
) -> tuple[Model, TrainingData]:
    """Lines of 3 random features each; every line has the labels `gold` (or one at random).
    The lines wait in memory, or in a temporary file past `memory_entries` ids."""
    rng = np.random.default_rng(seed)
    rows = [rng.choice(nrows, size=3, replace=False).tolist() for _ in range(nlines)]
    labels = [gold if gold is not None else [int(rng.integers(nlabels))] for _ in range(nlines)]
    model = Model.initial(
        np.arange(nrows, dtype=np.int64), output_rows=nlabels, dim=4, rng=rng, dtype=np.float64
    )
    tokens = np.full(nlines, TOKENS_PER_LINE, dtype=np.int64)
    spool = SpooledBags(np.int32, memory_entries=memory_entries)
    spool.append(Bags.of(rows))
    return model, TrainingData(spool, Bags.of(labels), tokens)


WindowSizes = Callable[[int, int], list[int]]


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> WindowSizes:
    """A function (block entries, window entries) -> the lines of each window trained on from
    then on, in this process: it sets the trainer's block and window sizes."""

    def small_windows(block_entries: int, window_entries: int) -> list[int]:
        monkeypatch.setattr(training, "BLOCK_ENTRIES", block_entries)
        monkeypatch.setattr(training, "WINDOW_ENTRIES", window_entries)
        lines: list[int] = []
        windows = training._windows

        def recording(*args: Any) -> list[npt.NDArray[np.int64]]:
            got = windows(*args)
            lines.extend(int((window[:, 1] - window[:, 0]).sum()) for window in got)
            return got

        monkeypatch.setattr(training, "_windows", recording)
        return lines

    return small_windows


# Block and window entries for the trainer: the defaults (each epoch one window), or blocks of
# 2 of the synthetic lines (3 ids each) in windows of 4 blocks, 10 windows an epoch of 80 lines.
WINDOWS = {"one-window": None, "windows-of-8-lines": (6, 24)}


@pytest.mark.parametrize("windows", list(WINDOWS.values()), ids=list(WINDOWS))
@pytest.mark.parametrize("batch_size", [1, 4])
def test_learning_rate_decays_linearly_to_zero(
    batch_size: int, windows: tuple[int, int] | None, small_windows: WindowSizes
) -> None:
    nlines, epoch, lr = 80, 5, 0.5
    model, data = synthetic(nlines)
    seen_windows = small_windows(*windows) if windows else []
    reports: list[tuple[int, float, float]] = []
    train(
        model,
        data,
        loss=make_loss("softmax", [1, 1, 1]),
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
    if windows:
        assert seen_windows == [8] * (nlines // 8) * epoch


class RecordingLoss:
    """A registered loss that remembers the targets the trainer gave it."""

    def __init__(self, inner: Loss) -> None:
        self.inner = inner
        self.multi_label = inner.multi_label
        self.output_rows = inner.output_rows
        self.batch_steps = inner.batch_steps
        self.targets: list[FloatArray] = []

    def probabilities(self, output: FloatArray, hidden: FloatArray) -> FloatArray:
        return self.inner.probabilities(output, hidden)

    def top_k(self, output: FloatArray, hidden: FloatArray, k: int, threshold: float) -> TopLabels:
        return self.inner.top_k(output, hidden, k, threshold)

    def gradient(
        self,
        output: FloatArray,
        hidden: FloatArray,
        gold: Bags,
        rng: np.random.Generator,
        weights: FloatArray | None = None,
    ) -> OutputGradient:
        targets = np.zeros((gold.nlines, output.shape[0]))
        targets[gold.owners, gold.indices] = 1.0
        self.targets.append(targets)
        return self.inner.gradient(output, hidden, gold, rng, weights)


def recorded_targets(
    name: str, nlines: int, gold: list[int], *, epoch: int, batch_size: int
) -> FloatArray:
    model, data = synthetic(nlines, gold)
    loss = RecordingLoss(make_loss(name, [1, 1, 1]))
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


# -- windows: the lines of an epoch read back a window of blocks at a time ---------------------


def one_label_per_line(nlines: int, memory_entries: int) -> tuple[Model, TrainingData]:
    """Synthetic lines where line i has the one label i: a target names its line."""
    model, data = synthetic(nlines, nlabels=nlines, memory_entries=memory_entries)
    labels = Bags.of([[line] for line in range(nlines)])
    return model, TrainingData(data.rows, labels, data.tokens_per_line)


@pytest.mark.parametrize(
    ("block_entries", "window_entries"),
    [(3, 3), (6, 24), (9, 20), (1 << 16, 1 << 21)],
    ids=["a-line-a-window", "8-line-windows", "uneven", "one-window"],
)
@pytest.mark.parametrize("batch_size", [1, 3, 0])
@pytest.mark.parametrize("memory_entries", [0, sys.maxsize], ids=["spilled", "in-memory"])
def test_every_line_is_trained_on_once_an_epoch_whatever_the_windows(
    small_windows: WindowSizes,
    block_entries: int,
    window_entries: int,
    batch_size: int,
    memory_entries: int,
) -> None:
    nlines, epoch = 60, 4
    model, data = one_label_per_line(nlines, memory_entries)
    assert data.rows.spilled == (memory_entries == 0)
    windows = small_windows(block_entries, window_entries)
    loss = RecordingLoss(make_loss("softmax", [1, 1, 1]))
    reports: list[tuple[int, float, float]] = []
    train(
        model,
        data,
        loss=loss,
        lr=0.1,
        epoch=epoch,
        batch_size=batch_size,
        rng=np.random.default_rng(5),
        progress=lambda seen, loss, rate: reports.append((seen, loss, rate)),
    )
    trained_on = np.argmax(np.concatenate(loss.targets), axis=1)
    assert trained_on.size == nlines * epoch
    for visits in np.split(trained_on, epoch):
        assert sorted(visits.tolist()) == list(range(nlines))
    assert sum(windows) == nlines * epoch
    assert reports[-1][0] == nlines * TOKENS_PER_LINE * epoch


def test_each_epoch_takes_the_blocks_in_a_new_random_order(small_windows: WindowSizes) -> None:
    """Blocks of 2 lines, windows of 4 blocks: an epoch's first 8 lines are 4 whole blocks
    from anywhere in the corpus, another 4 the next epoch, and the lines of a window are
    shuffled together."""
    nlines, epoch = 60, 3
    model, data = one_label_per_line(nlines, sys.maxsize)
    small_windows(6, 24)
    loss = RecordingLoss(make_loss("softmax", [1, 1, 1]))
    train(
        model,
        data,
        loss=loss,
        lr=0.1,
        epoch=epoch,
        batch_size=1,
        rng=np.random.default_rng(6),
    )
    epochs = np.split(np.argmax(np.concatenate(loss.targets), axis=1), epoch)
    firsts = [sorted(visits[:8].tolist()) for visits in epochs]
    for first in firsts:
        assert all(a % 2 == 0 and b == a + 1 for a, b in zip(first[::2], first[1::2], strict=True))
        assert first != list(range(8))  # not the corpus's first window
    assert len({tuple(first) for first in firsts}) == epoch
    for visits in epochs:
        # Unshuffled windows would visit each block's 2 lines one after the other: 30 times.
        in_order = np.count_nonzero((visits[:-1] % 2 == 0) & (visits[1:] == visits[:-1] + 1))
        assert in_order < nlines // 4


@pytest.mark.parametrize("memory_entries", [0, sys.maxsize], ids=["spilled", "in-memory"])
def test_worker_processes_train_every_window_to_the_end(
    small_windows: WindowSizes, memory_entries: int
) -> None:
    """Two workers (forked: they read a spilled file side by side) each with many windows."""
    nlines, epoch = 200, 3
    model, data = synthetic(nlines, memory_entries=memory_entries)
    small_windows(6, 24)
    reports: list[tuple[int, float, float]] = []
    train(
        model,
        data,
        loss=make_loss("softmax", [1, 1, 1]),
        lr=0.1,
        epoch=epoch,
        batch_size=4,
        rng=np.random.default_rng(7),
        progress=lambda seen, loss, rate: reports.append((seen, loss, rate)),
        threads=2,
    )
    assert reports[-1][0] == nlines * TOKENS_PER_LINE * epoch
    assert reports[-1][2] == 0.0
    rates = [rate for _, _, rate in reports]
    assert all(a >= b for a, b in zip(rates, rates[1:], strict=False))
    assert np.isfinite(model.input).all() and np.isfinite(model.output).all()


# P@1 on support.valid (100 lines, 6 labels: the most frequent is 19% of support.train) that
# training in many small windows must reach; in one window it reaches about 0.91.
WINDOWED_PRECISION = 0.8


@pytest.mark.parametrize("thread", [1, 2])
def test_a_corpus_in_many_windows_still_learns(
    support_train: Path, support_valid: Path, small_windows: WindowSizes, thread: int
) -> None:
    """support.train has about 5,000 tokens: blocks of 64 ids in windows of 256 (128 per
    worker) make some 20 windows an epoch."""
    windows = small_windows(64, 256)
    clf = FastTextClassifier(seed=0, thread=thread, lr=0.5, epoch=10).fit_file(support_train)
    assert thread > 1 or len(windows) >= 10 * 15  # windows are recorded in this process only
    assert evaluate(clf, support_valid).precision >= WINDOWED_PRECISION


# -- where the lines wait ------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["softmax", "ova"])
@pytest.mark.parametrize("batch_size", [1, 0])
def test_training_does_not_depend_on_where_the_lines_wait(
    support_train: Path,
    support_valid: Path,
    spill_past: Callable[[int], None],
    temporary_files: Callable[[], list[bool]],
    loss: str,
    batch_size: int,
) -> None:
    """Everything in memory (the default for a small corpus), or every id of the scan and of
    the prepared lines in temporary files: the same model, bit for bit."""
    params: dict[str, Any] = {
        "loss": loss,
        "batch_size": batch_size,
        "word_ngrams": 2,
        "minn": 2,
        "maxn": 3,
        "bucket": 5000,
    }
    in_memory = fit_support(support_train, **params)
    assert temporary_files() == []
    spill_past(0)
    spilled = fit_support(support_train, **params)
    assert temporary_files() and not any(temporary_files())  # none outlives training
    assert in_memory.model_.input.tobytes() == spilled.model_.input.tobytes()
    assert in_memory.model_.output.tobytes() == spilled.model_.output.tobytes()
    assert np.array_equal(in_memory.model_.feature_ids, spilled.model_.feature_ids)
    assert in_memory.summary_.examples == spilled.summary_.examples
    texts = support_valid.read_bytes().splitlines()
    assert np.array_equal(in_memory.predict_proba(texts), spilled.predict_proba(texts))
    assert in_memory.top_k(texts, k=2) == spilled.top_k(texts, k=2)


# -- gold labels -----------------------------------------------------------------------------

# Labels a, b and c occur 5 times each around the line under test; min_count_label 5 keeps
# them and drops z, which the line under test holds at most twice (and it occurs twice).
AROUND = [b"__label__a one", b"__label__b two", b"__label__c three"] * 5


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"__label__a x", {"a"}),
        (b"__label__a __label__a x", {"a"}),
        (b"__label__a x __label__b __label__a", {"a", "b"}),
        (b"__label__c __label__b __label__a x", {"a", "b", "c"}),
        (b"__label__b __label__c __label__b __label__c", {"b", "c"}),
        (b"__label__z x", set()),
        (b"__label__z __label__z x", set()),
        (b"__label__z __label__a __label__z __label__a x", {"a"}),
        (b"x y", set()),
    ],
)
@pytest.mark.parametrize("memory_entries", [0, 4, sys.maxsize])
def test_gold_labels_are_each_lines_distinct_known_labels(
    line: bytes, expected: set[str], memory_entries: int
) -> None:
    lines = [*AROUND[:7], line, *AROUND[7:], line]
    scan = Scan(b"__label__", memory_entries=memory_entries)
    scan.add_lines(lines)
    vocab, _ = Vocabulary.build(scan, min_count=1, min_count_label=5)
    assert sorted(vocab.labels) == ["a", "b", "c"]
    gold = label_bags(scan.labels, ids_of(scan.labels.decoded, vocab.label_ids))
    assert gold.nlines == len(lines)
    for text, first, last in zip(lines, gold.indptr[:-1], gold.indptr[1:], strict=True):
        names = [vocab.labels[i] for i in gold.indices[first:last]]
        assert len(names) == len(set(names)), (text, names)  # each label once
        wanted = expected if text == line else {text.split()[0][len(b"__label__") :].decode()}
        assert set(names) == wanted, text


# -- the batched engine against the per-example reference --------------------------------------

# P@1 on support.valid (100 lines) that the batched engine may lose against batch_size=1.
ACCURACY_MARGIN = 0.03


# The settings compared: bigrams for 25 epochs at the default dim, and the `trained` fixture's.
BIGRAMS_25_EPOCHS = (("lr", 0.5), ("epoch", 25), ("word_ngrams", 2))
AS_TRAINED = (("lr", 0.5), ("epoch", 10), ("dim", 20), ("word_ngrams", 2), ("bucket", 10_000))


@functools.cache
def precision_at_1(
    train: Path, valid: Path, params: tuple[tuple[str, Any], ...], batch_size: int
) -> float:
    """P@1 on `valid` of a model trained with seed 0: computed once for each setting, so the
    per-line reference (batch_size 1) is trained once, not once per batch size compared."""
    clf = FastTextClassifier(seed=0, batch_size=batch_size, **dict(params))
    return evaluate(clf.fit_file(train), valid).precision


@pytest.mark.parametrize(
    ("params", "batch_size"),
    [
        (BIGRAMS_25_EPOCHS, 0),
        (BIGRAMS_25_EPOCHS, 8),
        (BIGRAMS_25_EPOCHS, 32),
        (AS_TRAINED, 0),
        (AS_TRAINED, 4),
    ],
)
def test_batched_engine_reaches_reference_accuracy(
    support_train: Path,
    support_valid: Path,
    params: tuple[tuple[str, Any], ...],
    batch_size: int,
) -> None:
    """Same data, settings and seed; only batch_size differs (1 is fastText's per-line SGD,
    0 the automatic choice). With 10 epochs over 400 lines, batches of 32 lines are too few
    steps to converge, which is why the automatic size keeps 200 steps per epoch."""
    reference = precision_at_1(support_train, support_valid, params, 1)
    batched = precision_at_1(support_train, support_valid, params, batch_size)
    assert reference >= 0.85  # the reference itself learned the task
    assert batched >= reference - ACCURACY_MARGIN, (batched, reference)


@pytest.mark.parametrize("loss", ["softmax", "ova"])
def test_worker_processes_reach_single_process_accuracy(
    support_train: Path, support_valid: Path, loss: str
) -> None:
    """Two workers share the model, each training on half the lines (fastText's threads).
    Their runs differ from run to run (each worker reads what the other has written so far),
    by a few lines of the 100 here, so the means over seeds are compared."""
    scores = {}
    for thread in (1, 2):
        precisions = [
            evaluate(
                FastTextClassifier(seed=seed, thread=thread, lr=0.5, epoch=10, loss=loss).fit_file(
                    support_train
                ),
                support_valid,
            ).precision
            for seed in range(4)
        ]
        scores[thread] = float(np.mean(precisions))
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
    assert one.classes_.tolist() == two.classes_.tolist()
    np.testing.assert_array_equal(one.model_.feature_ids, two.model_.feature_ids)


def test_worker_processes_report_progress_to_the_end(
    support_train: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports: list[tuple[int, float, float]] = []

    @contextlib.contextmanager
    def progress_bar(total: int) -> Iterator[tuple[Progress, None]]:
        yield (lambda seen, loss, lr: reports.append((seen, loss, lr))), None

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
    assert toy.classes_.tolist() == ["vehicle", "animal", "fruit"]


def test_predict_proba_columns_follow_classes(toy: FastTextClassifier) -> None:
    texts = [word for words in GROUPS.values() for word in words]
    probs = toy.predict_proba(texts)
    assert probs.shape == (len(texts), 3)
    for text, row in zip(texts, probs, strict=True):
        label = next(name for name, words in GROUPS.items() if text in words)
        assert toy.classes_[int(np.argmax(row))] == label
        assert row[list(toy.classes_).index(label)] > 0.9


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
    results = trained.top_k(texts, k=k, threshold=threshold)
    assert len(results) == len(texts)
    for row, predictions in zip(probs, results, strict=True):
        ranked = sorted(range(row.size), key=lambda j: -row[j])[:k]
        expected = [trained.classes_[j] for j in ranked if row[j] >= threshold]
        assert [p.label for p in predictions] == expected
        assert len(predictions) <= k
        for p in predictions:
            assert p.probability == pytest.approx(float(row[list(trained.classes_).index(p.label)]))
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


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_cooking_ova_with_two_workers_stays_stable(cooking: Path, seed: int) -> None:
    """One-vs-all over 735 labels with 2 workers (see train.MAX_LINE_MASS). Without the
    per-line bound, 3 runs in 20 ended with P@1 0.41-0.47 and weights up to 10^7 (and no
    error); bounded, 32 runs in 32 reached 0.55-0.57 with no weight above 12."""
    clf = FastTextClassifier(
        loss="ova", lr=0.5, epoch=25, word_ngrams=2, bucket=200_000, dim=50, seed=seed, thread=2
    ).fit_file(cooking / "cooking.train")
    assert np.abs(clf.model_.input).max() < 30.0
    assert evaluate(clf, cooking / "cooking.valid").precision >= 0.54
