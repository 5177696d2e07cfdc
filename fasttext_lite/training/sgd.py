"""The SGD loop (fastText `src/fasttext.cc`: `supervised`, `trainThread`), in mini-batches.

Each epoch visits the lines in a fresh seeded order: blocks of consecutive lines (read from a
`SpooledBags`, on disk for a large corpus) in a random order, a window of blocks at a time,
the lines shuffled within each window. The learning rate decays linearly to zero with the
tokens processed, as in fastText. A batch of one line is exactly fastText's per-example update.

Batching must not change what `lr` means: summing b per-line steps into one would move a row
shared by many lines (`</s>`, frequent words, B's rows) up to b steps at once with no feedback,
which diverges at fastText's usual lr of 1.0. So each row takes lr per use, but at most
MAX_ROW_STEP (or lr, if larger) in all, counting its lines by how much of a full step each
sends it: a row of B by the size of its score gradients (the loss's `row_mass`); a row of A by
each line's averaging weight times that line's gradient size in units of FULL_LINE_MASS, and
never more than its occurrences. Rows used by few lines get exactly their lines' SGD steps.
A line's gradients count at most MAX_LINE_MASS towards its step on A: one-vs-all with many
labels can otherwise throw a barely trained line's rows tens of steps at once.

With `threads` > 1, forked workers (`workers`) train on shares of the lines, updating the one
model in shared memory as fastText's threads do (Hogwild): they read, compute and add their
steps into A's rows without locks, but take turns to write B, since every batch rewrites all
of it, and two at once would lose one's update (docs/decisions.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fasttext_lite.arrays import memory
from fasttext_lite.arrays.bags import Bags, take_rows
from fasttext_lite.arrays.blas import single_blas_thread
from fasttext_lite.arrays.scatter import subtract_rows, sum_rows
from fasttext_lite.arrays.spool import SpooledBags
from fasttext_lite.errors import TrainingError
from fasttext_lite.losses import Loss
from fasttext_lite.losses.base import BATCH_STEPS
from fasttext_lite.model.dense import Model, weighted_shares
from fasttext_lite.training import workers

# (tokens processed so far, mean loss per line since the last call, current learning rate)
Progress = Callable[[int, float, float], None]

# The largest summed learning rate one row takes in one batch (see the module docstring).
MAX_ROW_STEP = 1.0

# The summed size of the score gradients of a softmax line that puts all its probability on
# wrong labels (1 for the gold label, 1 spread over the others): one full line's worth, the
# unit in which a row of A counts the lines of a batch (see the module docstring).
FULL_LINE_MASS = 2.0

# The largest summed size of one line's score gradients behind its step on A (see the module
# docstring): far above softmax's 2 and one-vs-all's usual 3-7 a line on cooking, so it only
# bounds lines that dozens of labels get wrong at once.
MAX_LINE_MASS = 50.0

# batch_size 0 picks the batch size: as large as AUTO_BATCH_MAX lines, but small enough for
# the loss's `batch_steps` steps per epoch, since a tiny corpus in big batches gets too few
# updates.
# Automatic batches also grow as the learning rate decays, from 1/AUTO_GROWTH of that size to
# all of it: early, when steps are large, rows get feedback after fewer lines. On cooking at
# lr 1.0 this recovered fastText's P@1 (median of 3 seeds 0.559 instead of 0.552).
AUTO_BATCH_MAX = 256
AUTO_GROWTH = 8

# Lines are read from the spool in blocks of about BLOCK_ENTRIES ids (a block ends with the
# line that reaches them), at least MIN_BLOCKS per worker, and shuffled in windows of
# WINDOW_ENTRIES ids shared by the workers: the window bounds training's memory (some tens of
# megabytes) whatever the corpus size, and mixes lines from dozens of places in the corpus.
BLOCK_ENTRIES = 1 << 16
MIN_BLOCKS = 16
WINDOW_ENTRIES = 1 << 21

_NO_LINES = Bags.of([])
_NO_LOCK = nullcontext()  # one process writes alone

# How many batches pass between progress reports: often enough for a smooth bar, rare enough
# to cost nothing.
_REPORT_EVERY = 20


def batch_sizes(batch_size: int, nlines: int, steps: int = BATCH_STEPS) -> tuple[int, int]:
    """The first and the last batch size: `batch_size` throughout, or for 0 the automatic
    choice, growing linearly with the tokens processed, for at least `steps` steps an epoch.

    >>> batch_sizes(0, 12_404), batch_sizes(0, 400), batch_sizes(8, 400)
    ((8, 62), (1, 2), (8, 8))
    >>> batch_sizes(0, 12_404, steps=40)
    (32, 256)
    """
    if batch_size > 0:
        return batch_size, batch_size
    last = max(1, min(AUTO_BATCH_MAX, nlines // steps))
    return max(1, round(last / AUTO_GROWTH)), last


class TrainingData(NamedTuple):
    """Lines ready for the model: their rows of A, gold labels, and token counts."""

    rows: SpooledBags  # each line's rows of A (none empty); a line's hidden vector is their mean
    labels: Bags  # each line's gold label ids
    tokens_per_line: npt.NDArray[np.integer]  # words, labels and </s>: the lr decays by them
    # Each line's weight (sample weights), and each label's (class weights); None: all 1.
    line_weights: npt.NDArray[np.float32] | None = None
    label_weights: npt.NDArray[np.float32] | None = None


# Called after each epoch with the epochs done and the epochs planned; returns the epochs to
# run in all: as planned, fewer (the learning rate then decays to zero by their end), or the
# epochs done to stop there.
AfterEpoch = Callable[[int, int], int]


class Schedule(NamedTuple):
    """The learning rate: `lr` when `start` tokens were done, falling linearly to 0 when `end`
    are (fastText's, from 0 to all tokens of all epochs, until training is cut shorter)."""

    lr: float
    start: int
    end: int

    def at(self, seen: float) -> float:
        """The learning rate after `seen` tokens.

        >>> Schedule(1.0, 0, 100).at(25), Schedule(0.8, 20, 60).at(40)
        (0.75, 0.4)
        """
        return self.lr * max(0.0, 1.0 - (seen - self.start) / max(self.end - self.start, 1))

    def until(self, seen: float, end: int) -> Schedule:
        """From `seen` tokens on, falling from the current rate to 0 at `end` instead."""
        return Schedule(self.at(seen), int(seen), end)


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
    threads: int = 1,
    after_epoch: AfterEpoch | None = None,
) -> int:
    """Update `model` in place by `epoch` passes of mini-batch SGD over `data`, or fewer if
    `after_epoch` cuts them short; returns the passes made. The learning rate is planned for
    all `epoch` passes, and from a cut on falls to zero by the new last one.

    With `threads` > 1 the lines are split among that many worker processes updating the one
    model; with 1, the result depends only on `rng`.
    """
    per_epoch = int(data.tokens_per_line.sum())
    per_block = min(BLOCK_ENTRIES, max(1, data.rows.entries // (MIN_BLOCKS * threads)))
    blocks = data.rows.block_bounds(per_block)
    # Per worker: tokens done, summed loss, lines done. Each worker writes only its own row;
    # all read the tokens of all for the learning rate, which decays with the work of all.
    tally = np.zeros((threads, 3))
    # Each worker takes batches of the size one process would, not 1/threads of it: smaller
    # batches multiplied the fixed cost per batch (2 workers on cooking trained 1.2x as fast
    # as one; now 1.7-1.9x) and gained no P@1 on cooking (bigrams, means over 36 seeds).
    settings = _Settings(
        loss,
        lr,
        batch_sizes(batch_size, data.rows.nlines, loss.batch_steps),
        Schedule(lr, 0, per_epoch * epoch),
        max(1, WINDOW_ENTRIES // threads),
    )
    done, planned = 0, epoch

    def after(done: int, report: _Reporter) -> bool:
        """Ask `after_epoch` how many epochs to run in all; True: stop now."""
        nonlocal planned, settings
        wanted = planned if after_epoch is None else min(planned, after_epoch(done, planned))
        if wanted < planned:
            seen = float(tally[:, 0].sum())
            schedule = settings.schedule.until(seen, int(seen) + per_epoch * (wanted - done))
            settings = settings._replace(schedule=schedule)
            report.settings = settings
            planned = wanted
        return done >= planned

    # Small products: see single_blas_thread.
    with single_blas_thread():
        if threads == 1:
            report = _Reporter(tally, settings, progress)
            batcher = Batcher(_NO_LINES, *_shape(model))
            while done < planned:
                _epoch(model, data, blocks, rng, tally, 0, settings, report, _NO_LOCK, batcher)
                done += 1
                if after(done, report):
                    break
        else:
            tally = workers.shared(tally)
            report = _Reporter(tally, settings, progress)
            parts = np.array_split(blocks[rng.permutation(len(blocks))], threads)
            writing = workers.lock()
            model.input, model.output = (
                workers.shared(model.input),
                workers.shared(model.output),
            )
            try:
                while done < planned:
                    # Workers are forked anew each epoch (in milliseconds), with new streams:
                    # what a forked worker draws never comes back to this process.
                    streams = [np.random.default_rng(s) for s in rng.integers(2**63, size=threads)]
                    work = functools.partial(
                        _worker_epoch, model, data, parts, streams, tally, settings, writing
                    )
                    workers.run(work, threads, poll=report)
                    done += 1
                    if after(done, report):
                        break
            finally:
                model.input, model.output = np.array(model.input), np.array(model.output)
    report(0.0 if done == planned else None)
    return done


class _Settings(NamedTuple):
    loss: Loss
    lr: float
    batch_sizes: tuple[int, int]  # the first and the last
    schedule: Schedule
    window_entries: int  # ids a worker shuffles at once


class _Reporter:
    """Progress from the workers' tallies: tokens done, mean loss per line since the last
    report, and the learning rate."""

    def __init__(
        self, tally: npt.NDArray[np.float64], settings: _Settings, progress: Progress | None
    ) -> None:
        self.tally = tally
        self.settings = settings
        self.progress = progress
        self.loss_sum, self.lines, self.mean_loss = 0.0, 0.0, 0.0

    def __call__(self, lr: float | None = None) -> None:
        if self.progress is None:
            return
        seen, loss_sum, lines = self.tally.sum(axis=0)
        if lines > self.lines:
            self.mean_loss = (loss_sum - self.loss_sum) / (lines - self.lines)
            self.loss_sum, self.lines = loss_sum, lines
        if lr is None:
            lr = self.settings.schedule.at(seen)
        self.progress(int(seen), float(self.mean_loss), lr)


def _epoch(
    model: Model,
    data: TrainingData,
    blocks: npt.NDArray[np.int64],
    rng: np.random.Generator,
    tally: npt.NDArray[np.float64],
    index: int,
    settings: _Settings,
    report: _Reporter | None,
    writing: AbstractContextManager[object],
    batcher: Batcher,
) -> None:
    """One worker's pass over its blocks of lines (ranges [first, last)), writing its
    updates to the model while it holds `writing`."""
    loss, lr, schedule = settings.loss, settings.lr, settings.schedule
    first, last = settings.batch_sizes
    batches = 0
    for window in _windows(data.rows, blocks[rng.permutation(len(blocks))], settings):
        lines = np.concatenate([np.arange(*bounds) for bounds in window.tolist()])
        batcher.bags = _NO_LINES  # the last window's lines go before the next come
        memory.release()
        batcher.bags = data.rows.gather(window)
        labels = data.labels.take(lines)
        targets = labels if loss.multi_label else _draw_one_label(labels, rng)
        weights = _weights(data, lines, targets)
        tokens = data.tokens_per_line[lines]
        order = rng.permutation(lines.size)
        start = 0
        while start < order.size:
            current_lr = schedule.at(tally[:, 0].sum())
            # Batches grow as the rate decays (a schedule cut short decays, and grows, faster).
            done = 1.0 - current_lr / lr
            batch = order[start : start + round(first + (last - first) * done)]
            start += batch.size
            value = _step(
                model,
                batcher,
                targets,
                batch,
                loss=loss,
                lr=current_lr,
                rng=rng,
                writing=writing,
                weights=weights,
            )
            if not np.isfinite(value):
                raise TrainingError(
                    f"training diverged (the loss is not finite); try a smaller learning"
                    f" rate than {lr}"
                )
            tally[index] += (tokens[batch].sum(), value, batch.size)
            batches += 1
            if report is not None and batches % _REPORT_EVERY == 0:
                report(current_lr)


def _worker_epoch(
    model: Model,
    data: TrainingData,
    parts: list[npt.NDArray[np.int64]],
    streams: list[np.random.Generator],
    tally: npt.NDArray[np.float64],
    settings: _Settings,
    writing: AbstractContextManager[object],
    index: int,
) -> None:
    """Worker `index`'s pass over its part of the blocks, in a forked process."""
    batcher = Batcher(_NO_LINES, *_shape(model))
    _epoch(
        model, data, parts[index], streams[index], tally, index, settings, None, writing, batcher
    )


def _windows(
    spool: SpooledBags, blocks: npt.NDArray[np.int64], settings: _Settings
) -> list[npt.NDArray[np.int64]]:
    """The blocks in groups of about `window_entries` ids (at least one block each)."""
    indptr = spool.indptr
    entries = indptr[blocks[:, 1]] - indptr[blocks[:, 0]]
    group = (np.cumsum(entries) - entries) // settings.window_entries
    cuts = np.flatnonzero(np.diff(group)) + 1
    return [window for window in np.split(blocks, cuts) if window.size]


def _weights(
    data: TrainingData, lines: npt.NDArray[np.int64], targets: Bags | npt.NDArray[np.integer]
) -> npt.NDArray[np.float32] | None:
    """The weight of each of a window's lines: its sample weight times its (drawn) label's
    class weight, or the mean of its labels' for a loss that trains on all of them."""
    if data.line_weights is None and data.label_weights is None:
        return None
    weights = np.ones(lines.size, dtype=np.float32)
    if data.line_weights is not None:
        weights *= data.line_weights[lines]
    if data.label_weights is not None:
        if isinstance(targets, Bags):
            per_label = data.label_weights[targets.indices]
            summed = np.bincount(targets.owners, per_label, targets.nlines)
            weights *= (summed / np.maximum(targets.sizes, 1)).astype(np.float32)
        else:
            weights *= data.label_weights[targets]
    return weights


def _draw_one_label(labels: Bags, rng: np.random.Generator) -> npt.NDArray[np.integer]:
    """One gold label per line, uniformly among the line's labels (fastText's softmax target)."""
    counts = labels.sizes
    pick = labels.indptr[:-1] + (rng.random(counts.size) * counts).astype(np.int64)
    return labels.indices[pick]


class Batch(NamedTuple):
    """A batch of lines over the rows of A they use: its averaging weights as CSR arrays,
    each entry's column both among the rows used (`local`) and in A (`columns`)."""

    indptr: npt.NDArray[np.integer]  # (lines + 1,): line i's entries are indptr[i]:indptr[i + 1]
    share: npt.NDArray[np.floating]  # each entry's averaging weight, 1 / its line's length
    local: npt.NDArray[np.integer]  # each entry's row among `rows`
    columns: npt.NDArray[np.integer]  # each entry's row of A
    owner: npt.NDArray[np.intp]  # each entry's line
    rows: npt.NDArray[np.integer]  # the rows of A used, each once
    uses: npt.NDArray[np.int64]  # each row's occurrences in the batch, at most its line count

    @property
    def weights(self) -> sp.csr_array:
        """(lines, rows used): the averaging weights. Built on demand: a scipy array costs
        more to construct than a small batch's arithmetic."""
        shape = (self.indptr.size - 1, self.rows.size)
        return sp.csr_array((self.share, self.local, self.indptr), shape=shape)


class Batcher:
    """Cuts batches out of bags of rows of A.

    Finding a batch's distinct rows is the hot spot of training. A sort costs O(n log n) per
    batch; instead a scratch array with a slot per row of A lets each occurrence find one
    representative occurrence of its row in O(1): write every occurrence's position into its
    row's slot (one write per row survives, whichever), read the slots back, and the
    occurrences that read their own position are one per row. Slots are always written before
    they are read, so they are never cleared.
    """

    def __init__(
        self,
        bags: Bags,
        nrows: int,
        dtype: type[np.floating],
        row_weights: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self.bags = bags
        self.dtype = dtype
        self.row_weights = row_weights  # each row's weight in a line's mean; None: all equal
        self._slot = np.zeros(nrows, dtype=np.intp)
        self._positions = np.arange(0, dtype=np.intp)
        # Index arrays of one type (int32 unless A is huge) spare scipy a scan and a copy of
        # each, and are what the in-place update's kernel takes.
        self._index = np.int32 if nrows < np.iinfo(np.int32).max else np.int64

    def __call__(self, lines: npt.NDArray[np.intp]) -> Batch:
        got = take_rows(self.bags.indptr, lines)
        columns: npt.NDArray[np.integer] = self.bags.indices[got.positions].astype(
            self._index, copy=False
        )
        if self._positions.size < columns.size:
            self._positions = np.arange(2 * columns.size, dtype=np.intp)
        positions = self._positions[: columns.size]
        self._slot[columns] = positions
        representative = self._slot[columns]
        represents = representative == positions
        local = (np.cumsum(represents, dtype=self._index) - 1)[representative]
        if self.row_weights is None:
            share = (1.0 / np.diff(got.indptr)).astype(self.dtype)[got.owner]
        else:
            shares = weighted_shares(self.row_weights, columns, got.owner, lines.size)
            share = shares.astype(self.dtype)
        rows = columns[represents]
        # Occurrences, not lines: a row repeated within a line counts twice, except that a
        # row never counts more than the batch has lines (so one line is never capped).
        uses = np.minimum(np.bincount(local, minlength=rows.size), lines.size)
        indptr: npt.NDArray[np.integer] = got.indptr.astype(self._index)
        return Batch(indptr, share, local, columns, got.owner, rows, uses)


def _shape(
    model: Model,
) -> tuple[int, type[np.floating], npt.NDArray[np.float32] | None]:
    """What a `Batcher` needs of the model: A's rows, its type, and the rows' weights."""
    return model.input.shape[0], model.input.dtype.type, model.row_weights


def _step(
    model: Model,
    batcher: Batcher,
    targets: Bags | npt.NDArray[np.integer],
    lines: npt.NDArray[np.intp],
    *,
    loss: Loss,
    lr: float,
    rng: np.random.Generator,
    writing: AbstractContextManager[object] = _NO_LOCK,
    weights: npt.NDArray[np.float32] | None = None,
) -> float:
    """One SGD step on the given lines: A's rows are updated in place, B while holding
    `writing`; returns the summed loss before the step. `targets` holds every line's gold
    labels (a bag per line) or, for a loss that trains on one, the one drawn for each line;
    `weights`, if given, each line's weight (indexed as `targets`)."""
    batch = batcher(lines)
    if isinstance(targets, Bags):
        gold = targets.take(lines)
    else:
        gold = Bags(np.arange(lines.size + 1, dtype=np.int64), targets[lines])

    # Read from A in place: a gathered copy of the batch's rows cost as much as the products.
    hidden = sum_rows(model.input, batch.indptr, batch.columns, batch.share)
    if weights is None:  # a loss need not know of weights until they are used
        out = loss.gradient(model.output, hidden, gold, rng)
    else:
        out = loss.gradient(model.output, hidden, gold, rng, weights[lines])
    bounded = batch.share
    if out.line_mass.max(initial=0.0) > MAX_LINE_MASS:
        bounded = _mass_bounded(batch.weights, out.line_mass).data

    # Bounded weights times mass: a line over MAX_LINE_MASS counts as much as one at it.
    mass = bounded * (out.line_mass / FULL_LINE_MASS)[batch.owner]
    row_lines = np.minimum(batch.uses, np.bincount(batch.local, mass, batch.rows.size))
    # Each entry's share of its line's step on its row: weight times the row's learning rate.
    entry_steps = bounded * _row_steps(lr, row_lines)[batch.local]
    output_step = _row_steps(lr, out.row_mass).astype(model.output.dtype)[:, None] * out.d_output
    # Added into A's rows in place, without the lock, as fastText's threads do: each row is
    # read, changed and written back within microseconds, so another worker's update of it
    # is rarely lost (a gathered copy written back a batch later lost them; docs/decisions.md).
    subtract_rows(model.input, batch.indptr, batch.columns, entry_steps, out.d_hidden)
    with writing:  # B: every batch writes all of it (see the module docstring)
        if out.rows is None:
            model.output -= output_step
        else:
            model.output[out.rows] -= output_step
    return out.loss


def _mass_bounded(weights: sp.csr_array, line_mass: npt.NDArray[np.floating]) -> sp.csr_array:
    """The averaging weights with each line's row scaled so that its score gradients count at
    most MAX_LINE_MASS towards its step on A (unchanged, and not copied, if none exceeds it)."""
    if line_mass.max(initial=0.0) <= MAX_LINE_MASS:
        return weights
    # Lines at or under the bound (a line predicted perfectly has 0) keep a scale of 1.
    scale = np.divide(
        MAX_LINE_MASS, line_mass, out=np.ones_like(line_mass), where=line_mass > MAX_LINE_MASS
    )
    scaled = weights.copy()
    scaled.data *= np.repeat(scale.astype(weights.dtype), np.diff(scaled.indptr))
    return scaled


def _row_steps(lr: float, lines: npt.NDArray[np.number]) -> npt.NDArray[np.float64]:
    """Each row's learning rate: lr, lowered so that lr x lines <= max(MAX_ROW_STEP, lr).

    >>> _row_steps(0.1, np.array([1.0, 5.0, 20.0])).round(3).tolist()
    [0.1, 0.1, 0.05]
    """
    most = np.maximum(MAX_ROW_STEP, lr)
    # A row no line uses (0 lines) takes no step, but keep lr there rather than divide by 0.
    steps: npt.NDArray[np.float64] = np.divide(
        most, lines, out=np.full(lines.shape, lr), where=lines * lr > most
    )
    return steps
