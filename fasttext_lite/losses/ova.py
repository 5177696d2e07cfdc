"""One-vs-all: an independent sigmoid and binary cross-entropy for every label (fastText
`OneVsAllLoss`). Trains on all of a line's labels at once; probabilities need not sum to 1.
"""

from __future__ import annotations

import numpy as np

from fasttext_lite.losses.base import FloatArray, ScoreLoss


class OneVsAll(ScoreLoss):
    """
    >>> OneVsAll([1, 1]).score_probabilities(np.array([[0.0, 100.0]])).tolist()
    [[0.5, 1.0]]
    """

    multi_label = True

    def score_probabilities(self, scores: FloatArray) -> FloatArray:
        return sigmoid(scores)

    def score_gradient(self, scores: FloatArray, targets: FloatArray) -> tuple[float, FloatArray]:
        # log(1 + e^s) - y s is the binary cross-entropy of sigmoid(s), without overflow.
        loss = float(np.sum(np.logaddexp(0.0, scores) - targets * scores))
        return loss, sigmoid(scores) - targets


def sigmoid(x: FloatArray) -> FloatArray:
    # The tanh form never overflows, and saves importing scipy.special (30 ms of every start).
    result: FloatArray = 0.5 + 0.5 * np.tanh(0.5 * x)
    return result
