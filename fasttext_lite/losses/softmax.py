"""Softmax: cross-entropy over a softmax of every label's score (fastText `SoftmaxLoss`).

One gold label per line and visit (the trainer draws it among the line's labels). Exact
exp/log, where fastText uses lookup tables.
"""

from __future__ import annotations

import numpy as np

from fasttext_lite.losses.base import FloatArray, ScoreLoss


class Softmax(ScoreLoss):
    """
    >>> softmax = Softmax([1, 1])
    >>> scores = np.array([[0.0, np.log(3.0)]])
    >>> softmax.score_probabilities(scores).round(3).tolist()
    [[0.25, 0.75]]
    >>> softmax.score_gradient(scores, np.array([[0.0, 1.0]]))[1].round(3).tolist()
    [[0.25, -0.25]]
    """

    multi_label = False

    def score_probabilities(self, scores: FloatArray) -> FloatArray:
        return _softmax(scores)[0]

    def score_gradient(self, scores: FloatArray, targets: FloatArray) -> tuple[float, FloatArray]:
        probs, log_normalizer = _softmax(scores)
        # -log p_j = log sum_i e^s_i - s_j, never log(0) however small p_j gets
        loss = float(np.sum(targets * (log_normalizer - scores)))
        return loss, probs - targets


def _softmax(scores: FloatArray) -> tuple[FloatArray, FloatArray]:
    top = scores.max(axis=1, keepdims=True)
    exp = np.exp(scores - top)
    total = exp.sum(axis=1, keepdims=True)
    return exp / total, top + np.log(total)
