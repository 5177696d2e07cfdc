"""The numbers of an evaluation report, from one pass of prediction over labelled lines: the
scores `ftl eval` gives (with macro and weighted averages), P@k and R@k for k = 1..5, the most
confused label pairs, precision and recall as the threshold rises, and reliability bins.

Every label's probability on every line is counted into histograms on a grid of thresholds
(steps of 1/BINS), so memory does not grow with the file. Two ways of predicting are curved:
the line's most probable label (fastText's `-k 1 -t T`) and every label at or above the
threshold (`-k -1 -t T`). P@k, R@k and the curves rank labels by probability; for
hierarchical softmax, whose `ftl eval` ranks by its tree search, they can differ slightly from
`ftl eval -k` (the summary's scores are `ftl eval`'s). Rendering is `report.page`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fasttext_lite import parallel, params
from fasttext_lite.losses import TopLabels
from fasttext_lite.losses.base import top_k_of
from fasttext_lite.losses.hs import HierarchicalSoftmax
from fasttext_lite.metrics import Evaluation, Meter, no_labelled_lines
from fasttext_lite.text.lines import read_lines

if TYPE_CHECKING:
    from fasttext_lite.classifier import FastTextClassifier
    from fasttext_lite.inference import Predictor

BINS = 1000  # the threshold grid: 0, 0.001, ..., 0.999
RELIABILITY_BINS = 10  # of equal width; each is BINS / RELIABILITY_BINS grid steps
AT_K = 5  # P@k and R@k for k = 1..AT_K
CONFUSIONS = 25  # label pairs listed
SERIES = ("top", "all")  # the most probable label of a line; every label

# Rows of the histogram matrix: per series, predictions, correct ones, summed probability.
_COUNT, _HITS, _MASS = 0, 1, 2


@dataclass(frozen=True)
class AtK:
    k: int
    precision: float
    recall: float


@dataclass(frozen=True)
class Confusion:
    """Lines where `gold` was a gold label and not predicted, and `predicted` was predicted
    and not gold."""

    gold: str
    predicted: str
    lines: int
    share: float  # of the gold label's support


@dataclass(frozen=True)
class Curve:
    """Micro precision and recall when predictions below each threshold are dropped; only
    thresholds that leave some prediction."""

    thresholds: list[float]
    precision: list[float]
    recall: list[float]
    predictions: list[int]


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int  # probabilities in [lower, upper)
    mean_probability: float | None  # None for an empty bin
    frequency: float | None  # the share of them that were gold


@dataclass(frozen=True)
class Reliability:
    bins: list[ReliabilityBin]
    # Expected calibration error: |frequency - mean probability|, weighted by the bins' counts.
    calibration_error: float


@dataclass(frozen=True)
class Report:
    evaluation: Evaluation  # at the k and threshold asked for, as `ftl eval`
    at_k: list[AtK]
    confusions: list[Confusion]  # the most frequent, most lines first
    # Per label (in `evaluation.per_label` order): the label most often predicted instead of
    # it, or None.
    confused_with: list[Confusion | None]
    curves: dict[str, Curve]  # by series: "top", "all"
    reliability: dict[str, Reliability]  # by series

    def as_dict(self) -> dict[str, Any]:
        """Everything, as JSON-ready values (what `ftl eval --report --json` prints)."""
        result = self.evaluation
        return {
            **result.summary(),
            "per_label": [
                {**asdict(s), "confused_with": c.predicted if c else None}
                for s, c in zip(result.per_label, self.confused_with, strict=True)
            ],
            "at_k": [asdict(a) for a in self.at_k],
            "confusions": [asdict(c) for c in self.confusions],
            "curves": {name: asdict(c) for name, c in self.curves.items()},
            "reliability": {name: asdict(r) for name, r in self.reliability.items()},
        }


class ReportMeter:
    """Accumulates what a report needs from chunks of lines; `merge` adds another's."""

    def __init__(self, nlabels: int) -> None:
        self.meter = Meter(nlabels)
        self.correct_at = np.zeros(AT_K, np.int64)  # correct among each line's top k
        self.predicted_at = np.zeros(AT_K, np.int64)
        self.confusion = sp.csr_array((nlabels, nlabels), dtype=np.int64)
        self.histograms = np.zeros((len(SERIES), 3, BINS))

    def merge(self, other: ReportMeter) -> None:
        self.meter.merge(other.meter)
        self.correct_at += other.correct_at
        self.predicted_at += other.predicted_at
        self.confusion = self.confusion + other.confusion
        self.histograms += other.histograms

    def add(
        self,
        gold: npt.NDArray[np.bool_],
        probabilities: npt.NDArray[np.float32],
        top: TopLabels,
        threshold: float,
    ) -> None:
        """A chunk: (lines, labels) gold labels and probabilities, the labels predicted at
        the k and threshold of the report, and the threshold (for P@k, R@k)."""
        predicted = np.zeros_like(gold)
        rows, columns = np.nonzero(top.ids >= 0)
        predicted[rows, top.ids[rows, columns]] = True
        self.meter.add(gold, predicted)
        self._add_at_k(gold, top_k_of(probabilities, AT_K, threshold))
        missed = sp.csr_array(gold & ~predicted, dtype=np.int64)
        wrong = sp.csr_array(predicted & ~gold, dtype=np.int64)
        self.confusion = self.confusion + sp.csr_array(missed.T @ wrong)
        self._add_histograms(gold, probabilities)

    def _add_at_k(self, gold: npt.NDArray[np.bool_], top: TopLabels) -> None:
        made = top.ids >= 0
        hits = made & np.take_along_axis(gold, np.maximum(top.ids, 0), axis=1)
        width = made.shape[1]
        self.correct_at[:width] += np.cumsum(hits.sum(axis=0))
        self.predicted_at[:width] += np.cumsum(made.sum(axis=0))

    def _add_histograms(
        self, gold: npt.NDArray[np.bool_], probabilities: npt.NDArray[np.float32]
    ) -> None:
        probs = probabilities.astype(np.float64)
        bins = np.minimum((probs * BINS).astype(np.int64), BINS - 1)
        best = probs.argmax(axis=1)[:, None]
        for series, (b, p, g) in zip(
            self.histograms,
            [
                (np.take_along_axis(a, best, axis=1) for a in (bins, probs, gold)),
                (bins, probs, gold),
            ],
            strict=True,
        ):
            series[_COUNT] += np.bincount(b.ravel(), minlength=BINS)
            series[_HITS] += np.bincount(b[g], minlength=BINS)
            series[_MASS] += np.bincount(b.ravel(), weights=p.ravel(), minlength=BINS)

    def result(self, labels: list[str], *, k: int, threshold: float) -> Report:
        evaluation = self.meter.result(labels, k=k, threshold=threshold)
        gold_total = int(self.meter.gold.sum())
        at_k = [
            AtK(i + 1, _ratio(c, p), _ratio(c, gold_total))
            for i, (c, p) in enumerate(
                zip(self.correct_at.tolist(), self.predicted_at.tolist(), strict=True)
            )
            if i < len(labels)
        ]
        return Report(
            evaluation=evaluation,
            at_k=at_k,
            confusions=self._confusions(labels),
            confused_with=self._confused_with(labels),
            curves={s: _curve(h, gold_total) for s, h in zip(SERIES, self.histograms, strict=True)},
            reliability={s: _reliability(h) for s, h in zip(SERIES, self.histograms, strict=True)},
        )

    def _confusion_of(self, labels: list[str], gold: int, predicted: int, lines: int) -> Confusion:
        return Confusion(
            labels[gold], labels[predicted], lines, _ratio(lines, self.meter.gold[gold])
        )

    def _confusions(self, labels: list[str]) -> list[Confusion]:
        pairs = self.confusion.tocoo()
        # Most lines first; ties in label id order, so that the list is reproducible.
        order = np.lexsort((pairs.col, pairs.row, -pairs.data))[:CONFUSIONS]
        return [
            self._confusion_of(labels, int(pairs.row[i]), int(pairs.col[i]), int(pairs.data[i]))
            for i in order
        ]

    def _confused_with(self, labels: list[str]) -> list[Confusion | None]:
        matrix = self.confusion
        most = np.asarray(matrix.argmax(axis=1)).ravel()
        lines = np.asarray(matrix.max(axis=1).toarray()).ravel()
        return [
            self._confusion_of(labels, gold, int(most[gold]), int(lines[gold]))
            if lines[gold]
            else None
            for gold in range(len(labels))
        ]


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def _above(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per grid threshold, the count at or above it."""
    return np.cumsum(counts[::-1])[::-1]


def _curve(histograms: npt.NDArray[np.float64], gold_total: int) -> Curve:
    predictions = _above(histograms[_COUNT])
    hits = _above(histograms[_HITS])
    made = np.flatnonzero(predictions > 0)
    return Curve(
        thresholds=(made / BINS).tolist(),
        precision=(hits[made] / predictions[made]).tolist(),
        recall=(hits[made] / max(gold_total, 1)).tolist(),
        predictions=predictions[made].astype(np.int64).tolist(),
    )


def _reliability(histograms: npt.NDArray[np.float64]) -> Reliability:
    count, hits, mass = histograms.reshape(3, RELIABILITY_BINS, -1).sum(axis=2)
    bins = []
    for i in range(RELIABILITY_BINS):
        n = int(count[i])
        bins.append(
            ReliabilityBin(
                lower=i / RELIABILITY_BINS,
                upper=(i + 1) / RELIABILITY_BINS,
                count=n,
                mean_probability=float(mass[i] / n) if n else None,
                frequency=float(hits[i] / n) if n else None,
            )
        )
    gap = np.abs(hits - mass)  # count * |frequency - mean probability|
    return Reliability(bins, _ratio(gap.sum(), count.sum()))


def evaluate_report(
    classifier: FastTextClassifier,
    lines: str | Path | Iterable[str | bytes],
    *,
    k: int = 1,
    threshold: float = 0.0,
    threads: int = 1,
) -> Report:
    """The report's numbers on labelled lines (a path, `-`, or an iterable), read by `threads`
    processes; its scores at `k` and `threshold` are `evaluate`'s. Lines with no label known
    to the model are skipped; a line's gold labels are all its known labels."""
    params.check_top_k(k, threshold)
    params.check_int("threads", threads, minimum=1, maximum=256)
    source = read_lines(lines) if isinstance(lines, (str, Path)) else lines
    predictor = classifier.predictor()
    meter = report_meter(predictor, source, k=k, threshold=threshold, threads=threads)
    if meter.meter.examples == 0:
        raise no_labelled_lines(classifier, lines)
    return meter.result(classifier.vocabulary_.labels, k=k, threshold=threshold)


def report_meter(
    predictor: Predictor,
    lines: Iterable[str | bytes],
    *,
    k: int = 1,
    threshold: float = 0.0,
    threads: int = 1,
) -> ReportMeter:
    nlabels = len(predictor.labels)
    # hs predicts by its own tree search (fastText's order and pruning); the other losses'
    # top k is a selection from the probabilities computed here anyway.
    search = isinstance(predictor.loss, HierarchicalSoftmax)

    def counted(chunk: list[str | bytes]) -> ReportMeter:
        read = predictor.read(chunk)
        gold = predictor.gold(read).weights(nlabels).toarray() > 0
        # As fastText's test: a line with no label the model knows is not counted. Such a
        # line is never blank (blank lines have no labels), so none loses its predictions.
        keep = gold.any(axis=1)
        probs = predictor.probabilities(read)
        if search:
            top = predictor.top_labels(read, k, threshold)
        else:
            top = top_k_of(probs, predictor.width(k), threshold)
        part = ReportMeter(nlabels)
        kept = TopLabels(top.ids[keep], top.probabilities[keep])
        part.add(gold[keep], probs[keep], kept, threshold)
        return part

    meter = ReportMeter(nlabels)
    for part in parallel.ordered_map(counted, predictor.chunks(lines), threads):
        meter.merge(part)
    return meter
