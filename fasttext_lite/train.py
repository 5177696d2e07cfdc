"""The SGD loop (fastText `src/fasttext.cc`: `supervised`, `trainThread`), in mini-batches.

Each epoch visits the lines in a fresh seeded order. The learning rate decays linearly to zero
with the tokens processed, as in fastText. A batch's gradients are computed with matrix
products; a batch of one line is exactly fastText's per-example update.

Batching without changing what `lr` means: summing b per-line steps into one would give a row
shared by many lines of the batch (`</s>`, frequent words, the gold label's row of B) b steps
at once with no feedback between them, which diverges at fastText's usual lr of 1.0. So each
row's summed step is divided by the number of lines of the batch that touched it: a row of A
by the lines containing its feature, a row of B by the lines whose gold label it is. A row
used by one line gets exactly that line's SGD step; a shared row gets the mean of its lines'
steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fasttext_lite.errors import TrainingError
from fasttext_lite.losses import Loss
from fasttext_lite.model import Model
from fasttext_lite.sparse import take_rows

# (tokens processed so far, mean loss per line since the last call, current learning rate)
Progress = Callable[[int, float, float], None]

# How many batches pass between progress reports: often enough for a smooth bar, rare enough
# to cost nothing.
_REPORT_EVERY = 20


class TrainingData(NamedTuple):
    """Lines ready for the model: averaging weights over A's rows, gold labels, token counts."""

    weights: sp.csr_array  # (lines, rows of A), each row summing to 1
    labels: sp.csr_array  # (lines, labels), 1 where the label is gold
    tokens: npt.NDArray[np.int64]  # tokens per line (words, labels and </s>), for the lr decay


def train(
    model: Model,
    data: TrainingData,
    *,
    loss: Loss,
    lr: float,
    epoch: int,
    batch_size: int,
    rng: np.random.Generator,
    progress: Progress | None = None,
) -> None:
    """Update `model` in place by `epoch` passes of mini-batch SGD over `data`."""
    nlines = data.weights.shape[0]
    total_tokens = int(data.tokens.sum()) * epoch
    seen = 0
    loss_sum, loss_lines = 0.0, 0
    batches = 0
    weights, labels = data.weights, data.labels
    for epoch_index in range(epoch):
        order = rng.permutation(nlines)
        targets = labels if loss.multi_label else _draw_one_label(labels, rng)
        for start in range(0, nlines, batch_size):
            lines = order[start : start + batch_size]
            current_lr = lr * (1.0 - seen / total_tokens)
            value = _step(model, weights, targets, lines, loss=loss, lr=current_lr)
            if not np.isfinite(value):
                raise TrainingError(
                    f"training diverged in epoch {epoch_index + 1} (the loss is not finite);"
                    f" try a smaller learning rate than {lr}"
                )
            seen += int(data.tokens[lines].sum())
            loss_sum += value
            loss_lines += lines.size
            batches += 1
            if progress is not None and batches % _REPORT_EVERY == 0:
                progress(seen, loss_sum / loss_lines, current_lr)
                loss_sum, loss_lines = 0.0, 0
    if progress is not None:
        progress(seen, loss_sum / max(loss_lines, 1), 0.0)


def _draw_one_label(labels: sp.csr_array, rng: np.random.Generator) -> sp.csr_array:
    """One gold label per line, uniformly among the line's labels (fastText's softmax target)."""
    counts = np.diff(labels.indptr)
    pick = labels.indptr[:-1] + (rng.random(counts.size) * counts).astype(np.int64)
    return sp.csr_array(
        (np.ones(counts.size, dtype=labels.dtype), labels.indices[pick], np.arange(counts.size + 1)),
        shape=labels.shape,
    )


def _step(
    model: Model,
    weights: sp.csr_array,
    targets: sp.csr_array,
    lines: npt.NDArray[np.intp],
    *,
    loss: Loss,
    lr: float,
) -> float:
    """One SGD step on the given lines; returns the summed loss before the step."""
    got = take_rows(weights.indptr, lines)
    columns = weights.indices[got.positions]
    rows, local = np.unique(columns, return_inverse=True)
    batch = sp.csr_array(
        (weights.data[got.positions], local, got.indptr), shape=(lines.size, rows.size)
    )
    gold = take_rows(targets.indptr, lines)
    y = np.zeros((lines.size, model.output.shape[0]), dtype=model.output.dtype)
    y[gold.owner, targets.indices[gold.positions]] = 1.0

    hidden = model.hidden(batch, rows)
    value, d_scores = loss.gradient(model.scores(hidden), y)
    grads = model.backward(batch, hidden, d_scores)

    lines_per_row = np.bincount(local, minlength=rows.size)
    lines_per_label = y.sum(axis=0)
    model.input[rows] -= (lr / lines_per_row)[:, None].astype(model.input.dtype) * grads.input_rows
    model.output -= (lr / np.maximum(lines_per_label, 1.0))[:, None] * grads.output
    return value
