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
    # Predict with fastText's table sigmoid (for models fastText trained) or the exact one.
    fasttext_table = False

    def score_probabilities(self, scores: FloatArray) -> FloatArray:
        return sigmoid_table(scores) if self.fasttext_table else sigmoid(scores)

    def score_gradient(self, scores: FloatArray, targets: FloatArray) -> tuple[float, FloatArray]:
        # log(1 + e^s) - y s is the binary cross-entropy of sigmoid(s), without overflow.
        loss = float(np.sum(np.logaddexp(0.0, scores) - targets * scores))
        return loss, sigmoid(scores) - targets


def sigmoid(x: FloatArray) -> FloatArray:
    # The tanh form never overflows, and saves importing scipy.special (30 ms of every start).
    result: FloatArray = 0.5 + 0.5 * np.tanh(0.5 * x)
    return result


# fastText's sigmoid (`Loss::sigmoid`): a table of 513 values over [-8, 8], looked up without
# interpolation. Its models' probabilities come from it, so predictions with them do too.
_MAX_SIGMOID = 8.0
_SIGMOID_TABLE_SIZE = 512
_SIGMOID_TABLE = 1.0 / (
    1.0
    + np.exp(
        -(
            np.arange(_SIGMOID_TABLE_SIZE + 1, dtype=np.float32)
            * np.float32(2 * _MAX_SIGMOID)
            / np.float32(_SIGMOID_TABLE_SIZE)
            - np.float32(_MAX_SIGMOID)
        )
    )
)


def sigmoid_table(x: FloatArray) -> FloatArray:
    """fastText's table sigmoid: 0 below -8, 1 above 8.

    >>> sigmoid_table(np.array([-9.0, 0.0, 0.01, 9.0])).round(4).tolist()
    [0.0, 0.5, 0.5, 1.0]
    """
    scaled = (x + _MAX_SIGMOID) * (_SIGMOID_TABLE_SIZE / _MAX_SIGMOID / 2)
    index = np.clip(scaled, 0, _SIGMOID_TABLE_SIZE).astype(np.int64)
    result: FloatArray = np.where(
        x < -_MAX_SIGMOID, 0.0, np.where(x > _MAX_SIGMOID, 1.0, _SIGMOID_TABLE[index])
    )
    return result
