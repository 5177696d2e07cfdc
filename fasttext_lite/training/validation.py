"""Scoring the model on held-out lines after every epoch, and stopping early.

fastText has no validation during training (its autotune trains whole models). The learning
rate is planned for all the epochs asked for, and while it is high the held-out P@1 rises
slowly and noisily: stopping at the first plateau kept a model 0.11 P@1 below a full run on
cooking (bench/README.md). So a plateau (`patience` epochs without a better P@1) cuts the
epochs left by a quarter instead, the learning rate falling to zero by the new end; training
stops when none are left, and keeps the best epoch's model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from fasttext_lite.arrays.bags import Bags
from fasttext_lite.inference import Predictor
from fasttext_lite.metrics import evaluate_with
from fasttext_lite.model import Model

# A stall keeps 3/4 of the epochs left: on cooking (--epoch 50 --early-stop 3, 3 seeds)
# keeping 1/2 ended after 21-28 epochs 0.012 P@1 below 50 fixed epochs; 3/4 after 28-38, 0.006
# below (bench/README.md).
_KEEP_NUMERATOR, _KEEP_DENOMINATOR = 3, 4

# Drawn from for the validation loss of a loss that samples (negative sampling): the same
# draws every epoch, so that epochs compare.
_LOSS_SEED = 0


class EpochScore(NamedTuple):
    epoch: int
    precision: float  # P@1
    recall: float  # R@1
    loss: float  # mean per line, over its gold labels


class Validator:
    """The trainer's `after_epoch` hook: scores each epoch, cuts the epochs left by a quarter
    after `patience` epochs without a better P@1 (never for 0), and keeps the best matrices."""

    def __init__(
        self,
        predictor: Predictor,
        lines: Sequence[bytes],
        *,
        patience: int,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.predictor = predictor
        self.lines = list(lines)
        self.patience = patience
        self.note = note
        self.curve: list[EpochScore] = []
        self.best: EpochScore | None = None
        self._since = 0  # the epoch from which a plateau counts: the best's, or the last cut's
        self._best_matrices: tuple[np.ndarray, np.ndarray] | None = None

    def __call__(self, epochs_done: int, planned: int) -> int:
        score = self._score(epochs_done)
        self.curve.append(score)
        if self.best is None or score.precision > self.best.precision:
            self.best = score
            self._since = epochs_done
            if self.patience:
                model = self.predictor.model
                self._best_matrices = (np.array(model.input), np.array(model.output))
        if self.note is not None:
            self.note(
                f"epoch {score.epoch}: validation P@1 {score.precision:.4f}"
                f" R@1 {score.recall:.4f} loss {score.loss:.4f}"
            )
        if not self.patience or epochs_done - self._since < self.patience:
            return planned
        self._since = epochs_done
        return epochs_done + (planned - epochs_done) * _KEEP_NUMERATOR // _KEEP_DENOMINATOR

    def restore_best(self, model: Model) -> None:
        """Put the best epoch's matrices back (if stopping early kept them)."""
        if self._best_matrices is not None:
            model.input, model.output = self._best_matrices

    def _score(self, epoch: int) -> EpochScore:
        meter = evaluate_with(self.predictor, self.lines)
        result = meter.result(self.predictor.labels, k=1, threshold=0.0)
        return EpochScore(epoch, result.precision, result.recall, self._loss())

    def _loss(self) -> float:
        predictor = self.predictor
        total, lines = 0.0, 0
        rng = np.random.default_rng(_LOSS_SEED)
        for chunk in predictor.chunks(self.lines):
            read = predictor.read(chunk)
            gold = predictor.gold(read)
            keep = np.flatnonzero(gold.sizes > 0)
            if not keep.size:
                continue
            gold = gold.take(keep)
            if not predictor.loss.multi_label:  # one label a line, as in training
                gold = Bags(np.arange(keep.size + 1), gold.indices[gold.indptr[:-1]])
            hidden = predictor.hidden(read.features)[keep]
            total += predictor.loss.gradient(predictor.model.output, hidden, gold, rng).loss
            lines += keep.size
        return total / lines if lines else float("nan")
