"""What a loss is: the owner of the output layer B (fastText `src/loss.cc`).

A loss turns a batch's hidden vectors into gradients (`gradient`) and into predictions
(`probabilities`, `top_k`). It reads B and never writes it: the trainer applies the update,
bounded by how hard the loss pushes each line and each row of B (`OutputGradient`). A new loss
(hierarchical softmax, negative sampling) implements `Loss` and registers in `losses`; nothing
else changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from fasttext_lite.arrays.bags import Bags

FloatArray = npt.NDArray[np.floating]


class OutputGradient(NamedTuple):
    """A batch's loss and its gradients, with B as it was (before any update)."""

    loss: float  # summed over the lines
    d_hidden: FloatArray  # (lines, dim): d loss / d hidden vector
    rows: npt.NDArray[np.intp] | None  # the rows of B with a gradient, each once; None: all
    d_output: FloatArray  # (those rows, dim): d loss / d row of B
    # Summed |d loss / d score| of each line and on each of those rows: the trainer's unit for
    # how many full steps a batch sends a row (see `training.sgd`).
    line_mass: FloatArray  # (lines,)
    row_mass: FloatArray  # (those rows,)


class TopLabels(NamedTuple):
    """The top labels of a batch of lines: row i holds line i's label ids, most probable first,
    and their probabilities. Places past the labels that pass the threshold hold id -1 and
    probability 0."""

    ids: npt.NDArray[np.intp]
    probabilities: npt.NDArray[np.float32]


# `Loss.batch_steps` of a loss whose lines update every row of B (softmax's, one-vs-all's)
# or many: 200 steps an epoch kept fastText's P@1 on cooking.
BATCH_STEPS = 200


class Loss(Protocol):
    # Trains on every gold label of a line at once; otherwise on one, drawn at each visit.
    multi_label: bool
    # Rows of B: one per label for softmax and one-vs-all.
    output_rows: int
    # The fewest SGD steps an epoch that automatic batches leave (smaller batches on a small
    # corpus): a loss that updates every row of B with every line needs more than one that
    # updates a few rows per line.
    batch_steps: int

    def gradient(
        self,
        output: FloatArray,
        hidden: FloatArray,
        gold: Bags,
        rng: np.random.Generator,
        weights: FloatArray | None = None,
    ) -> OutputGradient:
        """The loss of lines with these hidden vectors and gold label ids (a bag per line);
        with `weights`, each line's gradients are scaled by its weight (the loss value is
        reported unweighted)."""
        ...

    def probabilities(self, output: FloatArray, hidden: FloatArray) -> FloatArray:
        """(lines, labels): each label's probability for each line."""
        ...

    def top_k(self, output: FloatArray, hidden: FloatArray, k: int, threshold: float) -> TopLabels:
        """Per line, the k most probable labels at or above `threshold`, best first."""
        ...


class LossFactory(Protocol):
    def __call__(self, label_counts: Sequence[int]) -> Loss: ...


class ScoreLoss:
    """A loss over every label's score, `hidden @ B.T`, at once: B has a row per label.

    Subclasses give the link from scores to probabilities and the gradient with respect to
    the scores of a dense 0/1 target matrix.
    """

    multi_label: bool
    batch_steps = BATCH_STEPS

    def __init__(self, label_counts: Sequence[int]) -> None:
        self.output_rows = len(label_counts)

    def score_probabilities(self, scores: FloatArray) -> FloatArray:
        raise NotImplementedError

    def score_gradient(self, scores: FloatArray, targets: FloatArray) -> tuple[float, FloatArray]:
        """(summed loss, d loss / d scores) for a 0/1 target matrix."""
        raise NotImplementedError

    def gradient(
        self,
        output: FloatArray,
        hidden: FloatArray,
        gold: Bags,
        rng: np.random.Generator,
        weights: FloatArray | None = None,
    ) -> OutputGradient:
        targets = np.zeros((gold.nlines, output.shape[0]), dtype=output.dtype)
        targets[gold.owners, gold.indices] = 1.0
        value, d_scores = self.score_gradient(hidden @ output.T, targets)
        if weights is not None:
            d_scores = d_scores * weights.astype(d_scores.dtype)[:, None]
        magnitude = np.abs(d_scores)
        return OutputGradient(
            loss=value,
            d_hidden=d_scores @ output,
            rows=None,
            d_output=d_scores.T @ hidden,
            line_mass=magnitude.sum(axis=1),
            row_mass=magnitude.sum(axis=0),
        )

    def probabilities(self, output: FloatArray, hidden: FloatArray) -> FloatArray:
        return self.score_probabilities(hidden @ output.T)

    def top_k(self, output: FloatArray, hidden: FloatArray, k: int, threshold: float) -> TopLabels:
        probs = self.probabilities(output, hidden).astype(np.float32, copy=False)
        return top_k_of(probs, k, threshold)


def top_k_of(probs: npt.NDArray[np.float32], k: int, threshold: float) -> TopLabels:
    """Per row of a probability matrix, the k largest at or above `threshold`, best first.

    >>> top_k_of(np.array([[0.2, 0.5, 0.3]], np.float32), 2, 0.25).ids.tolist()
    [[1, 2]]
    """
    k = min(k, probs.shape[1])
    # k = 1 is the common case, and argmax is several times cheaper than a partition.
    top = probs.argmax(axis=1)[:, None] if k == 1 else np.argpartition(-probs, k - 1, axis=1)[:, :k]
    top_p = np.take_along_axis(probs, top, axis=1)
    order = np.argsort(-top_p, axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    top_p = np.take_along_axis(top_p, order, axis=1)
    dropped = top_p < threshold
    top[dropped] = -1
    top_p[dropped] = 0.0
    return TopLabels(top, top_p)


def per_line(values: FloatArray, owner: npt.NDArray[np.integer], nlines: int) -> FloatArray:
    """Sums of the rows of `values` by the line that owns each (as is, for one per line)."""
    if owner.size == nlines and np.array_equal(owner, np.arange(nlines)):
        return values
    summed = np.zeros((nlines, *values.shape[1:]), values.dtype)
    np.add.at(summed, owner, values)
    return summed
