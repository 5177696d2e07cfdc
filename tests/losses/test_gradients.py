"""Gradients: every registered loss against central differences, and one SGD step against
fastText's update written out by hand (`src/loss.cc`, `src/model.cc`).

All in float64 so that the tolerances can be tight.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp
from helpers import central_difference

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.losses import LOSSES, Loss, OutputGradient, make_loss
from fasttext_lite.model.dense import Model
from fasttext_lite.training.sgd import (
    FULL_LINE_MASS,
    MAX_LINE_MASS,
    MAX_ROW_STEP,
    Batcher,
    _mass_bounded,
    _step,
)

FloatArray = npt.NDArray[np.floating]
EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-8

ALL_LOSSES = sorted(LOSSES)
# Losses whose probabilities sum to 1 (one-vs-all and negative sampling give a sigmoid per
# label), and losses that sample.
DISTRIBUTIONS = {"softmax", "hs"}
SAMPLING = {"ns"}
GOLD = [[0, 2], [1], [2, 3], [3]]


def make_loss_(name: str, nlabels: int = 4) -> Loss:
    return make_loss(name, [1] * nlabels)


def gold_bags(loss: Loss, gold: list[list[int]]) -> Bags:
    """Every gold label for multi-label losses, the first for the others (the trainer's draw)."""
    return Bags.of([labels if loss.multi_label else labels[:1] for labels in gold])


def gradient(loss: Loss, output: FloatArray, hidden: FloatArray, gold: Bags) -> OutputGradient:
    # The same random stream for every call, so that a loss that samples samples alike.
    return loss.gradient(output, hidden, gold, np.random.default_rng(0))


def dense_output_gradient(out: OutputGradient, nrows: int) -> FloatArray:
    """d loss / d B for all of B's rows (zero for those the loss did not touch)."""
    if out.rows is None:
        return out.d_output
    full = np.zeros((nrows, out.d_output.shape[1]))
    full[out.rows] = out.d_output
    return full


@pytest.mark.parametrize("name", ALL_LOSSES)
@pytest.mark.parametrize("scale", [0.1, 1.0, 5.0])
def test_loss_gradient_matches_finite_differences(name: str, scale: float) -> None:
    loss = make_loss_(name)
    rng = np.random.default_rng(7)
    hidden = rng.normal(scale=scale, size=(len(GOLD), 3))
    output = rng.normal(size=(loss.output_rows, 3))
    gold = gold_bags(loss, GOLD)
    result = gradient(loss, output, hidden, gold)

    def value() -> float:
        return gradient(loss, output, hidden, gold).loss

    assert result.d_hidden.shape == hidden.shape
    np.testing.assert_allclose(
        result.d_hidden, central_difference(value, hidden), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_allclose(
        dense_output_gradient(result, loss.output_rows),
        central_difference(value, output),
        rtol=RTOL,
        atol=ATOL,
    )


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_loss_value_and_masses_are_per_line(name: str) -> None:
    loss = make_loss_(name)
    rng = np.random.default_rng(11)
    hidden = rng.normal(size=(len(GOLD), 3))
    output = rng.normal(size=(loss.output_rows, 3))
    gold = gold_bags(loss, GOLD)
    whole = gradient(loss, output, hidden, gold)
    if name != "hs":  # hs counts net steps on both sides (tests/losses/test_hs.py)
        assert whole.row_mass.sum() == pytest.approx(whole.line_mass.sum(), rel=1e-12)
    if name in SAMPLING:  # a line alone draws other negatives (tests/losses/test_ns.py)
        return
    rows = [gradient(loss, output, hidden[i : i + 1], gold.take(np.array([i]))) for i in range(4)]
    assert whole.loss == pytest.approx(sum(row.loss for row in rows), rel=1e-12)
    np.testing.assert_allclose(whole.line_mass, [row.line_mass[0] for row in rows], rtol=1e-12)


@pytest.mark.parametrize("name", ALL_LOSSES)
def test_probabilities_are_probabilities(name: str) -> None:
    loss = make_loss_(name)
    rng = np.random.default_rng(3)
    hidden = rng.normal(scale=3.0, size=(5, 3))
    p = loss.probabilities(rng.normal(size=(loss.output_rows, 3)), hidden)
    assert p.shape == (5, 4)
    assert np.all((p >= 0) & (p <= 1))
    if name in DISTRIBUTIONS:
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", ALL_LOSSES)
@pytest.mark.parametrize("k", [1, 2, 4])
def test_top_k_is_the_k_most_probable_labels_in_order(name: str, k: int) -> None:
    loss = make_loss_(name)
    rng = np.random.default_rng(9)
    output, hidden = rng.normal(size=(loss.output_rows, 3)), rng.normal(size=(6, 3))
    p = loss.probabilities(output, hidden)
    top = loss.top_k(output, hidden, k, 0.0)
    np.testing.assert_array_equal(top.ids, np.argsort(-p, axis=1, kind="stable")[:, :k])
    np.testing.assert_allclose(top.probabilities, np.sort(p, axis=1)[:, ::-1][:, :k], rtol=1e-6)
    threshold = float(np.median(p))
    kept = loss.top_k(output, hidden, k, threshold)
    assert np.all((kept.ids >= 0) == (top.probabilities >= threshold))


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
def test_chained_gradient_of_a_matches_finite_differences(name: str, seed: int) -> None:
    """The trainer's chain rule: d loss / d A = weights.T @ (d loss / d hidden)."""
    loss = make_loss_(name, NLABELS)
    model = random_model(seed)
    weights = averaging_weights(LINES)
    gold = gold_bags(loss, GOLD)

    def value() -> float:
        return gradient(loss, model.output, model.hidden(weights), gold).loss

    d_input = weights.T @ gradient(loss, model.output, model.hidden(weights), gold).d_hidden
    numeric_a = central_difference(value, model.input)
    np.testing.assert_allclose(d_input, numeric_a, rtol=RTOL, atol=ATOL)
    unused = [0, 3, 7]
    np.testing.assert_array_equal(numeric_a[unused], 0.0)
    np.testing.assert_array_equal(d_input[unused], 0.0)


def test_hidden_is_the_mean_of_the_lines_rows() -> None:
    model = random_model(5)
    hidden = model.hidden(averaging_weights(LINES))
    for i, ids in enumerate(LINES):
        np.testing.assert_allclose(hidden[i], model.input[ids].mean(axis=0), rtol=1e-12)


# -- one SGD step is fastText's update -------------------------------------------------------


_ALONE = nullcontext()


def step(
    model: Model,
    batcher: Batcher,
    targets: Bags,
    lines: npt.NDArray[np.intp],
    *,
    loss: Loss,
    lr: float,
    writing: AbstractContextManager[object] = _ALONE,
) -> float:
    rng = np.random.default_rng(0)
    return _step(model, batcher, targets, lines, loss=loss, lr=lr, rng=rng, writing=writing)


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
    loss = make_loss_(name)
    gold = [labels if loss.multi_label else labels[:1] for labels in GOLD]
    weights, targets = training_rows(LINES, gold)
    model = random_model(line)
    a, b = model.input.copy(), model.output.copy()
    hidden = a[LINES[line]].mean(axis=0)[None, :]
    expected_loss = gradient(loss, b, hidden, targets.take(np.array([line]))).loss

    rows = Batcher(weights, NROWS_A, np.float64)
    value = step(model, rows, targets, np.array([line], dtype=np.intp), loss=loss, lr=lr)

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
    step(
        model,
        Batcher(Bags.of([line]), 2, np.float64),
        Bags.of([gold]),
        np.array([0], dtype=np.intp),
        loss=make_loss_("ova", nlabels),
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
        bounded = _mass_bounded(weights, np.array([0.0, MAX_LINE_MASS / 2, 2 * MAX_LINE_MASS]))
    np.testing.assert_allclose(
        bounded.toarray(), weights.toarray() * [[1.0], [1.0], [0.5]], rtol=1e-15
    )
    assert _mass_bounded(weights, np.array([0.0, 1.0, MAX_LINE_MASS])) is weights


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
    step(
        model,
        rows,
        Bags.of([gold]),
        np.array([0], dtype=np.intp),
        loss=make_loss_("softmax", nlabels),
        lr=1.0,
    )
    fasttext_step(a, b, line, gold, 1.0, "softmax")
    np.testing.assert_allclose(model.input, a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.output, b, rtol=1e-12, atol=1e-12)


def test_step_on_softmax_matches_hand_numbers() -> None:
    softmax = make_loss_("softmax", 2)
    one = np.array([0], dtype=np.intp)
    # One feature row, two labels, B = 0: p = (1/2, 1/2); gold 0, lr 1:
    # alpha = (1/2, -1/2); grad = 0 (B was zero); B_0 = h/2, B_1 = -h/2; A unchanged.
    model = Model(np.array([[0.5, -1.0]]), np.zeros((2, 2)), np.array([0], dtype=np.int64))
    weights, targets = Batcher(Bags.of([[0]]), 1, np.float64), Bags.of([[0]])
    value = step(model, weights, targets, one, loss=softmax, lr=1.0)
    assert value == pytest.approx(np.log(2.0), rel=1e-12)
    np.testing.assert_allclose(model.output, [[0.25, -0.5], [-0.25, 0.5]], rtol=1e-12)
    np.testing.assert_allclose(model.input, [[0.5, -1.0]], rtol=1e-12)
    # Second step: scores = (0.625, -0.625), p_0 = sigmoid(1.25); alpha = (1 - p_0, p_0 - 1);
    # grad = alpha_0 B_0 + alpha_1 B_1 = 2 (1 - p_0) (0.25, -0.5), with B before its update.
    p0 = 1.0 / (1.0 + np.exp(-1.25))
    value = step(model, weights, targets, one, loss=softmax, lr=1.0)
    assert value == pytest.approx(-np.log(p0), rel=1e-12)
    expected = 2 * (1 - p0) * np.array([0.25, -0.5])
    np.testing.assert_allclose(model.input - [[0.5, -1.0]], [expected], rtol=1e-12)
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
    loss = make_loss_("softmax")
    lines = [[0, 1, 7], [2, 3, 7], [4, 7]]  # row 7 is shared, like `</s>`
    gold = [[0], [1], [1]]
    weights, targets = training_rows(lines, gold)
    model = random_model(9)
    a0, b0 = model.input.copy(), model.output.copy()
    rows = Batcher(weights, NROWS_A, np.float64)
    step(model, rows, targets, np.arange(3, dtype=np.intp), loss=loss, lr=0.5)

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
    step(
        model,
        rows,
        Bags.of(gold),
        np.arange(nlines, dtype=np.intp),
        loss=make_loss_("softmax"),
        lr=lr,
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
    step(model, rows, targets, np.arange(nlines, dtype=np.intp), loss=make_loss_("softmax"), lr=lr)

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
def test_a_step_writes_b_only_while_it_holds_the_write_lock(loss: str) -> None:
    """With workers sharing the model, every batch rewrites B, and two writes at once would
    lose one: so B changes only while the step holds the lock. A's rows are updated in place
    before it, without the lock, as fastText's threads do."""
    weights, targets = training_rows(LINES, [[0], [1, 2], [2], [0, 1]])
    model = random_model(4)
    a0, b0 = model.input.copy(), model.output.copy()
    witness = _Witness(model)
    rows = Batcher(weights, NROWS_A, np.float64)
    lines = np.arange(len(LINES), dtype=np.intp)
    step(model, rows, targets, lines, loss=make_loss_(loss), lr=0.5, writing=witness)

    (entered_a, entered_b), (left_a, left_b) = witness.held
    np.testing.assert_array_equal(entered_a, model.input)
    np.testing.assert_array_equal(left_a, model.input)
    np.testing.assert_array_equal(entered_b, b0)
    np.testing.assert_array_equal(left_b, model.output)
    assert not np.array_equal(model.input, a0) and not np.array_equal(model.output, b0)
