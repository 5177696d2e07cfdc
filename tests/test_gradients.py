"""Gradients: every registered loss against central differences, and one SGD step against
fastText's update written out by hand (`src/loss.cc`, `src/model.cc`).

All in float64 so that the tolerances can be tight.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

from fasttext_lite.losses import LOSSES, Loss
from fasttext_lite.model import Model
from fasttext_lite.sparse import Bags
from fasttext_lite.train import (
    FULL_LINE_MASS,
    MAX_LINE_MASS,
    MAX_ROW_STEP,
    Batcher,
    _bounded,
    _step,
)

FloatArray = npt.NDArray[np.floating]
EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-8

ALL_LOSSES = sorted(LOSSES)


def make_targets(loss: Loss, gold: list[list[int]], nlabels: int) -> FloatArray:
    """One-hot (the first gold label) for single-label losses, multi-hot for multi-label ones."""
    y = np.zeros((len(gold), nlabels))
    for row, labels in enumerate(gold):
        y[row, labels if loss.multi_label else labels[:1]] = 1.0
    return y


GOLD = [[0, 2], [1], [2, 3], [3]]


def central_difference(f: Callable[[], float], array: FloatArray) -> FloatArray:
    """d f / d array by central differences, perturbing `array` in place and restoring it."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + EPS
        up = f()
        array[index] = original - EPS
        down = f()
        array[index] = original
        grad[index] = (up - down) / (2 * EPS)
    return grad


@pytest.mark.parametrize("name", ALL_LOSSES)
@pytest.mark.parametrize("scale", [0.1, 1.0, 5.0])
def test_loss_gradient_matches_finite_differences(name: str, scale: float) -> None:
    loss = LOSSES[name]
    rng = np.random.default_rng(7)
    scores = rng.normal(scale=scale, size=(len(GOLD), 4))
    targets = make_targets(loss, GOLD, 4)
    result = loss.gradient(scores, targets)
    numeric = central_difference(lambda: loss.gradient(scores, targets).loss, scores)
    assert result.d_scores.shape == scores.shape
    np.testing.assert_allclose(result.d_scores, numeric, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_loss_value_is_summed_over_rows(name: str) -> None:
    loss = LOSSES[name]
    rng = np.random.default_rng(11)
    scores = rng.normal(size=(len(GOLD), 4))
    targets = make_targets(loss, GOLD, 4)
    per_row = [loss.gradient(scores[i : i + 1], targets[i : i + 1]).loss for i in range(len(GOLD))]
    assert loss.gradient(scores, targets).loss == pytest.approx(sum(per_row), rel=1e-12)


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_probabilities_are_probabilities(name: str) -> None:
    loss = LOSSES[name]
    scores = np.random.default_rng(3).normal(scale=3.0, size=(5, 4))
    p = loss.probabilities(scores)
    assert p.shape == scores.shape
    assert np.all((p >= 0) & (p <= 1))
    if not loss.multi_label:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


# -- through the model ---------------------------------------------------------------------

NROWS_A, DIM, NLABELS = 8, 5, 4
# Feature occurrences per line, as rows of A; rows 1 and 6 are used by several lines, row 4
# twice within a line; rows 0, 3 and 7 are used by no line.
LINES = [[1, 4, 4, 6], [2, 6], [1, 5, 6], [5]]


def averaging_weights(lines: list[list[int]]) -> sp.csr_array:
    """(lines, rows of A): each occurrence of a row in a line weighs 1/len(line)."""
    dense = np.zeros((len(lines), NROWS_A))
    for i, ids in enumerate(lines):
        for feature in ids:
            dense[i, feature] += 1.0 / len(ids)
    return sp.csr_array(dense)


def test_bags_weigh_each_occurrence_one_over_the_line_length() -> None:
    weights = Bags.of(LINES).weights(NROWS_A)
    np.testing.assert_allclose(weights.toarray(), averaging_weights(LINES).toarray(), rtol=1e-15)


def random_model(seed: int, *, nrows: int = NROWS_A, scale: float = 1.0) -> Model:
    """Normal A (nrows x DIM) and B (NLABELS x DIM, times `scale`)."""
    rng = np.random.default_rng(seed)
    return Model(
        rng.normal(size=(nrows, DIM)),
        scale * rng.normal(size=(NLABELS, DIM)),
        np.arange(nrows, dtype=np.int64) * 3,
    )


@pytest.mark.parametrize("name", ALL_LOSSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_model_backward_matches_finite_differences(name: str, seed: int) -> None:
    loss = LOSSES[name]
    model = random_model(seed)
    weights = averaging_weights(LINES)
    targets = make_targets(loss, GOLD, NLABELS)

    def value() -> float:
        return loss.gradient(model.scores(model.hidden(weights)), targets).loss

    hidden = model.hidden(weights)
    d_scores = loss.gradient(model.scores(hidden), targets).d_scores
    grads = model.backward(weights.T, hidden, d_scores)

    numeric_a = central_difference(value, model.input)
    numeric_b = central_difference(value, model.output)
    assert grads.input_rows.shape == (NROWS_A, DIM)
    np.testing.assert_allclose(grads.input_rows, numeric_a, rtol=RTOL, atol=ATOL)
    unused = [0, 3, 7]
    np.testing.assert_array_equal(numeric_a[unused], 0.0)
    np.testing.assert_array_equal(grads.input_rows[unused], 0.0)
    np.testing.assert_allclose(grads.output, numeric_b, rtol=RTOL, atol=ATOL)


def test_hidden_is_the_mean_of_the_lines_rows() -> None:
    model = random_model(5)
    hidden = model.hidden(averaging_weights(LINES))
    for i, ids in enumerate(LINES):
        np.testing.assert_allclose(hidden[i], model.input[ids].mean(axis=0), rtol=1e-12)


# -- one SGD step is fastText's update -------------------------------------------------------


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def fasttext_step(
    a: FloatArray, b: FloatArray, ids: list[int], gold: list[int], lr: float, name: str
) -> None:
    """fastText's supervised update for one line, in place (`Loss::forward`, `Model::update`)."""
    h = sum(a[i] for i in ids) / len(ids)
    scores = [float(b[j] @ h) for j in range(b.shape[0])]
    if name == "softmax":
        top = max(scores)
        z = sum(np.exp(s - top) for s in scores)
        p = [np.exp(s - top) / z for s in scores]
    else:
        p = [sigmoid(s) for s in scores]
    grad = np.zeros_like(h)
    for j in range(b.shape[0]):
        alpha = lr * ((1.0 if j in gold else 0.0) - p[j])
        grad += alpha * b[j]  # B before its update
        b[j] += alpha * h
    for i in ids:  # a repeated feature gets the step once per occurrence
        a[i] += grad / len(ids)


def training_rows(lines: list[list[int]], gold: list[list[int]]) -> tuple[Bags, Bags]:
    """Rows of A and gold labels per line, as train.py takes them."""
    return Bags.of(lines), Bags.of(gold)


@pytest.mark.parametrize("name", ["softmax", "ova"])
@pytest.mark.parametrize("line", range(len(LINES)))
@pytest.mark.parametrize("lr", [0.05, 1.0, 2.5])
def test_step_of_one_line_is_fasttext_sgd(name: str, line: int, lr: float) -> None:
    loss = LOSSES[name]
    gold = [labels if loss.multi_label else labels[:1] for labels in GOLD]
    weights, targets = training_rows(LINES, gold)
    model = random_model(line)
    a, b = model.input.copy(), model.output.copy()
    scores = b @ (a[LINES[line]].mean(axis=0))
    y = targets.weights(NLABELS).toarray()[line : line + 1] > 0
    expected_loss = loss.gradient(scores[None, :], y.astype(float)).loss

    rows = Batcher(weights, NROWS_A, np.float64)
    value = _step(model, rows, targets, np.array([line], dtype=np.intp), loss=loss, lr=lr)

    fasttext_step(a, b, LINES[line], gold[line], lr, name)
    np.testing.assert_allclose(model.input, a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.output, b, rtol=1e-12, atol=1e-14)
    assert value == pytest.approx(expected_loss, rel=1e-12)


@pytest.mark.parametrize("nlabels", [120, 735])
@pytest.mark.parametrize("lr", [0.1, 0.5])
def test_ova_line_that_every_label_gets_wrong_steps_its_rows_at_most_the_bound(
    nlabels: int, lr: float
) -> None:
    """A line of untrained rows (hidden 0) scores every label 1/2: its score gradients sum to
    nlabels / 2 in size, above MAX_LINE_MASS, so its step on A is fastText's scaled to the
    bound. B's step is fastText's (zero here, as the hidden vector is)."""
    line, gold = [0, 1, 1], [3]
    direction = np.random.default_rng(nlabels).normal(size=DIM)
    model = Model(
        np.zeros((2, DIM)), np.tile(direction, (nlabels, 1)), np.arange(2, dtype=np.int64)
    )
    a, b = model.input.copy(), model.output.copy()
    _step(
        model,
        Batcher(Bags.of([line]), 2, np.float64),
        Bags.of([gold]),
        np.array([0], dtype=np.intp),
        loss=LOSSES["ova"],
        lr=lr,
    )
    fasttext_step(a, b, line, gold, lr, "ova")
    mass = nlabels / 2
    assert mass > MAX_LINE_MASS
    np.testing.assert_allclose(model.input, a * (MAX_LINE_MASS / mass), rtol=1e-12)
    np.testing.assert_array_equal(model.output, b)


def test_line_bound_scales_only_the_lines_over_it() -> None:
    """A perfectly predicted line (no gradient at all) and one under the bound keep their
    weights; one at twice the bound has them halved; nothing warns of a division by zero."""
    weights = averaging_weights([[1, 4, 4], [2, 6], [5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bounded = _bounded(weights, np.array([0.0, MAX_LINE_MASS / 2, 2 * MAX_LINE_MASS]))
    np.testing.assert_allclose(
        bounded.toarray(), weights.toarray() * [[1.0], [1.0], [0.5]], rtol=1e-15
    )
    assert _bounded(weights, np.array([0.0, 1.0, MAX_LINE_MASS])) is weights


@pytest.mark.parametrize("seed", range(3))
def test_softmax_lines_never_reach_the_line_bound(seed: int) -> None:
    """Softmax score gradients sum to at most 2 in size, so however many labels and however
    large the weights, one line's step is fastText's."""
    nlabels, rng = 735, np.random.default_rng(seed)
    model = Model(
        rng.normal(size=(NROWS_A, DIM)),
        20.0 * rng.normal(size=(nlabels, DIM)),
        np.arange(NROWS_A, dtype=np.int64),
    )
    a, b = model.input.copy(), model.output.copy()
    line, gold = LINES[seed], [int(rng.integers(nlabels))]
    rows = Batcher(Bags.of([line]), NROWS_A, np.float64)
    _step(
        model, rows, Bags.of([gold]), np.array([0], dtype=np.intp), loss=LOSSES["softmax"], lr=1.0
    )
    fasttext_step(a, b, line, gold, 1.0, "softmax")
    np.testing.assert_allclose(model.input, a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.output, b, rtol=1e-12, atol=1e-12)


def test_step_on_softmax_matches_hand_numbers() -> None:
    softmax = LOSSES["softmax"]
    one = np.array([0], dtype=np.intp)
    # One feature row, two labels, B = 0: p = (1/2, 1/2); gold 0, lr 1:
    # alpha = (1/2, -1/2); grad = 0 (B was zero); B_0 = h/2, B_1 = -h/2; A unchanged.
    model = Model(np.array([[0.5, -1.0]]), np.zeros((2, 2)), np.array([0], dtype=np.int64))
    weights, targets = Batcher(Bags.of([[0]]), 1, np.float64), Bags.of([[0]])
    value = _step(model, weights, targets, one, loss=softmax, lr=1.0)
    assert value == pytest.approx(np.log(2.0), rel=1e-12)
    np.testing.assert_allclose(model.output, [[0.25, -0.5], [-0.25, 0.5]], rtol=1e-12)
    np.testing.assert_allclose(model.input, [[0.5, -1.0]], rtol=1e-12)
    # Second step: scores = (0.625, -0.625), p_0 = sigmoid(1.25); alpha = (1 - p_0, p_0 - 1);
    # grad = alpha_0 B_0 + alpha_1 B_1 = 2 (1 - p_0) (0.25, -0.5), with B before its update.
    p0 = 1.0 / (1.0 + np.exp(-1.25))
    value = _step(model, weights, targets, one, loss=softmax, lr=1.0)
    assert value == pytest.approx(-np.log(p0), rel=1e-12)
    step = 2 * (1 - p0) * np.array([0.25, -0.5])
    np.testing.assert_allclose(model.input - [[0.5, -1.0]], [step], rtol=1e-12)
    b0 = np.array([0.25, -0.5]) + (1 - p0) * np.array([0.5, -1.0])
    np.testing.assert_allclose(model.output, [b0, -b0], rtol=1e-12)


@pytest.mark.parametrize("lines", [[0], [0, 1], [0, 1, 2, 3]])
def test_a_batch_finds_each_row_once_and_counts_its_uses(lines: list[int]) -> None:
    batch = Batcher(Bags.of(LINES), NROWS_A, np.float64)(np.array(lines, dtype=np.intp))
    used = sorted({row for line in lines for row in LINES[line]})
    assert sorted(batch.rows.tolist()) == used
    for row, uses in zip(batch.rows.tolist(), batch.uses.tolist(), strict=True):
        occurrences = sum(LINES[line].count(row) for line in lines)
        assert uses == min(occurrences, len(lines))  # row 4 twice in line 0: at most 1 line
    expected = averaging_weights([LINES[line] for line in lines]).toarray()[:, batch.rows]
    np.testing.assert_allclose(batch.weights.toarray(), expected, rtol=1e-15)


def test_batched_step_gives_a_row_used_by_one_line_that_lines_step() -> None:
    """A row of A that only one line of the batch uses gets exactly that line's SGD step
    (computed with the model as it was before the batch)."""
    loss = LOSSES["softmax"]
    lines = [[0, 1, 7], [2, 3, 7], [4, 7]]  # row 7 is shared, like `</s>`
    gold = [[0], [1], [1]]
    weights, targets = training_rows(lines, gold)
    model = random_model(9)
    a0, b0 = model.input.copy(), model.output.copy()
    rows = Batcher(weights, NROWS_A, np.float64)
    _step(model, rows, targets, np.arange(3, dtype=np.intp), loss=loss, lr=0.5)

    for ids, labels in zip(lines, gold, strict=True):
        a, b = a0.copy(), b0.copy()
        fasttext_step(a, b, ids, labels, 0.5, "softmax")
        own = [i for i in ids if i != 7]
        np.testing.assert_allclose(model.input[own], a[own], rtol=1e-12, atol=1e-14)
    untouched = [5, 6]
    np.testing.assert_array_equal(model.input[untouched], a0[untouched])


@pytest.mark.parametrize("lr", [0.5, 1.0, 2.5])
def test_a_row_that_is_a_small_part_of_many_lines_takes_their_summed_step(lr: float) -> None:
    """`</s>` in long lines: each of 8 lines of 10 rows sends the shared row at most a tenth
    of a full line's step, under one in all, so the batch moves it by the sum of the lines'
    SGD steps (from the model as it was before the batch), not by their mean."""
    nlines, own = 8, 9
    shared = 0
    lines = [[shared, *range(1 + own * i, 1 + own * (i + 1))] for i in range(nlines)]
    gold = [[i % NLABELS] for i in range(nlines)]
    model = random_model(3, nrows=1 + own * nlines)
    a0, b0 = model.input.copy(), model.output.copy()
    rows = Batcher(Bags.of(lines), model.input.shape[0], np.float64)
    _step(
        model, rows, Bags.of(gold), np.arange(nlines, dtype=np.intp), loss=LOSSES["softmax"], lr=lr
    )

    summed = np.zeros(DIM)
    for ids, labels in zip(lines, gold, strict=True):
        a, b = a0.copy(), b0.copy()
        fasttext_step(a, b, ids, labels, lr, "softmax")
        summed += a[shared] - a0[shared]
    np.testing.assert_allclose(model.input[shared] - a0[shared], summed, rtol=1e-12)


@pytest.mark.parametrize("nlines", [2, 8, 64])
@pytest.mark.parametrize("gold", ["likeliest", "unlikeliest"])
@pytest.mark.parametrize("lr", [0.5, 1.0, 2.5])
def test_a_row_that_is_all_of_many_lines_moves_at_most_one_full_step(
    nlines: int, gold: str, lr: float
) -> None:
    """n copies of a one-row line send their row n times one line's SGD step g. A line whose
    score gradients sum to `mass` counts as mass / FULL_LINE_MASS of a line, and the row takes
    at most max(MAX_ROW_STEP, lr) per counted line: so it moves by n g while that is under one
    full step, and by one full line's worth, g x FULL_LINE_MASS / mass (over lr), beyond."""
    model = random_model(nlines, nrows=1, scale=3.0)
    a0, b0 = model.input.copy(), model.output.copy()
    scores = b0 @ a0[0]
    label = int(np.argmax(scores) if gold == "likeliest" else np.argmin(scores))
    p = np.exp(scores - scores.max())
    mass = 2.0 * (1.0 - p[label] / p.sum())  # softmax: |p - y| summed over the labels
    rows = Batcher(Bags.of([[0]] * nlines), 1, np.float64)
    targets = Bags.of([[label]] * nlines)
    _step(model, rows, targets, np.arange(nlines, dtype=np.intp), loss=LOSSES["softmax"], lr=lr)

    a, b = a0.copy(), b0.copy()
    fasttext_step(a, b, [0], [label], lr, "softmax")
    one_line = a[0] - a0[0]
    lines = min(nlines, max(MAX_ROW_STEP, lr) / lr * FULL_LINE_MASS / mass)
    np.testing.assert_allclose(model.input[0] - a0[0], lines * one_line, rtol=1e-12, atol=1e-14)


class _Witness:
    """A stand-in for the workers' write lock that records the model while it is held."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.held: list[tuple[FloatArray, FloatArray]] = []

    def __enter__(self) -> None:
        self.held.append((self.model.input.copy(), self.model.output.copy()))

    def __exit__(self, *exc: object) -> None:
        self.held.append((self.model.input.copy(), self.model.output.copy()))


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_step_writes_a_and_b_only_while_it_holds_the_write_lock(loss: str) -> None:
    """With workers sharing the model, two writes at once would lose one: so a step changes
    nothing before it takes the lock, all of its update while holding it, nothing after."""
    weights, targets = training_rows(LINES, [[0], [1, 2], [2], [0, 1]])
    model = random_model(4)
    a0, b0 = model.input.copy(), model.output.copy()
    witness = _Witness(model)
    rows = Batcher(weights, NROWS_A, np.float64)
    lines = np.arange(len(LINES), dtype=np.intp)
    _step(model, rows, targets, lines, loss=LOSSES[loss], lr=0.5, writing=witness)

    (entered_a, entered_b), (left_a, left_b) = witness.held
    np.testing.assert_array_equal(entered_a, a0)
    np.testing.assert_array_equal(entered_b, b0)
    np.testing.assert_array_equal(left_a, model.input)
    np.testing.assert_array_equal(left_b, model.output)
    assert not np.array_equal(model.input, a0) and not np.array_equal(model.output, b0)
