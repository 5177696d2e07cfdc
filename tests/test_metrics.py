"""`Meter` and `Evaluation` on cases small enough to count by hand."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from fasttext_lite.metrics import Evaluation, LabelScore, Meter

LABELS = ["a", "b", "c"]


def sets(rows: list[set[str]]) -> npt.NDArray[np.bool_]:
    matrix = np.zeros((len(rows), len(LABELS)), dtype=bool)
    for i, row in enumerate(rows):
        for label in row:
            matrix[i, LABELS.index(label)] = True
    return matrix


def measure(
    gold: list[set[str]], predicted: list[set[str]], *, k: int = 1, threshold: float = 0.0
) -> Evaluation:
    meter = Meter(len(LABELS))
    meter.add(sets(gold), sets(predicted))
    return meter.result(LABELS, k=k, threshold=threshold)


def by_label(evaluation: Evaluation) -> dict[str, LabelScore]:
    return {score.label: score for score in evaluation.per_label}


def test_multi_label_precision_and_recall_are_micro_averaged() -> None:
    # correct: a (line 1), c (line 2), a (line 3) = 3; predicted 6; gold 4.
    result = measure(
        gold=[{"a", "b"}, {"c"}, {"a"}],
        predicted=[{"a", "c"}, {"c", "b"}, {"b", "a"}],
        k=2,
    )
    assert result.examples == 3
    assert result.k == 2
    assert result.precision == pytest.approx(3 / 6)
    assert result.recall == pytest.approx(3 / 4)
    assert result.f1 == pytest.approx(2 * 0.5 * 0.75 / 1.25)


def test_per_label_scores_and_support() -> None:
    result = measure(
        gold=[{"a", "b"}, {"c"}, {"a"}],
        predicted=[{"a", "c"}, {"c", "b"}, {"b", "a"}],
        k=2,
    )
    scores = by_label(result)
    assert [s.label for s in result.per_label] == LABELS
    # a: predicted twice, both right, gold twice.
    assert (scores["a"].precision, scores["a"].recall, scores["a"].f1) == (1.0, 1.0, 1.0)
    assert scores["a"].support == 2
    # b: predicted twice (lines 2, 3), never right; gold once.
    assert (scores["b"].precision, scores["b"].recall, scores["b"].f1) == (0.0, 0.0, 0.0)
    assert scores["b"].support == 1
    # c: predicted twice (lines 1, 2), right once; gold once.
    assert scores["c"].precision == pytest.approx(0.5)
    assert scores["c"].recall == pytest.approx(1.0)
    assert scores["c"].f1 == pytest.approx(2 / 3)
    assert scores["c"].support == 1


def test_threshold_dropping_predictions_makes_precision_differ_from_recall() -> None:
    # Single-label lines; a threshold left predictions on two lines only, one of them right.
    result = measure(
        gold=[{"a"}, {"b"}, {"a"}, {"c"}],
        predicted=[{"a"}, set(), {"b"}, set()],
        threshold=0.6,
    )
    assert result.threshold == 0.6
    assert result.precision == pytest.approx(1 / 2)
    assert result.recall == pytest.approx(1 / 4)
    assert result.precision != result.recall


def test_single_label_at_k1_precision_equals_recall() -> None:
    result = measure(gold=[{"a"}, {"b"}, {"c"}, {"a"}], predicted=[{"a"}, {"c"}, {"c"}, {"b"}])
    assert result.precision == result.recall == pytest.approx(2 / 4)


def test_label_never_predicted_scores_zero_not_nan() -> None:
    result = measure(gold=[{"a"}, {"c"}], predicted=[{"a"}, {"a"}])
    c = by_label(result)["c"]
    assert c.precision == 0.0  # 0 / 0 predictions
    assert c.recall == 0.0
    assert c.f1 == 0.0
    assert c.support == 1
    b = by_label(result)["b"]  # neither gold nor predicted anywhere
    assert (b.precision, b.recall, b.f1, b.support) == (0.0, 0.0, 0.0, 0)
    for score in result.per_label:
        assert not any(math.isnan(x) for x in (score.precision, score.recall, score.f1))


def test_no_predictions_at_all_scores_zero() -> None:
    result = measure(gold=[{"a"}, {"b"}], predicted=[set(), set()], threshold=1.0)
    assert (result.precision, result.recall, result.f1) == (0.0, 0.0, 0.0)


def test_empty_meter_scores_zero() -> None:
    result = Meter(len(LABELS)).result(LABELS, k=1, threshold=0.0)
    assert result.examples == 0
    assert (result.precision, result.recall, result.f1) == (0.0, 0.0, 0.0)
    assert [s.support for s in result.per_label] == [0, 0, 0]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_adding_in_chunks_equals_adding_at_once(chunk: int) -> None:
    gold = [{"a", "b"}, {"c"}, {"a"}, {"b"}, {"b", "c"}]
    predicted = [{"a"}, {"c", "a"}, set(), {"b"}, {"c"}]
    meter = Meter(len(LABELS))
    for start in range(0, len(gold), chunk):
        meter.add(sets(gold[start : start + chunk]), sets(predicted[start : start + chunk]))
    assert meter.result(LABELS, k=2, threshold=0.0) == measure(gold, predicted, k=2)
    # correct: a, c, b, c = 4; predicted 1 + 2 + 0 + 1 + 1 = 5; gold 7.
    result = measure(gold, predicted, k=2)
    assert result.examples == 5
    assert (result.precision, result.recall) == pytest.approx((4 / 5, 4 / 7))
    assert [s.support for s in result.per_label] == [2, 3, 2]


# Four lines, top-1 predictions: a right, b missed for a, a and c gold with c right, c missed
# for b. Per label: a P 1/2 R 1/2; b P 0 R 0; c P 1 R 1/2. Supports 2, 1, 2.
AVERAGED_GOLD = [{"a"}, {"b"}, {"a", "c"}, {"c"}]
AVERAGED_PREDICTED = [{"a"}, {"a"}, {"c"}, {"b"}]


def test_macro_average_is_the_plain_mean_of_the_labels_scores() -> None:
    macro = measure(AVERAGED_GOLD, AVERAGED_PREDICTED).macro
    assert macro.precision == pytest.approx((1 / 2 + 0 + 1) / 3)
    assert macro.recall == pytest.approx((1 / 2 + 0 + 1 / 2) / 3)
    assert macro.f1 == pytest.approx((1 / 2 + 0 + 2 / 3) / 3)


def test_weighted_average_weighs_each_label_by_its_support() -> None:
    weighted = measure(AVERAGED_GOLD, AVERAGED_PREDICTED).weighted
    assert weighted.precision == pytest.approx((2 * 1 / 2 + 0 + 2 * 1) / 5)
    assert weighted.recall == pytest.approx((2 * 1 / 2 + 0 + 2 * 1 / 2) / 5)
    assert weighted.f1 == pytest.approx((2 * 1 / 2 + 0 + 2 * 2 / 3) / 5)


def test_macro_average_leaves_out_labels_neither_gold_nor_predicted() -> None:
    # c never occurs: the mean is over a and b only.
    macro = measure(gold=[{"a"}, {"b"}], predicted=[{"a"}, {"a"}]).macro
    assert macro.precision == pytest.approx((1 / 2 + 0) / 2)
    assert macro.recall == pytest.approx((1 + 0) / 2)


def test_averages_of_nothing_are_zero() -> None:
    result = Meter(len(LABELS)).result(LABELS, k=1, threshold=0.0)
    assert result.macro == result.weighted
    assert (result.macro.precision, result.macro.recall, result.macro.f1) == (0.0, 0.0, 0.0)


def test_macro_and_weighted_averages_agree_with_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    gold = rng.random((60, 3)) < 0.4
    gold[~gold.any(axis=1), 0] = True
    predicted = rng.random((60, 3)) < 0.3
    predicted[:, 1] = False  # a label never predicted
    meter = Meter(len(LABELS))
    meter.add(gold, predicted)
    result = meter.result(LABELS, k=2, threshold=0.0)
    for average in ("macro", "weighted"):
        theirs = metrics.precision_recall_fscore_support(
            gold, predicted, average=average, zero_division=0
        )[:3]
        ours = getattr(result, average)
        assert (ours.precision, ours.recall, ours.f1) == pytest.approx(theirs)
