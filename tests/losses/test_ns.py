"""Negative sampling: the draws against fastText's table (`NegativeSamplingLoss` in
`src/loss.cc`), the gradients against central differences, and one SGD step against fastText's
per-example update written out by hand with the same negatives.

All in float64 so that the tolerances can be tight.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from helpers import central_difference

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.losses import make_loss
from fasttext_lite.losses.ns import NegativeSampling, table_sizes
from fasttext_lite.model.dense import Model
from fasttext_lite.training.sgd import Batcher, _step

FloatArray = npt.NDArray[np.floating]
EPS = 1e-6

# Square roots 1, 2, 4, ..., 32: far from uniform and far from the counts themselves.
COUNTS = [1, 4, 16, 64, 256, 1024]


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def test_make_loss_ns_samples_five_negatives_over_one_row_per_label() -> None:
    loss = make_loss("ns", COUNTS)
    assert isinstance(loss, NegativeSampling)
    assert (loss.neg, loss.output_rows, loss.multi_label) == (5, len(COUNTS), False)


# -- the draws -----------------------------------------------------------------------------


def test_table_repeats_each_label_by_the_square_root_of_its_count() -> None:
    """fastText pushes label i while j < sqrt(c_i) * 10^7 / sum(sqrt(c)): ceil of that."""
    sizes = table_sizes(COUNTS)
    exact = np.sqrt(COUNTS) * 1e7 / np.sqrt(COUNTS).sum()
    np.testing.assert_array_equal(sizes, np.ceil(exact))
    assert sizes.sum() - 1e7 < len(COUNTS)


def test_negatives_are_never_the_gold_label() -> None:
    loss = NegativeSampling(COUNTS, neg=8)
    targets = np.repeat(np.arange(len(COUNTS)), 5_000)
    drawn = loss.negatives(targets, np.random.default_rng(1))
    assert drawn.shape == (targets.size, 8)
    assert not np.any(drawn == targets[:, None])
    # Every other label turns up, even the rarest beside the commonest gold.
    for gold in range(len(COUNTS)):
        seen = set(np.unique(drawn[targets == gold]).tolist())
        assert seen == set(range(len(COUNTS))) - {gold}


@pytest.mark.parametrize("gold", range(len(COUNTS)))
def test_negatives_follow_the_square_roots_of_the_counts_without_the_gold_label(
    gold: int,
) -> None:
    """fastText redraws a negative equal to the target: the others keep their table shares.
    Chi-square over 4 degrees of freedom: a correct sampler gives about 4 (seeded, so always
    the same number); the bound of 40 has a chance under 10^-7 for a correct one, while
    drawing by the counts, uniformly, or moving the gold label's share to a neighbour gives
    hundreds or more."""
    draws = 60_000
    loss = NegativeSampling(COUNTS, neg=6)
    drawn = loss.negatives(np.full(draws // 6, gold), np.random.default_rng(gold)).ravel()
    observed = np.bincount(drawn, minlength=len(COUNTS))
    share = np.sqrt(COUNTS)
    share[gold] = 0.0
    expected = draws * share / share.sum()
    others = np.arange(len(COUNTS)) != gold
    assert observed[gold] == 0
    chi2 = float(np.sum((observed[others] - expected[others]) ** 2 / expected[others]))
    assert chi2 < 40.0


def test_one_label_has_no_negatives_to_draw() -> None:
    """fastText would look for a label other than the only one forever."""
    loss = NegativeSampling([7], neg=5)
    out = loss.gradient(np.zeros((1, 2)), np.ones((3, 2)), Bags.of([[0]] * 3), rng())
    assert loss.neg == 0
    assert out.rows is not None and out.rows.tolist() == [0]
    np.testing.assert_allclose(out.d_output, [[-1.5, -1.5]])  # (1/2 - 1) h per line


# -- the gradients -------------------------------------------------------------------------


def rng() -> np.random.Generator:
    # The same random stream for every call, so that every call draws the same negatives.
    return np.random.default_rng(0)


def logistic_loss(b: FloatArray, h: FloatArray, target: int, negatives: list[int]) -> float:
    """-log sigmoid(s_target) - sum over the negatives of log(1 - sigmoid(s_negative))."""
    loss = -np.log(sigmoid(float(b[target] @ h)))
    for negative in negatives:
        loss -= np.log(1.0 - sigmoid(float(b[negative] @ h)))
    return float(loss)


# Line 0 has two gold labels (each with its own negatives) and line 2 none.
GOLD = [[0, 2], [1], [], [3], [5]]


def test_gradient_matches_finite_differences_with_labels_drawn_twice() -> None:
    loss = NegativeSampling(COUNTS, neg=9)  # 9 draws among 5 labels: some come twice
    generator = np.random.default_rng(7)
    hidden = generator.normal(size=(len(GOLD), 3))
    output = generator.normal(size=(len(COUNTS), 3))
    gold = Bags.of(GOLD)
    negatives = loss.negatives(gold.indices, rng())
    assert any(np.unique(row).size < row.size for row in negatives)
    out = loss.gradient(output, hidden, gold, rng())

    def value() -> float:
        return loss.gradient(output, hidden, gold, rng()).loss

    np.testing.assert_allclose(out.d_hidden, central_difference(value, hidden), atol=1e-8)
    assert out.rows is not None
    dense = np.zeros_like(output)
    dense[out.rows] = out.d_output
    np.testing.assert_allclose(dense, central_difference(value, output), atol=1e-8)
    # The rows are those drawn or gold, each once: the others have no gradient at all.
    assert sorted(out.rows.tolist()) == sorted(
        set(gold.indices.tolist() + negatives.ravel().tolist())
    )


def test_loss_and_masses_are_sums_of_binary_logistic_terms() -> None:
    """The loss sums each target's and negative's logistic loss; a line's mass sums their
    |sigmoid(s) - y|, and each row's mass the same over the places it was drawn."""
    loss = NegativeSampling(COUNTS, neg=9)
    generator = np.random.default_rng(8)
    hidden = generator.normal(size=(len(GOLD), 3))
    output = generator.normal(size=(len(COUNTS), 3))
    gold = Bags.of(GOLD)
    negatives = loss.negatives(gold.indices, rng()).tolist()
    out = loss.gradient(output, hidden, gold, rng())

    total, line_mass = 0.0, np.zeros(len(GOLD))
    row_mass = np.zeros(len(COUNTS))
    owners = [line for line, labels in enumerate(GOLD) for _ in labels]
    for target, drawn, line in zip(gold.indices.tolist(), negatives, owners, strict=True):
        h = hidden[line]
        total += logistic_loss(output, h, target, drawn)
        for label, y in [(target, 1.0), *((n, 0.0) for n in drawn)]:
            mass = abs(sigmoid(float(output[label] @ h)) - y)
            line_mass[line] += mass
            row_mass[label] += mass
    assert out.loss == pytest.approx(total, rel=1e-12)
    np.testing.assert_allclose(out.line_mass, line_mass, rtol=1e-12)
    assert out.rows is not None
    np.testing.assert_allclose(out.row_mass, row_mass[out.rows], rtol=1e-12)


# -- one SGD step is fastText's update -------------------------------------------------------

NROWS_A, DIM, NLABELS = 8, 5, 40
LINES = [[1, 4, 4, 6], [2, 6], [1, 5, 6], [5]]


def fasttext_ns_step(
    a: FloatArray, b: FloatArray, ids: list[int], target: int, negatives: list[int], lr: float
) -> float:
    """fastText's supervised ns update for one line, in place (`NegativeSamplingLoss::forward`,
    `BinaryLogisticLoss::binaryLogistic`, `Model::update`); returns the loss."""
    h = sum(a[i] for i in ids) / len(ids)
    grad = np.zeros_like(h)
    loss = logistic_loss(b, h, target, negatives)
    for label, positive in [(target, 1.0), *((n, 0.0) for n in negatives)]:
        alpha = lr * (positive - sigmoid(float(b[label] @ h)))
        grad += alpha * b[label]  # B before its update
        b[label] += alpha * h
    for i in ids:  # a repeated feature gets the step once per occurrence
        a[i] += grad / len(ids)
    return loss


@pytest.mark.parametrize("line", range(len(LINES)))
@pytest.mark.parametrize("lr", [0.05, 1.0, 2.5])
def test_step_of_one_line_is_fasttext_sgd_with_the_same_negatives(line: int, lr: float) -> None:
    counts = list(range(1, NLABELS + 1))
    loss = NegativeSampling(counts, neg=5)
    generator = np.random.default_rng(line)
    model = Model(
        generator.normal(size=(NROWS_A, DIM)),
        generator.normal(size=(NLABELS, DIM)),
        np.arange(NROWS_A, dtype=np.int64),
    )
    a, b = model.input.copy(), model.output.copy()
    target = line * 7
    # The step draws from the stream it is given: replay that stream to know the negatives.
    negatives = loss.negatives(np.array([target]), np.random.default_rng(100 + line))[0]
    assert np.unique(negatives).size == negatives.size  # fastText would see a repeat's update

    value = _step(
        model,
        Batcher(Bags.of(LINES), NROWS_A, np.float64),
        np.full(len(LINES), target),
        np.array([line], dtype=np.intp),
        loss=loss,
        lr=lr,
        rng=np.random.default_rng(100 + line),
    )

    expected = fasttext_ns_step(a, b, LINES[line], target, negatives.tolist(), lr)
    np.testing.assert_allclose(model.input, a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.output, b, rtol=1e-12, atol=1e-14)
    assert value == pytest.approx(expected, rel=1e-12)


# -- prediction ----------------------------------------------------------------------------


def test_probabilities_are_each_labels_sigmoid_not_normalised() -> None:
    loss = NegativeSampling(COUNTS)
    generator = np.random.default_rng(3)
    output, hidden = generator.normal(size=(len(COUNTS), 4)), generator.normal(size=(5, 4))
    p = loss.probabilities(output, hidden)
    expected = [[sigmoid(float(row @ h)) for row in output] for h in hidden]
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    assert not np.allclose(p.sum(axis=1), 1.0)
    top = loss.top_k(output, hidden, 2, 0.0)
    np.testing.assert_array_equal(top.ids, np.argsort(-p, axis=1)[:, :2])
