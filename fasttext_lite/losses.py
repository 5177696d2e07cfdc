"""Losses: probabilities from scores, and the loss with its gradient (fastText `src/loss.cc`).

Each loss returns d loss / d scores; the trainer chains it through the model and applies the
update. Targets are a dense 0/1 matrix: one gold label per row for softmax (the trainer draws
it), every gold label for one-vs-all. Exact exp/log, where fastText uses lookup tables.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating]


class LossGradient(NamedTuple):
    loss: float  # summed over the rows
    d_scores: FloatArray


class Loss(Protocol):
    name: str
    # Softmax trains on one gold label per visit; one-vs-all on all of them.
    multi_label: bool

    def probabilities(self, scores: FloatArray) -> FloatArray: ...

    def gradient(self, scores: FloatArray, targets: FloatArray) -> LossGradient: ...


class Softmax:
    """Cross-entropy over a softmax of the labels.

    >>> scores = np.array([[0.0, np.log(3.0)]])
    >>> Softmax().probabilities(scores).round(3).tolist()
    [[0.25, 0.75]]
    >>> Softmax().gradient(scores, np.array([[0.0, 1.0]])).d_scores.round(3).tolist()
    [[0.25, -0.25]]
    """

    name = "softmax"
    multi_label = False

    def probabilities(self, scores: FloatArray) -> FloatArray:
        return self._softmax(scores)[0]

    def gradient(self, scores: FloatArray, targets: FloatArray) -> LossGradient:
        probs, log_normalizer = self._softmax(scores)
        # -log p_j = log sum_i e^s_i - s_j, never log(0) however small p_j gets
        loss = float(np.sum(targets * (log_normalizer - scores)))
        return LossGradient(loss, probs - targets)

    @staticmethod
    def _softmax(scores: FloatArray) -> tuple[FloatArray, FloatArray]:
        top = scores.max(axis=1, keepdims=True)
        exp = np.exp(scores - top)
        total = exp.sum(axis=1, keepdims=True)
        return exp / total, top + np.log(total)


class OneVsAll:
    """An independent sigmoid and binary cross-entropy for every label.

    >>> OneVsAll().probabilities(np.array([[0.0, 100.0]])).tolist()
    [[0.5, 1.0]]
    """

    name = "ova"
    multi_label = True

    def probabilities(self, scores: FloatArray) -> FloatArray:
        return _sigmoid(scores)

    def gradient(self, scores: FloatArray, targets: FloatArray) -> LossGradient:
        # log(1 + e^s) - y s is the binary cross-entropy of sigmoid(s), without overflow.
        loss = float(np.sum(np.logaddexp(0.0, scores) - targets * scores))
        return LossGradient(loss, _sigmoid(scores) - targets)


def _sigmoid(x: FloatArray) -> FloatArray:
    # The tanh form never overflows, and saves importing scipy.special (30 ms of every start).
    sigmoid: FloatArray = 0.5 + 0.5 * np.tanh(0.5 * x)
    return sigmoid


LOSSES: dict[str, Loss] = {"softmax": Softmax(), "ova": OneVsAll()}
